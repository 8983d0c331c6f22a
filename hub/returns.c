/*  returns: a hub returns a child's report for correction. */
#include "returns.h"
#include "err.h"
#include "metaq.h"
#include "msg.h"
#include "period.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    th_office_t *off;
    const char *key, *unit, *reason;
    int32_t day;
    uint32_t rev;
    char child[TH_UNIT_MAX];
} s_return_t;

static int
s_return_txn(th_store_txn_t *txn, void *ctx)
{
    s_return_t *x = ctx;
    th_store_rev_t cur;
    int rc = th_store_get_current(txn, x->key, &cur);
    if (rc < 0)
        return rc;
    x->rev = cur.rev;
    char blob[TH_MSG_REASON_MAX + 96];
    int n = snprintf(blob, sizeof blob, "return:%u %" PRId64 " %s %s", cur.rev, th_now_ms(),
                     x->off->cfg.unit, x->reason);
    if (n < 0 || (size_t)n >= sizeof blob)
        return TH_E_LIMIT;
    return th_metaq_push(txn, x->child, TH_MSG_META_NOTICE, x->key, blob, (size_t)n, NULL);
}

int
th_return_report(th_office_t *off, const char *form, const char *period, const char *unit,
                 const char *reason, uint32_t *rev, char *errbuf, size_t cap)
{
    size_t rl = reason ? strlen(reason) : 0;
    if (rl == 0 || rl > 400)
        return th_errbuf(errbuf, cap, TH_E_INVALID, "the reason must say what to correct "
                         "(1 to 400 bytes)");
    th_period_t p;
    char key[TH_KEY_MAX];
    s_return_t x = { .off = off, .unit = unit, .reason = reason, .key = key };
    if (!th_office_form(off, form))
        return th_errbuf(errbuf, cap, TH_E_FORM, "form '%s' is not known here", form);
    if (th_period_parse(period, &p) < 0)
        return th_errbuf(errbuf, cap, TH_E_PERIOD, "invalid period '%s'", period);
    if (!th_valid_unit_code(unit) || th_key_make(key, sizeof key, form, p.id, unit) < 0 ||
        th_metaq_path_child(off->units, off->cfg.unit, unit, p.end, x.child) < 0)
        return th_errbuf(errbuf, cap, TH_E_UNIT, "unit '%s' is not below unit %s in the "
                         "unit tree of period %s", unit, off->cfg.unit, p.id);
    int rc = th_store_write(off->store, s_return_txn, &x);
    if (rc == TH_E_NOTFOUND)
        return th_errbuf(errbuf, cap, rc, "no report of unit %s for %s %s here to return",
                         unit, form, p.id);
    if (rc < 0)
        return th_errbuf(errbuf, cap, rc, "%s", th_strerror(rc));
    if (rev)
        *rev = x.rev;
    return 0;
}
