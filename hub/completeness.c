/*  completeness: expected, reported, on time, late and missing units of a
    form and period below one unit (see completeness.h). */
#include "completeness.h"
#include "verify.h"
#include "approval.h"

#include "csv.h"
#include "entry.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "present.h"
#include "vnnum.h"
#include "peers.h"
#include "store.h"
#include "table.h"
#include "units.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>


int
th_completeness_resolve_at(th_office_t *o, const char *form, const char *period,
                           const char *unit, int32_t tree_day, const th_form_t **f,
                           th_period_t *p, const th_unit_t **u, char *errbuf, size_t cap)
{
    if (!o || !form || !period || !f || !p || !u)
        return th_errbuf(errbuf, cap, TH_E_INVALID, "missing argument");
    *f = th_office_form(o, form);
    if (!*f)
        return th_errbuf(errbuf, cap, TH_E_FORM, "form '%s' is not known here (see 'forms')",
                     form);
    if (th_period_parse(period, p) < 0)
        return th_errbuf(errbuf, cap, TH_E_PERIOD, "invalid period '%s' (write 2026, 2026S1, "
                     "2026Q3 or 202605)", period);
    if (p->type != (*f)->period_type)
        return th_errbuf(errbuf, cap, TH_E_PERIOD, "period '%s' is not %s, the period type of "
                     "form '%s'", period, th_period_type_name((*f)->period_type), form);
    if (!unit)
        unit = o->cfg.unit;
    if (!th_valid_unit_code(unit))
        return th_errbuf(errbuf, cap, TH_E_UNIT, "invalid unit code '%s'", unit);
    int32_t day = tree_day == INT32_MIN ? p->end : tree_day;
    char d[11];
    th_date_format_vn(day, d);
    *u = th_units_find(o->units, unit, day);
    if (!*u && tree_day == INT32_MIN)
        return th_errbuf(errbuf, cap, TH_E_UNIT, "unit '%s' is not in the unit tree in force "
                     "on %s (last day of period %s)", unit, d, p->id);
    if (!*u)
        return th_errbuf(errbuf, cap, TH_E_UNIT, "unit '%s' is not in the unit tree in force "
                     "on %s", unit, d);
    if (!th_units_in_subtree(o->units, o->cfg.unit, unit, day))
        return th_errbuf(errbuf, cap, TH_E_UNIT, "unit '%s' is not below this office's unit %s "
                     "in the unit tree in force on %s", unit, o->cfg.unit, d);
    return 0;
}

int
th_completeness_resolve(th_office_t *o, const char *form, const char *period,
                        const char *unit, const th_form_t **f, th_period_t *p,
                        const th_unit_t **u, char *errbuf, size_t cap)
{
    return th_completeness_resolve_at(o, form, period, unit, INT32_MIN, f, p, u, errbuf, cap);
}

/* ---- building the list of expected units ------------------------------- */

typedef struct {
    th_completeness_t *c;
    const th_form_t *f;
    const char *child;      /* tag for units added now */
    size_t cap_units;
    size_t cap_children;
    int rc;
} s_build_t;

static int
s_add_unit(const th_unit_t *u, void *ctx)
{
    s_build_t *b = ctx;
    if (!th_form_reported_by(b->f, u->level))
        return 0;
    th_completeness_t *c = b->c;
    if (c->nunits == b->cap_units) {
        size_t n = b->cap_units ? b->cap_units * 2 : 32;
        th_compl_unit_t *nu = th_realloc(c->units, n * sizeof *nu);
        if (!nu)
            return -ENOMEM;
        c->units = nu;
        b->cap_units = n;
    }
    th_compl_unit_t *x = &c->units[c->nunits];
    memset(x, 0, sizeof *x);
    x->name = th_strdup(u->name);
    if (!x->name)
        return -ENOMEM;
    c->nunits++;
    snprintf(x->unit, sizeof x->unit, "%s", u->code);
    snprintf(x->level, sizeof x->level, "%s", u->level);
    snprintf(x->child, sizeof x->child, "%s", b->child);
    x->deadline = INT32_MIN;
    return 0;
}

static int
s_add_child(const th_unit_t *u, void *ctx)
{
    s_build_t *b = ctx;
    th_completeness_t *c = b->c;
    if (c->nchildren == b->cap_children) {
        size_t n = b->cap_children ? b->cap_children * 2 : 16;
        th_compl_count_t *nc = th_realloc(c->children, n * sizeof *nc);
        if (!nc)
            return -ENOMEM;
        c->children = nc;
        b->cap_children = n;
    }
    th_compl_count_t *x = &c->children[c->nchildren];
    memset(x, 0, sizeof *x);
    x->name = th_strdup(u->name);
    if (!x->name)
        return -ENOMEM;
    c->nchildren++;
    snprintf(x->unit, sizeof x->unit, "%s", u->code);
    return 0;
}

/* Across trees: every unit of the period's tree that reports the form and
   whose successor in the newer tree (th_units_successor on day) is U or
   lies below it, tagged with U's direct child on the successor's way up. */
typedef struct {
    s_build_t *b;
    const th_units_t *units;
    const char *root;        /* U */
    int32_t day;             /* of U's tree */
} s_map_t;

static int
s_add_mapped(const th_unit_t *v, void *ctx)
{
    s_map_t *m = ctx;
    if (!th_form_reported_by(m->b->f, v->level))
        return 0;
    const th_unit_t *x = th_units_successor(m->units, v, m->day);
    if (!x)
        return 0;
    const char *child = "";
    if (strcmp(x->code, m->root) != 0) {
        const th_unit_t *par;
        while ((par = th_units_parent(m->units, x)) && strcmp(par->code, m->root) != 0)
            x = par;
        if (!par)
            return 0;   /* its successor is outside U's subtree */
        child = x->code;
    }
    m->b->child = child;
    return s_add_unit(v, m->b);
}

/* ---- reading the store ---------------------------------------------------- */

typedef struct {
    th_office_t *o;
    th_completeness_t *c;
    const th_form_t *f;
    th_completeness_counted_fn counted;   /* NULL: none */
    void *counted_ctx;
    bool mapped;            /* units of another tree: no clock offsets (they are
                               measured on this tree's links) */
} s_read_t;

typedef struct {
    const uint8_t **blobs;
    size_t *lens;
    bool *sealed;            /* th_store_revision_sealed of each */
    size_t n, cap;
} s_blobs_t;

static int
s_blobs_add(s_blobs_t *b, const uint8_t *blob, size_t len, bool sealed)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 1024;
        const uint8_t **nb = th_realloc(b->blobs, cap * sizeof *nb);
        if (!nb)
            return -ENOMEM;
        b->blobs = nb;
        size_t *nl = th_realloc(b->lens, cap * sizeof *nl);
        if (!nl)
            return -ENOMEM;
        b->lens = nl;
        bool *ns = th_realloc(b->sealed, cap * sizeof *ns);
        if (!ns)
            return -ENOMEM;
        b->sealed = ns;
        b->cap = cap;
    }
    b->blobs[b->n] = blob;
    b->sealed[b->n] = sealed;
    b->lens[b->n++] = len;
    return 0;
}

typedef struct {
    const char *unit;
    const th_form_t *f;
    const th_period_t *p;
    int64_t as_of;
    uint32_t latest_rev;     /* latest submitted rev received by as_of */
    bool latest_ok;          /* it decoded and verified */
    bool first_found;
    int64_t first_submitted; /* submitted_at of the earliest verified one */
    /* two walks: the first collects the revisions that qualify (they are
       then decoded, and verified unless sealed, on every core), the second
       takes their records, in the same order */
    th_store_txn_t *txn;
    bool approval;           /* only approved revisions count (approval.h) */
    bool awaiting;           /* second walk: the latest one received waits */
    s_blobs_t *collect;      /* first walk: where they go */
    th_record_t *recs;       /* second walk: theirs (taken), their results, */
    const int *rcs;
    size_t *next;            /* and the next one's index */
    th_record_t *latest;     /* second walk, when wanted: the latest one decoded,
                                when it counts (else cleared) */
} s_walk_t;

/* Checks a stored revision, decoded and verified (or sealed) with result
   rc, is the report it is filed as. Returns 1 when it counts, 0 when it
   does not (logged why; r cleared), or -ENOMEM: running out of memory must
   fail the computation, never drop a report from it. */
static int
s_verified(const th_store_rev_t *sr, int rc, const char *form, const char *period,
           const char *unit, th_record_t *r)
{
    if (rc == 0 && (strcmp(r->form, form) != 0 || strcmp(r->period, period) != 0 ||
                    strcmp(r->unit, unit) != 0 || r->status != TH_STATUS_SUBMITTED))
        rc = TH_E_INVALID;
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0) {
        th_log(TH_LOG_WARN, "revision %u of %s not counted: %s", sr->rev, sr->key,
               th_strerror(rc));
        th_record_clear(r);
        return 0;
    }
    return 1;
}

static int
s_walk_rev(const th_store_rev_t *sr, void *ctx)
{
    s_walk_t *w = ctx;
    if (sr->status != TH_STATUS_SUBMITTED || sr->received_at > w->as_of)
        return 0;
    if (w->approval) {
        bool done = th_approval_done(w->txn, sr->key, sr->rev, w->as_of);
        w->awaiting = !done;
        if (!done)
            return 0;
    }
    if (w->collect)
        return s_blobs_add(w->collect, sr->blob, sr->len,
                           th_store_revision_sealed(w->txn, sr));
    size_t k = (*w->next)++;
    th_record_t r = w->recs[k];   /* taken */
    th_record_init(&w->recs[k]);
    int ok = s_verified(sr, w->rcs[k], w->f->id, w->p->id, w->unit, &r);
    if (ok < 0) {
        th_record_clear(&r);
        return ok;
    }
    w->latest_rev = sr->rev;
    w->latest_ok = ok == 1;
    if (ok == 1 && !w->first_found) {
        w->first_found = true;
        w->first_submitted = r.submitted_at;
    }
    if (w->latest) {
        th_record_clear(w->latest);
        if (ok == 1) {
            *w->latest = r;   /* moved: r owns nothing now */
            th_record_init(&r);
        }
    }
    th_record_clear(&r);
    return 0;
}

/* The direct child of this office's unit on the way up from code, or NULL
   when code is the office's own unit. */
static const th_unit_t *
s_direct_child(const th_office_t *o, const char *code, int32_t day)
{
    const th_unit_t *u = th_units_find(o->units, code, day);
    while (u && strcmp(u->code, o->cfg.unit) != 0) {
        const th_unit_t *par = th_units_parent(o->units, u);
        if (!par)
            return NULL;
        if (strcmp(par->code, o->cfg.unit) == 0)
            return u;
        u = par;
    }
    return NULL;
}

static int s_units(th_store_txn_t *txn, s_read_t *s, th_record_t *recs, const int *rcs,
                   size_t *next);

/* A hub that approves counts the reports of the units below it once
   approved; its own count at once. */
static bool
s_approval(const th_office_t *o, const char *unit)
{
    return o->cfg.approve && strcmp(unit, o->cfg.unit) != 0;
}

static int
s_read(th_store_txn_t *txn, void *ctx)
{
    s_read_t *s = ctx;
    th_completeness_t *c = s->c;
    /* every revision that qualifies, decoded (and verified unless sealed)
       on every core */
    s_blobs_t all = { 0 };
    th_record_t *recs = NULL;
    int *rcs = NULL;
    size_t next = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->nunits; i++) {
        char key[TH_KEY_MAX];
        if (th_key_make(key, sizeof key, s->f->id, c->period.id, c->units[i].unit) < 0)
            rc = TH_E_LIMIT;
        s_walk_t w = { .f = s->f, .p = &c->period, .as_of = c->as_of, .txn = txn,
                       .collect = &all, .approval = s_approval(s->o, c->units[i].unit) };
        if (rc == 0)
            rc = th_store_each_revision(txn, key, s_walk_rev, &w);
    }
    if (rc == 0 && (!(recs = th_malloc((all.n ? all.n : 1) * sizeof *recs)) ||
                    !(rcs = th_malloc((all.n ? all.n : 1) * sizeof *rcs))))
        rc = -ENOMEM;
    if (rc == 0)
        th_verify_decode_all(all.blobs, all.lens, all.sealed, all.n, recs, rcs);
    th_free(all.blobs);
    th_free(all.lens);
    th_free(all.sealed);
    if (rc == 0)
        rc = s_units(txn, s, recs, rcs, &next);
    for (size_t k = 0; rcs && k < all.n; k++)
        th_record_clear(&recs[k]);
    th_free(recs);
    th_free(rcs);
    return rc;
}

/* The second walk: each unit's state from its revisions (recs[], rcs[]:
   them decoded, in walk order). */
static int
s_units(th_store_txn_t *txn, s_read_t *s, th_record_t *recs, const int *rcs, size_t *next)
{
    th_completeness_t *c = s->c;
    for (size_t i = 0; i < c->nunits; i++) {
        th_compl_unit_t *x = &c->units[i];
        char key[TH_KEY_MAX];
        if (th_key_make(key, sizeof key, s->f->id, c->period.id, x->unit) < 0)
            return TH_E_LIMIT;
        th_record_t latest;
        th_record_init(&latest);
        s_walk_t w = { .unit = x->unit, .f = s->f, .p = &c->period, .as_of = c->as_of,
                       .recs = recs, .rcs = rcs, .next = next, .txn = txn,
                       .approval = s_approval(s->o, x->unit),
                       .latest = s->counted ? &latest : NULL };
        int rc = th_store_each_revision(txn, key, s_walk_rev, &w);
        x->awaiting_approval = w.awaiting;
        if (rc == 0 && s->counted && w.latest_rev && w.latest_ok)
            rc = s->counted(x, &latest, s->counted_ctx);
        th_record_clear(&latest);
        if (rc < 0)
            return rc;
        x->deadline = th_entry_deadline(s->o, s->f, &c->period, x->unit);
        const th_unit_t *dc = s->mapped ? NULL : s_direct_child(s->o, x->unit, c->period.end);
        int64_t at, off;
        if (dc && (rc = th_peers_seen_get(txn, dc->code, &at, &off)) == 0) {
            x->has_offset = true;
            x->clock_offset_ms = off;
            x->clock_suspect = off > TH_CLOCK_SUSPECT_MS || off < -TH_CLOCK_SUSPECT_MS;
        } else if (dc && rc != TH_E_NOTFOUND) {
            return rc;
        }
        if (!w.latest_rev || !w.latest_ok || !w.first_found) {
            x->state = TH_COMPL_MISSING;
            continue;
        }
        x->rev = w.latest_rev;
        x->submitted_at = w.first_submitted;
        x->state = TH_COMPL_ON_TIME;
        if (x->deadline != INT32_MIN) {
            int64_t end = th_day_end_ms(x->deadline);
            if (w.first_submitted > end) {
                x->state = TH_COMPL_LATE;
                int64_t over = w.first_submitted - end;
                x->days_late = (int)((over + TH_DAY_MS - 1) / TH_DAY_MS);
            }
        }
    }
    return 0;
}

static void
s_count(th_compl_count_t *k, const th_compl_unit_t *x)
{
    k->expected++;
    if (x->clock_suspect)
        k->clock_suspect++;
    if (x->awaiting_approval)
        k->awaiting_approval++;
    switch (x->state) {
    case TH_COMPL_ON_TIME: k->reported++; k->on_time++; break;
    case TH_COMPL_LATE: k->reported++; k->late++; break;
    default: k->missing++; break;
    }
}

static void
s_rates(th_compl_count_t *k)
{
    if (k->expected == 0)
        return;
    k->reported_rate = 100.0 * (double)k->reported / (double)k->expected;
    k->on_time_rate = 100.0 * (double)k->on_time / (double)k->expected;
}

int
th_completeness_compute(th_office_t *o, const char *form, const char *period,
                        const char *unit, int64_t as_of, th_completeness_t **out,
                        char *errbuf, size_t cap)
{
    return th_completeness_compute_each(o, form, period, unit, as_of, NULL, NULL, out, errbuf,
                                        cap);
}

/* tree_day: INT32_MIN for the period's own tree, else the day of the tree
   U and the breakdown are read in (the expected units mapped into it). */
static int
s_compute(th_office_t *o, const char *form, const char *period, const char *unit,
          int32_t tree_day, int64_t as_of, th_completeness_counted_fn fn, void *ctx,
          th_completeness_t **out, char *errbuf, size_t cap)
{
    if (!o || !form || !period || !out)
        return th_errbuf(errbuf, cap, TH_E_INVALID, "missing argument");
    *out = NULL;
    const th_form_t *f;
    const th_unit_t *u;
    th_period_t p;
    int rc = th_completeness_resolve_at(o, form, period, unit, tree_day, &f, &p, &u, errbuf,
                                        cap);
    if (rc < 0)
        return rc;
    bool mapped = tree_day != INT32_MIN;
    int32_t day = mapped ? tree_day : p.end;
    th_completeness_t *c = th_calloc(1, sizeof *c);
    if (!c)
        return th_errbuf(errbuf, cap, -ENOMEM, "out of memory");
    snprintf(c->form, sizeof c->form, "%s", f->id);
    c->period = p;
    c->as_of = as_of == INT64_MAX ? th_now_ms() : as_of;
    snprintf(c->total.unit, sizeof c->total.unit, "%s", u->code);
    if (!(c->total.name = th_strdup(u->name))) {
        rc = -ENOMEM;
        goto err;
    }
    s_build_t b = { .c = c, .f = f, .child = "" };
    if ((rc = th_units_each_child(o->units, u->code, day, s_add_child, &b)) < 0)
        goto err;
    if (mapped) {
        s_map_t m = { &b, o->units, u->code, day };
        if ((rc = th_units_each(o->units, p.end, NULL, s_add_mapped, &m)) < 0)
            goto err;
    } else if ((rc = s_add_unit(u, &b)) < 0) {
        goto err;
    }
    for (size_t i = 0; !mapped && i < c->nchildren; i++) {
        b.child = c->children[i].unit;
        if ((rc = th_units_each_in_subtree(o->units, c->children[i].unit, p.end, NULL,
                                           s_add_unit, &b)) < 0)
            goto err;
    }
    s_read_t s = { .o = o, .c = c, .f = f, .counted = fn, .counted_ctx = ctx,
                   .mapped = mapped };
    if ((rc = th_store_read(o->store, s_read, &s)) < 0)
        goto err;
    for (size_t i = 0; i < c->nunits; i++) {
        const th_compl_unit_t *x = &c->units[i];
        s_count(&c->total, x);
        for (size_t k = 0; k < c->nchildren; k++)
            if (strcmp(c->children[k].unit, x->child) == 0)
                s_count(&c->children[k], x);
    }
    s_rates(&c->total);
    for (size_t k = 0; k < c->nchildren; k++)
        s_rates(&c->children[k]);
    *out = c;
    return 0;
err:
    th_completeness_destroy(&c);
    if (rc == -ENOMEM)
        return th_errbuf(errbuf, cap, rc, "out of memory");
    return th_errbuf(errbuf, cap, rc, "cannot compute completeness: %s", th_strerror(rc));
}

int
th_completeness_compute_each(th_office_t *o, const char *form, const char *period,
                             const char *unit, int64_t as_of, th_completeness_counted_fn fn,
                             void *ctx, th_completeness_t **out, char *errbuf, size_t cap)
{
    return s_compute(o, form, period, unit, INT32_MIN, as_of, fn, ctx, out, errbuf, cap);
}

int
th_completeness_compute_mapped(th_office_t *o, const char *form, const char *period,
                               const char *unit, int32_t tree_day, int64_t as_of,
                               th_completeness_counted_fn fn, void *ctx,
                               th_completeness_t **out, char *errbuf, size_t cap)
{
    if (tree_day == INT32_MIN)
        return th_errbuf(errbuf, cap, TH_E_INVALID, "missing argument");
    return s_compute(o, form, period, unit, tree_day, as_of, fn, ctx, out, errbuf, cap);
}

void
th_completeness_destroy(th_completeness_t **p)
{
    if (!p || !*p)
        return;
    th_completeness_t *c = *p;
    th_free(c->total.name);
    for (size_t i = 0; i < c->nchildren; i++)
        th_free(c->children[i].name);
    th_free(c->children);
    for (size_t i = 0; i < c->nunits; i++)
        th_free(c->units[i].name);
    th_free(c->units);
    th_free(c);
    *p = NULL;
}

/* ---- JSON ------------------------------------------------------------------ */

static const char *
s_state_name(th_compl_state_t s)
{
    return s == TH_COMPL_ON_TIME ? "on_time" : s == TH_COMPL_LATE ? "late" : "missing";
}

static json_t *
s_rate(const th_compl_count_t *k, double v)
{
    /* two decimals are what a person reads; more would only be noise */
    return k->expected ? json_real((double)(int64_t)(v * 100.0 + 0.5) / 100.0) : json_null();
}

static json_t *
s_count_json(const th_compl_count_t *k)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:I}", "unit", k->unit,
                     "name", k->name, "expected", (json_int_t)k->expected, "reported",
                     (json_int_t)k->reported, "on_time", (json_int_t)k->on_time, "late",
                     (json_int_t)k->late, "missing", (json_int_t)k->missing,
                     "reported_rate", s_rate(k, k->reported_rate), "on_time_rate",
                     s_rate(k, k->on_time_rate), "clock_suspect",
                     (json_int_t)k->clock_suspect, "awaiting_approval",
                     (json_int_t)k->awaiting_approval);
}

json_t *
th_completeness_json(const th_completeness_t *c)
{
    if (!c)
        return NULL;
    char asof[32];
    th_time_format_iso(c->as_of, asof);
    json_t *children = json_array(), *late = json_array(), *missing = json_array(),
           *units = json_array();
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "form",
                            c->form, "period", c->period.id, "unit", c->total.unit,
                            "unit_name", c->total.name, "as_of", asof, "totals",
                            s_count_json(&c->total), "children", children, "late", late,
                            "missing", missing, "units", units);
    if (!doc)
        return NULL;   /* json_pack's "o" consumed the references */
    bool oom = false;
    for (size_t i = 0; i < c->nchildren; i++)
        oom |= json_array_append_new(children, s_count_json(&c->children[i])) != 0;
    for (size_t i = 0; i < c->nunits; i++) {
        const th_compl_unit_t *x = &c->units[i];
        oom |= json_array_append_new(
                   units, json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:b, s:b}", "unit",
                                    x->unit, "name", x->name, "child", x->child, "status",
                                    s_state_name(x->state), "rev", (json_int_t)x->rev,
                                    "days_late", x->days_late, "clock_suspect",
                                    x->clock_suspect, "awaiting_approval",
                                    x->awaiting_approval)) != 0;
        if (x->state == TH_COMPL_LATE) {
            char sub[32], dl[11];
            th_time_format_iso(x->submitted_at, sub);
            th_date_format_iso(x->deadline, dl);
            oom |= json_array_append_new(
                       late, json_pack("{s:s, s:s, s:i, s:s, s:s, s:b}", "unit", x->unit,
                                       "name", x->name, "days_late", x->days_late,
                                       "submitted_at", sub, "deadline", dl,
                                       "clock_suspect", x->clock_suspect)) != 0;
        } else if (x->state == TH_COMPL_MISSING) {
            oom |= json_array_append_new(missing, json_pack("{s:s, s:s}", "unit", x->unit,
                                                            "name", x->name)) != 0;
        }
    }
    if (oom) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* ---- command line ------------------------------------------------------------ */



static void
s_pct(const th_compl_count_t *k, double v, char *buf, size_t cap)
{
    if (k->expected == 0) {
        snprintf(buf, cap, "—");
        return;
    }
    th_vnnum_format_dec(v, buf, cap);
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%%");
}

static void
s_num_vn(size_t v, char *buf, size_t cap)
{
    th_vnnum_format_int((int64_t)v, buf, cap);
}

static int
s_print_table(const void *res, const th_form_t *f)
{
    const th_completeness_t *c = res;
    char label[64], when[32], a[32], b[32], d1[32], d2[32], d3[32], r1[32], r2[32];
    th_period_label_vn(&c->period, label, sizeof label);
    th_time_format_vn(c->as_of, when);
    char cut[96];
    th_form_cutoff_text(f, &c->period, cut, sizeof cut);
    printf("TÌNH HÌNH BÁO CÁO: %s\nKỳ báo cáo: %s (%s)\nĐơn vị: %s — %s\nTính đến: %s\n%s%s\n",
           f->title, label, c->period.id, c->total.unit, c->total.name, when, cut,
           cut[0] ? "\n" : "");
    const th_compl_count_t *t = &c->total;
    s_num_vn(t->expected, a, sizeof a);
    s_num_vn(t->reported, b, sizeof b);
    s_num_vn(t->on_time, d1, sizeof d1);
    s_num_vn(t->late, d2, sizeof d2);
    s_num_vn(t->missing, d3, sizeof d3);
    s_pct(t, t->reported_rate, r1, sizeof r1);
    s_pct(t, t->on_time_rate, r2, sizeof r2);
    printf("Phải báo cáo: %s; đã báo cáo: %s (%s); đúng hạn: %s (%s); muộn: %s; "
           "chưa báo cáo: %s\n", a, b, r1, d1, r2, d2, d3);
    int rc = 0;
    if (c->nchildren > 0) {
        static const char *const hdr[] = { "Mã", "Đơn vị trực thuộc", "Phải báo cáo",
                                           "Đã báo cáo", "Đúng hạn", "Muộn",
                                           "Chưa báo cáo", "Tỷ lệ báo cáo",
                                           "Tỷ lệ đúng hạn" };
        th_table_t *tb = th_table_new(9, hdr);
        if (!tb)
            return -ENOMEM;
        for (size_t col = 2; col < 9; col++)
            th_table_align(tb, col, TH_TABLE_RIGHT);
        for (size_t i = 0; i < c->nchildren && rc == 0; i++) {
            const th_compl_count_t *k = &c->children[i];
            s_num_vn(k->expected, a, sizeof a);
            s_num_vn(k->reported, b, sizeof b);
            s_num_vn(k->on_time, d1, sizeof d1);
            s_num_vn(k->late, d2, sizeof d2);
            s_num_vn(k->missing, d3, sizeof d3);
            s_pct(k, k->reported_rate, r1, sizeof r1);
            s_pct(k, k->on_time_rate, r2, sizeof r2);
            const char *row[] = { k->unit, k->name, a, b, d1, d2, d3, r1, r2 };
            rc = th_table_add_row(tb, row);
        }
        printf("\n");
        if (rc == 0)
            rc = th_table_print(tb, stdout);
        th_table_destroy(&tb);
    }
    th_table_t *late = NULL, *miss = NULL;
    static const char *const lh[] = { "Mã", "Đơn vị báo cáo muộn", "Số ngày muộn",
                                      "Nộp lúc", "Hạn nộp", "Ghi chú" };
    static const char *const mh[] = { "Mã", "Đơn vị chưa báo cáo" };
    late = th_table_new(6, lh);
    miss = th_table_new(2, mh);
    if (!late || !miss)
        rc = -ENOMEM;
    if (late)
        th_table_align(late, 2, TH_TABLE_RIGHT);
    for (size_t i = 0; i < c->nunits && rc == 0; i++) {
        const th_compl_unit_t *x = &c->units[i];
        if (x->state == TH_COMPL_LATE) {
            snprintf(a, sizeof a, "%d", x->days_late);
            th_time_format_vn(x->submitted_at, d1);
            th_date_format_vn(x->deadline, d2);
            const char *row[] = { x->unit, x->name, a, d1, d2,
                                  x->clock_suspect ? "đồng hồ máy đơn vị bị lệch" : "" };
            rc = th_table_add_row(late, row);
        } else if (x->state == TH_COMPL_MISSING) {
            const char *row[] = { x->unit, x->name };
            rc = th_table_add_row(miss, row);
        }
    }
    if (rc == 0 && th_table_rows(late) > 0) {
        printf("\n");
        rc = th_table_print(late, stdout);
    }
    if (rc == 0 && th_table_rows(miss) > 0) {
        printf("\n");
        rc = th_table_print(miss, stdout);
    }
    if (rc == 0 && t->awaiting_approval > 0) {
        printf("\nĐơn vị có báo cáo chờ duyệt (tonghop-hub approve):");
        for (size_t i = 0; i < c->nunits; i++)
            if (c->units[i].awaiting_approval)
                printf(" %s (%s)%s", c->units[i].unit, c->units[i].name,
                       i + 1 < c->nunits ? ";" : "");
        printf("\n");
    }
    th_table_destroy(&late);
    th_table_destroy(&miss);
    return rc;
}

static void
s_print_csv(const void *res, const th_form_t *f)
{
    (void)f;
    const th_completeness_t *c = res;
    fputs("\xEF\xBB\xBF", stdout);
    static const char *const hdr[] = { "unit", "name", "child", "status", "days_late",
                                       "submitted_at", "deadline", "clock_suspect" };
    for (size_t i = 0; i < 8; i++)
        th_csv_write_cell(stdout, hdr[i], i == 7);
    for (size_t i = 0; i < c->nunits; i++) {
        const th_compl_unit_t *x = &c->units[i];
        char dl[16] = "", sub[32] = "", days[16];
        if (x->deadline != INT32_MIN)
            th_date_format_iso(x->deadline, dl);
        if (x->state != TH_COMPL_MISSING)
            th_time_format_iso(x->submitted_at, sub);
        snprintf(days, sizeof days, "%d", x->days_late);
        th_csv_write_cell(stdout, x->unit, false);
        th_csv_write_cell(stdout, x->name, false);
        th_csv_write_cell(stdout, x->child, false);
        th_csv_write_cell(stdout, s_state_name(x->state), false);
        th_csv_write_cell(stdout, days, false);
        th_csv_write_cell(stdout, sub, false);
        th_csv_write_cell(stdout, dl, false);
        th_csv_write_cell(stdout, x->clock_suspect ? "1" : "0", true);
    }
}

static int
s_cmd_compute(th_office_t *o, const th_cli_opts_t *opt, int64_t as_of, void **res,
              char *err, size_t cap)
{
    th_completeness_t *x = NULL;
    int rc = th_completeness_compute(o, opt->form, opt->period, opt->unit, as_of, &x, err, cap);
    *res = x;
    return rc;
}

static json_t *
s_cmd_json(const void *res)
{
    return th_completeness_json(res);
}

static void
s_cmd_destroy(void **res)
{
    th_completeness_t *x = *res;
    th_completeness_destroy(&x);
    *res = NULL;
}

int
th_completeness_cmd(th_cli_opts_t *o, int argc, char **argv)
{
    static const th_cli_report_t rep = { "completeness", s_cmd_compute, s_cmd_json, s_print_csv,
                                         s_print_table, s_cmd_destroy };
    return th_cli_report(&rep, o, argc, argv);
}
