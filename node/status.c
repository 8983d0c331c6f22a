/*  status: the status document of an office and the Vietnamese words its
    renderings use. Everything is read in one read transaction; JSON is
    built piece by piece so that any allocation failure is seen and turned
    into -ENOMEM with nothing leaked (jansson's set/append functions take
    the value's reference even when they fail). */
#include "status.h"
#include "metaq.h"
#include "approval.h"
#include "rotation.h"
#include "runfile.h"
#include "codec.h"
#include "err.h"
#include "period.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- small JSON helpers ------------------------------------------------- */

/* A JSON string of s. Texts from the store are valid UTF-8 unless the
   store was tampered with; jansson refuses anything else, so such a text
   gets '?' for every non-ASCII byte rather than vanishing. NULL on OOM. */
static json_t *
s_str(const char *s)
{
    size_t n = strlen(s);
    if (th_codec_utf8_valid((const uint8_t *)s, n))
        return json_stringn(s, n);
    char buf[1024];
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    return json_stringn(buf, n);
}

/* An ISO 8601 UTC string of ms. NULL on OOM. */
static json_t *
s_time(int64_t ms)
{
    char buf[32];
    th_time_format_iso(ms, buf);
    return json_string(buf);
}

/* Sets key of obj to v (taking v, NULL included); 0 or -1. */
static int
s_set(json_t *obj, const char *key, json_t *v)
{
    return json_object_set_new(obj, key, v) == 0 ? 0 : -1;
}

/* ---- return for correction ---------------------------------------------- */

int
th_status_returned_txn(th_store_txn_t *txn, const char *key, uint32_t rev,
                       th_status_returned_t *out)
{
    if (!txn || !key || !out)
        return TH_E_INVALID;
    /* metaq stores "t|KEY" -> "rev at by reason" */
    char v[700];
    int rc = th_metaq_receipt_text(txn, 't', key, v, sizeof v);
    if (rc < 0)
        return rc;
    unsigned r;
    long long at;
    char by[TH_UNIT_MAX];
    int off = 0;
    if (sscanf(v, "%u %lld %15s %n", &r, &at, by, &off) < 3 || off <= 0 || r != rev)
        return TH_E_NOTFOUND;
    const char *reason = v + off;
    size_t n = strlen(reason);
    if (n >= sizeof out->reason) {
        /* cut on a character boundary: never half a UTF-8 sequence */
        n = sizeof out->reason - 1;
        while (n > 0 && ((unsigned char)reason[n] & 0xC0) == 0x80)
            n--;
    }
    out->rev = r;
    out->at = (int64_t)at;
    memcpy(out->by, by, sizeof by);
    memcpy(out->reason, reason, n);
    out->reason[n] = '\0';
    return 0;
}

typedef struct {
    const char *key;
    uint32_t rev;
    th_status_returned_t *out;
} s_returned_q_t;

static int
s_returned_read(th_store_txn_t *txn, void *ctx)
{
    s_returned_q_t *q = ctx;
    return th_status_returned_txn(txn, q->key, q->rev, q->out);
}

int
th_status_returned(th_office_t *o, const char *key, uint32_t rev, th_status_returned_t *out)
{
    if (!o || !key || !out)
        return TH_E_INVALID;
    s_returned_q_t q = { key, rev, out };
    return th_store_read(o->store, s_returned_read, &q);
}

/* ---- the document ------------------------------------------------------- */

typedef struct {
    th_office_t *o;
    th_store_txn_t *txn;
    json_t *doc;        /* being built, owned until handed out */
    json_t *reports;    /* borrowed from doc */
    json_t *receipts;   /* of the report being listed, borrowed from it */
    int32_t day;        /* last day of that report's period (unit names) */
    const char *prefix; /* of the report keys listed ("" = all) */
} s_build_t;

/* A string value of TH_DB_STATE into buf; absent (or too long) leaves buf
   as it is. */
static int
s_state_str(th_store_txn_t *txn, const char *name, char *buf, size_t cap)
{
    const void *v;
    size_t len;
    int rc = th_store_kv_get(txn, TH_DB_STATE, name, &v, &len);
    if (rc == TH_E_NOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    if (len < cap) {
        memcpy(buf, v, len);
        buf[len] = '\0';
    }
    return 0;
}

/* One receipt "r|KEY|BY" -> "rev at" (metaq). */
static int
s_receipt(const char *key, const void *val, size_t len, void *ctx)
{
    s_build_t *b = ctx;
    const char *by = strrchr(key, '|');
    char v[64];
    if (!by || len >= sizeof v)
        return 0;
    by++;
    memcpy(v, val, len);
    v[len] = '\0';
    unsigned rev = 0;
    long long at = 0;
    if (sscanf(v, "%u %lld", &rev, &at) != 2)
        return 0;
    const th_unit_t *u = th_units_find(b->o->units, by, b->day);
    json_t *j = json_object();
    if (!j)
        return -ENOMEM;
    int bad = s_set(j, "by", s_str(by));
    bad |= s_set(j, "by_name", s_str(u ? u->name : ""));
    bad |= s_set(j, "level", s_str(u ? u->level : ""));
    bad |= s_set(j, "rev", json_integer((json_int_t)rev));
    bad |= s_set(j, "at", s_time((int64_t)at));
    if (bad) {
        json_decref(j);
        return -ENOMEM;
    }
    return json_array_append_new(b->receipts, j) == 0 ? 0 : -ENOMEM;
}

/* The rejection "x|KEY" -> "rev code reason" of report r, into *out when
   it concerns r's current revision (otherwise *out stays NULL). */
static int
s_rejected(s_build_t *b, const th_store_rev_t *r, json_t **out)
{
    char k[TH_KEY_MAX + 4], v[512];
    const void *val;
    size_t len;
    *out = NULL;
    snprintf(k, sizeof k, "x|%s", r->key);
    int rc = th_store_kv_get(b->txn, TH_DB_RECEIPTS, k, &val, &len);
    if (rc == TH_E_NOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    if (len >= sizeof v)
        return 0;
    memcpy(v, val, len);
    v[len] = '\0';
    unsigned rev = 0;
    int code = 0, off = 0;
    if (sscanf(v, "%u %d %n", &rev, &code, &off) < 2 || rev != r->rev)
        return 0;
    json_t *j = json_object();
    if (!j)
        return -ENOMEM;
    int bad = s_set(j, "rev", json_integer((json_int_t)rev));
    bad |= s_set(j, "code", json_integer(code));
    bad |= s_set(j, "reason", s_str(v + off));
    if (bad) {
        json_decref(j);
        return -ENOMEM;
    }
    *out = j;
    return 0;
}

/* The return for correction of report r, into *out when it concerns r's
   current revision (otherwise *out stays NULL). */
static int
s_returned(s_build_t *b, const th_store_rev_t *r, json_t **out)
{
    th_status_returned_t ret;
    *out = NULL;
    int rc = th_status_returned_txn(b->txn, r->key, r->rev, &ret);
    if (rc == TH_E_NOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    json_t *j = json_object();
    if (!j)
        return -ENOMEM;
    int bad = s_set(j, "rev", json_integer((json_int_t)r->rev));
    bad |= s_set(j, "by", s_str(ret.by));
    bad |= s_set(j, "at", s_time(ret.at));
    bad |= s_set(j, "reason", s_str(ret.reason));
    if (bad) {
        json_decref(j);
        return -ENOMEM;
    }
    *out = j;
    return 0;
}

static int
s_report(const th_store_rev_t *r, void *ctx)
{
    s_build_t *b = ctx;
    char form[TH_FORM_ID_MAX], period[TH_PERIOD_MAX], unit[TH_UNIT_MAX];
    if (sscanf(r->key, "%31[^|]|%15[^|]|%15s", form, period, unit) != 3 ||
        strcmp(unit, b->o->cfg.unit) != 0)
        return 0;
    th_period_t p;
    b->day = th_period_parse(period, &p) == 0 ? p.end : 0;
    json_t *j = json_object();
    if (!j)
        return -ENOMEM;
    /* in the array at once, so that one decref of the document frees all */
    if (json_array_append_new(b->reports, j) != 0)
        return -ENOMEM;
    b->receipts = json_array();
    int bad = s_set(j, "form", s_str(form));
    bad |= s_set(j, "period", s_str(period));
    bad |= s_set(j, "rev", json_integer((json_int_t)r->rev));
    bad |= s_set(j, "status",
                 json_string(r->status == TH_STATUS_SUBMITTED ? "submitted" : "draft"));
    bad |= s_set(j, "saved_at", s_time(r->received_at));
    bad |= s_set(j, "receipts", b->receipts);   /* j holds it (frees it on failure) */
    if (bad)
        return -ENOMEM;
    char prefix[TH_KEY_MAX + 4];
    snprintf(prefix, sizeof prefix, "r|%s|", r->key);
    int rc = th_store_kv_each(b->txn, TH_DB_RECEIPTS, prefix, s_receipt, b);
    json_t *x = NULL;
    if (rc == 0)
        rc = s_rejected(b, r, &x);
    if (rc == 0 && x && s_set(j, "rejected", x) < 0)
        rc = -ENOMEM;
    if (rc == 0)
        rc = s_returned(b, r, &x);
    if (rc == 0 && x && s_set(j, "returned", x) < 0)
        rc = -ENOMEM;
    /* approved above (a hub that approves): for the current revision */
    uint32_t arev;
    int64_t aat;
    char aby[TH_UNIT_MAX];
    int k = rc == 0 ? th_approval_receipt(b->txn, r->key, &arev, &aat, aby) : 0;
    if (rc == 0 && k == 0 && arev == r->rev &&
        s_set(j, "approved", json_pack("{s:I, s:s, s:o}", "rev", (json_int_t)arev, "by", aby,
                                       "at", s_time(aat))) < 0)
        rc = -ENOMEM;
    else if (rc == 0 && k < 0 && k != TH_E_NOTFOUND)
        rc = k;
    return rc;
}

/* One unit list of the store: {"set","version"} (the txn is the walk's). */
typedef struct {
    th_store_txn_t *txn;
    json_t *list;
} s_sets_t;

static int
s_unit_set(const char *key, const void *val, size_t len, void *ctx)
{
    (void)val;
    (void)len;
    s_sets_t *x = ctx;
    uint64_t v = 0;
    int rc = th_office_units_version(x->txn, key, &v);
    if (rc < 0)
        return rc;
    return json_array_append_new(x->list, json_pack("{s:s, s:I}", "set", key, "version",
                                                    (json_int_t)v)) == 0 ? 0 : -ENOMEM;
}

static int
s_read(th_store_txn_t *txn, void *ctx)
{
    s_build_t *b = ctx;
    th_office_t *o = b->o;
    uint64_t acked = 0, last = 0, contact = 0;
    char link[32], error[256] = "";
    snprintf(link, sizeof link, "%s", o->cfg.parent_endpoint[0] ? "never" : "none");
    int rc = th_store_state_get_u64(txn, "uplink.acked", &acked);
    if (rc == 0)
        rc = th_store_log_last(txn, &last);
    if (rc == 0)
        rc = th_store_state_get_u64(txn, "link.last_contact", &contact);
    if (rc == 0)
        rc = s_state_str(txn, "link.state", link, sizeof link);
    if (rc == 0)
        rc = s_state_str(txn, "link.error", error, sizeof error);
    if (rc < 0)
        return rc;
    uint64_t pending = last > acked ? last - acked : 0;

    /* a retried transaction starts again from nothing */
    json_decref(b->doc);
    b->doc = json_object();
    json_t *lk = json_object();
    if (!b->doc || !lk) {
        json_decref(lk);
        return -ENOMEM;
    }
    int bad = s_set(lk, "state", s_str(link));
    bad |= s_set(lk, "last_contact", contact ? s_time((int64_t)contact) : json_null());
    bad |= s_set(lk, "error", s_str(error));
    bad |= s_set(b->doc, "unit", s_str(o->cfg.unit));
    bad |= s_set(b->doc, "link", lk);               /* the doc holds it */
    bad |= s_set(b->doc, "pending", json_integer((json_int_t)pending));
    bad |= s_set(b->doc, "acked_seq", json_integer((json_int_t)acked));
    bad |= s_set(b->doc, "last_seq", json_integer((json_int_t)last));
    th_rotation_progress_t rp;
    if ((rc = th_rotation_progress(txn, &rp)) < 0)
        return rc;
    if (rp.active) {
        json_t *rot = json_object(), *pend = json_array();
        if (!rot || !pend) {
            json_decref(rot);
            json_decref(pend);
            return -ENOMEM;
        }
        for (size_t i = 0; i < rp.npending && i < TH_ROTATION_PENDING_MAX; i++)
            bad |= json_array_append_new(pend, s_str(rp.pending[i]));
        bad |= s_set(rot, "parent", s_str(rp.refused[0] ? "refused" : rp.parent_has ? "done"
                                                                                   : "waiting"));
        bad |= s_set(rot, "refused", s_str(rp.refused));
        bad |= s_set(rot, "children", json_integer((json_int_t)rp.nchildren));
        bad |= s_set(rot, "children_waiting", json_integer((json_int_t)rp.npending));
        bad |= s_set(rot, "waiting", pend);
        bad |= s_set(b->doc, "rotation", rot);
    }
    b->reports = json_array();
    bad |= s_set(b->doc, "reports", b->reports);   /* the doc holds it */
    /* the unit lists held, and their versions (they flow down, metaq.h) */
    json_t *units = json_array();
    bad |= s_set(b->doc, "units", units);
    s_sets_t sets = { txn, units };
    if (units && (rc = th_store_kv_each(txn, TH_DB_UNITS, "", s_unit_set, &sets)) < 0)
        return rc;
    const void *nv;
    size_t nl;
    if ((rc = th_store_kv_get(txn, TH_DB_STATE, TH_METAQ_UNITS_NOTICE, &nv, &nl)) == 0)
        bad |= s_set(b->doc, "units_notice", json_stringn(nv, nl));
    else if (rc != TH_E_NOTFOUND)
        return rc;
    if (bad)
        return -ENOMEM;
    b->txn = txn;
    return th_store_each_report(txn, b->prefix, s_report, b);
}

int
th_status_json(th_office_t *o, json_t **out, char *errbuf, size_t cap)
{
    return th_status_json_for(o, NULL, NULL, out, errbuf, cap);
}

int
th_status_json_for(th_office_t *o, const char *form, const char *period, json_t **out,
                   char *errbuf, size_t cap)
{
    if (out)
        *out = NULL;
    if (!o || !out || (form && !period))
        return th_errbuf(errbuf, cap, TH_E_INVALID, "status: no office or no output");
    char prefix[TH_KEY_MAX] = "";
    if (form && snprintf(prefix, sizeof prefix, "%s|%s|", form, period) >= (int)sizeof prefix)
        return th_errbuf(errbuf, cap, TH_E_LIMIT, "status: form or period too long");
    s_build_t b = { .o = o, .prefix = prefix };
    int rc = th_store_read(o->store, s_read, &b);
    if (rc < 0) {
        json_decref(b.doc);
        if (rc == -ENOMEM)
            return th_errbuf(errbuf, cap, rc, "out of memory");
        return th_errbuf(errbuf, cap, rc, "cannot read the store: %s", th_strerror(rc));
    }
    json_t *run = NULL;
    if ((rc = th_runfile_read(o->dir, &run)) < 0 || s_set(b.doc, "daemon", run) < 0) {
        json_decref(b.doc);
        if (rc == 0)
            rc = -ENOMEM;
        return th_errbuf(errbuf, cap, rc, "cannot read %s/%s: %s", o->dir, TH_RUNFILE_NAME,
                         th_strerror(rc));
    }
    *out = b.doc;
    return 0;
}

/* ---- Vietnamese words ----------------------------------------------------- */

const char *
th_status_level_vn(const char *level)
{
    if (!level)
        return "cấp trên";
    if (strcmp(level, "province") == 0)
        return "tỉnh";
    if (strcmp(level, "district") == 0)
        return "huyện";
    if (strcmp(level, "commune") == 0)
        return "xã";
    return "cấp trên";
}

const char *
th_status_link_vn(const char *state)
{
    static const struct { const char *k, *v; } names[] = {
        { "up", "đang kết nối" }, { "down", "mất kết nối" },
        { "never", "chưa kết nối lần nào" }, { "refused", "bị cấp trên từ chối" },
        { "none", "không có cấp trên" } };
    if (!state)
        return "";
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(names[i].k, state) == 0)
            return names[i].v;
    return state;
}

void
th_status_time_vn(const char *iso, char buf[32])
{
    int64_t ms;
    if (iso && th_time_parse_iso(iso, &ms) == 0)
        th_time_format_vn(ms, buf);
    else
        snprintf(buf, 32, "%s", iso ? iso : "");
}

/* The string at key of obj, or "" (absent or not a string). */
static const char *
s_get_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* Appends s to buf (n bytes used so far, cap in all), cut on a character
   boundary when it does not fit; returns the new length. */
static size_t
s_append(char *buf, size_t n, size_t cap, const char *s)
{
    size_t len = strlen(s);
    if (n + len >= cap) {
        len = cap - 1 - n;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(buf + n, s, len);
    buf[n + len] = '\0';
    return n + len;
}

void
th_status_progress_vn(const json_t *report, uint64_t pending, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return;
    buf[0] = '\0';
    bool submitted = strcmp(s_get_str(report, "status"), "submitted") == 0;
    const json_t *ret = json_object_get(report, "returned");
    const json_t *rej = json_object_get(report, "rejected");
    /* the receipts of the current revision, in a line of at most 511 bytes
       (as the status command always cut it) */
    char rc_text[512] = "";
    json_int_t rev = json_integer_value(json_object_get(report, "rev"));
    const json_t *list = json_object_get(report, "receipts");
    size_t i;
    const json_t *x;
    json_array_foreach(list, i, x) {
        if (json_integer_value(json_object_get(x, "rev")) != rev)
            continue;
        char when[32];
        th_status_time_vn(json_string_value(json_object_get(x, "at")), when);
        size_t n = strlen(rc_text);
        snprintf(rc_text + n, sizeof rc_text - n, "%s%s đã nhận (%s)", n ? "; " : "",
                 th_status_level_vn(s_get_str(x, "level")), when);
    }
    const json_t *apr = json_object_get(report, "approved");
    if (apr && submitted && !ret && !rej) {
        char when[32];
        th_status_time_vn(json_string_value(json_object_get(apr, "at")), when);
        size_t n = strlen(rc_text);
        snprintf(rc_text + n, sizeof rc_text - n, "%sĐÃ DUYỆT (%s, %s)", n ? "; " : "",
                 s_get_str(apr, "by"), when);
    }
    const char *where = !submitted ? "chưa gửi"
                        : ret ? "TRẢ LẠI ĐỂ SỬA: "
                        : rej ? "BỊ TỪ CHỐI: "
                        : rc_text[0] ? rc_text
                        : pending ? "chờ gửi" : "đã gửi";
    /* the reason follows even a draft's "chưa gửi", as it always did */
    const char *why = ret ? s_get_str(ret, "reason") : rej ? s_get_str(rej, "reason") : "";
    size_t n = s_append(buf, 0, cap, where);
    s_append(buf, n, cap, why);
}
