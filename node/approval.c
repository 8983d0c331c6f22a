/*  approval: a hub approves (duyệt) a child's report before it counts and
    goes up (see approval.h). */
#include "approval.h"
#include "err.h"
#include "log.h"
#include "metaq.h"
#include "msg.h"
#include "period.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void
s_key(char *buf, size_t cap, const char *key, uint32_t rev)
{
    snprintf(buf, cap, "ap|%s|%010u", key, rev);
}

int
th_approval_mark(th_store_txn_t *txn, const char *key, uint32_t rev, int64_t at)
{
    char k[TH_KEY_MAX + 16];
    s_key(k, sizeof k, key, rev);
    return th_store_state_put_u64(txn, k, (uint64_t)at);
}

bool
th_approval_done(th_store_txn_t *txn, const char *key, uint32_t rev, int64_t as_of)
{
    char k[TH_KEY_MAX + 16];
    s_key(k, sizeof k, key, rev);
    uint64_t at = 0;
    return th_store_state_get_u64(txn, k, &at) == 0 && at != 0 && (int64_t)at <= as_of;
}

typedef struct {
    const char *key;
    uint32_t rev;
    bool approved;
} s_state_t;

static int
s_state_txn(th_store_txn_t *txn, void *ctx)
{
    s_state_t *x = ctx;
    x->approved = th_approval_done(txn, x->key, x->rev, INT64_MAX);
    return 0;
}

int
th_approval_state(th_office_t *o, const char *key, uint32_t rev, bool *approved)
{
    s_state_t x = { key, rev, false };
    int rc = th_store_read(o->store, s_state_txn, &x);
    *approved = x.approved;
    return rc;
}

typedef struct {
    th_office_t *off;
    const char *key;
    char child[TH_UNIT_MAX];
    uint32_t rev;
} s_approve_t;

static int
s_approve_txn(th_store_txn_t *txn, void *ctx)
{
    s_approve_t *x = ctx;
    th_store_rev_t cur;
    int rc = th_store_get_current(txn, x->key, &cur);
    if (rc < 0)
        return rc;
    if (cur.status != TH_STATUS_SUBMITTED)
        return TH_E_NOTFOUND;
    x->rev = cur.rev;
    int64_t now = th_now_ms();
    if (th_approval_done(txn, x->key, cur.rev, INT64_MAX))
        return TH_E_EXISTS;
    if ((rc = th_approval_mark(txn, x->key, cur.rev, now)) < 0)
        return rc;
    /* now it goes up, as the ingest would have sent it */
    if (x->off->cfg.parent_endpoint[0] &&
        (rc = th_store_log_append(txn, TH_LOG_KIND_RECORD, x->key, cur.rev, cur.blob, cur.len,
                                  NULL)) < 0)
        return rc;
    char blob[96];
    int n = snprintf(blob, sizeof blob, "approved:%u %" PRId64 " %s", cur.rev, now,
                     x->off->cfg.unit);
    return th_metaq_push(txn, x->child, TH_MSG_META_NOTICE, x->key, blob, (size_t)n, NULL);
}

int
th_approval_approve(th_office_t *off, const char *form, const char *period, const char *unit,
                    uint32_t *rev, char *errbuf, size_t cap)
{
    if (!off->cfg.approve)
        return th_errbuf(errbuf, cap, TH_E_USAGE, "văn phòng này không duyệt báo cáo của "
                         "đơn vị cấp dưới ([hub] approve = no trong tonghop.ini): báo cáo "
                         "được tổng hợp và gửi lên ngay khi nhận");
    th_period_t p;
    char key[TH_KEY_MAX];
    s_approve_t x = { .off = off, .key = key };
    if (!th_office_form(off, form))
        return th_errbuf(errbuf, cap, TH_E_FORM, "biểu mẫu '%s' không có tại đơn vị này", form);
    if (th_period_parse(period, &p) < 0)
        return th_errbuf(errbuf, cap, TH_E_PERIOD, "kỳ báo cáo '%s' không hợp lệ (viết 2026, "
                         "2026S1, 2026Q3 hoặc 202605)", period);
    if (!th_valid_unit_code(unit) || th_key_make(key, sizeof key, form, p.id, unit) < 0 ||
        th_metaq_path_child(off->units, off->cfg.unit, unit, p.end, x.child) < 0)
        return th_errbuf(errbuf, cap, TH_E_UNIT, "đơn vị '%s' không thuộc đơn vị %s trong "
                         "danh mục đơn vị của kỳ %s", unit, off->cfg.unit, p.id);
    int rc = th_store_write(off->store, s_approve_txn, &x);
    if (rc == TH_E_NOTFOUND)
        return th_errbuf(errbuf, cap, rc, "chưa có báo cáo đã nộp của đơn vị %s, biểu %s kỳ "
                         "%s tại đây để duyệt", unit, form, p.id);
    if (rc == TH_E_EXISTS)
        return th_errbuf(errbuf, cap, rc, "báo cáo %s kỳ %s của đơn vị %s (lần %u) đã được "
                         "duyệt", form, p.id, unit, x.rev);
    if (rc < 0)
        return th_errbuf(errbuf, cap, rc, "không lưu được: %s", th_strerror(rc));
    th_log(TH_LOG_INFO, "approval: %s rev %u approved", key, x.rev);
    if (rev)
        *rev = x.rev;
    return 0;
}

int
th_approval_receipt(th_store_txn_t *txn, const char *key, uint32_t *rev, int64_t *at,
                    char by[TH_UNIT_MAX])
{
    char v[96];
    int rc = th_metaq_receipt_text(txn, 'a', key, v, sizeof v);
    if (rc < 0)
        return rc;
    unsigned r;
    long long t;
    if (sscanf(v, "%u %lld %15s", &r, &t, by) != 3)
        return TH_E_NOTFOUND;
    *rev = r;
    *at = (int64_t)t;
    return 0;
}
