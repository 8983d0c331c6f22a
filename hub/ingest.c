/*  ingest: check, apply, relay or quarantine the entries of one BATCH. */
#include "ingest.h"
#include "codec.h"
#include "enrollment.h"
#include "entry.h"
#include "err.h"
#include "log.h"
#include "metaq.h"
#include "mem.h"
#include "peers.h"
#include "validate.h"
#include "verify.h"
#include "period.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* bytes of a quarantined blob kept for the audit: bounded, so that a
   hostile child cannot grow the store by megabytes per batch */
#define S_QUARANTINE_KEEP(len) ((len) < 65536 ? (size_t)(len) : (size_t)65536)

/* An entry is refused: 1 with code and reason set. */
static int
s_refuse(int *code, char *reason, int c, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
s_refuse(int *code, char *reason, int c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(reason, 256, fmt, ap);
    va_end(ap);
    if (n >= 256) {
        /* cut on a character boundary: the reason travels as UTF-8 */
        size_t len = 255;
        while (len > 0 && ((unsigned char)reason[len] & 0xC0) == 0x80)
            len--;
        reason[len] = '\0';
    }
    *code = c;
    return 1;
}

static bool
s_has_parent(const th_ingest_t *b)
{
    return b->office->cfg.parent_endpoint[0] != '\0';
}

/* Is origin the enrolled key of unit, or (an entry on its behalf) of the
   hub it names as by, which must be the unit's parent in the tree of the
   period and lie in the sender's subtree? */
static int
s_signer_ok(th_store_txn_t *txn, th_ingest_t *b, const th_record_t *r, int32_t day,
            int *code, char *reason)
{
    uint8_t pk[32];
    int rc = th_peers_key(txn, r->unit, pk, NULL);
    if (rc < 0 && rc != TH_E_NOTFOUND)
        return rc;
    if (rc == 0 && memcmp(pk, r->origin, 32) == 0)
        return 0;
    if (r->proxy) {
        const th_unit_t *u = th_units_find(b->office->units, r->unit, day);
        if (!u || strcmp(u->parent, r->by) != 0 ||
            !th_units_in_subtree(b->office->units, b->sender, r->by, day))
            return s_refuse(code, reason, TH_E_UNIT, "Báo cáo nhập thay cho đơn vị %s bởi %s: "
                            "%s không phải đơn vị cấp trên trực tiếp của %s", r->unit, r->by,
                            r->by, r->unit);
        int k = th_peers_key(txn, r->by, pk, NULL);
        if (k < 0 && k != TH_E_NOTFOUND)
            return k;
        if (k == 0 && memcmp(pk, r->origin, 32) == 0)
            return 0;
    }
    int64_t at;
    int k = th_peers_revoked(txn, r->unit, r->origin, &at);
    if (k < 0 && k != TH_E_NOTFOUND)
        return k;
    if (k == 0) {
        char when[32];
        th_time_format_vn(at, when);
        return s_refuse(code, reason, TH_E_KEY, "Khóa ký của đơn vị %s đã bị thu hồi lúc %s; "
                        "báo cáo ký bằng khóa này không được nhận", r->unit, when);
    }
    if (rc == TH_E_NOTFOUND && !r->proxy)
        return s_refuse(code, reason, TH_E_KEY, "Đơn vị %s chưa được đăng ký với cấp trên",
                        r->unit);
    return s_refuse(code, reason, TH_E_KEY,
                    "Báo cáo được ký bằng khóa không phải khóa đã đăng ký của đơn vị %s",
                    r->unit);
}

/* 1 when record r (blob e), at or below the held revision cur, is of
   another history of the report than what is held (see s_record), 0 when
   it is a resend or an older revision, or a store error. */
static int
s_diverges(th_store_txn_t *txn, const char *key, const th_store_rev_t *cur,
           const th_record_t *r, const th_msg_entry_t *e)
{
    th_record_t held;
    th_record_init(&held);
    int rc = th_codec_record_decode(cur->blob, cur->len, &held, NULL, NULL);
    int other = rc == 0 && (memcmp(held.origin, r->origin, 32) != 0 ||
                            r->submitted_at > held.submitted_at);
    th_record_clear(&held);
    if (other)
        return 1;
    th_store_rev_t same;
    rc = th_store_get_revision(txn, key, r->rev, &same);
    if (rc == TH_E_NOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    return same.len != e->len || memcmp(same.blob, e->blob, e->len) != 0;
}

/* dec: the entry decoded and verified by th_verify_decode_entries, rc its
   result (the record is taken over and cleared here); NULL: decoded and
   verified here. */
static int
s_record(th_store_txn_t *txn, th_ingest_t *b, const th_msg_entry_t *e, th_record_t *dec,
         int rc, int *code, char *reason)
{
    th_record_t r;
    if (dec) {
        r = *dec;
        th_record_init(dec);
    } else {
        th_record_init(&r);
        rc = th_verify_decode(e->blob, e->len, -1, &r);
    }
    if (rc == TH_E_SIG)
        return s_refuse(code, reason, rc, "Chữ ký số của báo cáo không hợp lệ");
    if (rc < 0)
        return s_refuse(code, reason, rc, "Dữ liệu báo cáo không đọc được (%s)",
                        th_strerror(rc));
    th_period_t p;
    const th_form_t *f = NULL;
    th_problems_t pr = { 0 };
    if (th_period_parse(r.period, &p) < 0) {
        rc = s_refuse(code, reason, TH_E_PERIOD, "Kỳ báo cáo '%s' không hợp lệ", r.period);
        goto done;
    }
    if (!th_units_in_subtree(b->office->units, b->sender, r.unit, p.end)) {
        rc = s_refuse(code, reason, TH_E_UNIT,
                      "Đơn vị %s không thuộc phạm vi của đơn vị gửi %s", r.unit, b->sender);
        goto done;
    }
    if ((rc = s_signer_ok(txn, b, &r, p.end, code, reason)) != 0)
        goto done;
    if (r.status != TH_STATUS_SUBMITTED) {
        rc = s_refuse(code, reason, TH_E_INVALID, "Bản nháp không được gửi lên cấp trên");
        goto done;
    }
    if (!(f = th_office_form(b->office, r.form))) {
        rc = s_refuse(code, reason, TH_E_FORM, "Biểu mẫu %s chưa có tại đơn vị nhận",
                      r.form);
        goto done;
    }
    if (p.type != f->period_type) {
        rc = s_refuse(code, reason, TH_E_PERIOD, "Kỳ %s không phải kỳ của biểu mẫu %s (%s)",
                      r.period, f->id, th_period_type_name(f->period_type));
        goto done;
    }
    const th_unit_t *ru = th_units_find(b->office->units, r.unit, p.end);
    if (!ru || !th_form_reported_by(f, ru->level)) {
        rc = s_refuse(code, reason, TH_E_UNIT, "Đơn vị %s không thuộc cấp báo cáo biểu mẫu %s",
                      r.unit, f->id);
        goto done;
    }
    rc = th_form_validate(f, &r, false, &pr);
    if (rc == TH_E_REJECTED) {
        rc = s_refuse(code, reason, TH_E_INVALID, "Chỉ tiêu %s: %s", pr.items[0].code,
                      pr.items[0].message);
        goto done;
    }
    if (rc < 0)
        goto done;
    char key[TH_KEY_MAX];
    th_record_key(&r, key, sizeof key);
    th_store_rev_t cur;
    rc = th_store_get_current(txn, key, &cur);
    if (rc < 0 && rc != TH_E_NOTFOUND)
        goto done;
    if (rc == 0 && cur.rev >= r.rev) {
        /* Held, unless it belongs to another history of the same report:
           the held revision was signed by another key (a reinstalled
           office, or a hub that entered the report on the office's
           behalf, numbering from 1 again), or the office made this one
           after the one we hold (its store was restored from an older
           backup and numbers again from there), or we hold this very rev
           with other bytes. Its figures must win, not be taken for a
           duplicate: the office is told the rev we hold (META floor) and
           sends its report again after it; this revision is refused
           meanwhile. A genuine resend is byte-identical, or older. */
        if ((rc = s_diverges(txn, key, &cur, &r, e)) < 0)
            goto done;
        if (rc == 1) {
            char floor[16];
            snprintf(floor, sizeof floor, "%u", cur.rev);
            if ((rc = th_metaq_push(txn, b->sender, TH_MSG_META_FLOOR, key, floor,
                                    strlen(floor), NULL)) < 0)
                goto done;
            rc = s_refuse(code, reason, TH_E_STALE, "Cấp trên đã có báo cáo này đến lần %u, "
                          "theo một lịch sử khác (khóa cũ, báo cáo nhập thay hoặc dữ liệu "
                          "khôi phục từ bản sao cũ); văn phòng tự gửi lại thành lần %u",
                          cur.rev, cur.rev + 1);
            goto done;
        }
        b->duplicates++;   /* already held: acknowledged, not applied twice */
        rc = 0;
    } else {
        th_store_rev_t nr = { .key = key, .rev = r.rev, .status = TH_STATUS_SUBMITTED,
                              .received_at = b->now, .blob = e->blob, .len = e->len,
                              .seal = true };   /* every check above passed */
        /* a hub that approves sends it on once approved (approval.h) */
        rc = th_store_put_revision(txn, &nr, s_has_parent(b) && !b->office->cfg.approve, NULL);
        if (rc < 0)
            goto done;
        b->applied++;
    }
    /* a receipt travels back down the path the record came up (sent again
       for a revision already held: the first one may have been lost) */
    char receipt[96];
    th_metaq_receipt_make(receipt, sizeof receipt, r.rev, b->office->cfg.unit, b->now);
    rc = th_metaq_push(txn, b->sender, TH_MSG_META_RECEIPT, key, receipt, strlen(receipt),
                       NULL);
done:
    th_problems_clear(&pr);
    th_record_clear(&r);
    return rc;
}

/* Checks a key statement (an enrollment, or with revoke a revocation) in
   e: it parses as that kind, its unit lies below the hub that made it and
   that hub in the sender's subtree (read in the tree of that hub's day),
   and it is signed by that hub's enrolled key. 0 with *en filled, 1 when
   refused (code, reason), or a store error. */
static int
s_statement(th_store_txn_t *txn, th_ingest_t *b, const th_msg_entry_t *e, bool revoke,
            th_enrollment_t *en, int *code, char *reason)
{
    if (th_enrollment_parse(e->blob, e->len, en) < 0 ||
        en->kind != (revoke ? TH_LOG_KIND_REVOKE : TH_LOG_KIND_ENROLL))
        return s_refuse(code, reason, TH_E_PARSE, revoke ? "Bản thu hồi khóa không đọc được"
                                                         : "Bản đăng ký khóa không đọc được");
    const th_units_t *units = b->office->units;
    /* Codes are reused across trees: read the statement in the tree of the
       hub that made it (an older tree if that hub's unit no longer exists). */
    int32_t day = th_units_tree_day(units, en->parent, th_time_day_vn(en->at), NULL);
    if (!th_units_in_subtree(units, b->sender, en->parent, day) ||
        !th_units_in_subtree(units, en->parent, en->unit, day) ||
        strcmp(en->parent, en->unit) == 0)
        return s_refuse(code, reason, TH_E_UNIT,
                        "%s khóa của đơn vị %s bởi %s nằm ngoài phạm vi của %s",
                        revoke ? "Thu hồi" : "Đăng ký", en->unit, en->parent, b->sender);
    uint8_t pk[32];
    int rc = th_peers_key(txn, en->parent, pk, NULL);
    if (rc == TH_E_NOTFOUND)
        return s_refuse(code, reason, TH_E_KEY, "Đơn vị %s chưa được đăng ký", en->parent);
    if (rc < 0)
        return rc;
    if (th_enrollment_verify(e->blob, e->len, pk) < 0)
        return s_refuse(code, reason, TH_E_SIG, revoke
                        ? "Chữ ký của bản thu hồi khóa không hợp lệ"
                        : "Chữ ký của bản đăng ký khóa không hợp lệ");
    return 0;
}

static int
s_enroll(th_store_txn_t *txn, th_ingest_t *b, const th_msg_entry_t *e, int *code,
         char *reason)
{
    th_enrollment_t en;
    int rc = s_statement(txn, b, e, false, &en, code, reason);
    if (rc != 0)
        return rc;
    uint8_t pk[32];
    bool direct = false;
    rc = th_peers_key(txn, en.unit, pk, &direct);
    if (rc < 0 && rc != TH_E_NOTFOUND)
        return rc;
    if (rc == 0 && direct)
        return s_refuse(code, reason, TH_E_EXISTS,
                        "Đơn vị %s đã đăng ký trực tiếp với đơn vị này", en.unit);
    if (rc == 0 && memcmp(pk, en.key, 32) == 0) {
        b->duplicates++;
        return 0;
    }
    if ((rc = th_peers_enroll(txn, en.unit, en.key, false)) < 0)
        return rc;
    b->applied++;
    return s_has_parent(b) ? th_enrollment_log(txn, TH_LOG_KIND_ENROLL, en.unit, e->blob, e->len, NULL) : 0;
}

/* A revocation from below: what that key signs is refused here from now
   on, and the statement goes on up. */
static int
s_revoke(th_store_txn_t *txn, th_ingest_t *b, const th_msg_entry_t *e, int *code,
         char *reason)
{
    th_enrollment_t en;
    int rc = s_statement(txn, b, e, true, &en, code, reason);
    if (rc != 0)
        return rc;
    if (th_peers_revoked(txn, en.unit, en.key, NULL) == 0) {
        b->duplicates++;
        return 0;
    }
    if ((rc = th_peers_revoke(txn, en.unit, en.key, en.at)) < 0)
        return rc;
    th_log(TH_LOG_WARN, "ingest: the key of %s was revoked by %s: what it signs is refused",
           en.unit, en.parent);
    b->applied++;
    return s_has_parent(b) ? th_enrollment_log(txn, TH_LOG_KIND_REVOKE, en.unit, e->blob, e->len, NULL) : 0;
}

/* A hub in the sender's subtree (the sender itself, or a hub below it)
   replaced its own key: the statement is signed by the key known here
   for it, which the new key replaces; it goes on up. */
static int
s_rotate(th_store_txn_t *txn, th_ingest_t *b, const th_msg_entry_t *e, int *code,
         char *reason)
{
    th_enrollment_t en;
    if (th_enrollment_parse(e->blob, e->len, &en) < 0 || en.kind != TH_LOG_KIND_ROTATE ||
        strcmp(en.unit, en.parent) != 0)
        return s_refuse(code, reason, TH_E_PARSE, "Bản đổi khóa không đọc được");
    int32_t day = th_units_tree_day(b->office->units, en.unit, th_time_day_vn(en.at), NULL);
    if (!th_units_in_subtree(b->office->units, b->sender, en.unit, day))
        return s_refuse(code, reason, TH_E_UNIT, "Đổi khóa của đơn vị %s nằm ngoài phạm vi "
                        "của %s", en.unit, b->sender);
    uint8_t pk[32];
    int rc = th_peers_key(txn, en.unit, pk, NULL);
    if (rc == TH_E_NOTFOUND)
        return s_refuse(code, reason, TH_E_KEY, "Đơn vị %s chưa được đăng ký", en.unit);
    if (rc < 0)
        return rc;
    if (memcmp(pk, en.key, 32) == 0) {
        b->duplicates++;   /* a resend: the new key is held already */
        return 0;
    }
    if (th_enrollment_verify(e->blob, e->len, pk) < 0)
        return s_refuse(code, reason, TH_E_SIG, "Bản đổi khóa của đơn vị %s không được ký "
                        "bằng khóa đã đăng ký của đơn vị", en.unit);
    if ((rc = th_peers_rotate(txn, en.unit, en.key)) < 0)
        return rc;
    th_log(TH_LOG_INFO, "ingest: %s replaced its key", en.unit);
    b->applied++;
    return s_has_parent(b) ? th_enrollment_log(txn, TH_LOG_KIND_ROTATE, en.unit, e->blob,
                                               e->len, NULL) : 0;
}

static int
s_quarantine(th_store_txn_t *txn, th_ingest_t *b, const th_msg_entry_t *e, int code,
             const char *reason)
{
    char key[64];
    snprintf(key, sizeof key, "q|%s|%020" PRIu64, b->sender, e->seq);
    size_t rl = strlen(reason);
    size_t keep = S_QUARANTINE_KEEP(e->len);
    size_t len = 4 + rl + 1 + keep;
    uint8_t *v = th_malloc(len);
    if (!v)
        return -ENOMEM;
    uint32_t c = (uint32_t)code;
    v[0] = (uint8_t)(c >> 24); v[1] = (uint8_t)(c >> 16);
    v[2] = (uint8_t)(c >> 8);  v[3] = (uint8_t)c;
    memcpy(v + 4, reason, rl + 1);
    memcpy(v + 4 + rl + 1, e->blob, keep);
    int rc = th_store_kv_put(txn, TH_DB_QUARANTINE, key, v, len);
    th_free(v);
    return rc;
}

int
th_ingest_batch(th_store_txn_t *txn, void *ctx)
{
    th_ingest_t *b = ctx;
    b->applied = b->duplicates = b->skipped_old = b->nrejected = 0;
    b->gap = b->over_cap = false;
    uint64_t cursor, used;
    int rc = th_peers_seq_get(txn, b->sender, &cursor);
    if (rc == 0)
        rc = th_peers_bytes_get(txn, b->sender, &used);
    if (rc == 0)
        rc = th_peers_last_get(txn, b->sender, &b->check_seq, b->check);
    if (rc < 0)
        return rc;
    b->upto = cursor;
    b->stored = used;
    if (b->after > cursor) {
        /* Skipping the seqs in between would lose them for good. */
        b->gap = true;
        return 0;
    }
    if (b->store_cap && used >= b->store_cap) {
        b->over_cap = true;
        return 0;
    }
    uint64_t used0 = used;
    /* what is new here decoded and verified on every core, first (without
       the memory for it, one after the other below) */
    size_t first = 0;
    while (first < b->nentries && b->entries[first].seq <= cursor)
        first++;
    th_record_t *dec = NULL;
    int *drc = NULL;
    if (first < b->nentries && (dec = th_calloc(b->nentries, sizeof *dec)) &&
        (drc = th_calloc(b->nentries, sizeof *drc))) {
        th_verify_decode_entries(b->entries + first, b->nentries - first, dec + first,
                                 drc + first);
    } else {
        th_free(dec);
        dec = NULL;
    }
    for (size_t i = 0; i < b->nentries; i++) {
        const th_msg_entry_t *e = &b->entries[i];
        if (e->seq <= cursor) {
            b->skipped_old++;
            continue;
        }
        int code = 0;
        char reason[256] = "";
        size_t applied = b->applied;
        if (e->kind == TH_MSG_ENTRY_RECORD)
            rc = s_record(txn, b, e, dec ? &dec[i] : NULL, dec ? drc[i] : 0, &code, reason);
        else if (e->kind == TH_MSG_ENTRY_ENROLL)
            rc = s_enroll(txn, b, e, &code, reason);
        else if (e->kind == TH_MSG_ENTRY_REVOKE)
            rc = s_revoke(txn, b, e, &code, reason);
        else if (e->kind == TH_MSG_ENTRY_ROTATE)
            rc = s_rotate(txn, b, e, &code, reason);
        else
            rc = s_refuse(&code, reason, TH_E_TYPE, "Loại dữ liệu %u không được hỗ trợ",
                          e->kind);
        if (rc < 0)
            goto out;   /* store failure: nothing commits, nothing is acked */
        if (rc == 1) {
            th_log(TH_LOG_WARN, "ingest: from %s seq %" PRIu64 " quarantined: %s",
                   b->sender, e->seq, reason);
            if ((rc = s_quarantine(txn, b, e, code, reason)) < 0)
                goto out;
            used += S_QUARANTINE_KEEP(e->len) + strlen(reason);
            th_ingest_reject_t *rj = &b->rejected[b->nrejected++];
            rj->seq = e->seq;
            rj->code = code;
            snprintf(rj->reason, sizeof rj->reason, "%s", reason);
        }
        if (b->applied > applied)
            used += e->len;
        b->check_seq = e->seq;
        th_digest16(e->blob, e->len, b->check);
        if (e->seq > b->upto)
            b->upto = e->seq;
    }
    rc = 0;
    if (b->through > b->upto)
        b->upto = b->through;
    if (b->upto > cursor && (rc = th_peers_seq_put(txn, b->sender, b->upto)) < 0)
        goto out;
    if (used != used0 && (rc = th_peers_bytes_put(txn, b->sender, used)) < 0)
        goto out;
    if (b->check_seq > cursor &&
        (rc = th_peers_last_put(txn, b->sender, b->check_seq, b->check)) < 0)
        goto out;
    b->stored = used;
    rc = 0;
out:
    for (size_t i = 0; dec && i < b->nentries; i++)
        th_record_clear(&dec[i]);   /* those s_record did not take */
    th_free(dec);
    th_free(drc);
    return rc;
}
