/*  export: the consolidated report as one document (header and six parts)
    for the three writers, and the CSV writer. */
#include "export.h"
#include "completeness.h"
#include "csv.h"
#include "err.h"
#include "mem.h"
#include "period.h"
#include "present.h"
#include "vnnum.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- building ------------------------------------------------------------ */

/* Every builder call below records an allocation failure in b->oom and
   then does nothing, so that a part is built straight through and checked
   once at its end. */
typedef struct {
    th_export_t *x;
    const th_form_t *f;
    bool oom;
} s_build_t;

typedef struct {
    const char *title;
    unsigned width;      /* characters */
} s_colspec_t;

static void s_col(s_build_t *b, th_export_part_t *p, size_t i, const char *title,
                  const char *hint, unsigned width);

/* A new part of ncols columns, the first nspec of them titled from spec
   (the caller titles the others with s_col). */
static th_export_part_t *
s_part(s_build_t *b, const char *title, const char *sheet, const char *empty_note,
       size_t ncols, const s_colspec_t *spec, size_t nspec)
{
    if (b->oom)
        return NULL;
    th_export_t *x = b->x;
    th_export_part_t *np = th_realloc(x->parts, (x->nparts + 1) * sizeof *np);
    if (!np) {
        b->oom = true;
        return NULL;
    }
    x->parts = np;
    th_export_part_t *p = &np[x->nparts++];
    memset(p, 0, sizeof *p);
    p->ncols = ncols;
    p->title = th_strdup(title);
    p->sheet = th_strdup(sheet);
    p->empty_note = th_strdup(empty_note);
    p->header = th_calloc(ncols, sizeof *p->header);
    p->header_hint = th_calloc(ncols, sizeof *p->header_hint);
    p->widths = th_calloc(ncols, sizeof *p->widths);
    if (!p->title || !p->sheet || !p->empty_note || !p->header || !p->header_hint ||
        !p->widths)
        b->oom = true;
    for (size_t i = 0; i < nspec && i < ncols; i++)
        s_col(b, p, i, spec[i].title, NULL, spec[i].width);
    return b->oom ? NULL : p;
}

static void
s_col(s_build_t *b, th_export_part_t *p, size_t i, const char *title, const char *hint,
      unsigned width)
{
    if (b->oom || !p)
        return;
    p->widths[i] = width;
    if (!(p->header[i] = th_strdup(title)) || (hint && !(p->header_hint[i] = th_strdup(hint))))
        b->oom = true;
}

/* A new row of empty cells, or NULL (b->oom set). */
static th_xcell_t *
s_row(s_build_t *b, th_export_part_t *p, th_xrow_kind_t kind)
{
    if (b->oom || !p)
        return NULL;
    th_xrow_kind_t *nk = th_realloc(p->row_kind, (p->nrows + 1) * sizeof *nk);
    if (nk)
        p->row_kind = nk;
    th_xcell_t *nc = nk ? th_realloc(p->cells, (p->nrows + 1) * p->ncols * sizeof *nc) : NULL;
    if (!nc) {
        b->oom = true;
        return NULL;
    }
    p->cells = nc;
    th_xcell_t *row = &nc[p->nrows * p->ncols];
    memset(row, 0, p->ncols * sizeof *row);
    p->row_kind[p->nrows++] = kind;
    return row;
}

static void
s_text(s_build_t *b, th_xcell_t *c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
s_text(s_build_t *b, th_xcell_t *c, const char *fmt, ...)
{
    if (b->oom || !c)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *s = th_vasprintf(fmt, ap);
    va_end(ap);
    if (!s) {
        b->oom = true;
        return;
    }
    c->kind = TH_XCELL_TEXT;
    c->text = s;
}

static void
s_int(th_xcell_t *c, int64_t v)
{
    if (c) {
        c->kind = TH_XCELL_INT;
        c->i = v;
    }
}

static void
s_dec(th_xcell_t *c, double v)
{
    if (c) {
        c->kind = TH_XCELL_DEC;
        c->d = v;
    }
}

static void
s_value(th_xcell_t *c, const th_rollup_value_t *v)
{
    if (!c || !v || !v->present)
        return;
    if (v->is_int)
        s_int(c, v->i);
    else
        s_dec(c, v->d);
}

/* ---- the parts -------------------------------------------------------------- */

static size_t
s_ntexts(const th_rollup_t *r, const char *code)
{
    size_t n = 0;
    for (size_t i = 0; i < r->ntexts; i++)
        n += strcmp(r->texts[i].code, code) == 0;
    return n;
}

static void
s_part_totals(s_build_t *b)
{
    const th_rollup_t *r = b->x->rollup, *cmp = r->compare;
    static const s_colspec_t cols[] = { { "Mã", 8 }, { "Chỉ tiêu", 60 },
                                        { "Đơn vị tính", 11 }, { "Cách tổng hợp", 14 },
                                        { "Số liệu tổng hợp", 16 },
                                        { "Số đơn vị có số liệu", 12 } };
    /* compared: this period, the other and the difference where the figure is */
    size_t ncols = cmp ? 8 : 6, nspec = cmp ? 4 : 6;
    th_export_part_t *p = s_part(b, "I. SỐ LIỆU TỔNG HỢP", "Tổng hợp",
                                 "Biểu mẫu không có chỉ tiêu.", ncols, cols, nspec);
    if (cmp) {
        char now[48], then[48];
        snprintf(now, sizeof now, "Kỳ này (%s)", r->period.id);
        snprintf(then, sizeof then, "Kỳ so sánh (%s)", cmp->period.id);
        s_col(b, p, 4, now, NULL, 16);
        s_col(b, p, 5, then, NULL, 16);
        s_col(b, p, 6, "Chênh lệch", NULL, 14);
        s_col(b, p, 7, cols[5].title, NULL, cols[5].width);
    }
    size_t ncount = ncols - 1;   /* the column of the number of units */
    const char *section = NULL;
    for (size_t i = 0; i < b->f->nindicators && i < r->total.nvalues; i++) {
        const th_indicator_t *ind = &b->f->indicators[i];
        if (ind->section[0] && (!section || strcmp(section, ind->section) != 0)) {
            section = ind->section;
            const th_form_section_t *sec = th_form_section(b->f, section);
            s_text(b, s_row(b, p, TH_XROW_HEADING), "%s. %s", section, sec ? sec->title : "");
        }
        th_xcell_t *row = s_row(b, p, TH_XROW_DATA);
        if (!row)
            return;
        const th_rollup_value_t *v = &r->total.values[i];
        s_text(b, &row[0], "%s", ind->code);
        s_text(b, &row[1], "%s", ind->label);
        if (ind->unit[0])
            s_text(b, &row[2], "%s", ind->unit);
        s_text(b, &row[3], "%s", th_rollup_agg_label(ind->agg));
        if (ind->agg == TH_AGG_TEXT) {
            size_t n = s_ntexts(r, ind->code);
            s_text(b, &row[4], "Xem mục VI");
            s_int(&row[ncount], (int64_t)n);
        } else {
            s_value(&row[4], v);
            s_int(&row[ncount], (int64_t)v->n);
            if (cmp && i < cmp->total.nvalues) {
                th_rollup_value_t d;
                s_value(&row[5], &cmp->total.values[i]);
                if (th_rollup_diff(v, &cmp->total.values[i], &d))
                    s_value(&row[6], &d);
            }
        }
    }
}

static void
s_breakdown_row(s_build_t *b, th_export_part_t *p, th_xrow_kind_t kind,
                const th_rollup_part_t *rp, const char *code, const char *name)
{
    th_xcell_t *row = s_row(b, p, kind);
    if (!row)
        return;
    s_text(b, &row[0], "%s", code);
    s_text(b, &row[1], "%s", name);
    s_text(b, &row[2], "%zu/%zu", rp->reported, rp->expected);
    size_t col = 3;
    for (size_t i = 0; i < b->f->nindicators && i < rp->nvalues; i++)
        if (b->f->indicators[i].agg != TH_AGG_TEXT)
            s_value(&row[col++], &rp->values[i]);
}

static void
s_part_breakdown(s_build_t *b)
{
    const th_rollup_t *r = b->x->rollup;
    if (r->nchildren == 0 && r->ngroups == 0)
        return;
    size_t nnum = 0;
    for (size_t i = 0; i < b->f->nindicators; i++)
        nnum += b->f->indicators[i].agg != TH_AGG_TEXT;
    static const s_colspec_t cols[] = { { "Mã", 8 }, { "Đơn vị", 28 },
                                        { "Đã báo cáo", 10 } };
    th_export_part_t *p = s_part(b, "II. SỐ LIỆU THEO ĐƠN VỊ TRỰC THUỘC", "Theo đơn vị",
                                 "Không có đơn vị trực thuộc.", 3 + nnum, cols, 3);
    if (!p)
        return;
    p->wide = true;
    size_t col = 3;
    for (size_t i = 0; i < b->f->nindicators; i++) {
        const th_indicator_t *ind = &b->f->indicators[i];
        if (ind->agg != TH_AGG_TEXT)
            s_col(b, p, col++, ind->code, ind->label, 10);
    }
    for (size_t k = 0; k < r->nchildren; k++)
        s_breakdown_row(b, p, TH_XROW_DATA, &r->children[k], r->children[k].unit,
                        r->children[k].name);
    if (r->has_own) {
        char own[160];
        snprintf(own, sizeof own, "%s (báo cáo của chính đơn vị)", r->own.name);
        s_breakdown_row(b, p, TH_XROW_DATA, &r->own, r->own.unit, own);
    }
    if (r->ngroups > 0) {
        s_text(b, s_row(b, p, TH_XROW_HEADING), "Theo khối đơn vị báo cáo (mỗi báo cáo "
               "tính một lần; cộng các khối bằng tổng cộng)");
        for (size_t g = 0; g < r->ngroups; g++)
            s_breakdown_row(b, p, TH_XROW_DATA, &r->groups[g], "", r->groups[g].name);
    }
    s_breakdown_row(b, p, TH_XROW_TOTAL, &r->total, r->total.unit, "Tổng cộng");
}

static void
s_count_row(s_build_t *b, th_export_part_t *p, th_xrow_kind_t kind, const th_compl_count_t *c,
            const char *name)
{
    th_xcell_t *row = s_row(b, p, kind);
    if (!row)
        return;
    s_text(b, &row[0], "%s", c->unit);
    s_text(b, &row[1], "%s", name);
    s_int(&row[2], (int64_t)c->expected);
    s_int(&row[3], (int64_t)c->reported);
    s_int(&row[4], (int64_t)c->on_time);
    s_int(&row[5], (int64_t)c->late);
    s_int(&row[6], (int64_t)c->missing);
    if (c->expected > 0) {
        s_dec(&row[7], c->reported_rate);
        s_dec(&row[8], c->on_time_rate);
    }
}

static void
s_part_reporting(s_build_t *b)
{
    const th_completeness_t *c = b->x->rollup->completeness;
    static const s_colspec_t cols[] = { { "Mã", 8 }, { "Đơn vị", 28 },
                                        { "Phải báo cáo", 11 }, { "Đã báo cáo", 11 },
                                        { "Đúng hạn", 11 }, { "Trễ hạn", 11 },
                                        { "Chưa báo cáo", 11 },
                                        { "Tỷ lệ đã báo cáo (%)", 11 },
                                        { "Tỷ lệ đúng hạn (%)", 11 } };
    th_export_part_t *p = s_part(b, "III. TÌNH HÌNH BÁO CÁO", "Tình hình báo cáo",
                                 "Không có đơn vị phải báo cáo.", 9, cols, 9);
    for (size_t k = 0; k < c->nchildren; k++)
        s_count_row(b, p, TH_XROW_DATA, &c->children[k], c->children[k].name);
    s_count_row(b, p, TH_XROW_TOTAL, &c->total, c->nchildren ? "Tổng cộng" : c->total.name);
}

static const char *
s_child_name(const th_completeness_t *c, const char *child)
{
    for (size_t k = 0; k < c->nchildren; k++)
        if (strcmp(c->children[k].unit, child) == 0)
            return c->children[k].name;
    return "";
}

static void
s_part_late_missing(s_build_t *b)
{
    const th_completeness_t *c = b->x->rollup->completeness;
    static const s_colspec_t cols[] = { { "Mã", 8 }, { "Đơn vị", 28 }, { "Thuộc", 22 },
                                        { "Tình trạng", 13 }, { "Thời điểm gửi", 16 },
                                        { "Hạn nộp", 11 }, { "Số ngày trễ", 9 },
                                        { "Ghi chú", 30 } };
    th_export_part_t *p = s_part(b, "IV. ĐƠN VỊ BÁO CÁO TRỄ HẠN, CHƯA BÁO CÁO",
                                 "Trễ hạn, chưa báo cáo",
                                 "Tất cả các đơn vị phải báo cáo đã báo cáo đúng hạn.", 8,
                                 cols, 8);
    for (int pass = 0; pass < 2; pass++) {
        th_compl_state_t want = pass == 0 ? TH_COMPL_LATE : TH_COMPL_MISSING;
        for (size_t k = 0; k < c->nunits; k++) {
            const th_compl_unit_t *u = &c->units[k];
            if (u->state != want)
                continue;
            th_xcell_t *row = s_row(b, p, TH_XROW_DATA);
            if (!row)
                return;
            s_text(b, &row[0], "%s", u->unit);
            s_text(b, &row[1], "%s", u->name);
            if (u->child[0] && strcmp(u->child, u->unit) != 0)
                s_text(b, &row[2], "%s", s_child_name(c, u->child));
            s_text(b, &row[3], "%s", want == TH_COMPL_LATE ? "Trễ hạn" : "Chưa báo cáo");
            if (u->deadline != INT32_MIN) {
                char d[11];
                th_date_format_vn(u->deadline, d);
                s_text(b, &row[5], "%s", d);
            }
            if (want == TH_COMPL_LATE) {
                char t[32];
                th_time_format_vn(u->submitted_at, t);
                s_text(b, &row[4], "%s", t);
                s_int(&row[6], u->days_late);
            }
            if (u->clock_suspect)
                s_text(b, &row[7], "Đồng hồ máy gửi lệch %" PRId64 " phút; cần kiểm tra",
                       u->clock_offset_ms / 60000);
        }
    }
}

static void
s_part_violations(s_build_t *b)
{
    const th_rollup_t *r = b->x->rollup;
    static const s_colspec_t cols[] = { { "Mã", 8 }, { "Đơn vị", 28 }, { "Quy tắc", 8 },
                                        { "Nội dung", 70 } };
    th_export_part_t *p = s_part(b, "V. VI PHẠM QUY TẮC KIỂM TRA SỐ LIỆU", "Vi phạm quy tắc",
                                 "Không có báo cáo nào vi phạm quy tắc kiểm tra số liệu.", 4,
                                 cols, 4);
    for (size_t i = 0; i < r->nviolations; i++) {
        const th_rollup_violation_t *v = &r->violations[i];
        th_xcell_t *row = s_row(b, p, TH_XROW_DATA);
        if (!row)
            return;
        s_text(b, &row[0], "%s", v->unit);
        s_text(b, &row[1], "%s", v->name);
        s_text(b, &row[2], "%s", v->rule);
        s_text(b, &row[3], "%s", v->message);
    }
}

static void
s_part_texts(s_build_t *b)
{
    const th_rollup_t *r = b->x->rollup;
    static const s_colspec_t cols[] = { { "Mã", 8 }, { "Đơn vị", 28 }, { "Nội dung", 80 } };
    th_export_part_t *p = s_part(b, "VI. Ý KIẾN, ĐÁNH GIÁ CỦA CÁC ĐƠN VỊ", "Ý kiến đơn vị",
                                 "Không có đơn vị nào ghi ý kiến.", 3, cols, 3);
    const char *cur = NULL;
    for (size_t i = 0; i < r->ntexts; i++) {
        const th_rollup_text_t *t = &r->texts[i];
        const th_indicator_t *ind = th_form_indicator(b->f, t->code);
        if (!cur || strcmp(cur, t->code) != 0) {
            cur = t->code;
            s_text(b, s_row(b, p, TH_XROW_HEADING), "%s. %s", t->code, ind ? ind->label : "");
        }
        const char *shown = t->text;
        for (size_t k = 0; ind && k < ind->noptions; k++)
            if (strcmp(ind->options[k].code, t->text) == 0)
                shown = ind->options[k].label;
        th_xcell_t *row = s_row(b, p, TH_XROW_DATA);
        if (!row)
            return;
        s_text(b, &row[0], "%s", t->unit);
        s_text(b, &row[1], "%s", t->name);
        s_text(b, &row[2], "%s", shown);
    }
}

/* ---- header ------------------------------------------------------------------- */

/* The unit's name without its level word: "Tỉnh Tây Ninh" -> "Tây Ninh". */
static const char *
s_place(const char *name)
{
    static const char *const words[] = { "Thành phố ", "Tỉnh ", "Thị xã ", "Thị trấn ",
                                         "Huyện ", "Quận ", "Xã ", "Phường ", "Đặc khu " };
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        size_t n = strlen(words[i]);
        if (strncmp(name, words[i], n) == 0 && name[n])
            return name + n;
    }
    return name;
}

static char *
s_upper(const char *s)
{
    size_t cap = strlen(s) * 2 + 8;   /* capitals take at most one byte more per letter */
    char *buf = th_malloc(cap);
    if (buf)
        th_upper_vn(s, buf, cap);
    return buf;
}

static void
s_header(s_build_t *b, const th_config_t *cfg)
{
    th_export_t *x = b->x;
    const th_rollup_t *r = x->rollup;
    const th_completeness_t *c = r->completeness;
    const char *name = r->total.name;
    x->superior = s_upper(cfg->report_superior);
    if (cfg->report_issuer[0]) {
        x->issuer = s_upper(cfg->report_issuer);
    } else {
        char *t = th_asprintf("Ủy ban nhân dân %s", name);
        x->issuer = t ? s_upper(t) : NULL;
        th_free(t);
    }
    x->place = th_strdup(cfg->report_place[0] ? cfg->report_place : s_place(name));
    x->signer = s_upper(cfg->report_signer[0] ? cfg->report_signer : "Thủ trưởng cơ quan");
    int y, m, d;
    th_date_to_ymd(th_time_day_vn(x->made_at), &y, &m, &d);
    if (x->place)
        x->date_line = th_asprintf("%s, ngày %02d tháng %02d năm %d", x->place, d, m, y);
    char label[64], when[32], made[32];
    th_period_label_vn(&r->period, label, sizeof label);
    th_time_format_vn(r->as_of, when);
    th_time_format_vn(x->made_at, made);
    x->title = th_strdup("BÁO CÁO TỔNG HỢP");
    x->subtitle = th_strdup(r->title);
    x->period_line = th_asprintf("Kỳ báo cáo: %s", label);
    if (!x->superior || !x->issuer || !x->place || !x->signer || !x->date_line ||
        !x->title || !x->subtitle || !x->period_line) {
        b->oom = true;
        return;
    }
    x->meta = th_calloc(9, sizeof *x->meta);
    if (!x->meta) {
        b->oom = true;
        return;
    }
    char cut[96];
    th_form_cutoff_text(b->f, &r->period, cut, sizeof cut);
    char *pairs[7][2] = {
        { th_strdup("Biểu mẫu"), th_asprintf("%s (mã %s)", r->title, r->form) },
        { th_strdup("Kỳ báo cáo"), th_asprintf("%s (%s)", label, r->period.id) },
        { th_strdup("Đơn vị tổng hợp"), th_asprintf("%s — %s", r->total.unit, name) },
        { th_strdup("Số liệu tính đến"), th_strdup(when) },
        { th_strdup("Tình hình báo cáo"),
          th_asprintf("%zu/%zu đơn vị đã báo cáo; %zu đúng hạn, %zu trễ hạn, %zu chưa báo cáo",
                   c->total.reported, c->total.expected, c->total.on_time, c->total.late,
                   c->total.missing) },
        { th_strdup("Lập lúc"), th_strdup(made) },
        { th_strdup("Thời gian chốt số liệu"), th_strdup(cut) },
    };
    size_t n = cut[0] ? 7 : 6;   /* no cut-off line when the form sets none */
    for (size_t i = 0; i < n; i++) {
        x->meta[i][0] = pairs[i][0];
        x->meta[i][1] = pairs[i][1];
        if (!pairs[i][0] || !pairs[i][1])
            b->oom = true;
    }
    for (size_t i = n; i < 7; i++) {
        th_free(pairs[i][0]);
        th_free(pairs[i][1]);
    }
    const th_rollup_t *cmp = r->compare;
    if (cmp) {
        char clabel[64];
        th_period_label_vn(&cmp->period, clabel, sizeof clabel);
        x->meta[n][0] = th_strdup("Kỳ so sánh");
        x->meta[n][1] = th_asprintf("%s (%s); %zu/%zu đơn vị đã báo cáo", clabel,
                                    cmp->period.id, cmp->total.reported, cmp->total.expected);
        x->meta[n + 1][0] = th_strdup("Đối chiếu đơn vị");
        x->meta[n + 1][1] = th_strdup(cmp->mapping ? cmp->mapping : "");
        for (size_t i = n; i < n + 2; i++)
            if (!x->meta[i][0] || !x->meta[i][1])
                b->oom = true;
        n += 2;
    }
    x->nmeta = n;
}

int
th_export_make(th_office_t *o, const char *form, const char *period, const char *unit,
               int64_t as_of, th_export_t **out, char *errbuf, size_t cap)
{
    return th_export_make_compare(o, form, period, NULL, unit, as_of, out, errbuf, cap);
}

int
th_export_make_compare(th_office_t *o, const char *form, const char *period,
                       const char *compare, const char *unit, int64_t as_of,
                       th_export_t **out, char *errbuf, size_t cap)
{
    if (!out)
        return th_errbuf(errbuf, cap, TH_E_INVALID, "missing argument");
    *out = NULL;
    th_rollup_t *r = NULL;
    int rc = th_rollup_compute_compare(o, form, period, compare, unit, as_of, &r, errbuf,
                                       cap);
    if (rc < 0)
        return rc;
    th_export_t *x = th_calloc(1, sizeof *x);
    if (!x) {
        th_rollup_destroy(&r);
        return th_errbuf(errbuf, cap, -ENOMEM, "out of memory");
    }
    x->rollup = r;
    x->made_at = th_now_ms();
    s_build_t b = { .x = x, .f = th_office_form(o, form) };
    if (!b.f || !r->completeness) {   /* the rollup just found both */
        th_export_destroy(&x);
        return th_errbuf(errbuf, cap, TH_E_INVALID, "form '%s' vanished", form);
    }
    s_header(&b, &o->cfg);
    s_part_totals(&b);
    s_part_breakdown(&b);
    s_part_reporting(&b);
    s_part_late_missing(&b);
    s_part_violations(&b);
    s_part_texts(&b);
    if (b.oom) {
        th_export_destroy(&x);
        return th_errbuf(errbuf, cap, -ENOMEM, "out of memory");
    }
    *out = x;
    return 0;
}

void
th_export_destroy(th_export_t **pp)
{
    if (!pp || !*pp)
        return;
    th_export_t *x = *pp;
    th_rollup_destroy(&x->rollup);
    char *strs[] = { x->superior, x->issuer, x->place, x->signer, x->date_line,
                     x->title, x->subtitle, x->period_line };
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        th_free(strs[i]);
    for (size_t i = 0; i < x->nmeta; i++) {
        th_free(x->meta[i][0]);
        th_free(x->meta[i][1]);
    }
    th_free(x->meta);
    for (size_t i = 0; i < x->nparts; i++) {
        th_export_part_t *p = &x->parts[i];
        for (size_t c = 0; c < p->ncols; c++) {
            if (p->header)
                th_free(p->header[c]);
            if (p->header_hint)
                th_free(p->header_hint[c]);
        }
        for (size_t c = 0; c < p->nrows * p->ncols; c++)
            th_free(p->cells[c].text);
        th_free(p->title);
        th_free(p->sheet);
        th_free(p->empty_note);
        th_free(p->header);
        th_free(p->header_hint);
        th_free(p->widths);
        th_free(p->row_kind);
        th_free(p->cells);
    }
    th_free(x->parts);
    th_free(x);
    *pp = NULL;
}

void
th_export_cell_format(const th_xcell_t *c, bool human, char *buf, size_t cap)
{
    if (cap == 0)
        return;
    switch (c->kind) {
    case TH_XCELL_TEXT:
        snprintf(buf, cap, "%s", c->text);
        break;
    case TH_XCELL_INT:
        if (human)
            th_vnnum_format_int(c->i, buf, cap);
        else
            snprintf(buf, cap, "%" PRId64, c->i);
        break;
    case TH_XCELL_DEC:
        if (human)
            th_vnnum_format_dec(c->d, buf, cap);
        else
            snprintf(buf, cap, "%.2f", c->d);
        break;
    default:
        buf[0] = '\0';
    }
}

/* ---- CSV ------------------------------------------------------------------------ */

int
th_export_csv(const th_export_t *x, FILE *f)
{
    fputs("\xEF\xBB\xBF", f);
    const char *lines[] = { x->superior, x->issuer, x->date_line, x->title, x->subtitle,
                            x->period_line };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        if (lines[i][0])
            th_csv_write_cell(f, lines[i], true);
    for (size_t i = 0; i < x->nmeta; i++) {
        th_csv_write_cell(f, x->meta[i][0], false);
        th_csv_write_cell(f, x->meta[i][1], true);
    }
    for (size_t i = 0; i < x->nparts; i++) {
        const th_export_part_t *p = &x->parts[i];
        fputs("\r\n", f);
        th_csv_write_cell(f, p->title, true);
        for (size_t c = 0; c < p->ncols; c++)
            th_csv_write_cell(f, p->header[c], c + 1 == p->ncols);
        if (p->nrows == 0)
            th_csv_write_cell(f, p->empty_note, true);
        for (size_t r = 0; r < p->nrows; r++) {
            const th_xcell_t *row = &p->cells[r * p->ncols];
            size_t n = p->row_kind[r] == TH_XROW_HEADING ? 1 : p->ncols;
            for (size_t c = 0; c < n; c++) {
                char num[48];
                const char *s = row[c].kind == TH_XCELL_TEXT ? row[c].text : num;
                if (row[c].kind != TH_XCELL_TEXT)
                    th_export_cell_format(&row[c], false, num, sizeof num);
                th_csv_write_cell(f, s, c + 1 == n);
            }
        }
    }
    return ferror(f) ? -EIO : 0;
}
