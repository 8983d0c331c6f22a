/*  webnode: the office's own pages and JSON endpoints. */
#include "webnode.h"
#include "codec.h"
#include "entry.h"
#include "err.h"
#include "mem.h"
#include "period.h"
#include "present.h"
#include "validate.h"
#include "vnnum.h"
#include "status.h"
#include "store.h"
#include "units.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- loading ------------------------------------------------------------------ */

typedef struct {
    const char *key;
    th_record_t *r;
    bool *sig_ok;
} s_load_t;

static int
s_load_txn(th_store_txn_t *txn, void *ctx)
{
    s_load_t *l = ctx;
    th_store_rev_t sr;
    int rc = th_store_get_current(txn, l->key, &sr);
    if (rc < 0)
        return rc;
    rc = th_entry_decode_verified(sr.blob, sr.len, l->r);
    *l->sig_ok = rc == 0;
    if (rc == TH_E_SIG) {   /* shown, marked as not valid */
        th_record_clear(l->r);
        th_record_init(l->r);
        rc = th_codec_record_decode(sr.blob, sr.len, l->r, NULL, NULL);
    }
    return rc;
}

int
th_webnode_load(th_office_t *o, const char *form, const char *period, const char *unit,
                th_record_t *r, bool *sig_ok)
{
    char key[TH_KEY_MAX];
    if (th_key_make(key, sizeof key, form, period, unit) < 0)
        return TH_E_INVALID;
    s_load_t l = { .key = key, .r = r, .sig_ok = sig_ok };
    return th_store_read(o->store, s_load_txn, &l);
}

/* ---- shared bits ---------------------------------------------------------------- */

/* The form and period named by the query, checked; NULL after replying. */
static const th_form_t *
s_form_period(th_httpd_req_t *rq, th_period_t *p)
{
    th_office_t *o = th_httpd_office(rq);
    const char *fid = th_httpd_arg(rq, "form"), *pid = th_httpd_arg(rq, "period");
    const th_form_t *f = fid ? th_office_form(o, fid) : NULL;
    if (!f) {
        th_httpd_fail(rq, 404, "Không có biểu mẫu này.");
        return NULL;
    }
    if (!pid || th_period_parse(pid, p) < 0 || p->type != f->period_type) {
        th_httpd_fail(rq, 404, "Kỳ báo cáo không hợp lệ cho biểu mẫu này.");
        return NULL;
    }
    return f;
}

/* A string member of a JSON object, "" when absent. */
static const char *
s_jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* The value of ind in r as a person reads it ("" when absent). */
static void
s_value_text(const th_form_t *f, const th_indicator_t *ind, const th_record_t *r, char *buf,
             size_t cap)
{
    buf[0] = '\0';
    double d;
    const th_value_t *v = ind->computed ? NULL : th_record_get(r, ind->code);
    if (ind->computed && th_form_computed(f, ind, r, &d) == 0)
        th_vnnum_format_dec(d, buf, cap);
    else if (v)
        th_fmt_value_vn(ind, v, buf, cap);
}

void
th_webnode_values_table(FILE *out, const th_form_t *f, const th_record_t *r)
{
    fputs("<table id=\"values\">\n<thead><tr><th>Mã</th><th>Chỉ tiêu</th><th>Số liệu</th>"
          "<th>Đơn vị tính</th></tr></thead>\n<tbody>\n", out);
    const char *section = NULL;
    for (size_t i = 0; i < f->nindicators; i++) {
        const th_indicator_t *ind = &f->indicators[i];
        if (ind->section[0] && (!section || strcmp(section, ind->section) != 0)) {
            section = ind->section;
            const th_form_section_t *s = th_form_section(f, section);
            fputs("<tr class=\"section\"><th colspan=\"4\">", out);
            th_html_put(out, section);
            fputs(". ", out);
            th_html_put(out, s ? s->title : "");
            fputs("</th></tr>\n", out);
        }
        char val[TH_TEXT_MAX + 64];
        s_value_text(f, ind, r, val, sizeof val);
        fputs("<tr data-code=\"", out);
        th_html_put(out, ind->code);
        fputs("\"><td>", out);
        th_html_put(out, ind->code);
        fputs("</td><td>", out);
        th_html_put(out, ind->label);
        fprintf(out, "</td><td class=\"%s\">", ind->type == TH_IT_TEXT ? "value text" : "value");
        th_html_put(out, val);
        fputs("</td><td>", out);
        th_html_put(out, ind->unit);
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody>\n</table>\n", out);
}

/* ---- home: forms and periods ------------------------------------------------------ */

static const th_unit_t *
s_unit_for(th_office_t *o, int32_t day)
{
    return th_units_find(o->units, o->cfg.unit, day);
}

typedef struct {
    th_record_t r;
    bool found, sig_ok;
} s_cur_t;

static void
s_home_row(th_httpd_req_t *rq, FILE *f, const th_form_t *form, const th_period_t *p)
{
    th_office_t *o = th_httpd_office(rq);
    s_cur_t c = { .found = false };
    th_record_init(&c.r);
    c.found = th_webnode_load(o, form->id, p->id, o->cfg.unit, &c.r, &c.sig_ok) == 0;
    char label[64], due[11] = "—";
    th_period_label_vn(p, label, sizeof label);
    int32_t dl = th_entry_deadline(o, form, p, o->cfg.unit);
    if (dl != INT32_MIN)
        th_date_format_vn(dl, due);
    fputs("<tr><td>", f);
    th_html_put(f, form->title);
    fputs("</td><td>", f);
    th_html_put(f, label);
    fprintf(f, "</td><td>%s</td><td>", due);
    if (!c.found)
        fputs("Chưa nhập", f);
    else
        fprintf(f, "%s (lần %u)", c.r.status == TH_STATUS_SUBMITTED ? "Đã nộp" : "Bản nháp",
                c.r.rev);
    fputs("</td><td><a class=\"open\" href=\"/report?form=", f);
    th_html_put(f, form->id);
    fprintf(f, "&amp;period=%s\">%s</a></td></tr>\n", p->id,
            c.found ? "Xem, sửa" : "Nhập báo cáo");
    th_record_clear(&c.r);
}

static int
s_home(th_httpd_req_t *rq, void *arg)
{
    (void)arg;
    th_office_t *o = th_httpd_office(rq);
    FILE *f = th_httpd_page(rq, "Báo cáo của đơn vị");
    if (!f)
        return -ENOMEM;
    int32_t today = th_time_day_vn(th_now_ms());
    size_t nforms = th_forms_count(o->forms), rows = 0;
    fputs("<table id=\"reports\">\n<thead><tr><th>Biểu mẫu</th><th>Kỳ báo cáo</th>"
          "<th>Hạn nộp</th><th>Tình trạng</th><th></th></tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < nforms; i++) {
        const th_form_t *form = th_forms_at(o->forms, i);
        th_period_t p;
        if (th_period_of_day(form->period_type, today, &p) < 0)
            continue;
        /* the current period and the one before (usually the one due) */
        th_period_t periods[2] = { p, p };
        if (th_period_of_day(form->period_type, p.start - 1, &periods[0]) < 0)
            continue;
        for (size_t k = 0; k < 2; k++) {
            const th_unit_t *u = s_unit_for(o, periods[k].end);
            if (!u || !th_form_reported_by(form, u->level))
                continue;
            s_home_row(rq, f, form, &periods[k]);
            rows++;
        }
    }
    fputs("</tbody>\n</table>\n", f);
    if (rows == 0)
        fputs("<p>Đơn vị này không trực tiếp nhập báo cáo theo các biểu mẫu hiện có.</p>\n", f);
    if (th_office_is_hub(o))
        fputs("<p><a href=\"/hub\">Xem tổng hợp báo cáo của các đơn vị trực thuộc</a></p>\n", f);
    return th_httpd_page_send(rq, 200);
}

/* ---- the entry form ---------------------------------------------------------------- */

/* Problems of one indicator, as <p class="field-error"> lines. */
static bool
s_field_errors(FILE *f, const th_problems_t *pr, const char *code)
{
    bool any = false;
    for (size_t i = 0; pr && i < pr->n; i++) {
        if (strcmp(pr->items[i].code, code) != 0)
            continue;
        fputs("<p class=\"field-error\" data-code=\"", f);
        th_html_put(f, code);
        fputs("\">", f);
        th_html_put(f, pr->items[i].message);
        fputs("</p>", f);
        any = true;
    }
    return any;
}

static bool
s_has_problem(const th_problems_t *pr, const char *code)
{
    for (size_t i = 0; pr && i < pr->n; i++)
        if (strcmp(pr->items[i].code, code) == 0)
            return true;
    return false;
}

static void
s_option(FILE *f, const char *value, const char *label, const char *current)
{
    fputs("<option value=\"", f);
    th_html_put(f, value);
    fprintf(f, "\"%s>", strcmp(value, current) == 0 ? " selected" : "");
    th_html_put(f, label);
    fputs("</option>", f);
}

/* One input; its current text is what was posted (posted) or the record's. */
static void
s_field(th_httpd_req_t *rq, FILE *f, const th_form_t *form, const th_indicator_t *ind,
        const th_record_t *r, bool posted, const th_problems_t *pr)
{
    char name[TH_CODE_MAX + 2], cur[TH_TEXT_MAX + 64] = "";
    snprintf(name, sizeof name, "v_%s", ind->code);
    if (posted && !ind->computed) {
        const char *v = th_httpd_field(rq, name);
        snprintf(cur, sizeof cur, "%s", v ? v : "");
    } else if (r && ind->computed) {
        double v;
        if (th_form_computed(form, ind, r, &v) == 0)
            th_vnnum_format_dec(v, cur, sizeof cur);
    } else if (r) {
        const th_value_t *v = th_record_get(r, ind->code);
        if (v && v->kind == TH_V_TEXT)
            snprintf(cur, sizeof cur, "%s", v->u.s);   /* enum: the code */
        else if (v)
            th_fmt_value_vn(ind, v, cur, sizeof cur);
        if (v && v->kind == TH_V_BOOL)
            snprintf(cur, sizeof cur, "%s", v->u.b ? "có" : "không");
    }
    fprintf(f, "<div class=\"field%s\"><label for=\"%s\">", s_has_problem(pr, ind->code)
                                                              ? " bad" : "", name);
    th_html_put(f, ind->code);
    fputs(". ", f);
    th_html_put(f, ind->label);
    if (ind->unit[0]) {
        fputs(" (", f);
        th_html_put(f, ind->unit);
        fputs(")", f);
    }
    if (ind->required && !ind->computed)
        fputs(" <span class=\"req\" title=\"bắt buộc\">*</span>", f);
    fputs("</label>", f);
    if (ind->computed) {
        fprintf(f, "<input id=\"%s\" value=\"", name);
        th_html_put(f, cur);
        fputs("\" readonly> <span class=\"help\">tự tính</span>", f);
    } else if (ind->type == TH_IT_BOOL) {
        fprintf(f, "<select id=\"%s\" name=\"%s\">", name, name);
        s_option(f, "", "—", cur);
        s_option(f, "có", "Có", cur);
        s_option(f, "không", "Không", cur);
        fputs("</select>", f);
    } else if (ind->type == TH_IT_ENUM) {
        fprintf(f, "<select id=\"%s\" name=\"%s\">", name, name);
        s_option(f, "", "—", cur);
        for (size_t k = 0; k < ind->noptions; k++)
            s_option(f, ind->options[k].code, ind->options[k].label, cur);
        fputs("</select>", f);
    } else if (ind->type == TH_IT_TEXT) {
        fprintf(f, "<textarea id=\"%s\" name=\"%s\" maxlength=\"%d\">", name, name,
                TH_TEXT_MAX - 1);
        th_html_put(f, cur);
        fputs("</textarea>", f);
    } else {
        fprintf(f, "<input id=\"%s\" name=\"%s\" inputmode=\"%s\" value=\"", name, name,
                ind->type == TH_IT_INT ? "numeric" : "decimal");
        th_html_put(f, cur);
        fputs("\">", f);
    }
    if (ind->help[0]) {
        fputs("<div class=\"help\">", f);
        th_html_put(f, ind->help);
        fputs("</div>", f);
    }
    s_field_errors(f, pr, ind->code);
    fputs("</div>\n", f);
}

/* Revisions of the report (the last S_HIST_MAX), shown newest first. */
#define S_HIST_MAX 100

typedef struct {
    uint32_t rev;
    uint8_t status;
    bool sig_ok;
    int64_t at;
    char author[128];
} s_hist_row_t;

typedef struct {
    const char *key;
    s_hist_row_t rows[S_HIST_MAX];
    size_t n;                     /* revisions seen; rows is a ring */
} s_hist_t;

static int
s_hist_rev(const th_store_rev_t *sr, void *ctx)
{
    s_hist_t *h = ctx;
    s_hist_row_t *row = &h->rows[h->n++ % S_HIST_MAX];
    th_record_t r;
    th_record_init(&r);
    int rc = th_entry_decode_verified(sr->blob, sr->len, &r);
    row->rev = sr->rev;
    row->status = sr->status;
    row->at = sr->received_at;
    row->sig_ok = rc == 0;
    snprintf(row->author, sizeof row->author, "%s", rc == 0 && r.author ? r.author : "");
    th_record_clear(&r);
    return rc == -ENOMEM ? rc : 0;
}

static int
s_hist_txn(th_store_txn_t *txn, void *ctx)
{
    s_hist_t *h = ctx;
    return th_store_each_revision(txn, h->key, s_hist_rev, h);
}

static int
s_history(th_office_t *o, FILE *f, const char *key)
{
    s_hist_t *h = th_calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    h->key = key;
    int rc = th_store_read(o->store, s_hist_txn, h);
    if (rc == 0 && h->n > 0) {
        fputs("<h2>Lịch sử các lần lưu</h2>\n<table id=\"history\">\n<thead><tr><th>Lần</th>"
              "<th>Trạng thái</th><th>Thời điểm lưu</th><th>Chữ ký</th><th>Người nhập</th>"
              "</tr></thead>\n<tbody>\n", f);
        size_t first = h->n > S_HIST_MAX ? h->n - S_HIST_MAX : 0;
        for (size_t i = h->n; i-- > first;) {
            const s_hist_row_t *row = &h->rows[i % S_HIST_MAX];
            char when[32];
            th_time_format_vn(row->at, when);
            fprintf(f, "<tr><td>%u</td><td>%s</td><td>%s</td><td>%s</td><td>", row->rev,
                    row->status == TH_STATUS_SUBMITTED ? "Đã nộp" : "Bản nháp", when,
                    row->sig_ok ? "hợp lệ" : "KHÔNG hợp lệ");
            th_html_put(f, row->author);
            fputs("</td></tr>\n", f);
        }
        fputs("</tbody>\n</table>\n", f);
    }
    th_free(h);
    return rc;
}

/* What happened to the current revision above, in the words of `status`
   (th_status_progress_vn), with a return or a rejection set apart. */
static void
s_sync_box(th_office_t *o, FILE *f, const char *form, const char *period)
{
    json_t *st = NULL, *rep = NULL, *it;
    char err[256];
    if (th_status_json_for(o, form, period, &st, err, sizeof err) < 0) {
        fputs("<div id=\"sync\">Không đọc được tình trạng đồng bộ; xem nhật ký của dịch vụ."
              "</div>\n", f);
        return;
    }
    size_t i;
    json_array_foreach(json_object_get(st, "reports"), i, it) {
        if (strcmp(s_jstr(it, "form"), form) == 0 && strcmp(s_jstr(it, "period"), period) == 0)
            rep = it;
    }
    fputs("<div id=\"sync\">", f);
    json_t *ret = rep ? json_object_get(rep, "returned") : NULL;
    if (ret) {
        fputs("<div class=\"notice warn\"><b>Báo cáo bị trả lại để sửa</b> (", f);
        th_html_put(f, s_jstr(ret, "by"));
        fputs("): ", f);
        th_html_put(f, s_jstr(ret, "reason"));
        fputs(" Hãy sửa rồi nộp lại.</div>", f);
    } else if (rep && json_object_get(rep, "rejected")) {
        fputs("<div class=\"notice warn\"><b>Cấp trên từ chối báo cáo:</b> ", f);
        th_html_put(f, s_jstr(json_object_get(rep, "rejected"), "reason"));
        fputs(" Hãy sửa rồi nộp lại.</div>", f);
    } else {
        char phrase[TH_STATUS_PHRASE_MAX];
        if (rep)
            th_status_progress_vn(rep, (uint64_t)json_integer_value(json_object_get(st,
                                                                                   "pending")),
                                  phrase, sizeof phrase);
        fputs("Gửi lên cấp trên: ", f);
        th_html_put(f, rep ? phrase : "chưa nhập");
    }
    fputs("</div>\n", f);
    json_decref(st);
}

/* The child office a hub enters a report for (nhập thay, ?for=UNIT), or
   NULL: the office's own report. Only a hub enters for others; the entry
   checks that UNIT is a direct child. */
static const char *
s_for(th_httpd_req_t *rq)
{
    const char *u = th_httpd_arg(rq, "for");
    th_office_t *o = th_httpd_office(rq);
    return u && *u && th_office_is_hub(o) && th_valid_unit_code(u) ? u : NULL;
}

static int
s_report_page(th_httpd_req_t *rq, const th_form_t *form, const th_period_t *p, bool posted,
              const th_problems_t *pr, const char *problem)
{
    th_office_t *o = th_httpd_office(rq);
    const char *for_unit = s_for(rq);
    const char *unit = for_unit ? for_unit : o->cfg.unit;
    char label[64], title[320];
    th_period_label_vn(p, label, sizeof label);
    snprintf(title, sizeof title, "%s%s — %s", for_unit ? "Nhập thay: " : "", form->title,
             label);
    th_record_t r;
    th_record_init(&r);
    bool sig_ok = false;
    int lrc = th_webnode_load(o, form->id, p->id, unit, &r, &sig_ok);
    bool found = lrc == 0;
    if (lrc < 0 && lrc != TH_E_NOTFOUND) {
        th_record_clear(&r);
        return lrc;
    }
    FILE *f = th_httpd_page(rq, title);
    if (!f) {
        th_record_clear(&r);
        return -ENOMEM;
    }
    if (for_unit) {
        const th_unit_t *fu = th_units_find(o->units, for_unit, p->end);
        fputs("<div class=\"notice\">Nhập thay báo cáo của đơn vị <b>", f);
        th_html_put(f, for_unit);
        if (fu) {
            fputs(" — ", f);
            th_html_put(f, fu->name);
        }
        fputs("</b> (đơn vị chưa có máy riêng), theo báo cáo giấy hoặc thư điện tử của đơn "
              "vị. Báo cáo được đánh dấu nhập thay; khi đơn vị tự gửi báo cáo từ máy của "
              "mình, báo cáo đó sẽ thay thế.</div>\n", f);
    }
    int32_t dl = th_entry_deadline(o, form, p, unit);
    if (dl != INT32_MIN) {
        char d[11];
        th_date_format_vn(dl, d);
        fprintf(f, "<p>Hạn nộp: <b>%s</b></p>\n", d);
    }
    char cut[96];
    if (*th_form_cutoff_text(form, p, cut, sizeof cut))
        fprintf(f, "<p>Thời gian chốt số liệu: %s.</p>\n", cut);
    const char *saved = th_httpd_arg(rq, "saved");
    if (saved && !posted && found)
        fprintf(f, "<div class=\"notice ok\">%s (lần %u).</div>\n",
                r.status == TH_STATUS_SUBMITTED ? "Đã nộp báo cáo" : "Đã lưu bản nháp", r.rev);
    if (found)
        fprintf(f, "<p>Hiện có: <b>%s</b>, lần %u%s.</p>\n",
                r.status == TH_STATUS_SUBMITTED ? "đã nộp" : "bản nháp", r.rev,
                sig_ok ? "" : " — CHỮ KÝ KHÔNG HỢP LỆ");
    if (!for_unit)
        s_sync_box(o, f, form->id, p->id);
    if (problem || (pr && pr->n > 0)) {
        fputs("<div class=\"problems\"><p><b>Báo cáo chưa được lưu. Hãy sửa các điểm sau:</b>"
              "</p><ul>", f);
        if (problem) {
            fputs("<li>", f);
            th_html_put(f, problem);
            fputs("</li>", f);
        }
        for (size_t i = 0; pr && i < pr->n; i++) {
            fputs("<li>", f);
            th_html_put(f, pr->items[i].label ? pr->items[i].label : pr->items[i].code);
            fputs(": ", f);
            th_html_put(f, pr->items[i].message);
            fputs("</li>", f);
        }
        fputs("</ul></div>\n", f);
    }
    fputs("<form id=\"entry\" method=\"post\" action=\"/report?form=", f);
    th_html_put(f, form->id);
    fprintf(f, "&amp;period=%s%s%s\">", p->id, for_unit ? "&amp;for=" : "",
            for_unit ? for_unit : "");
    th_httpd_csrf_field(rq, f);
    if (for_unit) {
        fputs("<div class=\"field\"><label for=\"document\">Văn bản báo cáo của đơn vị "
              "(số, ký hiệu, ngày)</label><input id=\"document\" name=\"document\" "
              "maxlength=\"400\" value=\"", f);
        const char *doc = posted ? th_httpd_field(rq, "document") : (found ? r.doc : NULL);
        if (doc)
            th_html_put(f, doc);
        fputs("\"></div>\n", f);
    }
    const char *section = NULL;
    bool open = false;
    for (size_t i = 0; i < form->nindicators; i++) {
        const th_indicator_t *ind = &form->indicators[i];
        if (!section || strcmp(section, ind->section) != 0) {
            section = ind->section;
            if (open)
                fputs("</fieldset>\n", f);
            const th_form_section_t *s = th_form_section(form, section);
            fputs("<fieldset><legend>", f);
            if (s) {
                th_html_put(f, s->id);
                fputs(". ", f);
                th_html_put(f, s->title);
            }
            fputs("</legend>\n", f);
            open = true;
        }
        s_field(rq, f, form, ind, found ? &r : NULL, posted, pr);
    }
    if (open)
        fputs("</fieldset>\n", f);
    fputs("<div class=\"field\"><label for=\"note\">Ghi chú kèm theo (không bắt buộc)</label>"
          "<textarea id=\"note\" name=\"note\" maxlength=\"400\">", f);
    if (posted)
        th_html_put(f, th_httpd_field(rq, "note"));
    fputs("</textarea></div>\n<div class=\"actions\"><button name=\"action\" value=\"draft\">"
          "Lưu nháp</button><button name=\"action\" value=\"submit\">Nộp báo cáo</button></div>"
          "\n</form>\n", f);
    char key[TH_KEY_MAX];
    int rc = 0;
    if (th_key_make(key, sizeof key, form->id, p->id, unit) >= 0)
        rc = s_history(o, f, key);
    th_record_clear(&r);
    if (rc < 0)
        return rc;
    return th_httpd_page_send(rq, posted ? 422 : 200);
}

static int
s_report_get(th_httpd_req_t *rq, void *arg)
{
    (void)arg;
    th_period_t p;
    const th_form_t *f = s_form_period(rq, &p);
    return f ? s_report_page(rq, f, &p, false, NULL, NULL) : 0;
}

static int
s_report_post(th_httpd_req_t *rq, void *arg)
{
    (void)arg;
    th_office_t *o = th_httpd_office(rq);
    th_period_t p;
    const th_form_t *f = s_form_period(rq, &p);
    if (!f)
        return 0;
    th_entry_value_t *vals = th_calloc(f->nindicators, sizeof *vals);
    if (!vals)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < f->nindicators; i++) {
        const th_indicator_t *ind = &f->indicators[i];
        char name[TH_CODE_MAX + 2];
        snprintf(name, sizeof name, "v_%s", ind->code);
        const char *v = th_httpd_field(rq, name);
        if (ind->computed || !v)
            continue;   /* a field not sent keeps its value */
        vals[n].code = ind->code;
        vals[n].text = v;
        n++;
    }
    const char *action = th_httpd_field(rq, "action");
    const char *note = th_httpd_field(rq, "note");
    const char *for_unit = s_for(rq), *doc = th_httpd_field(rq, "document");
    th_entry_req_t req = { .form = f->id, .period = p.id,
                           .draft = !action || strcmp(action, "submit") != 0,
                           .author = th_httpd_user(rq), .note = note && note[0] ? note : NULL,
                           .for_unit = for_unit,
                           .document = for_unit && doc && doc[0] ? doc : NULL,
                           .values = vals, .nvalues = n };
    th_problems_t pr = { 0 };
    th_entry_result_t res;
    char err[512];
    int rc = th_entry_submit(o, &req, &pr, &res, err, sizeof err);
    th_free(vals);
    if (rc == TH_E_REJECTED) {
        rc = s_report_page(rq, f, &p, true, &pr, NULL);
        th_problems_clear(&pr);
        return rc;
    }
    th_problems_clear(&pr);
    if (rc < 0)
        return s_report_page(rq, f, &p, true, NULL, err);
    if (!req.draft)
        th_httpd_saved(rq);
    char loc[192];
    snprintf(loc, sizeof loc, "/report?form=%s&period=%s%s%s&saved=%u", f->id, p.id,
             for_unit ? "&for=" : "", for_unit ? for_unit : "", res.rev);
    return th_httpd_redirect(rq, loc);
}

/* ---- sync status ------------------------------------------------------------------------ */

static int
s_status_page(th_httpd_req_t *rq, void *arg)
{
    (void)arg;
    th_office_t *o = th_httpd_office(rq);
    json_t *st = NULL;
    char err[256];
    int rc = th_status_json(o, &st, err, sizeof err);
    if (rc < 0)
        return rc;
    FILE *f = th_httpd_page(rq, "Tình trạng đồng bộ");
    if (!f) {
        json_decref(st);
        return -ENOMEM;
    }
    json_t *link = json_object_get(st, "link");
    uint64_t pending = (uint64_t)json_integer_value(json_object_get(st, "pending"));
    fputs("<div id=\"link\"><p>Đường truyền lên cấp trên: <b>", f);
    th_html_put(f, th_status_link_vn(s_jstr(link, "state")));
    fputs("</b>", f);
    const char *last = json_string_value(json_object_get(link, "last_contact"));
    if (last) {
        char when[32];
        th_status_time_vn(last, when);
        fprintf(f, " — liên lạc lần cuối %s", when);
    }
    fprintf(f, "</p><p>Chờ gửi: <b>%" PRIu64 "</b></p></div>\n", pending);
    fputs("<table id=\"sync-reports\">\n<thead><tr><th>Biểu mẫu</th><th>Kỳ</th><th>Lần</th>"
          "<th>Trạng thái</th><th>Cấp trên</th></tr></thead>\n<tbody>\n", f);
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(st, "reports"), i, it) {
        const char *form = s_jstr(it, "form"), *period = s_jstr(it, "period");
        char phrase[TH_STATUS_PHRASE_MAX];
        th_status_progress_vn(it, pending, phrase, sizeof phrase);
        fputs("<tr><td><a href=\"/report?form=", f);
        th_html_put(f, form);
        fputs("&amp;period=", f);
        th_html_put(f, period);
        fputs("\">", f);
        th_html_put(f, form);
        fputs("</a></td><td>", f);
        th_html_put(f, period);
        fprintf(f, "</td><td>%" JSON_INTEGER_FORMAT "</td><td>%s</td><td>",
                json_integer_value(json_object_get(it, "rev")),
                strcmp(s_jstr(it, "status"), "submitted") == 0 ? "đã nộp" : "bản nháp");
        th_html_put(f, phrase);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
    json_decref(st);
    return th_httpd_page_send(rq, 200);
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static int
s_api_forms(th_httpd_req_t *rq, void *arg)
{
    (void)arg;
    return th_httpd_send_json(rq, 200, th_present_forms_json(th_httpd_office(rq)->forms));
}

static int
s_api_status(th_httpd_req_t *rq, void *arg)
{
    (void)arg;
    json_t *st = NULL;
    char err[256];
    int rc = th_status_json(th_httpd_office(rq), &st, err, sizeof err);
    return rc < 0 ? rc : th_httpd_send_json(rq, 200, st);
}

static int
s_api_report(th_httpd_req_t *rq, void *arg)
{
    (void)arg;
    th_office_t *o = th_httpd_office(rq);
    th_period_t p;
    const th_form_t *f = s_form_period(rq, &p);
    if (!f)
        return 0;
    const char *unit = th_httpd_arg(rq, "unit");
    if (!unit)
        unit = o->cfg.unit;
    if (!th_valid_unit_code(unit))
        return th_httpd_fail(rq, 404, "Mã đơn vị không hợp lệ.");
    th_record_t r;
    th_record_init(&r);
    bool sig_ok = false;
    int rc = th_webnode_load(o, f->id, p.id, unit, &r, &sig_ok);
    if (rc == TH_E_NOTFOUND) {
        th_record_clear(&r);
        return th_httpd_fail(rq, 404, "Chưa có báo cáo này.");
    }
    if (rc < 0) {
        th_record_clear(&r);
        return rc;
    }
    json_t *j = th_present_record_json(f, &r, sig_ok);
    th_record_clear(&r);
    return th_httpd_send_json(rq, 200, j);
}

int
th_webnode_add(th_httpd_t *w)
{
    static const th_httpd_route_t routes[] = {
        { "GET", "/", s_home },
        { "GET", "/report", s_report_get },
        { "POST", "/report", s_report_post },
        { "GET", "/status", s_status_page },
        { "GET", "/api/forms", s_api_forms },
        { "GET", "/api/status", s_api_status },
        { "GET", "/api/report", s_api_report },
    };
    return th_httpd_routes(w, routes, sizeof routes / sizeof *routes, NULL);
}
