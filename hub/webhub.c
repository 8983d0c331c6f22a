/*  webhub: dashboard, drill-down, return for correction, exports. */
#include "webhub.h"
#include "completeness.h"
#include "err.h"
#include "export.h"
#include "export_html.h"
#include "export_xlsx.h"
#include "mem.h"
#include "period.h"
#include "present.h"
#include "vnnum.h"
#include "returns.h"
#include "rollup.h"
#include "units.h"
#include "log.h"
#include "approval.h"
#include "webnode.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes "form=F&amp;period=P[&amp;unit=U]" (ids are [A-Za-z0-9._-], safe
   in a URL; escaped anyway for the HTML attribute). */
static void
s_q(FILE *f, const char *form, const char *period, const char *unit)
{
    fputs("form=", f);
    th_html_put(f, form);
    fputs("&amp;period=", f);
    th_html_put(f, period);
    if (unit) {
        fputs("&amp;unit=", f);
        th_html_put(f, unit);
    }
}

/* form, period, unit and as_of of the query (unit NULL when absent). */
typedef struct {
    const char *form, *period, *unit;
    int64_t as_of;
} s_query_t;

/* Reads the query; on a bad one replies 400, sets *rc to the handler's
   return and returns false. */
static bool
s_query(th_httpd_req_t *rq, s_query_t *q, int *rc)
{
    q->form = th_httpd_arg(rq, "form");
    q->period = th_httpd_arg(rq, "period");
    q->unit = th_httpd_arg(rq, "unit");
    if (q->unit && !q->unit[0])
        q->unit = NULL;
    q->as_of = INT64_MAX;
    const char *asof = th_httpd_arg(rq, "as_of");
    if (asof && asof[0] && th_time_parse_iso_end(asof, &q->as_of) < 0) {
        *rc = th_httpd_fail(rq, 400, "Thời điểm tính đến không hợp lệ (viết 2026-11-01).");
        return false;
    }
    if (!q->form || !q->period) {
        *rc = th_httpd_fail(rq, 400, "Thiếu biểu mẫu hoặc kỳ báo cáo.");
        return false;
    }
    return true;
}

/* The reply to a failed rollup or export of the query: 404 with what was
   wrong for the caller's mistakes; other errors are returned (500). */
static int
s_compute_failed(th_httpd_req_t *rq, int e)
{
    if (e == TH_E_FORM)
        return th_httpd_fail(rq, 404, "Không có biểu mẫu này.");
    if (e == TH_E_PERIOD)
        return th_httpd_fail(rq, 404, "Kỳ báo cáo không hợp lệ cho biểu mẫu này.");
    if (e == TH_E_UNIT)
        return th_httpd_fail(rq, 404, "Đơn vị không thuộc phạm vi tổng hợp của đơn vị này "
                                    "trong kỳ báo cáo.");
    return e;
}

/* The last rollup computed "as of now", kept while the store does not
   change (th_store_generation): a dashboard that many browsers load at
   once is computed once (docs/benchmarks.md, workload 6). One per web
   server (the handlers' arg, freed with it). Loop thread only: a handler
   computes, renders and releases within one call. */
typedef struct {
    char key[TH_KEY_MAX + 8];
    uint64_t gen;
    th_rollup_t *r;
    /* the dashboard's body rendered from r (everything below the page's
       header, which carries the session): sent as it is while r stays and
       the day is the same (it counts the days to the deadline) */
    char *body;              /* malloc'd by open_memstream, NULL = none */
    size_t body_len;
    int32_t body_day;
} s_cache_t;

static void
s_cache_free(void *arg)
{
    s_cache_t *c = arg;
    th_rollup_destroy(&c->r);
    free(c->body);
    th_free(c);
}

/* Done with a rollup from s_rollup: the cached one stays. */
static void
s_release(s_cache_t *c, th_rollup_t **r)
{
    if (*r != c->r)
        th_rollup_destroy(r);
    *r = NULL;
}

/* Computes the rollup named by the query; replies and returns NULL when
   the query is wrong (*rc: the handler's return). Give it back with
   s_release. */
static th_rollup_t *
s_rollup(th_httpd_req_t *rq, s_cache_t *c, int *rc)
{
    s_query_t q;
    if (!s_query(rq, &q, rc))
        return NULL;
    th_office_t *o = th_httpd_office(rq);
    char key[TH_KEY_MAX + 8];
    snprintf(key, sizeof key, "%s|%s|%s", q.form, q.period, q.unit ? q.unit : "");
    /* a unit added by `units add` since (the store's generation moved too) */
    bool changed;
    char why[256];
    if (th_office_reload_units(o, &changed, why, sizeof why) < 0)
        th_log(TH_LOG_WARN, "web: cannot read the unit lists again: %s", why);
    uint64_t gen = th_store_generation(o->store);
    bool now = q.as_of == INT64_MAX;
    if (now && gen && c->r && c->gen == gen && strcmp(c->key, key) == 0) {
        *rc = 0;
        return c->r;
    }
    th_rollup_t *r = NULL;
    char err[512];
    int e = th_rollup_compute(o, q.form, q.period, q.unit, q.as_of, &r, err, sizeof err);
    *rc = e < 0 ? s_compute_failed(rq, e) : 0;
    if (r && now && gen) {
        th_rollup_destroy(&c->r);
        free(c->body);
        c->body = NULL;
        c->gen = gen;
        snprintf(c->key, sizeof c->key, "%s", key);
        c->r = r;
    }
    return r;
}

static const char *
s_state_vn(const th_compl_unit_t *u, char *buf, size_t cap)
{
    if (u->state == TH_COMPL_ON_TIME)
        snprintf(buf, cap, "Đúng hạn");
    else if (u->state == TH_COMPL_LATE)
        snprintf(buf, cap, "Trễ %d ngày", u->days_late);
    else
        snprintf(buf, cap, "Chưa báo cáo");
    return buf;
}

static const char *const s_state_class[] = { "missing", "on_time", "late" };

/* ---- the list of forms ------------------------------------------------------------ */

static int
s_forms_list(th_httpd_req_t *rq)
{
    th_office_t *o = th_httpd_office(rq);
    FILE *f = th_httpd_page(rq, "Tổng hợp báo cáo");
    if (!f)
        return -ENOMEM;
    int32_t today = th_time_day_vn(th_now_ms());
    fputs("<table id=\"hub-forms\">\n<thead><tr><th>Biểu mẫu</th><th>Kỳ báo cáo</th><th></th>"
          "</tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < th_forms_count(o->forms); i++) {
        const th_form_t *form = th_forms_at(o->forms, i);
        th_period_t p, prev;
        if (th_period_of_day(form->period_type, today, &p) < 0 ||
            th_period_of_day(form->period_type, p.start - 1, &prev) < 0)
            continue;
        const th_period_t *ps[2] = { &prev, &p };
        for (size_t k = 0; k < 2; k++) {
            char label[64];
            th_period_label_vn(ps[k], label, sizeof label);
            fputs("<tr><td>", f);
            th_html_put(f, form->title);
            fputs("</td><td>", f);
            th_html_put(f, label);
            fputs("</td><td><a class=\"open\" href=\"/hub?", f);
            s_q(f, form->id, ps[k]->id, NULL);
            fputs("\">Xem tổng hợp</a></td></tr>\n", f);
        }
    }
    fputs("</tbody>\n</table>\n", f);
    return th_httpd_page_send(rq, 200);
}

/* ---- the dashboard ---------------------------------------------------------------------- */

static void
s_exports(FILE *f, const th_rollup_t *r)
{
    static const char *const fmts[][2] = { { "xlsx", "Tải về Excel (XLSX)" },
                                           { "csv", "Tải về CSV" },
                                           { "html", "Bản in (HTML)" } };
    fputs("<p class=\"exports\">", f);
    for (size_t i = 0; i < 3; i++) {
        fprintf(f, "<a class=\"export\" data-format=\"%s\" href=\"/export?", fmts[i][0]);
        s_q(f, r->form, r->period.id, r->total.unit);
        fprintf(f, "&amp;format=%s\">%s</a> ", fmts[i][0], fmts[i][1]);
    }
    fputs("</p>\n", f);
    /* the report as it stood at a date (the deadline), for the record */
    fputs("<form id=\"export-as-of\" method=\"get\" action=\"/export\">"
          "<input type=\"hidden\" name=\"form\" value=\"", f);
    th_html_put(f, r->form);
    fputs("\"><input type=\"hidden\" name=\"period\" value=\"", f);
    th_html_put(f, r->period.id);
    fputs("\"><input type=\"hidden\" name=\"unit\" value=\"", f);
    th_html_put(f, r->total.unit);
    fputs("\"><label for=\"as_of\">Báo cáo tính đến hết ngày</label> "
          "<input type=\"date\" id=\"as_of\" name=\"as_of\" required> "
          "<select name=\"format\"><option value=\"xlsx\">Excel (XLSX)</option>"
          "<option value=\"csv\">CSV</option><option value=\"html\">Bản in (HTML)</option>"
          "</select> <button>Tải về</button></form>\n", f);
}

static void
s_progress(FILE *f, const th_completeness_t *c, const th_form_t *form)
{
    const th_compl_count_t *t = &c->total;
    char a[32], b[32];
    th_vnnum_format_dec(t->reported_rate, a, sizeof a);
    th_vnnum_format_dec(t->on_time_rate, b, sizeof b);
    /* a <progress> element: the page's policy allows no inline style */
    fprintf(f, "<div id=\"progress\"><p>Đã báo cáo <b>%zu/%zu</b> đơn vị (%s%%): đúng hạn "
            "%zu (%s%%), trễ hạn %zu, chưa báo cáo %zu.</p>\n<progress max=\"%zu\" "
            "value=\"%zu\">%s%%</progress>\n", t->reported, t->expected, a, t->on_time, b,
            t->late, t->missing, t->expected, t->reported, a);
    /* the deadline of the units below, from the first expected one */
    int32_t dl = c->nunits ? c->units[0].deadline : INT32_MIN;
    if (dl != INT32_MIN) {
        char d[11];
        th_date_format_vn(dl, d);
        int32_t today = th_time_day_vn(th_now_ms());
        if (today <= dl)
            fprintf(f, "<p>Hạn nộp: %s (còn %d ngày).</p>\n", d, dl - today);
        else
            fprintf(f, "<p>Hạn nộp: %s (đã quá %d ngày).</p>\n", d, today - dl);
    }
    char cut[96];
    if (form && *th_form_cutoff_text(form, &c->period, cut, sizeof cut))
        fprintf(f, "<p>Thời gian chốt số liệu: %s.</p>\n", cut);
    fputs("</div>\n", f);
}

static void
s_children(FILE *f, const th_rollup_t *r)
{
    const th_completeness_t *c = r->completeness;
    bool deeper = false;
    for (size_t i = 0; i < c->nunits; i++)
        deeper |= c->units[i].child[0] && strcmp(c->units[i].child, c->units[i].unit) != 0;
    if (!deeper)
        return;
    fputs("<h2>Theo đơn vị trực thuộc</h2>\n<table id=\"children\">\n<thead><tr><th>Mã</th>"
          "<th>Đơn vị</th><th>Phải báo cáo</th><th>Đã báo cáo</th><th>Đúng hạn</th>"
          "<th>Trễ hạn</th><th>Chưa báo cáo</th></tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < c->nchildren; i++) {
        const th_compl_count_t *k = &c->children[i];
        fprintf(f, "<tr data-unit=\"%s\"><td>", k->unit);
        th_html_put(f, k->unit);
        fputs("</td><td><a class=\"drill\" href=\"/hub?", f);
        s_q(f, r->form, r->period.id, k->unit);
        fputs("\">", f);
        th_html_put(f, k->name);
        fprintf(f, "</a></td><td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
                "<td class=\"num\">%zu</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
                "</tr>\n", k->expected, k->reported, k->on_time, k->late, k->missing);
    }
    fputs("</tbody>\n</table>\n", f);
}

/* The groups of reporting units (Khối sở, ngành / huyện / xã) and the
   hub's own report, when the form is reported by several levels. */
static void
s_groups(FILE *f, const th_rollup_t *r)
{
    if (r->ngroups == 0)
        return;
    fputs("<h2>Theo khối đơn vị báo cáo</h2>\n<table id=\"groups\">\n<thead><tr><th>Khối</th>"
          "<th>Phải báo cáo</th><th>Đã báo cáo</th><th>Đúng hạn</th><th>Số báo cáo được "
          "tổng hợp</th></tr></thead>\n<tbody>\n", f);
    size_t nparts = r->ngroups + (r->has_own ? 1 : 0);
    for (size_t g = 0; g < nparts; g++) {
        bool own = g == r->ngroups;
        const th_rollup_part_t *p = own ? &r->own : &r->groups[g];
        fprintf(f, "<tr data-level=\"%s\"><td>", own ? "own" : p->level);
        th_html_put(f, p->name);
        fprintf(f, "%s</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
                "<td class=\"num\">%zu</td><td class=\"num\">%zu</td></tr>\n",
                own ? " (báo cáo của chính đơn vị)" : "", p->expected, p->reported, p->on_time,
                p->counted);
    }
    fputs("</tbody>\n</table>\n<p>Mỗi báo cáo được tính một lần: cộng các khối bằng số "
          "tổng hợp.</p>\n", f);
}

static void
s_units(FILE *f, const th_rollup_t *r, const char *office_unit)
{
    const th_completeness_t *c = r->completeness;
    /* the direct children of this office may be entered on their behalf */
    bool mine = strcmp(r->total.unit, office_unit) == 0;
    fputs("<h2>Tình hình báo cáo của từng đơn vị</h2>\n<table id=\"completeness\">\n<thead><tr>"
          "<th>Mã</th><th>Đơn vị</th><th>Tình trạng</th><th>Thời điểm nộp</th><th>Lần</th>"
          "</tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < c->nunits; i++) {
        const th_compl_unit_t *u = &c->units[i];
        char st[32], when[32] = "";
        if (u->state != TH_COMPL_MISSING)
            th_time_format_vn(u->submitted_at, when);
        fprintf(f, "<tr data-unit=\"%s\" class=\"%s\"><td>", u->unit, s_state_class[u->state]);
        th_html_put(f, u->unit);
        fputs("</td><td><a class=\"drill\" href=\"/hub/unit?", f);
        s_q(f, r->form, r->period.id, u->unit);
        fputs("\">", f);
        th_html_put(f, u->name);
        fprintf(f, "</a></td><td class=\"state\">%s%s</td><td>%s</td><td class=\"num\">",
                s_state_vn(u, st, sizeof st), u->clock_suspect ? " (đồng hồ máy gửi lệch)" : "",
                when);
        if (mine && u->state == TH_COMPL_MISSING && strcmp(u->child, u->unit) == 0) {
            fputs(" <a class=\"proxy\" href=\"/report?form=", f);
            th_html_put(f, r->form);
            fprintf(f, "&amp;period=%s&amp;for=%s\">Nhập thay</a>", r->period.id, u->unit);
        }
        if (u->rev)
            fprintf(f, "%u", u->rev);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
}

static void s_violations_summary(FILE *f, const th_rollup_t *r, const th_form_t *form);

static void
s_figures(FILE *f, const th_rollup_t *r, const th_form_t *form)
{
    fputs("<h2>Số liệu tổng hợp</h2>\n<table id=\"rollup\">\n<thead><tr><th>Mã</th>"
          "<th>Chỉ tiêu</th><th>Số liệu</th><th>Đơn vị tính</th><th>Số đơn vị có số liệu</th>"
          "</tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < form->nindicators && i < r->total.nvalues; i++) {
        const th_indicator_t *ind = &form->indicators[i];
        if (ind->agg == TH_AGG_TEXT)
            continue;
        const th_rollup_value_t *v = &r->total.values[i];
        char val[48];
        th_rollup_format(v, true, val, sizeof val);
        fprintf(f, "<tr data-code=\"%s\"><td>%s</td><td>", ind->code, ind->code);
        th_html_put(f, ind->label);
        fprintf(f, "</td><td class=\"value\">%s</td><td>", val);
        th_html_put(f, ind->unit);
        fprintf(f, "</td><td class=\"num\">%zu</td></tr>\n", v->n);
    }
    fputs("</tbody>\n</table>\n", f);
    s_violations_summary(f, r, form);
}

/* How many units a rule's row on the dashboard names before "và N đơn vị
   khác": a province may have hundreds, the whole list has its own page. */
#define S_VIOLATION_UNITS 10

/* The rule violations, one row per rule of the form: its message, how many
   units break it and the first of them; the list of all on /hub/violations. */
static void
s_violations_summary(FILE *f, const th_rollup_t *r, const th_form_t *form)
{
    if (r->nviolations == 0)
        return;
    fputs("<h2>Vi phạm quy tắc kiểm tra số liệu</h2>\n<table id=\"violation-rules\">\n"
          "<thead><tr><th>Quy tắc</th><th>Nội dung</th><th>Số đơn vị</th><th>Đơn vị</th></tr>"
          "</thead>\n<tbody>\n", f);
    for (size_t k = 0; k < form->nrules; k++) {
        const th_form_rule_t *rule = &form->rules[k];
        size_t n = 0;
        for (size_t i = 0; i < r->nviolations; i++)
            n += strcmp(r->violations[i].rule, rule->id) == 0;
        if (n == 0)
            continue;
        fprintf(f, "<tr data-rule=\"%s\"><td>", rule->id);
        th_html_put(f, rule->id);
        fputs("</td><td>", f);
        th_html_put(f, rule->message);
        fprintf(f, "</td><td class=\"num\">%zu</td><td>", n);
        size_t shown = 0;
        for (size_t i = 0; i < r->nviolations && shown < S_VIOLATION_UNITS; i++) {
            const th_rollup_violation_t *v = &r->violations[i];
            if (strcmp(v->rule, rule->id) != 0)
                continue;
            fputs(shown++ ? ", <a class=\"drill\" href=\"/hub/unit?" : "<a class=\"drill\" "
                  "href=\"/hub/unit?", f);
            s_q(f, r->form, r->period.id, v->unit);
            fputs("\">", f);
            th_html_put(f, v->name);
            fputs("</a>", f);
        }
        if (n > shown)
            fprintf(f, " và %zu đơn vị khác", n - shown);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody>\n</table>\n<p><a href=\"/hub/violations?", f);
    s_q(f, r->form, r->period.id, r->total.unit);
    fprintf(f, "\">Xem toàn bộ %zu vi phạm</a></p>\n", r->nviolations);
}

/* Every violation, one row each (the page /hub/violations). */
static void
s_violations_all(FILE *f, const th_rollup_t *r)
{
    fputs("<table id=\"violations\">\n<thead><tr>"
          "<th>Mã</th><th>Đơn vị</th><th>Quy tắc</th><th>Nội dung</th></tr></thead>\n<tbody>\n",
          f);
    for (size_t i = 0; i < r->nviolations; i++) {
        const th_rollup_violation_t *v = &r->violations[i];
        fputs("<tr><td>", f);
        th_html_put(f, v->unit);
        fputs("</td><td><a class=\"drill\" href=\"/hub/unit?", f);
        s_q(f, r->form, r->period.id, v->unit);
        fputs("\">", f);
        th_html_put(f, v->name);
        fputs("</a></td><td>", f);
        th_html_put(f, v->rule);
        fputs("</td><td>", f);
        th_html_put(f, v->message);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
}

static void s_dashboard_body(FILE *f, th_office_t *o, const th_rollup_t *r);

static int
s_dashboard(th_httpd_req_t *rq, void *arg)
{
    (void)arg;
    th_office_t *o = th_httpd_office(rq);
    if (!th_httpd_arg(rq, "form") && !th_httpd_arg(rq, "period"))
        return s_forms_list(rq);
    int rc;
    th_rollup_t *r = s_rollup(rq, arg, &rc);
    if (!r)
        return rc;
    char label[64], title[400];
    th_period_label_vn(&r->period, label, sizeof label);
    snprintf(title, sizeof title, "Tổng hợp: %s — %s", r->title, label);
    FILE *f = th_httpd_page(rq, title);
    if (!f) {
        s_release(arg, &r);
        return -ENOMEM;
    }
    /* the body once per rollup "as of now" (docs/benchmarks.md, workload 6):
       64 browsers reloading the dashboard are served the same bytes */
    s_cache_t *c = arg;
    int32_t today = th_time_day_vn(th_now_ms());
    if (r == c->r && (!c->body || c->body_day != today)) {
        free(c->body);
        c->body = NULL;
        FILE *m = open_memstream(&c->body, &c->body_len);
        if (m) {
            s_dashboard_body(m, o, r);
            if (fclose(m) != 0) {
                free(c->body);
                c->body = NULL;
            }
            c->body_day = today;
        }
    }
    if (r == c->r && c->body)
        fwrite(c->body, 1, c->body_len, f);
    else
        s_dashboard_body(f, o, r);
    s_release(arg, &r);
    return th_httpd_page_send(rq, 200);
}

/* Everything of the dashboard below the page's header. */
static void
s_dashboard_body(FILE *f, th_office_t *o, const th_rollup_t *r)
{
    const th_form_t *form = th_office_form(o, r->form);
    char when[32];
    th_time_format_vn(r->as_of, when);
    fputs("<p>Đơn vị: <b>", f);
    th_html_put(f, r->total.unit);
    fputs(" — ", f);
    th_html_put(f, r->total.name);
    fprintf(f, "</b>. Số liệu tính đến %s.", when);
    if (strcmp(r->total.unit, o->cfg.unit) != 0) {
        const th_unit_t *u = th_units_find(o->units, r->total.unit, r->period.end);
        const char *up = u && strcmp(u->parent, o->cfg.unit) != 0 ? u->parent : NULL;
        fputs(" <a class=\"up\" href=\"/hub?", f);
        s_q(f, r->form, r->period.id, up);
        fputs("\">Lên cấp trên</a>", f);
    }
    fputs("</p>\n", f);
    s_progress(f, r->completeness, form);
    s_exports(f, r);
    /* the figures first: the list of units is long at a province */
    s_children(f, r);
    s_groups(f, r);
    if (form)
        s_figures(f, r, form);
    s_units(f, r, o->cfg.unit);
}

/* ---- one unit's report as received --------------------------------------------------------- */

static int
s_violations_page(th_httpd_req_t *rq, void *arg)
{
    int rc;
    th_rollup_t *r = s_rollup(rq, arg, &rc);
    if (!r)
        return rc;
    char label[64], title[400];
    th_period_label_vn(&r->period, label, sizeof label);
    snprintf(title, sizeof title, "Vi phạm quy tắc kiểm tra: %s — %s — %s", r->total.name,
             r->title, label);
    FILE *f = th_httpd_page(rq, title);
    if (!f) {
        s_release(arg, &r);
        return -ENOMEM;
    }
    fputs("<p><a class=\"up\" href=\"/hub?", f);
    s_q(f, r->form, r->period.id, r->total.unit);
    fprintf(f, "\">Về bảng tổng hợp</a></p>\n<p>%zu vi phạm.</p>\n", r->nviolations);
    s_violations_all(f, r);
    s_release(arg, &r);
    return th_httpd_page_send(rq, 200);
}

/* The hidden fields naming the report of a unit page's forms. */
static void
s_hidden_report(FILE *f, const th_rollup_t *r)
{
    fputs("<input type=\"hidden\" name=\"form\" value=\"", f);
    th_html_put(f, r->form);
    fputs("\"><input type=\"hidden\" name=\"period\" value=\"", f);
    th_html_put(f, r->period.id);
    fputs("\"><input type=\"hidden\" name=\"unit\" value=\"", f);
    th_html_put(f, r->total.unit);
    fputs("\">", f);
}

static int
s_unit_page(th_httpd_req_t *rq, void *arg)
{
    (void)arg;
    th_office_t *o = th_httpd_office(rq);
    const char *unit = th_httpd_arg(rq, "unit");
    if (!unit || !unit[0])
        return th_httpd_fail(rq, 400, "Thiếu mã đơn vị.");
    int rc;
    th_rollup_t *r = s_rollup(rq, arg, &rc);   /* checks form, period and that unit is below */
    if (!r)
        return rc;
    const th_form_t *form = th_office_form(o, r->form);
    th_record_t rec;
    th_record_init(&rec);
    bool sig_ok = false;
    int lrc = th_webnode_load(o, r->form, r->period.id, r->total.unit, &rec, &sig_ok);
    char label[64], title[400];
    th_period_label_vn(&r->period, label, sizeof label);
    snprintf(title, sizeof title, "%s — %s — %s", r->total.name, r->title, label);
    FILE *f = th_httpd_page(rq, title);
    if (!f || (lrc < 0 && lrc != TH_E_NOTFOUND)) {
        th_record_clear(&rec);
        s_release(arg, &r);
        return f ? lrc : -ENOMEM;
    }
    if (th_httpd_arg(rq, "returned"))
        fputs("<div class=\"notice ok\">Đã trả lại báo cáo để sửa; thông báo được gửi xuống "
              "đơn vị khi có kết nối.</div>\n", f);
    if (th_httpd_arg(rq, "approved"))
        fputs("<div class=\"notice ok\">Đã duyệt báo cáo: báo cáo được tổng hợp và gửi lên; "
              "đơn vị được báo khi có kết nối.</div>\n", f);
    fputs("<p><a class=\"up\" href=\"/hub?", f);
    s_q(f, r->form, r->period.id, NULL);
    fputs("\">Về bảng tổng hợp</a></p>\n", f);
    if (lrc == TH_E_NOTFOUND) {
        fputs("<p id=\"none\">Chưa nhận được báo cáo của đơn vị này.</p>\n", f);
    } else {
        char when[32];
        th_time_format_vn(rec.submitted_at, when);
        fprintf(f, "<p id=\"meta\">Lần %u, %s lúc %s; chữ ký %s", rec.rev,
                rec.status == TH_STATUS_SUBMITTED ? "nộp" : "lưu nháp", when,
                sig_ok ? "hợp lệ" : "KHÔNG hợp lệ");
        if (rec.author) {
            fputs("; người nhập: ", f);
            th_html_put(f, rec.author);
        }
        fputs(".</p>\n", f);
        if (rec.note) {
            fputs("<p>Ghi chú: ", f);
            th_html_put(f, rec.note);
            fputs("</p>\n", f);
        }
        if (form)
            th_webnode_values_table(f, form, &rec);
        if (r->nviolations > 0) {
            fputs("<div class=\"problems\" id=\"violations\"><p><b>Vi phạm quy tắc kiểm tra:"
                  "</b></p><ul>", f);
            for (size_t i = 0; i < r->nviolations; i++) {
                fputs("<li>", f);
                th_html_put(f, r->violations[i].message);
                fputs("</li>", f);
            }
            fputs("</ul></div>\n", f);
        }
        bool approved = true;
        char key[TH_KEY_MAX];
        if (o->cfg.approve && strcmp(r->total.unit, o->cfg.unit) != 0 &&
            rec.status == TH_STATUS_SUBMITTED &&
            th_key_make(key, sizeof key, r->form, r->period.id, r->total.unit) >= 0 &&
            th_approval_state(o, key, rec.rev, &approved) == 0 && !approved) {
            fprintf(f, "<h2>Duyệt báo cáo</h2>\n<p id=\"awaiting\">Lần %u đang chờ duyệt: "
                    "chưa được tổng hợp và chưa gửi lên cấp trên.</p>\n<form id=\"approve\" "
                    "method=\"post\" action=\"/hub/approve\">", rec.rev);
            th_httpd_csrf_field(rq, f);
            s_hidden_report(f, r);
            fputs("<div class=\"actions\"><button>Duyệt báo cáo</button></div></form>\n", f);
        }
        if (strcmp(r->total.unit, o->cfg.unit) != 0) {
            fputs("<h2>Trả lại để sửa</h2>\n<form id=\"return\" method=\"post\" "
                  "action=\"/hub/return\">", f);
            th_httpd_csrf_field(rq, f);
            s_hidden_report(f, r);
            fputs("<div class=\"field\"><label for=\"reason\">Lý do, nội dung cần sửa"
                  "</label><textarea id=\"reason\" name=\"reason\" maxlength=\"400\" required>"
                  "</textarea></div><div class=\"actions\"><button>Trả lại báo cáo</button>"
                  "</div></form>\n", f);
        }
    }
    th_record_clear(&rec);
    s_release(arg, &r);
    return th_httpd_page_send(rq, 200);
}

/* POST /hub/return (approve false) and /hub/approve: the answers to a
   child's report, as the CLI's return and approve. */
static int
s_answer(th_httpd_req_t *rq, bool approve)
{
    const char *form = th_httpd_field(rq, "form"), *period = th_httpd_field(rq, "period");
    const char *unit = th_httpd_field(rq, "unit"), *reason = th_httpd_field(rq, "reason");
    if (!form || !period || !unit || (!approve && !reason))
        return th_httpd_fail(rq, 400, approve ? "Thiếu thông tin để duyệt báo cáo."
                                              : "Thiếu thông tin để trả lại báo cáo.");
    char err[512];
    int rc = approve ? th_approval_approve(th_httpd_office(rq), form, period, unit, NULL, err,
                                           sizeof err)
                     : th_return_report(th_httpd_office(rq), form, period, unit, reason, NULL,
                                        err, sizeof err);
    if (rc == TH_E_INVALID)
        return th_httpd_fail(rq, 400, "Hãy ghi lý do, nội dung cần sửa (tối đa 400 byte).");
    if (rc == TH_E_NOTFOUND)
        return th_httpd_fail(rq, 404, "Chưa nhận được báo cáo của đơn vị này.");
    if (rc == TH_E_FORM || rc == TH_E_PERIOD || rc == TH_E_UNIT)
        return th_httpd_fail(rq, 404, "Biểu mẫu, kỳ hoặc đơn vị không hợp lệ.");
    if (rc == TH_E_EXISTS || rc == TH_E_USAGE)
        return th_httpd_fail(rq, 409, err);
    if (rc < 0)
        return rc;
    th_httpd_saved(rq);
    char loc[200];
    snprintf(loc, sizeof loc, "/hub/unit?form=%s&period=%s&unit=%s&%s=1", form, period, unit,
             approve ? "approved" : "returned");
    return th_httpd_redirect(rq, loc);
}

static int
s_return(th_httpd_req_t *rq, void *arg)
{
    (void)arg;
    return s_answer(rq, false);
}

static int
s_approve(th_httpd_req_t *rq, void *arg)
{
    (void)arg;
    return s_answer(rq, true);
}

/* ---- exports and JSON ----------------------------------------------------------------------- */

static int
s_export(th_httpd_req_t *rq, void *arg)
{
    (void)arg;
    const char *fmt = th_httpd_arg(rq, "format");
    if (!fmt || (strcmp(fmt, "xlsx") && strcmp(fmt, "csv") && strcmp(fmt, "html")))
        return th_httpd_fail(rq, 400, "Định dạng phải là xlsx, csv hoặc html.");
    s_query_t q;
    int rc;
    if (!s_query(rq, &q, &rc))
        return rc;
    th_export_t *x = NULL;
    char err[512];
    rc = th_export_make(th_httpd_office(rq), q.form, q.period, q.unit, q.as_of, &x, err,
                        sizeof err);
    if (rc < 0)
        return s_compute_failed(rq, rc);
    char name[128];
    snprintf(name, sizeof name, "tong-hop-%s-%s-%s.%s", x->rollup->form, x->rollup->period.id,
             x->rollup->total.unit, fmt);
    char *buf = NULL;
    size_t len = 0;
    if (strcmp(fmt, "xlsx") == 0) {
        /* libxlsxwriter writes files: a private temporary one, read back */
        char tmp[] = "/tmp/tonghop-export-XXXXXX";
        int fd = mkstemp(tmp);
        if (fd < 0) {
            th_export_destroy(&x);
            return -errno;
        }
        close(fd);
        rc = th_export_xlsx(x, tmp);
        FILE *in = rc == 0 ? fopen(tmp, "rb") : NULL;
        FILE *out = in ? open_memstream(&buf, &len) : NULL;
        char chunk[8192];
        size_t n;
        while (out && (n = fread(chunk, 1, sizeof chunk, in)) > 0)
            fwrite(chunk, 1, n, out);
        if (in)
            fclose(in);
        if (out)
            fclose(out);
        unlink(tmp);
        if (rc == 0 && !out)
            rc = -EIO;
    } else {
        FILE *out = open_memstream(&buf, &len);
        rc = !out ? -ENOMEM : strcmp(fmt, "csv") == 0 ? th_export_csv(x, out)
                                                     : th_export_html(x, out);
        if (out)
            fclose(out);
    }
    th_export_destroy(&x);
    if (rc == 0) {
        if (strcmp(fmt, "xlsx") == 0)
            rc = th_httpd_send(rq, 200, "application/vnd.openxmlformats-officedocument."
                             "spreadsheetml.sheet", buf, len, name, NULL);
        else if (strcmp(fmt, "csv") == 0)
            rc = th_httpd_send(rq, 200, "text/csv; charset=utf-8", buf, len, name, NULL);
        else   /* the print view carries its own inline style */
            rc = th_httpd_send(rq, 200, "text/html; charset=utf-8", buf, len, NULL,
                             "default-src 'none'; style-src 'unsafe-inline'; "
                             "frame-ancestors 'none'");
    }
    free(buf);
    return rc;
}

static int
s_api_rollup(th_httpd_req_t *rq, void *arg)
{
    (void)arg;
    int rc;
    th_rollup_t *r = s_rollup(rq, arg, &rc);
    if (!r)
        return rc;
    json_t *j = th_rollup_json(r);
    s_release(arg, &r);
    return th_httpd_send_json(rq, 200, j);
}

static int
s_api_completeness(th_httpd_req_t *rq, void *arg)
{
    (void)arg;
    int rc;
    th_rollup_t *r = s_rollup(rq, arg, &rc);
    if (!r)
        return rc;
    json_t *j = th_completeness_json(r->completeness);
    s_release(arg, &r);
    return th_httpd_send_json(rq, 200, j);
}

int
th_webhub_add(th_httpd_t *w)
{
    static const th_httpd_route_t routes[] = {
        { "GET", "/hub", s_dashboard },
        { "GET", "/hub/unit", s_unit_page },
        { "GET", "/hub/violations", s_violations_page },
        { "POST", "/hub/return", s_return },
        { "POST", "/hub/approve", s_approve },
        { "GET", "/export", s_export },
        { "GET", "/api/rollup", s_api_rollup },
        { "GET", "/api/completeness", s_api_completeness },
    };
    s_cache_t *c = th_calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    th_httpd_on_destroy(w, s_cache_free, c);
    int rc = th_httpd_routes(w, routes, sizeof routes / sizeof *routes, c);
    return rc < 0 ? rc : th_httpd_nav(w, "/hub", "Tổng hợp");
}
