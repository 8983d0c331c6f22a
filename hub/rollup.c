/*  rollup: consolidated figures of a form and period below one unit (see
    rollup.h). The completeness walks the store in one snapshot and hands
    each counted report here (th_completeness_compute_each), where it is
    folded into the accumulators of U and of the direct child whose subtree
    holds it. */
#include "rollup.h"

#include "validate.h"

#include "builtin.h"
#include "completeness.h"
#include "csv.h"
#include "entry.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "present.h"
#include "vnnum.h"
#include "store.h"
#include "table.h"
#include "units.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>


/* Accumulator of one indicator over some units. */
typedef struct {
    size_t n;                 /* units with a usable value */
    bool int_overflow;        /* int sum left int64: continue in double */
    int64_t isum, imin, imax;
    double dsum, dmin, dmax;
    int64_t ntrue;
    double num, den;          /* ratio parts */
} s_acc_t;

typedef struct {
    const char *code, *name;  /* borrowed from the completeness being built */
    long part;                /* index of the child part, -1 for U itself */
} s_unit_t;

/* The accumulators, nindicators each: the total, each child, U's own
   report, then each group. */
typedef struct {
    const th_form_t *f;
    th_rollup_t *r;
    long part;                /* of the last unit folded (units come grouped by part) */
    s_acc_t *acc;             /* (2 + nchildren + ngroups) * nindicators */
    size_t ntexts_cap, nviol_cap;
} s_ctx_t;

static s_acc_t *
s_acc_child(const s_ctx_t *c, size_t k)
{
    return &c->acc[(1 + k) * c->f->nindicators];
}

static s_acc_t *
s_acc_own(const s_ctx_t *c)
{
    return &c->acc[(1 + c->r->nchildren) * c->f->nindicators];
}

static s_acc_t *
s_acc_group(const s_ctx_t *c, size_t g)
{
    return &c->acc[(2 + c->r->nchildren + g) * c->f->nindicators];
}

/* index of the group of level, or -1 */
static long
s_group_of(const th_rollup_t *r, const char *level)
{
    for (size_t g = 0; g < r->ngroups; g++)
        if (strcmp(r->groups[g].level, level) == 0)
            return (long)g;
    return -1;
}

const char *
th_rollup_group_label(const char *level, char *buf, size_t cap)
{
    static const char *const names[][2] = {
        { "department", "Khối sở, ngành" }, { "district", "Khối huyện" },
        { "commune", "Khối xã" },           { "province", "Khối tỉnh" },
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(level, names[i][0]) == 0) {
            snprintf(buf, cap, "%s", names[i][1]);
            return buf;
        }
    snprintf(buf, cap, "Khối %s", level);
    return buf;
}

static bool
s_num(const th_value_t *v, double *d)
{
    switch (v->kind) {
    case TH_V_INT: *d = (double)v->u.i; return true;
    case TH_V_DEC: *d = v->u.d; return true;
    case TH_V_BOOL: *d = v->u.b ? 1 : 0; return true;
    default: return false;
    }
}

/* The values of one indicator in one record: v for it, or nv and dv, the
   numerator and denominator of a ratio (NULL when absent). */
typedef struct {
    const th_value_t *v, *nv, *dv;
} s_vals_t;

static s_vals_t
s_vals(const th_indicator_t *ind, const th_record_t *rec)
{
    if (ind->agg == TH_AGG_RATIO)
        return (s_vals_t){ NULL, th_record_get(rec, ind->numerator),
                           th_record_get(rec, ind->denominator) };
    return (s_vals_t){ th_record_get(rec, ind->code), NULL, NULL };
}

static void
s_fold(s_acc_t *a, const th_indicator_t *ind, const s_vals_t *x)
{
    if (ind->agg == TH_AGG_RATIO) {
        double n, d;
        if (x->nv && x->dv && s_num(x->nv, &n) && s_num(x->dv, &d)) {
            a->num += n;
            a->den += d;
            a->n++;
        }
        return;
    }
    const th_value_t *v = x->v;
    double d;
    if (!v || !s_num(v, &d))
        return;
    bool first = a->n == 0;
    a->n++;
    if (v->kind == TH_V_BOOL && v->u.b)
        a->ntrue++;
    if (v->kind == TH_V_INT && !a->int_overflow) {
        int64_t s;
        if (__builtin_add_overflow(a->isum, v->u.i, &s))
            a->int_overflow = true;
        else
            a->isum = s;
    }
    if (v->kind == TH_V_INT && (first || v->u.i < a->imin))
        a->imin = v->u.i;
    if (v->kind == TH_V_INT && (first || v->u.i > a->imax))
        a->imax = v->u.i;
    a->dsum += d;
    if (first || d < a->dmin)
        a->dmin = d;
    if (first || d > a->dmax)
        a->dmax = d;
}

static void
s_finish(th_rollup_value_t *out, const s_acc_t *a, const th_indicator_t *ind)
{
    memset(out, 0, sizeof *out);
    snprintf(out->code, sizeof out->code, "%s", ind->code);
    out->agg = ind->agg;
    out->n = a->n;
    out->num = a->num;
    out->den = a->den;
    if (a->n == 0 || ind->agg == TH_AGG_TEXT)
        return;
    bool ints = ind->type == TH_IT_INT;
    out->present = true;
    switch (ind->agg) {
    case TH_AGG_SUM:
        out->is_int = ints && !a->int_overflow;
        if (out->is_int)
            out->i = a->isum;
        else
            out->d = a->dsum;
        break;
    case TH_AGG_COUNT_TRUE:
        out->is_int = true;
        out->i = a->ntrue;
        break;
    case TH_AGG_MIN:
        out->is_int = ints;
        out->i = a->imin;
        out->d = a->dmin;
        break;
    case TH_AGG_MAX:
        out->is_int = ints;
        out->i = a->imax;
        out->d = a->dmax;
        break;
    case TH_AGG_MEAN:
        out->d = a->dsum / (double)a->n;
        break;
    case TH_AGG_RATIO:
        if (a->den == 0 || !isfinite(ind->scale * a->num / a->den))
            out->present = false;
        else
            out->d = ind->scale * a->num / a->den;
        break;
    default:
        out->present = false;
        break;
    }
}

static void s_part_free(th_rollup_part_t *p);

/* ---- unit list ---------------------------------------------------------- */

static int
s_add_child(const th_unit_t *u, void *ctx)
{
    s_ctx_t *c = ctx;
    th_rollup_t *r = c->r;
    th_rollup_part_t *np = th_realloc(r->children, (r->nchildren + 1) * sizeof *np);
    if (!np)
        return -ENOMEM;
    r->children = np;
    th_rollup_part_t *p = &np[r->nchildren];
    memset(p, 0, sizeof *p);
    if (!(p->name = th_strdup(u->name)))
        return -ENOMEM;
    snprintf(p->unit, sizeof p->unit, "%s", u->code);
    r->nchildren++;
    return 0;
}

/* U's own part (when its level reports the form) and one group per level
   when the form names several. */
static int
s_add_own_groups(th_rollup_t *r, const th_form_t *f, const th_unit_t *u)
{
    r->has_own = th_form_reported_by(f, u->level);
    snprintf(r->own.unit, sizeof r->own.unit, "%s", u->code);
    if (!(r->own.name = th_strdup(u->name)))
        return -ENOMEM;
    if (f->nlevels < 2)
        return 0;
    if (!(r->groups = th_calloc(f->nlevels, sizeof *r->groups)))
        return -ENOMEM;
    for (size_t g = 0; g < f->nlevels; g++) {
        th_rollup_part_t *p = &r->groups[r->ngroups++];
        char label[64];
        snprintf(p->level, sizeof p->level, "%s", f->levels[g]);
        if (!(p->name = th_strdup(th_rollup_group_label(p->level, label, sizeof label))))
            return -ENOMEM;
    }
    return 0;
}

/* ---- per report: texts and rules ---------------------------------------- */

static int
s_add_text(s_ctx_t *c, const char *code, const s_unit_t *u, const char *text)
{
    th_rollup_t *r = c->r;
    if (r->ntexts == c->ntexts_cap) {
        size_t n = c->ntexts_cap ? c->ntexts_cap * 2 : 16;
        th_rollup_text_t *nt = th_realloc(r->texts, n * sizeof *nt);
        if (!nt)
            return -ENOMEM;
        r->texts = nt;
        c->ntexts_cap = n;
    }
    th_rollup_text_t *t = &r->texts[r->ntexts];
    memset(t, 0, sizeof *t);
    t->name = th_strdup(u->name);
    t->text = th_strdup(text);
    if (!t->name || !t->text) {
        th_free(t->name);
        th_free(t->text);
        return -ENOMEM;
    }
    snprintf(t->code, sizeof t->code, "%s", code);
    snprintf(t->unit, sizeof t->unit, "%s", u->code);
    r->ntexts++;
    return 0;
}

typedef struct {
    const th_form_t *f;
    const th_record_t *rec;
} s_lookup_t;

static int
s_lookup(const char *ident, double *v, void *ctx)
{
    const s_lookup_t *l = ctx;
    const th_value_t *val = th_record_get(l->rec, ident);
    if (val)
        return s_num(val, v) ? 0 : TH_E_NOTFOUND;
    const th_indicator_t *ind = th_form_indicator(l->f, ident);
    if (ind && ind->computed && th_form_computed(l->f, ind, l->rec, v) == 0)
        return 0;
    return TH_E_NOTFOUND;
}

static int
s_check_rules(s_ctx_t *c, const s_unit_t *u, const th_record_t *rec)
{
    th_rollup_t *r = c->r;
    s_lookup_t l = { c->f, rec };
    for (size_t i = 0; i < c->f->nrules; i++) {
        const th_form_rule_t *fr = &c->f->rules[i];
        th_rule_result_t res;
        int rc = th_rule_eval(fr->rule, s_lookup, &l, &res);
        if (rc < 0)
            return rc;
        if (res != TH_RULE_FALSE)
            continue;
        if (r->nviolations == c->nviol_cap) {
            size_t n = c->nviol_cap ? c->nviol_cap * 2 : 16;
            th_rollup_violation_t *nv = th_realloc(r->violations, n * sizeof *nv);
            if (!nv)
                return -ENOMEM;
            r->violations = nv;
            c->nviol_cap = n;
        }
        th_rollup_violation_t *v = &r->violations[r->nviolations];
        memset(v, 0, sizeof *v);
        v->name = th_strdup(u->name);
        v->message = th_strdup(fr->message);
        if (!v->name || !v->message) {
            th_free(v->name);
            th_free(v->message);
            return -ENOMEM;
        }
        snprintf(v->unit, sizeof v->unit, "%s", u->code);
        snprintf(v->rule, sizeof v->rule, "%s", fr->id);
        r->nviolations++;
    }
    return 0;
}

/* ---- reading the store ---------------------------------------------------- */

/* Folds the counted report of unit cu (decoded, verified or sealed, and
   checked to be the report it is filed as, by the completeness walking the
   store) into the rollup. */
static int
s_one(const th_compl_unit_t *cu, const th_record_t *rec, void *ctx)
{
    s_ctx_t *c = ctx;
    th_rollup_t *r = c->r;
    /* units come grouped by child: look the part up only when it changes */
    if (!cu->child[0]) {
        c->part = -1;
    } else if (c->part < 0 || strcmp(r->children[c->part].unit, cu->child) != 0) {
        size_t i = 0;
        while (i < r->nchildren && strcmp(r->children[i].unit, cu->child) != 0)
            i++;
        if (i == r->nchildren)   /* cannot happen: both lists come from th_units_each_child */
            return TH_E_INVALID;
        c->part = (long)i;
    }
    const s_unit_t unit = { cu->unit, cu->name, c->part }, *u = &unit;
    int rc;
    size_t ni = c->f->nindicators;
    /* besides the total: the child's part, or U's own; and the group */
    s_acc_t *part = u->part >= 0 ? s_acc_child(c, (size_t)u->part) : s_acc_own(c);
    long g = s_group_of(r, cu->level);
    s_acc_t *group = g >= 0 ? s_acc_group(c, (size_t)g) : NULL;
    r->total.counted++;
    if (u->part >= 0)
        r->children[u->part].counted++;
    else
        r->own.counted++;
    if (group)
        r->groups[g].counted++;
    for (size_t i = 0; i < ni; i++) {
        const th_indicator_t *ind = &c->f->indicators[i];
        s_vals_t x = s_vals(ind, rec);   /* looked up once for all */
        s_fold(&c->acc[i], ind, &x);
        s_fold(&part[i], ind, &x);
        if (group)
            s_fold(&group[i], ind, &x);
        if (ind->agg == TH_AGG_TEXT) {
            const th_value_t *v = x.v;
            if (v && v->kind == TH_V_TEXT && v->u.s && v->u.s[0] &&
                (rc = s_add_text(c, ind->code, u, v->u.s)) < 0)
                return rc;
        }
    }
    if ((rc = s_check_rules(c, u, rec)) < 0)
        return rc;
    return 0;
}

/* Texts are gathered in subtree order while the reports are read, then
   sorted stably by indicator position: form order, then subtree order. */
static int
s_sort_texts(const th_form_t *f, th_rollup_t *r)
{
    if (r->ntexts < 2)
        return 0;
    th_rollup_text_t *sorted = th_malloc(r->ntexts * sizeof *sorted);
    if (!sorted)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < f->nindicators; i++)
        for (size_t k = 0; k < r->ntexts; k++)
            if (strcmp(r->texts[k].code, f->indicators[i].code) == 0)
                sorted[n++] = r->texts[k];
    if (n != r->ntexts) {   /* cannot happen: every text has a form code */
        th_free(sorted);
        return TH_E_INVALID;
    }
    th_free(r->texts);
    r->texts = sorted;
    return 0;
}

static int
s_part_values(th_rollup_part_t *p, const th_form_t *f, const s_acc_t *acc)
{
    p->nvalues = f->nindicators;
    p->values = th_calloc(f->nindicators, sizeof *p->values);
    if (!p->values)
        return -ENOMEM;
    for (size_t i = 0; i < f->nindicators; i++)
        s_finish(&p->values[i], &acc[i], &f->indicators[i]);
    return 0;
}

/* tree_day: INT32_MIN for the period's own tree, else the (later) day of
   the tree U and its breakdown are read in, the units of the period's tree
   mapped into it (th_completeness_compute_mapped). */
static int
s_rollup(th_office_t *o, const char *form, const char *period, const char *unit,
         int32_t tree_day, int64_t as_of, th_rollup_t **out, char *errbuf, size_t cap)
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
    if (as_of == INT64_MAX)
        as_of = th_now_ms();
    th_completeness_t *cm = NULL;
    s_ctx_t c = { .f = f, .part = -1 };
    th_rollup_t *r = th_calloc(1, sizeof *r);
    if (!r) {
        rc = -ENOMEM;
        goto done;
    }
    c.r = r;
    snprintf(r->form, sizeof r->form, "%s", f->id);
    r->period = p;
    r->as_of = as_of;
    snprintf(r->total.unit, sizeof r->total.unit, "%s", u->code);
    if (!(r->title = th_strdup(f->title)) || !(r->total.name = th_strdup(u->name))) {
        rc = -ENOMEM;
        goto done;
    }
    if ((rc = th_units_each_child(o->units, u->code, mapped ? tree_day : p.end, s_add_child,
                                  &c)) < 0)
        goto done;
    if ((rc = s_add_own_groups(r, f, u)) < 0)
        goto done;
    /* mapped, the units counted under U itself are old units that went
       into it (an old district into its province), not U's own report */
    r->has_own = r->has_own && !mapped;
    c.acc = th_calloc((2 + r->nchildren + r->ngroups) * f->nindicators, sizeof *c.acc);
    if (!c.acc) {
        rc = -ENOMEM;
        goto done;
    }
    /* one read of the store: the completeness walks every revision and
       hands each counted report here */
    if ((rc = mapped ? th_completeness_compute_mapped(o, form, period, u->code, tree_day,
                                                      as_of, s_one, &c, &cm, errbuf, cap)
                     : th_completeness_compute_each(o, form, period, u->code, as_of, s_one, &c,
                                                    &cm, errbuf, cap)) < 0) {
        th_free(c.acc);
        th_rollup_destroy(&r);
        return rc;
    }
    if ((rc = s_sort_texts(f, r)) < 0)
        goto done;
    if ((rc = s_part_values(&r->total, f, c.acc)) < 0)
        goto done;
    r->total.expected = cm->total.expected;
    r->total.reported = cm->total.reported;
    r->total.on_time = cm->total.on_time;
    if ((rc = s_part_values(&r->own, f, s_acc_own(&c))) < 0)
        goto done;
    for (size_t g = 0; g < r->ngroups; g++)
        if ((rc = s_part_values(&r->groups[g], f, s_acc_group(&c, g))) < 0)
            goto done;
    /* the reporting counts of U's own report and of each group */
    for (size_t i = 0; i < cm->nunits; i++) {
        const th_compl_unit_t *x = &cm->units[i];
        long g = s_group_of(r, x->level);
        th_rollup_part_t *parts[2] = { x->child[0] ? NULL : &r->own,
                                       g >= 0 ? &r->groups[g] : NULL };
        for (size_t k = 0; k < 2; k++) {
            if (!parts[k])
                continue;
            parts[k]->expected++;
            parts[k]->reported += x->state != TH_COMPL_MISSING;
            parts[k]->on_time += x->state == TH_COMPL_ON_TIME;
        }
    }
    /* a level with no unit in this tree (no district in the two-tier
       one) makes no group */
    size_t kept = 0;
    for (size_t g = 0; g < r->ngroups; g++) {
        if (r->groups[g].expected == 0 && r->groups[g].counted == 0)
            s_part_free(&r->groups[g]);
        else
            r->groups[kept++] = r->groups[g];
    }
    r->ngroups = kept;
    for (size_t i = 0; i < r->nchildren; i++) {
        th_rollup_part_t *pt = &r->children[i];
        if ((rc = s_part_values(pt, f, s_acc_child(&c, i))) < 0)
            goto done;
        /* both lists come from th_units_each_child on the same day */
        if (i < cm->nchildren && strcmp(cm->children[i].unit, pt->unit) == 0) {
            pt->expected = cm->children[i].expected;
            pt->reported = cm->children[i].reported;
            pt->on_time = cm->children[i].on_time;
        }
    }
done:
    th_free(c.acc);
    if (rc == 0)
        r->completeness = cm;
    else
        th_completeness_destroy(&cm);
    if (rc < 0) {
        th_rollup_destroy(&r);
        if (rc == -ENOMEM)
            return th_errbuf(errbuf, cap, rc, "out of memory");
        return th_errbuf(errbuf, cap, rc, "cannot compute the rollup: %s", th_strerror(rc));
    }
    *out = r;
    return 0;
}

int
th_rollup_compute(th_office_t *o, const char *form, const char *period, const char *unit,
                  int64_t as_of, th_rollup_t **out, char *errbuf, size_t cap)
{
    return s_rollup(o, form, period, unit, INT32_MIN, as_of, out, errbuf, cap);
}

typedef struct {
    const char *set;         /* of the first unit seen */
} s_first_set_t;

static int
s_first_set(const th_unit_t *u, void *ctx)
{
    ((s_first_set_t *)ctx)->set = u->set;
    return 1;
}

/* How the compare period's units were read in r's tree, as the report says
   it: the same tree, the built-in mapping, or a list's own successors. */
static char *
s_mapping_label(const th_office_t *o, const th_rollup_t *r, const th_period_t *pc)
{
    const th_unit_t *u = th_units_find(o->units, r->total.unit, r->period.end);
    s_first_set_t fs = { NULL };
    th_units_each(o->units, pc->end, NULL, s_first_set, &fs);
    if (!u || !fs.set || strcmp(fs.set, u->set) == 0)
        return th_asprintf("Cùng danh mục đơn vị hành chính (%s), không cần đối chiếu",
                           u ? u->set : "");
    if (strcmp(fs.set, th_builtin_successors()->name) == 0) {
        char from[11];
        th_date_format_vn(u->valid_from, from);
        return th_asprintf("Đối chiếu theo danh mục sắp xếp đơn vị hành chính từ ngày %s: "
                           "mỗi đơn vị cũ tính vào đơn vị mới mà nó được sắp xếp vào "
                           "(nguồn: %s)", from, th_builtin_successors_source());
    }
    return th_asprintf("Đối chiếu theo mã đơn vị kế thừa (cột successor) của danh mục %s",
                       fs.set);
}

int
th_rollup_compute_compare(th_office_t *o, const char *form, const char *period,
                          const char *compare, const char *unit, int64_t as_of,
                          th_rollup_t **out, char *errbuf, size_t cap)
{
    if (!compare)
        return th_rollup_compute(o, form, period, unit, as_of, out, errbuf, cap);
    if (!out)
        return th_errbuf(errbuf, cap, TH_E_INVALID, "missing argument");
    *out = NULL;
    if (as_of == INT64_MAX)
        as_of = th_now_ms();   /* one time for both */
    th_rollup_t *r = NULL;
    int rc = th_rollup_compute(o, form, period, unit, as_of, &r, errbuf, cap);
    if (rc < 0)
        return rc;
    th_period_t pc;
    if (th_period_parse(compare, &pc) < 0) {
        th_rollup_destroy(&r);
        return th_errbuf(errbuf, cap, TH_E_PERIOD, "invalid compare period '%s' (write 2024, "
                         "2025S1, 2026Q3 or 202605)", compare);
    }
    /* old units map forward into newer trees, never back */
    const th_unit_t *u = th_units_find(o->units, r->total.unit, r->period.end);
    if (pc.end > r->period.end && th_units_find(o->units, r->total.unit, pc.end) != u) {
        th_rollup_destroy(&r);
        return th_errbuf(errbuf, cap, TH_E_PERIOD, "compare period %s is read in a later "
                         "unit tree than period %s: give the later one as --period", pc.id,
                         period);
    }
    rc = s_rollup(o, form, compare, r->total.unit,
                  pc.end > r->period.end ? pc.end : r->period.end, as_of, &r->compare, errbuf,
                  cap);
    if (rc == 0 && !(r->compare->mapping = s_mapping_label(o, r, &pc)))
        rc = th_errbuf(errbuf, cap, -ENOMEM, "out of memory");
    if (rc < 0) {
        th_rollup_destroy(&r);
        return rc;
    }
    *out = r;
    return 0;
}

bool
th_rollup_diff(const th_rollup_value_t *a, const th_rollup_value_t *b, th_rollup_value_t *d)
{
    memset(d, 0, sizeof *d);
    if (!a || !b || !a->present || !b->present)
        return false;
    snprintf(d->code, sizeof d->code, "%s", a->code);
    d->agg = a->agg;
    d->present = true;
    if (a->is_int && b->is_int && !__builtin_sub_overflow(a->i, b->i, &d->i)) {
        d->is_int = true;
        return true;
    }
    d->d = (a->is_int ? (double)a->i : a->d) - (b->is_int ? (double)b->i : b->d);
    return true;
}

static void
s_part_free(th_rollup_part_t *p)
{
    th_free(p->name);
    th_free(p->values);
}

void
th_rollup_destroy(th_rollup_t **pp)
{
    if (!pp || !*pp)
        return;
    th_rollup_t *r = *pp;
    th_free(r->title);
    s_part_free(&r->total);
    for (size_t i = 0; i < r->nchildren; i++)
        s_part_free(&r->children[i]);
    th_free(r->children);
    s_part_free(&r->own);
    for (size_t g = 0; g < r->ngroups; g++)
        s_part_free(&r->groups[g]);
    th_free(r->groups);
    for (size_t i = 0; i < r->ntexts; i++) {
        th_free(r->texts[i].name);
        th_free(r->texts[i].text);
    }
    th_free(r->texts);
    for (size_t i = 0; i < r->nviolations; i++) {
        th_free(r->violations[i].name);
        th_free(r->violations[i].message);
    }
    th_free(r->violations);
    th_completeness_destroy(&r->completeness);
    th_rollup_destroy(&r->compare);
    th_free(r->mapping);
    th_free(r);
    *pp = NULL;
}

const th_rollup_value_t *
th_rollup_value(const th_rollup_part_t *part, const char *code)
{
    if (!part || !code)
        return NULL;
    for (size_t i = 0; i < part->nvalues; i++)
        if (strcmp(part->values[i].code, code) == 0)
            return &part->values[i];
    return NULL;
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *
s_values_json(const th_rollup_part_t *p)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (size_t i = 0; i < p->nvalues; i++) {
        const th_rollup_value_t *v = &p->values[i];
        if (v->agg == TH_AGG_TEXT)
            continue;
        json_t *j = !v->present ? json_null()
                    : v->is_int ? json_integer((json_int_t)v->i)
                                : json_real(v->d);
        if (json_object_set_new(o, v->code, j) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static json_t *
s_reporting_json(const th_rollup_part_t *p)
{
    return json_pack("{s:I, s:I, s:I, s:I}", "expected", (json_int_t)p->expected,
                     "reported", (json_int_t)p->reported, "on_time", (json_int_t)p->on_time,
                     "counted", (json_int_t)p->counted);
}

static json_t *
s_children_json(const th_rollup_t *r)
{
    json_t *children = json_array();
    for (size_t i = 0; children && i < r->nchildren; i++) {
        const th_rollup_part_t *p = &r->children[i];
        if (json_array_append_new(children,
                                  json_pack("{s:s, s:s, s:o, s:o}", "unit", p->unit, "name",
                                            p->name, "values", s_values_json(p), "reporting",
                                            s_reporting_json(p))) != 0) {
            json_decref(children);
            return NULL;
        }
    }
    return children;
}

static json_t *
s_compare_json(const th_rollup_t *c)
{
    return json_pack("{s:s, s:o, s:o, s:s, s:o}", "period", c->period.id, "values",
                     s_values_json(&c->total), "reporting", s_reporting_json(&c->total),
                     "mapping", c->mapping ? c->mapping : "", "children",
                     s_children_json(c));
}

json_t *
th_rollup_json(const th_rollup_t *r)
{
    if (!r)
        return NULL;
    char asof[32];
    th_time_format_iso(r->as_of, asof);
    json_t *children = s_children_json(r), *texts = json_object(), *viol = json_array();
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}",
                            "form", r->form, "title", r->title, "period", r->period.id,
                            "unit", r->total.unit, "name", r->total.name, "as_of", asof,
                            "values", s_values_json(&r->total), "reporting",
                            s_reporting_json(&r->total), "children", children, "texts",
                            texts, "violations", viol);
    if (!doc)
        return NULL;
    bool oom = false;
    json_t *groups = json_array();
    oom |= !groups || json_object_set_new(doc, "groups", groups) != 0;
    for (size_t g = 0; groups && g < r->ngroups; g++) {
        const th_rollup_part_t *p = &r->groups[g];
        oom |= json_array_append_new(
                   groups, json_pack("{s:s, s:s, s:o, s:o}", "level", p->level, "name",
                                     p->name, "values", s_values_json(p), "reporting",
                                     s_reporting_json(p))) != 0;
    }
    if (r->has_own)
        oom |= json_object_set_new(doc, "own",
                                   json_pack("{s:s, s:s, s:o, s:o}", "unit", r->own.unit,
                                             "name", r->own.name, "values",
                                             s_values_json(&r->own), "reporting",
                                             s_reporting_json(&r->own))) != 0;
    for (size_t i = 0; i < r->ntexts; i++) {
        const th_rollup_text_t *t = &r->texts[i];
        json_t *list = json_object_get(texts, t->code);
        if (!list) {
            list = json_array();
            oom |= json_object_set_new(texts, t->code, list) != 0;
        }
        oom |= json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "unit", t->unit,
                                                     "name", t->name, "text", t->text)) != 0;
    }
    for (size_t i = 0; i < r->nviolations; i++) {
        const th_rollup_violation_t *v = &r->violations[i];
        oom |= json_array_append_new(viol, json_pack("{s:s, s:s, s:s, s:s}", "unit", v->unit,
                                                     "name", v->name, "rule", v->rule,
                                                     "message", v->message)) != 0;
    }
    if (r->compare)
        oom |= json_object_set_new(doc, "compare", s_compare_json(r->compare)) != 0;
    if (oom) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* ---- command line ------------------------------------------------------------ */

const char *
th_rollup_agg_label(th_agg_t a)
{
    switch (a) {
    case TH_AGG_SUM: return "Tổng";
    case TH_AGG_COUNT_TRUE: return "Số đơn vị có";
    case TH_AGG_MIN: return "Nhỏ nhất";
    case TH_AGG_MAX: return "Lớn nhất";
    case TH_AGG_MEAN: return "Trung bình";
    case TH_AGG_RATIO: return "Tỷ lệ";
    case TH_AGG_TEXT: return "Theo từng đơn vị";
    }
    return "";
}

void
th_rollup_format(const th_rollup_value_t *v, bool human, char *buf, size_t cap)
{
    if (!v->present)
        snprintf(buf, cap, "%s", human ? "—" : "");
    else if (v->is_int && human)
        th_vnnum_format_int(v->i, buf, cap);
    else if (v->is_int)
        snprintf(buf, cap, "%" PRId64, v->i);
    else if (human)
        th_vnnum_format_dec(v->d, buf, cap);
    else
        snprintf(buf, cap, "%.10g", v->d);
}

/* U's own report and the groups of reporting units, with the figures of
   the summed indicators as columns. */
static int
s_print_groups(const th_rollup_t *r, const th_form_t *f)
{
    size_t nnum = 0;
    for (size_t i = 0; i < f->nindicators; i++)
        nnum += f->indicators[i].agg != TH_AGG_TEXT;
    const char **hdr = th_calloc(2 + nnum, sizeof *hdr);
    const char **row = th_calloc(2 + nnum, sizeof *row);
    char (*cells)[48] = th_calloc(nnum ? nnum : 1, sizeof *cells);
    th_table_t *t = NULL;
    int rc = hdr && row && cells ? 0 : -ENOMEM;
    if (rc == 0) {
        hdr[0] = "Khối / đơn vị";
        hdr[1] = "Đã báo cáo";
        for (size_t i = 0, k = 2; i < f->nindicators; i++)
            if (f->indicators[i].agg != TH_AGG_TEXT)
                hdr[k++] = f->indicators[i].code;
        if (!(t = th_table_new(2 + nnum, hdr)))
            rc = -ENOMEM;
    }
    for (size_t k = 1; t && k < 2 + nnum; k++)
        th_table_align(t, k, TH_TABLE_RIGHT);
    char own[160], count[48];
    snprintf(own, sizeof own, "%s (báo cáo của chính đơn vị)", r->own.name);
    size_t nparts = r->ngroups + (r->has_own ? 1 : 0);
    for (size_t p = 0; rc == 0 && p < nparts; p++) {
        const th_rollup_part_t *pt = r->has_own && p == 0 ? &r->own
                                                          : &r->groups[p - r->has_own];
        snprintf(count, sizeof count, "%zu/%zu", pt->reported, pt->expected);
        row[0] = pt == &r->own ? own : pt->name;
        row[1] = count;
        for (size_t i = 0, k = 0; i < f->nindicators && i < pt->nvalues; i++)
            if (f->indicators[i].agg != TH_AGG_TEXT) {
                th_rollup_format(&pt->values[i], true, cells[k], sizeof cells[k]);
                row[2 + k] = cells[k];
                k++;
            }
        rc = th_table_add_row(t, row);
    }
    if (rc == 0) {
        printf("\nTheo khối đơn vị báo cáo (mỗi báo cáo tính một lần):\n");
        rc = th_table_print(t, stdout);
    }
    th_table_destroy(&t);
    th_free(hdr);
    th_free(row);
    th_free(cells);
    return rc;
}

static int
s_print_table(const void *res, const th_form_t *f)
{
    const th_rollup_t *r = res;
    char label[64], when[32], a[48], b[48], c3[48];
    th_period_label_vn(&r->period, label, sizeof label);
    th_time_format_vn(r->as_of, when);
    th_vnnum_format_int((int64_t)r->total.reported, a, sizeof a);
    th_vnnum_format_int((int64_t)r->total.expected, b, sizeof b);
    th_vnnum_format_int((int64_t)r->total.on_time, c3, sizeof c3);
    printf("TỔNG HỢP: %s\nKỳ báo cáo: %s (%s)\nĐơn vị: %s — %s\nSố liệu tính đến: %s\n"
           "Đơn vị đã báo cáo: %s/%s (đúng hạn: %s)\n", r->title, label, r->period.id,
           r->total.unit, r->total.name, when, a, b, c3);
    const th_rollup_t *cmp = r->compare;
    char clabel[64] = "", h_now[96] = "Tổng hợp", h_cmp[96] = "";
    if (cmp) {
        th_period_label_vn(&cmp->period, clabel, sizeof clabel);
        printf("Kỳ so sánh: %s (%s), đơn vị đã báo cáo: %zu/%zu (đúng hạn: %zu)\n%s.\n",
               clabel, cmp->period.id, cmp->total.reported, cmp->total.expected,
               cmp->total.on_time, cmp->mapping);
        snprintf(h_now, sizeof h_now, "Kỳ này (%s)", r->period.id);
        snprintf(h_cmp, sizeof h_cmp, "Kỳ so sánh (%s)", cmp->period.id);
    }
    printf("\n");
    const char *hdr[] = { "Mã", "Chỉ tiêu", h_now, h_cmp, "Chênh lệch", "Đơn vị tính" };
    size_t ncol = cmp ? 6 : 4;
    if (!cmp)
        hdr[3] = "Đơn vị tính";
    th_table_t *t = th_table_new(ncol, hdr);
    if (!t)
        return -ENOMEM;
    for (size_t k = 2; k < ncol - 1; k++)
        th_table_align(t, k, TH_TABLE_RIGHT);
    int rc = 0;
    for (size_t i = 0; i < f->nindicators && i < r->total.nvalues && rc == 0; i++) {
        const th_indicator_t *ind = &f->indicators[i];
        if (ind->agg == TH_AGG_TEXT)
            continue;
        th_rollup_format(&r->total.values[i], true, a, sizeof a);
        const char *row[] = { ind->code, ind->label, a, ind->unit, "", "" };
        if (cmp && i < cmp->total.nvalues) {
            th_rollup_value_t d;
            th_rollup_format(&cmp->total.values[i], true, b, sizeof b);
            th_rollup_diff(&r->total.values[i], &cmp->total.values[i], &d);
            th_rollup_format(&d, true, c3, sizeof c3);
            row[3] = b;
            row[4] = c3;
            row[5] = ind->unit;
        }
        rc = th_table_add_row(t, row);
    }
    if (rc == 0)
        rc = th_table_print(t, stdout);
    th_table_destroy(&t);
    if (rc == 0 && r->nchildren > 0) {
        static const char *const ch[] = { "Mã", "Đơn vị trực thuộc", "Đã báo cáo",
                                          "Đúng hạn" };
        th_table_t *tc = th_table_new(4, ch);
        if (!tc)
            return -ENOMEM;
        th_table_align(tc, 2, TH_TABLE_RIGHT);
        th_table_align(tc, 3, TH_TABLE_RIGHT);
        for (size_t i = 0; i < r->nchildren && rc == 0; i++) {
            const th_rollup_part_t *p = &r->children[i];
            snprintf(a, sizeof a, "%zu/%zu", p->reported, p->expected);
            snprintf(b, sizeof b, "%zu", p->on_time);
            const char *row[] = { p->unit, p->name, a, b };
            rc = th_table_add_row(tc, row);
        }
        printf("\n");
        if (rc == 0)
            rc = th_table_print(tc, stdout);
        th_table_destroy(&tc);
    }
    if (rc == 0 && (r->ngroups > 0 || r->has_own))
        rc = s_print_groups(r, f);
    if (rc == 0 && r->nviolations > 0) {
        printf("\nVi phạm quy tắc kiểm tra số liệu:\n");
        for (size_t i = 0; i < r->nviolations; i++)
            printf("  %s — %s: %s (quy tắc %s)\n", r->violations[i].unit,
                   r->violations[i].name, r->violations[i].message, r->violations[i].rule);
    }
    const char *cur = NULL;
    for (size_t i = 0; i < r->ntexts && rc == 0; i++) {
        const th_rollup_text_t *x = &r->texts[i];
        if (!cur || strcmp(cur, x->code) != 0) {
            cur = x->code;
            const th_indicator_t *ind = th_form_indicator(f, cur);
            printf("\n%s. %s:\n", cur, ind ? ind->label : "");
        }
        const th_indicator_t *ind = th_form_indicator(f, cur);
        const char *shown = x->text;
        for (size_t k = 0; ind && k < ind->noptions; k++)
            if (strcmp(ind->options[k].code, x->text) == 0)
                shown = ind->options[k].label;
        printf("  %s — %s: %s\n", x->unit, x->name, shown);
    }
    return rc;
}

static void
s_print_csv(const void *res, const th_form_t *f)
{
    const th_rollup_t *r = res;
    fputs("\xEF\xBB\xBF", stdout);
    th_csv_write_cell(stdout, "code", false);
    th_csv_write_cell(stdout, "label", false);
    const th_rollup_t *cmp = r->compare;
    th_csv_write_cell(stdout, "value", r->nchildren == 0 && !cmp);
    if (cmp) {
        th_csv_write_cell(stdout, "compare", false);
        th_csv_write_cell(stdout, "difference", r->nchildren == 0);
    }
    for (size_t k = 0; k < r->nchildren; k++)
        th_csv_write_cell(stdout, r->children[k].unit, k + 1 == r->nchildren);
    for (size_t i = 0; i < f->nindicators && i < r->total.nvalues; i++) {
        const th_indicator_t *ind = &f->indicators[i];
        char buf[48];
        th_csv_write_cell(stdout, ind->code, false);
        th_csv_write_cell(stdout, ind->label, false);
        if (ind->agg == TH_AGG_TEXT) {
            /* kept per unit: "code — name: text" lines in one cell */
            size_t len = 0;
            char *cell = NULL;
            for (size_t k = 0; k < r->ntexts; k++) {
                const th_rollup_text_t *x = &r->texts[k];
                if (strcmp(x->code, ind->code) != 0)
                    continue;
                size_t add = strlen(x->unit) + strlen(x->name) + strlen(x->text) + 16;
                char *nc = th_realloc(cell, len + add);
                if (!nc)
                    break;
                cell = nc;
                len += (size_t)snprintf(cell + len, add, "%s%s — %s: %s", len ? "\n" : "",
                                        x->unit, x->name, x->text);
            }
            th_csv_write_cell(stdout, cell ? cell : "", r->nchildren == 0 && !cmp);
            th_free(cell);
        } else {
            th_rollup_format(&r->total.values[i], false, buf, sizeof buf);
            th_csv_write_cell(stdout, buf, r->nchildren == 0 && !cmp);
        }
        if (cmp) {
            th_rollup_value_t d = { .present = false };
            buf[0] = '\0';
            if (ind->agg != TH_AGG_TEXT && i < cmp->total.nvalues) {
                th_rollup_format(&cmp->total.values[i], false, buf, sizeof buf);
                th_rollup_diff(&r->total.values[i], &cmp->total.values[i], &d);
            }
            th_csv_write_cell(stdout, buf, false);
            th_rollup_format(&d, false, buf, sizeof buf);
            th_csv_write_cell(stdout, buf, r->nchildren == 0);
        }
        for (size_t k = 0; k < r->nchildren; k++) {
            buf[0] = '\0';
            if (ind->agg != TH_AGG_TEXT)
                th_rollup_format(&r->children[k].values[i], false, buf, sizeof buf);
            th_csv_write_cell(stdout, buf, k + 1 == r->nchildren);
        }
    }
}

static int
s_cmd_compute(th_office_t *o, const th_cli_opts_t *opt, int64_t as_of, void **res,
              char *err, size_t cap)
{
    th_rollup_t *x = NULL;
    int rc = th_rollup_compute_compare(o, opt->form, opt->period, opt->compare, opt->unit,
                                       as_of, &x, err, cap);
    *res = x;
    return rc;
}

static json_t *
s_cmd_json(const void *res)
{
    return th_rollup_json(res);
}

static void
s_cmd_destroy(void **res)
{
    th_rollup_t *x = *res;
    th_rollup_destroy(&x);
    *res = NULL;
}

int
th_rollup_cmd(th_cli_opts_t *o, int argc, char **argv)
{
    static const th_cli_report_t rep = { "rollup", s_cmd_compute, s_cmd_json, s_print_csv,
                                         s_print_table, s_cmd_destroy };
    return th_cli_report(&rep, o, argc, argv);
}
