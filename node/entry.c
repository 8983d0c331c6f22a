/*  entry: check, number, sign and store an office's own report revisions. */
#include "entry.h"
#include "approval.h"
#include "codec.h"
#include "csv.h"
#include "err.h"
#include "file.h"
#include "log.h"
#include "mem.h"
#include "period.h"
#include "validate.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int
th_entry_decode_verified(const uint8_t *blob, size_t len, th_record_t *out)
{
    const uint8_t *body;
    size_t body_len;
    int rc = th_codec_record_decode(blob, len, out, &body, &body_len);
    if (rc < 0)
        return rc;
    rc = th_verify(out->origin, body, body_len, out->sig);
    if (rc < 0)
        th_record_clear(out);
    return rc;
}

int32_t
th_entry_deadline(const th_office_t *o, const th_form_t *f, const th_period_t *p,
                  const char *unit)
{
    const th_unit_t *u = th_units_find(o->units, unit, p->end);
    if (!u || !u->parent[0])
        return INT32_MIN;
    const th_unit_t *parent = th_units_find(o->units, u->parent, p->end);
    if (!parent)
        return INT32_MIN;
    const th_deadline_spec_t *spec = th_form_deadline(f, parent->level);
    return spec ? th_period_deadline(p, spec) : INT32_MIN;
}

static int
s_problem(th_problems_t *pr, const th_indicator_t *ind, const char *code,
          const char *msg)
{
    th_problem_t *items = th_realloc(pr->items, (pr->n + 1) * sizeof *items);
    if (!items)
        return -ENOMEM;
    pr->items = items;
    th_problem_t *p = &items[pr->n];
    memset(p, 0, sizeof *p);
    snprintf(p->code, sizeof p->code, "%s", code);
    p->label = ind ? ind->label : NULL;
    if (!(p->message = th_strdup(msg)))
        return -ENOMEM;
    pr->n++;
    return 0;
}

/* Appends to dst the problems of src whose indicator dst does not name
   yet, moving their messages; src is emptied. */
static int
s_merge_problems(th_problems_t *dst, th_problems_t *src)
{
    int rc = 0;
    for (size_t i = 0; i < src->n; i++) {
        bool seen = false;
        for (size_t j = 0; j < dst->n && !seen; j++)
            seen = strcmp(dst->items[j].code, src->items[i].code) == 0;
        if (seen || rc < 0)
            continue;
        th_problem_t *items = th_realloc(dst->items, (dst->n + 1) * sizeof *items);
        if (!items) {
            rc = -ENOMEM;
            continue;
        }
        dst->items = items;
        items[dst->n++] = src->items[i];
        src->items[i].message = NULL;
    }
    th_problems_clear(src);
    return rc;
}

/* The write transaction: re-reads the current revision so that a
   concurrent writer (the daemon, another CLI call) is detected rather than
   overwritten, then numbers, signs and stores. */
typedef struct {
    th_office_t *o;
    th_record_t *rec;
    const char *key;
    uint32_t base_rev;      /* current rev seen before validation, 0 if none */
    uint64_t seq;
} s_put_t;

static int
s_put(th_store_txn_t *txn, void *ctx)
{
    s_put_t *x = ctx;
    th_store_rev_t cur;
    int rc = th_store_get_current(txn, x->key, &cur);
    uint32_t cur_rev = rc == 0 ? cur.rev : 0;
    if (rc < 0 && rc != TH_E_NOTFOUND)
        return rc;
    if (cur_rev != x->base_rev)
        return TH_E_STALE;
    x->rec->rev = cur_rev + 1;
    uint8_t *body = NULL, *blob = NULL;
    size_t body_len, blob_len;
    if ((rc = th_codec_record_body(x->rec, &body, &body_len)) < 0)
        return rc;
    th_sign(&x->o->id, body, body_len, x->rec->sig);
    th_free(body);
    if ((rc = th_codec_record_encode(x->rec, &blob, &blob_len)) < 0)
        return rc;
    th_store_rev_t r = {
        .key = x->key,
        .rev = x->rec->rev,
        .status = (uint8_t)x->rec->status,
        .received_at = x->rec->submitted_at,
        .blob = blob,
        .len = blob_len,
        .seal = true,   /* signed here */
    };
    x->seq = 0;
    rc = th_store_put_revision(txn, &r, x->rec->status == TH_STATUS_SUBMITTED,
                               &x->seq);
    th_free(blob);
    /* an entry on a child's behalf, made here: nothing to approve here */
    if (rc == 0 && x->rec->proxy && x->rec->status == TH_STATUS_SUBMITTED)
        rc = th_approval_mark(txn, x->key, x->rec->rev, x->rec->submitted_at);
    return rc;
}

typedef struct {
    const char *key;
    th_record_t *cur;
    int found;
} s_get_t;

static int
s_get_current(th_store_txn_t *txn, void *ctx)
{
    s_get_t *g = ctx;
    th_store_rev_t r;
    int rc = th_store_get_current(txn, g->key, &r);
    if (rc == TH_E_NOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    g->found = 1;
    return th_entry_decode_verified(r.blob, r.len, g->cur);
}

int
th_entry_renumber(th_store_txn_t *txn, th_office_t *o, const char *key, uint32_t floor,
                  uint32_t *rev)
{
    if (rev)
        *rev = 0;
    th_store_rev_t cur;
    int rc = th_store_get_current(txn, key, &cur);
    if (rc == TH_E_NOTFOUND || (rc == 0 && cur.rev > floor))
        return 0;
    if (rc < 0)
        return rc;
    th_record_t rec;
    th_record_init(&rec);
    uint8_t *body = NULL, *blob = NULL;
    size_t body_len, blob_len;
    if ((rc = th_entry_decode_verified(cur.blob, cur.len, &rec)) < 0)
        goto done;
    rec.rev = floor + 1;
    memcpy(rec.origin, o->id.pk, sizeof rec.origin);
    if ((rc = th_codec_record_body(&rec, &body, &body_len)) < 0)
        goto done;
    th_sign(&o->id, body, body_len, rec.sig);
    if ((rc = th_codec_record_encode(&rec, &blob, &blob_len)) < 0)
        goto done;
    th_store_rev_t r = { .key = key, .rev = rec.rev, .status = (uint8_t)rec.status,
                         .received_at = th_now_ms(), .blob = blob, .len = blob_len,
                         .seal = true };   /* signed here */
    rc = th_store_put_revision(txn, &r, rec.status == TH_STATUS_SUBMITTED, NULL);
    if (rc == 0 && rev)
        *rev = rec.rev;
    if (rc == 0)
        th_log(TH_LOG_WARN, "entry: the parent holds %s up to rev %u of another history "
               "(another key, an entry on this office's behalf, or a store restored from "
               "an older backup): rev %u issued again as rev %u", key, floor, cur.rev,
               rec.rev);
done:
    th_free(body);
    th_free(blob);
    th_record_clear(&rec);
    return rc;
}

int
th_entry_submit(th_office_t *o, const th_entry_req_t *req, th_problems_t *problems,
                th_entry_result_t *res, char *errbuf, size_t cap)
{
    memset(res, 0, sizeof *res);
    res->deadline = INT32_MIN;
    const th_form_t *f = th_office_form(o, req->form);
    if (!f) {
        snprintf(errbuf, cap, "form '%s' is not known here (see the 'forms' command)",
                 req->form);
        return TH_E_FORM;
    }
    th_period_t p;
    if (th_period_parse(req->period, &p) < 0) {
        snprintf(errbuf, cap, "invalid period '%s' (write 2026, 2026S1, 2026Q3 or 202605)",
                 req->period);
        return TH_E_PERIOD;
    }
    if (p.type != f->period_type) {
        snprintf(errbuf, cap, "period '%s' is %s but form '%s' is %s", req->period,
                 th_period_type_name(p.type), f->id, th_period_type_name(f->period_type));
        return TH_E_PERIOD;
    }
    const char *unit = req->for_unit ? req->for_unit : o->cfg.unit;
    const th_unit_t *u = th_units_find(o->units, unit, p.end);
    char d[11];
    th_date_format_vn(p.end, d);
    if (!u) {
        snprintf(errbuf, cap, "unit '%s' is not in the unit list in force on %s "
                              "(end of period %s)", unit, d, req->period);
        return TH_E_UNIT;
    }
    if (req->for_unit && strcmp(unit, o->cfg.unit) == 0) {
        snprintf(errbuf, cap, "%s là đơn vị của chính văn phòng này: bỏ --for để nộp báo cáo "
                 "của mình", unit);
        return TH_E_UNIT;
    }
    if (req->for_unit && strcmp(u->parent, o->cfg.unit) != 0) {
        snprintf(errbuf, cap, "chỉ nhập thay được cho đơn vị trực thuộc: %s (%s) không trực "
                 "thuộc %s trong danh mục đơn vị ngày %s; hãy nhập tại đơn vị cấp trên trực "
                 "tiếp của nó (mã %s)", unit, u->name, o->cfg.unit, d,
                 u->parent[0] ? u->parent : "—");
        return TH_E_UNIT;
    }
    if (!th_form_reported_by(f, u->level)) {
        snprintf(errbuf, cap, "form '%s' is not reported by units of level '%s'",
                 f->id, u->level);
        return TH_E_UNIT;
    }

    char key[TH_KEY_MAX];
    int rc = th_key_make(key, sizeof key, f->id, p.id, unit);
    if (rc < 0)
        return rc;
    th_record_t cur, rec;
    th_record_init(&cur);
    th_record_init(&rec);
    s_get_t g = { key, &cur, 0 };
    if ((rc = th_store_read(o->store, s_get_current, &g)) < 0) {
        snprintf(errbuf, cap, "cannot read the current report: %s", th_strerror(rc));
        goto done;
    }
    if (req->for_unit && g.found && !cur.proxy) {
        snprintf(errbuf, cap, "đơn vị %s (%s) đã tự gửi báo cáo %s kỳ %s (lần %u): không nhập "
                 "thay được; nếu số liệu sai, hãy trả lại báo cáo để đơn vị sửa (lệnh return)",
                 unit, u->name, f->id, p.id, cur.rev);
        rc = TH_E_EXISTS;
        goto done;
    }
    if (g.found && (rc = th_record_copy(&rec, &cur)) < 0)
        goto done;
    th_free(rec.author);
    th_free(rec.note);
    th_free(rec.doc);
    rec.author = rec.note = rec.doc = NULL;
    if ((req->author && *req->author && !(rec.author = th_strdup(req->author))) ||
        (req->note && *req->note && !(rec.note = th_strdup(req->note))) ||
        (req->for_unit && req->document && *req->document &&
         !(rec.doc = th_strdup(req->document)))) {
        rc = -ENOMEM;
        goto done;
    }
    snprintf(rec.form, sizeof rec.form, "%s", f->id);
    snprintf(rec.period, sizeof rec.period, "%s", p.id);
    snprintf(rec.unit, sizeof rec.unit, "%s", unit);
    rec.form_version = f->version;
    rec.status = req->draft ? TH_STATUS_DRAFT : TH_STATUS_SUBMITTED;
    rec.proxy = req->for_unit != NULL;
    snprintf(rec.by, sizeof rec.by, "%s", req->for_unit ? o->cfg.unit : "");
    memcpy(rec.origin, o->id.pk, sizeof rec.origin);

    for (size_t i = 0; i < req->nvalues; i++) {
        const th_entry_value_t *ev = &req->values[i];
        const th_indicator_t *ind = th_form_indicator(f, ev->code);
        if (!ind) {
            if ((rc = s_problem(problems, NULL, ev->code,
                                "Chỉ tiêu không có trong biểu mẫu")) < 0)
                goto done;
            continue;
        }
        if (!ev->text[0]) {
            th_record_unset(&rec, ev->code);
            continue;
        }
        th_value_t v;
        const char *msg = NULL;
        memset(&v, 0, sizeof v);
        rc = th_form_parse_value(ind, ev->text, &v, &msg);
        if (rc < 0) {
            if ((rc = s_problem(problems, ind, ev->code,
                                msg ? msg : "Giá trị không hợp lệ")) < 0)
                goto done;
            continue;
        }
        rc = th_record_set(&rec, &v);
        th_value_clear(&v);
        if (rc < 0)
            goto done;
    }
    /* th_form_validate fills problems afresh: keep the typing problems found
       above first, and drop its "missing" complaint about those fields. */
    th_problems_t typed = *problems;
    memset(problems, 0, sizeof *problems);
    rc = th_form_validate(f, &rec, !req->draft, problems);
    if (rc < 0 && rc != TH_E_REJECTED) {
        th_problems_clear(&typed);
        goto done;
    }
    rc = s_merge_problems(&typed, problems);
    *problems = typed;
    if (rc < 0)
        goto done;
    if (problems->n) {
        snprintf(errbuf, cap, "báo cáo không được lưu: %zu lỗi cần sửa", problems->n);
        rc = TH_E_REJECTED;
        goto done;
    }
    res->deadline = th_entry_deadline(o, f, &p, unit);
    if (g.found && cur.status == rec.status && th_record_values_equal(&cur, &rec) &&
        strcmp(cur.note ? cur.note : "", rec.note ? rec.note : "") == 0 &&
        strcmp(cur.doc ? cur.doc : "", rec.doc ? rec.doc : "") == 0) {
        res->unchanged = true;
        res->rev = cur.rev;
        res->submitted_at = cur.submitted_at;
        rc = 0;
        goto done;
    }
    rec.submitted_at = th_now_ms();
    s_put_t put = { o, &rec, key, g.found ? cur.rev : 0, 0 };
    rc = th_store_write(o->store, s_put, &put);
    if (rc == TH_E_STALE) {
        snprintf(errbuf, cap, "the report was changed by another program meanwhile; "
                              "look at it with 'show' and submit again");
        goto done;
    }
    if (rc == TH_E_DISKFULL) {
        snprintf(errbuf, cap, "Ổ đĩa chứa dữ liệu của văn phòng đã đầy (%s/store): báo cáo này "
                 "CHƯA được lưu; các báo cáo đã lưu trước đó vẫn nguyên vẹn. Hãy giải phóng "
                 "dung lượng ổ đĩa (hoặc báo cán bộ kỹ thuật) rồi nộp lại", o->dir);
        goto done;
    }
    if (rc < 0) {
        snprintf(errbuf, cap, "cannot store the report: %s", th_strerror(rc));
        goto done;
    }
    res->rev = rec.rev;
    res->seq = put.seq;
    res->submitted_at = rec.submitted_at;
    res->late = !req->draft && res->deadline != INT32_MIN &&
                rec.submitted_at > th_day_end_ms(res->deadline);
    th_log(TH_LOG_INFO, "entry: stored %s rev %u (%s)", key, rec.rev,
           req->draft ? "draft" : "submitted");
done:
    th_record_clear(&cur);
    th_record_clear(&rec);
    return rc;
}

void
th_entry_values_free(th_entry_value_t *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        th_free((char *)values[i].code);
        th_free((char *)values[i].text);
    }
    th_free(values);
}

/* A values file is a few hundred rows: larger is surely a wrong path. */
#define S_VALUES_CSV_MAX ((size_t)16 << 20)

int
th_entry_values_from_csv(const char *path, th_entry_value_t **values, size_t *n,
                         char *errbuf, size_t cap)
{
    *values = NULL;
    *n = 0;
    errbuf[0] = '\0';
    char *text = NULL;
    size_t len = 0;
    int rc = th_file_read(path, S_VALUES_CSV_MAX, &text, &len);
    if (rc < 0) {
        /* opening failed, unless reading did */
        if (rc == -EIO || rc == TH_E_LIMIT || rc == -ENOMEM)
            snprintf(errbuf, cap, "cannot read '%s': %s", path, th_strerror(rc));
        else
            snprintf(errbuf, cap, "cannot open '%s': %s", path, strerror(-rc));
        return rc;
    }
    th_csv_t *c = th_csv_new(text, len);
    th_entry_value_t *vals = NULL;
    size_t nv = 0;
    char **fields;
    size_t nf;
    rc = c ? 0 : -ENOMEM;
    while (rc == 0 && (rc = th_csv_next(c, &fields, &nf)) == 1) {
        rc = 0;
        if (nv == 0 && nf >= 1 && (strcasecmp(fields[0], "code") == 0 ||
                                   strcasecmp(fields[0], "mã") == 0 ||
                                   strcasecmp(fields[0], "Mã") == 0))
            continue;   /* header row */
        if (nf != 2) {
            snprintf(errbuf, cap, "%s:%u: expected 2 columns (code,value), found %zu",
                     path, th_csv_line(c), nf);
            rc = TH_E_PARSE;
            break;
        }
        th_entry_value_t *nvs = th_realloc(vals, (nv + 1) * sizeof *nvs);
        if (!nvs) {
            rc = -ENOMEM;
            break;
        }
        vals = nvs;
        vals[nv].code = th_strdup(fields[0]);
        vals[nv].text = th_strdup(fields[1]);
        nv++;
        if (!vals[nv - 1].code || !vals[nv - 1].text)
            rc = -ENOMEM;
    }
    if (rc < 0 && !errbuf[0])
        snprintf(errbuf, cap, "%s:%u: %s", path, c ? th_csv_line(c) : 0,
                 rc == TH_E_PARSE ? "malformed CSV (check the quotes)" : th_strerror(rc));
    th_csv_destroy(&c);
    th_free(text);
    if (rc < 0) {
        th_entry_values_free(vals, nv);
        return rc;
    }
    *values = vals;
    *n = nv;
    return 0;
}
