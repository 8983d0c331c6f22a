/*  metaq: per-child META queues, receipts and rejections. */
#include "metaq.h"
#include "entry.h"
#include "err.h"
#include "form_ini.h"
#include "log.h"
#include "mem.h"
#include "period.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_qkey(char *buf, size_t cap, const char *child, uint64_t seq)
{
    snprintf(buf, cap, "q|%s|%020" PRIu64, child, seq);
}

int
th_metaq_head(th_store_txn_t *txn, const char *child, uint64_t *seq)
{
    char name[48];
    snprintf(name, sizeof name, "mq.%s", child);
    return th_store_state_get_u64(txn, name, seq);
}

int
th_metaq_delivered(th_store_txn_t *txn, const char *child, uint64_t seq)
{
    char k[TH_UNIT_MAX + 32];
    const void *v;
    size_t len;
    s_qkey(k, sizeof k, child, seq);
    int rc = th_store_kv_get(txn, TH_DB_META, k, &v, &len);
    return rc == TH_E_NOTFOUND ? 1 : rc < 0 ? rc : 0;
}

int
th_metaq_push(th_store_txn_t *txn, const char *child, uint8_t kind, const char *key,
              const void *blob, size_t len, uint64_t *seq)
{
    uint64_t head;
    int rc = th_metaq_head(txn, child, &head);
    if (rc < 0)
        return rc;
    size_t kl = strlen(key);
    if (kl == 0 || kl >= TH_KEY_MAX)
        return TH_E_INVALID;
    uint8_t *v = th_malloc(2 + kl + len);
    if (!v)
        return -ENOMEM;
    v[0] = kind;
    v[1] = (uint8_t)kl;
    memcpy(v + 2, key, kl);
    if (len)
        memcpy(v + 2 + kl, blob, len);
    char k[64], name[48];
    s_qkey(k, sizeof k, child, head + 1);
    rc = th_store_kv_put(txn, TH_DB_META, k, v, 2 + kl + len);
    th_free(v);
    snprintf(name, sizeof name, "mq.%s", child);
    if (rc == 0)
        rc = th_store_state_put_u64(txn, name, head + 1);
    if (rc == 0 && seq)
        *seq = head + 1;
    return rc;
}

typedef struct {
    uint64_t after;
    size_t max;
    th_msg_t *m;
    char keys[TH_MSG_META_MAX][TH_KEY_MAX];   /* NUL-terminated copies */
    size_t n;
} s_fill_t;

static int
s_fill_one(const char *key, const void *val, size_t len, void *ctx)
{
    s_fill_t *f = ctx;
    const char *bar = strrchr(key, '|');
    uint64_t seq = bar ? strtoull(bar + 1, NULL, 10) : 0;
    if (seq <= f->after)
        return 0;
    if (f->n >= f->max || f->n >= TH_MSG_META_MAX)
        return 1;
    const uint8_t *v = val;
    if (len < 2 || (size_t)v[1] + 2 > len || v[1] == 0 || v[1] >= TH_KEY_MAX)
        return TH_E_CORRUPT;
    memcpy(f->keys[f->n], v + 2, v[1]);
    f->keys[f->n][v[1]] = '\0';
    int rc = th_msg_add_meta(f->m, seq, v[0], f->keys[f->n], v + 2 + v[1],
                             len - 2 - v[1]);
    if (rc < 0)
        return rc == TH_E_LIMIT ? 1 : rc;
    f->n++;
    return 0;
}

int
th_metaq_fill(th_store_txn_t *txn, const char *child, uint64_t after, size_t max,
              th_msg_t *m)
{
    s_fill_t *f = th_calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    f->after = after;
    f->max = max;
    f->m = m;
    char prefix[48];
    snprintf(prefix, sizeof prefix, "q|%s|", child);
    int rc = th_store_kv_each(txn, TH_DB_META, prefix, s_fill_one, f);
    th_free(f);   /* the message copied the keys (th_msg_add_meta copies) */
    return rc < 0 ? rc : 0;
}

typedef struct {
    uint64_t upto;
    char keys[64][64];
    size_t n;
} s_ack_t;

static int
s_ack_one(const char *key, const void *val, size_t len, void *ctx)
{
    (void)val;
    (void)len;
    s_ack_t *a = ctx;
    const char *bar = strrchr(key, '|');
    uint64_t seq = bar ? strtoull(bar + 1, NULL, 10) : 0;
    if (seq > a->upto || a->n >= 64)
        return 1;
    snprintf(a->keys[a->n++], sizeof a->keys[0], "%s", key);
    return 0;
}

int
th_metaq_ack(th_store_txn_t *txn, const char *child, uint64_t upto)
{
    char prefix[48];
    snprintf(prefix, sizeof prefix, "q|%s|", child);
    for (;;) {
        s_ack_t a = { .upto = upto };
        int rc = th_store_kv_each(txn, TH_DB_META, prefix, s_ack_one, &a);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < a.n; i++)
            if ((rc = th_store_kv_del(txn, TH_DB_META, a.keys[i])) < 0 && rc != TH_E_NOTFOUND)
                return rc;
        if (a.n < 64)
            return 0;
    }
}

int
th_metaq_path_child(const th_units_t *units, const char *me, const char *unit, int32_t day,
                    char child[TH_UNIT_MAX])
{
    const th_unit_t *u = th_units_find(units, unit, day);
    while (u && u->parent[0]) {
        if (strcmp(u->parent, me) == 0) {
            snprintf(child, TH_UNIT_MAX, "%s", u->code);
            return 0;
        }
        u = th_units_parent(units, u);
    }
    return TH_E_NOTFOUND;
}

int
th_metaq_receipt_make(char *buf, size_t cap, uint32_t rev, const char *by, int64_t at)
{
    int n = snprintf(buf, cap, "rev=%u;by=%s;at=%" PRId64, rev, by, at);
    return n < 0 || (size_t)n >= cap ? TH_E_LIMIT : n;
}

int
th_metaq_receipt_parse(const void *blob, size_t len, uint32_t *rev, char by[TH_UNIT_MAX],
                       int64_t *at)
{
    char text[96];
    if (len == 0 || len >= sizeof text)
        return TH_E_PARSE;
    memcpy(text, blob, len);
    text[len] = '\0';
    char unit[TH_UNIT_MAX];
    int consumed = 0;
    if (sscanf(text, "rev=%u;by=%15[A-Za-z0-9_-];at=%" SCNd64 "%n", rev, unit, at,
               &consumed) != 3 || (size_t)consumed != len || !th_valid_unit_code(unit))
        return TH_E_PARSE;
    memcpy(by, unit, TH_UNIT_MAX);
    return 0;
}

/* unit code of a record key "form|period|unit", and the day its tree is read on */
static int
s_key_unit(const char *key, char unit[TH_UNIT_MAX], int32_t *day)
{
    const char *a = strchr(key, '|');
    const char *b = a ? strchr(a + 1, '|') : NULL;
    if (!b || strlen(b + 1) == 0 || strlen(b + 1) >= TH_UNIT_MAX)
        return TH_E_PARSE;
    snprintf(unit, TH_UNIT_MAX, "%s", b + 1);
    char period[TH_PERIOD_MAX];
    size_t pl = (size_t)(b - a - 1);
    if (pl >= sizeof period)
        return TH_E_PARSE;
    memcpy(period, a + 1, pl);
    period[pl] = '\0';
    th_period_t p;
    if (th_period_parse(period, &p) < 0)
        return TH_E_PARSE;
    *day = p.end;
    return 0;
}

/* Sends an item on down to the child on the path to the key's unit. */
static int
s_forward(th_store_txn_t *txn, th_office_t *o, uint8_t kind, const char *key,
          const void *blob, size_t len)
{
    char unit[TH_UNIT_MAX], child[TH_UNIT_MAX];
    int32_t day;
    if (s_key_unit(key, unit, &day) < 0 ||
        th_metaq_path_child(o->units, o->cfg.unit, unit, day, child) < 0) {
        th_log(TH_LOG_WARN, "metaq: no path down for '%s': dropped", key);
        return 0;
    }
    return th_metaq_push(txn, child, kind, key, blob, len, NULL);
}

static bool
s_is_mine(th_office_t *o, const char *key)
{
    char unit[TH_UNIT_MAX];
    int32_t day;
    return s_key_unit(key, unit, &day) == 0 && strcmp(unit, o->cfg.unit) == 0;
}

/* A form from above replaces ours when its version is newer. The parsed
   copy also goes into the open office, so that a hub passes it on to its
   children without a restart. */
static int
s_apply_form(th_store_txn_t *txn, th_office_t *o, const th_msg_meta_t *item)
{
    char err[256];
    int rc = 0;
    th_form_t *f = th_form_parse((const char *)item->blob, item->len, "form from parent",
                                 err, sizeof err, &rc);
    if (!f) {
        th_log(TH_LOG_WARN, "metaq: form '%s' from the parent does not parse: %s",
               item->key, err);
        return 0;
    }
    const th_form_t *mine = th_forms_get(o->forms, f->id);
    if (mine && mine->version >= f->version) {
        th_form_destroy(&f);
        return 0;
    }
    rc = th_store_kv_put(txn, TH_DB_FORMS, f->id, item->blob, item->len);
    uint64_t gen = 0;
    if (rc == 0)
        rc = th_store_state_get_u64(txn, "forms.gen", &gen);
    if (rc == 0)
        rc = th_store_state_put_u64(txn, "forms.gen", gen + 1);
    if (rc < 0) {
        th_form_destroy(&f);
        return rc;
    }
    th_log(TH_LOG_INFO, "metaq: form %s version %u received from the parent", f->id,
           f->version);
    th_forms_add(o->forms, &f);   /* takes it */
    return 0;
}

/* ---- unit lists ---------------------------------------------------------- */

/* A unit list item: key = set name, blob = be64 version, be32 valid_from,
   be32 valid_to (inclusive days), then the CSV text. */
#define S_UNITS_ITEM_HDR 16

static void
s_be_put(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t
s_be_get(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Was the office's unit in this set, and is it still in its new text? */
static void
s_units_notice(th_store_txn_t *txn, th_office_t *o, const char *set, uint64_t version,
               const th_units_t *fresh)
{
    const th_unit_t *old = th_units_find_in_set(o->units, set, o->cfg.unit);
    if (!old || th_units_find_in_set(fresh, set, o->cfg.unit))
        return;
    char when[32], msg[512];
    th_time_format_vn(th_now_ms(), when);
    snprintf(msg, sizeof msg, "Đơn vị %s (%s) không còn trong danh mục đơn vị %s (phiên bản "
             "%" PRIu64 ", cấp trên gửi xuống lúc %s): văn phòng này không còn báo cáo được "
             "các kỳ của danh mục đó. Hãy liên hệ cấp trên để được hướng dẫn (đơn vị đã "
             "được sắp xếp, đổi mã hoặc chuyển đơn vị cấp trên).", o->cfg.unit, old->name, set,
             version, when);
    th_log(TH_LOG_WARN, "metaq: this office's unit %s is not in unit list %s version %" PRIu64
           " from the parent", o->cfg.unit, set, version);
    th_store_kv_put(txn, TH_DB_STATE, TH_METAQ_UNITS_NOTICE, msg, strlen(msg));
}

/* A unit list from above replaces ours when its version is newer; checked
   whole (th_units_load_csv) before it is stored. The office re-reads its
   lists when "units.gen" moves (th_office_reload_units). */
static int
s_apply_units(th_store_txn_t *txn, th_office_t *o, const th_msg_meta_t *item)
{
    if (item->len < S_UNITS_ITEM_HDR) {
        th_log(TH_LOG_WARN, "metaq: malformed unit list '%s' from the parent ignored",
               item->key);
        return 0;
    }
    uint64_t version = s_be_get(item->blob, 8), mine = 0;
    int32_t from = (int32_t)(uint32_t)s_be_get(item->blob + 8, 4);
    int32_t to = (int32_t)(uint32_t)s_be_get(item->blob + 12, 4);
    const char *text = (const char *)item->blob + S_UNITS_ITEM_HDR;
    size_t len = item->len - S_UNITS_ITEM_HDR;
    const char *t;
    size_t tl;
    int32_t f0, t0;
    int rc = th_office_units_set_get(txn, item->key, &f0, &t0, &t, &tl);
    if (rc == 0)
        rc = th_office_units_version(txn, item->key, &mine);
    else if (rc == TH_E_NOTFOUND)
        rc = 0;   /* a list this office did not have (it was made with its own) */
    if (rc < 0)
        return rc;
    if (version <= mine)
        return 0;   /* held already: a resend, or an older version */
    th_units_t *fresh = th_units_new();
    char err[256] = "";
    rc = fresh ? th_units_load_csv(fresh, item->key, item->key, text, len, from, to, err,
                                   sizeof err)
               : -ENOMEM;
    if (rc == -ENOMEM) {
        th_units_destroy(&fresh);
        return rc;
    }
    if (rc < 0) {
        th_units_destroy(&fresh);
        th_log(TH_LOG_WARN, "metaq: unit list '%s' version %" PRIu64 " from the parent is "
               "not valid, ignored: %s", item->key, version, err);
        return 0;
    }
    s_units_notice(txn, o, item->key, version, fresh);
    th_units_destroy(&fresh);
    if ((rc = th_office_units_set_put(txn, item->key, from, to, text, len, version)) < 0)
        return rc;
    th_log(TH_LOG_INFO, "metaq: unit list %s version %" PRIu64 " received from the parent",
           item->key, version);
    return 0;
}

typedef struct {
    th_store_txn_t *txn;
    const char *child;
} s_down_t;

static int
s_sync_set(const char *set, const void *val, size_t vlen, void *ctx)
{
    s_down_t *d = ctx;
    uint64_t version = 0, sent = 1;   /* every office starts with version 1 */
    int rc = th_office_units_version(d->txn, set, &version);
    if (rc < 0)
        return rc;
    char k[TH_UNIT_MAX + 96];
    snprintf(k, sizeof k, "uv:%s:%s", d->child, set);
    const void *v;
    size_t len;
    rc = th_store_kv_get(d->txn, TH_DB_PEERS, k, &v, &len);
    if (rc < 0 && rc != TH_E_NOTFOUND)
        return rc;
    if (rc == 0 && len == 8)
        sent = s_be_get(v, 8);
    if (version <= sent || vlen < 8 || vlen - 8 + S_UNITS_ITEM_HDR > TH_MSG_BLOB_MAX)
        return 0;
    /* the stored value is be32 from | be32 to | CSV: the item puts the
       version before it */
    uint8_t *blob = th_malloc(vlen + 8);
    if (!blob)
        return -ENOMEM;
    s_be_put(blob, version, 8);
    memcpy(blob + 8, val, vlen);
    rc = th_metaq_push(d->txn, d->child, TH_MSG_META_UNITS, set, blob, vlen + 8, NULL);
    th_free(blob);
    uint8_t b[8];
    s_be_put(b, version, 8);
    if (rc == 0)
        rc = th_store_kv_put(d->txn, TH_DB_PEERS, k, b, sizeof b);
    return rc;
}

int
th_metaq_apply(th_store_txn_t *txn, th_office_t *o, const th_msg_meta_t *item)
{
    if (item->kind == TH_MSG_META_FORM)
        return s_apply_form(txn, o, item);
    if (item->kind == TH_MSG_META_UNITS)
        return s_apply_units(txn, o, item);
    if (item->kind == TH_MSG_META_KEY) {
        /* the parent rotates its key: tried when the old one stops
           working (uplink.c), under the [parent] key it replaces */
        size_t n = strlen(o->cfg.parent_key);
        uint8_t v[TH_Z85_KEY_LEN + 32];
        if (item->len != 32 || n != TH_Z85_KEY_LEN) {
            th_log(TH_LOG_WARN, "metaq: malformed parent key ignored");
            return 0;
        }
        memcpy(v, o->cfg.parent_key, n);
        memcpy(v + n, item->blob, 32);
        th_log(TH_LOG_INFO, "metaq: the parent announced its new key");
        return th_store_kv_put(txn, TH_DB_STATE, TH_METAQ_NEXT_KEY, v, sizeof v);
    }
    if (item->kind != TH_MSG_META_RECEIPT && item->kind != TH_MSG_META_NOTICE &&
        item->kind != TH_MSG_META_FLOOR) {
        th_log(TH_LOG_INFO, "metaq: META kind %u not handled yet: ignored", item->kind);
        return 0;
    }
    if (!s_is_mine(o, item->key))
        return s_forward(txn, o, item->kind, item->key, item->blob, item->len);
    if (item->kind == TH_MSG_META_FLOOR) {
        char text[16];
        unsigned long floor = 0;
        char *end = NULL;
        if (item->len > 0 && item->len < sizeof text) {
            memcpy(text, item->blob, item->len);
            text[item->len] = '\0';
            floor = strtoul(text, &end, 10);
        }
        if (!end || *end || floor == 0 || floor >= UINT32_MAX) {
            th_log(TH_LOG_WARN, "metaq: malformed floor for '%s' ignored", item->key);
            return 0;
        }
        return th_entry_renumber(txn, o, item->key, (uint32_t)floor, NULL);
    }
    char k[TH_KEY_MAX + 24];
    if (item->kind == TH_MSG_META_RECEIPT) {
        uint32_t rev;
        char by[TH_UNIT_MAX];
        int64_t at;
        if (th_metaq_receipt_parse(item->blob, item->len, &rev, by, &at) < 0) {
            th_log(TH_LOG_WARN, "metaq: malformed receipt for '%s' ignored", item->key);
            return 0;
        }
        snprintf(k, sizeof k, "r|%s|%s", item->key, by);
        char v[48];
        snprintf(v, sizeof v, "%u %" PRId64, rev, at);
        return th_store_kv_put(txn, TH_DB_RECEIPTS, k, v, strlen(v));
    }
    /* a notice is an approval ("approved:rev at by", approval.h), a return
       for correction ("return:rev at by reason") or a rejection from above
       ("rev code reason") */
    if (item->len > 9 && memcmp(item->blob, "approved:", 9) == 0) {
        snprintf(k, sizeof k, "a|%s", item->key);
        return th_store_kv_put(txn, TH_DB_RECEIPTS, k, item->blob + 9, item->len - 9);
    }
    if (item->len > 7 && memcmp(item->blob, "return:", 7) == 0) {
        snprintf(k, sizeof k, "t|%s", item->key);
        return th_store_kv_put(txn, TH_DB_RECEIPTS, k, item->blob + 7, item->len - 7);
    }
    snprintf(k, sizeof k, "x|%s", item->key);
    return th_store_kv_put(txn, TH_DB_RECEIPTS, k, item->blob, item->len);
}

int
th_metaq_receipt_text(th_store_txn_t *txn, char kind, const char *key, char *buf, size_t cap)
{
    char k[TH_KEY_MAX + 4];
    const void *val;
    size_t len;
    snprintf(k, sizeof k, "%c|%s", kind, key);
    int rc = th_store_kv_get(txn, TH_DB_RECEIPTS, k, &val, &len);
    if (rc < 0)
        return rc;
    if (len >= cap)
        return TH_E_NOTFOUND;
    memcpy(buf, val, len);
    buf[len] = '\0';
    return 0;
}

int
th_metaq_sync_down(th_store_txn_t *txn, th_office_t *o, const char *child)
{
    int rc = th_metaq_sync_forms(txn, o, child);
    s_down_t d = { txn, child };
    if (rc == 0)
        rc = th_store_kv_each(txn, TH_DB_UNITS, "", s_sync_set, &d);
    return rc;
}

int
th_metaq_sync_forms(th_store_txn_t *txn, th_office_t *o, const char *child)
{
    for (size_t i = 0; i < th_forms_count(o->forms); i++) {
        const th_form_t *f = th_forms_at(o->forms, i);
        char k[TH_UNIT_MAX + TH_FORM_ID_MAX + 8];
        snprintf(k, sizeof k, "fv:%s:%s", child, f->id);
        const void *v;
        size_t len;
        uint32_t sent = 0;
        int rc = th_store_kv_get(txn, TH_DB_PEERS, k, &v, &len);
        if (rc < 0 && rc != TH_E_NOTFOUND)
            return rc;
        if (rc == 0 && len == 4) {
            const uint8_t *b = v;
            sent = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        }
        if (sent >= f->version)
            continue;
        if ((rc = th_metaq_push(txn, child, TH_MSG_META_FORM, f->id, f->source,
                                f->source_len, NULL)) < 0)
            return rc;
        uint8_t b[4] = { (uint8_t)(f->version >> 24), (uint8_t)(f->version >> 16),
                         (uint8_t)(f->version >> 8), (uint8_t)f->version };
        if ((rc = th_store_kv_put(txn, TH_DB_PEERS, k, b, sizeof b)) < 0)
            return rc;
    }
    return 0;
}

int
th_metaq_rejected(th_store_txn_t *txn, th_office_t *o, const char *key, uint32_t rev,
                  int code, const char *reason)
{
    char v[600];
    int n = snprintf(v, sizeof v, "%u %d %s", rev, code, reason);
    size_t len = n < 0 ? 0 : (size_t)n >= sizeof v ? sizeof v - 1 : (size_t)n;
    th_msg_meta_t item = { .kind = TH_MSG_META_NOTICE, .key = key, .blob = (uint8_t *)v,
                           .len = len };
    return th_metaq_apply(txn, o, &item);
}
