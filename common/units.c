/*  units: each set is built completely on its own (units array, string
    arena, open-addressing code index, child lists) and only attached to the
    registry when every check passed, so a failed load leaves nothing
    behind and a loaded set never moves: th_unit_t pointers stay valid for
    the registry's life. Lookups scan the sets newest first; there are only
    a handful of sets. */
#include "units.h"

#include "csv.h"
#include "err.h"
#include "mem.h"
#include "period.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define S_SET_NAME_MAX 63
#define S_ARENA_BLOCK  (64 * 1024)
#define S_NONE         (-1)

typedef struct {
    th_unit_t pub;
    int32_t parent;      /* index in the set, S_NONE for a root */
    int32_t first_child; /* S_NONE if none */
    int32_t last_child;
    int32_t next_sib;
} s_unit_t;

typedef struct s_block {
    struct s_block *next;
    size_t used, cap;
    char data[];
} s_block_t;

typedef struct {
    char name[S_SET_NAME_MAX + 1];
    int32_t from, to;
    s_unit_t *units;
    size_t n, cap;
    int32_t *index;      /* open addressing: unit index + 1, 0 = empty */
    size_t index_cap;    /* power of two */
    s_block_t *arena;
} s_set_t;

struct th_units {
    s_set_t **sets;      /* load order */
    size_t nsets, sets_cap;
};

/* ---- set internals -------------------------------------------------------- */

static char *
s_arena_dup(s_set_t *s, const char *str)
{
    size_t len = strlen(str) + 1;
    if (!s->arena || s->arena->cap - s->arena->used < len) {
        size_t cap = len > S_ARENA_BLOCK ? len : S_ARENA_BLOCK;
        s_block_t *b = th_malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = s->arena;
        b->used = 0;
        b->cap = cap;
        s->arena = b;
    }
    char *p = s->arena->data + s->arena->used;
    memcpy(p, str, len);
    s->arena->used += len;
    return p;
}

static void
s_set_free(s_set_t *s)
{
    if (!s)
        return;
    while (s->arena) {
        s_block_t *b = s->arena;
        s->arena = b->next;
        th_free(b);
    }
    th_free(s->units);
    th_free(s->index);
    th_free(s);
}

static uint32_t
s_hash(const char *code)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)code; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return h;
}

static int32_t
s_set_lookup(const s_set_t *s, const char *code)
{
    if (!s->index_cap)
        return S_NONE;
    size_t mask = s->index_cap - 1;
    for (size_t i = s_hash(code) & mask;; i = (i + 1) & mask) {
        int32_t v = s->index[i];
        if (v == 0)
            return S_NONE;
        if (strcmp(s->units[v - 1].pub.code, code) == 0)
            return v - 1;
    }
}

/* Inserts unit idx; returns the index of an existing unit with the same
   code instead (nothing inserted), or S_NONE when inserted. The table is
   sized before the first insert so it never fills. */
static int32_t
s_set_insert(s_set_t *s, int32_t idx)
{
    size_t mask = s->index_cap - 1;
    const char *code = s->units[idx].pub.code;
    for (size_t i = s_hash(code) & mask;; i = (i + 1) & mask) {
        int32_t v = s->index[i];
        if (v == 0) {
            s->index[i] = idx + 1;
            return S_NONE;
        }
        if (strcmp(s->units[v - 1].pub.code, code) == 0)
            return v - 1;
    }
}

static bool
s_in_force(const th_unit_t *u, int32_t day)
{
    return u->valid_from <= day && day <= u->valid_to;
}

/* ---- loading -------------------------------------------------------------- */

enum { S_COL_CODE, S_COL_NAME, S_COL_LEVEL, S_COL_PARENT, S_COL_FROM, S_COL_TO, S_COL_SUCC,
       S_NCOLS };

static const char *const s_col_names[S_NCOLS] = {"code",       "name",     "level",
                                                 "parent_code", "valid_from", "valid_to",
                                                 "successor"};

typedef struct {
    const char *origin;
    char *errbuf;
    size_t errcap;
} s_ctx_t;

static int
s_fail(const s_ctx_t *x, unsigned line, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
s_fail(const s_ctx_t *x, unsigned line, int rc, const char *fmt, ...)
{
    if (x->errbuf && x->errcap > 0) {
        int k = line ? snprintf(x->errbuf, x->errcap, "%s:%u: ", x->origin, line)
                     : snprintf(x->errbuf, x->errcap, "%s: ", x->origin);
        if (k >= 0 && (size_t)k < x->errcap) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(x->errbuf + k, x->errcap - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return rc;
}

static bool
s_valid_level(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return false;
    }
    return true;
}

/* Maps header fields to columns; col[i] = field index of column i or -1. */
static int
s_header(const s_ctx_t *x, unsigned line, char **f, size_t n, int col[S_NCOLS])
{
    for (int i = 0; i < S_NCOLS; i++)
        col[i] = -1;
    if (n < 4)
        goto bad;
    for (int i = 0; i < 4; i++) {
        if (strcmp(f[i], s_col_names[i]) != 0)
            goto bad;
        col[i] = i;
    }
    for (size_t j = 4; j < n; j++) {
        int found = -1;
        for (int i = 4; i < S_NCOLS; i++) {
            if (strcmp(f[j], s_col_names[i]) == 0)
                found = i;
        }
        if (found < 0)
            return s_fail(x, line, TH_E_PARSE, "unknown column '%s' (allowed after "
                                               "parent_code: valid_from, valid_to, successor)",
                          f[j]);
        if (col[found] >= 0)
            return s_fail(x, line, TH_E_PARSE, "column '%s' appears twice", f[j]);
        col[found] = (int)j;
    }
    return 0;
bad:
    return s_fail(x, line, TH_E_PARSE, "header must start with code,name,level,parent_code");
}

/* Parses an optional date column; empty keeps *out. */
static int
s_date_col(const s_ctx_t *x, unsigned line, const char *what, const char *v, int32_t *out)
{
    if (!*v)
        return 0;
    if (th_date_parse(v, out) < 0)
        return s_fail(x, line, TH_E_INVALID, "%s '%s' is not a date (dd/mm/yyyy or yyyy-mm-dd)",
                      what, v);
    return 0;
}

static int
s_copy_code(const s_ctx_t *x, unsigned line, const char *what, const char *v,
            char dst[TH_UNIT_MAX])
{
    if (!th_valid_unit_code(v))
        return s_fail(x, line, TH_E_INVALID, "invalid %s '%.40s' (1..%d of A-Z a-z 0-9 _ -)",
                      what, v, TH_UNIT_MAX - 1);
    snprintf(dst, TH_UNIT_MAX, "%s", v);
    return 0;
}

static int
s_add_row(s_set_t *s, const s_ctx_t *x, unsigned line, char **f, const int col[S_NCOLS])
{
    int rc;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        s_unit_t *nu = th_realloc(s->units, cap * sizeof *nu);
        if (!nu)
            return -ENOMEM;
        s->units = nu;
        s->cap = cap;
    }
    s_unit_t *u = &s->units[s->n];
    memset(u, 0, sizeof *u);
    u->parent = u->first_child = u->last_child = u->next_sib = S_NONE;
    const char *code = f[col[S_COL_CODE]];
    if (!*code)
        return s_fail(x, line, TH_E_INVALID, "empty code");
    if ((rc = s_copy_code(x, line, "code", code, u->pub.code)) < 0)
        return rc;
    if (!*f[col[S_COL_NAME]])
        return s_fail(x, line, TH_E_INVALID, "unit '%s' has an empty name", code);
    const char *level = f[col[S_COL_LEVEL]];
    if (!*level)
        return s_fail(x, line, TH_E_INVALID, "unit '%s' has an empty level", code);
    if (!s_valid_level(level))
        return s_fail(x, line, TH_E_INVALID,
                      "unit '%s': invalid level '%.40s' (lowercase a-z 0-9 _ -)", code, level);
    const char *parent = f[col[S_COL_PARENT]];
    if (*parent && (rc = s_copy_code(x, line, "parent_code", parent, u->pub.parent)) < 0)
        return rc;
    u->pub.valid_from = s->from;
    u->pub.valid_to = s->to;
    if (col[S_COL_FROM] >= 0 &&
        (rc = s_date_col(x, line, "valid_from", f[col[S_COL_FROM]], &u->pub.valid_from)) < 0)
        return rc;
    if (col[S_COL_TO] >= 0 &&
        (rc = s_date_col(x, line, "valid_to", f[col[S_COL_TO]], &u->pub.valid_to)) < 0)
        return rc;
    if (u->pub.valid_from > u->pub.valid_to)
        return s_fail(x, line, TH_E_INVALID, "unit '%s': valid_from is after valid_to", code);
    if (col[S_COL_SUCC] >= 0 && *f[col[S_COL_SUCC]] &&
        (rc = s_copy_code(x, line, "successor", f[col[S_COL_SUCC]], u->pub.successor)) < 0)
        return rc;
    u->pub.name = s_arena_dup(s, f[col[S_COL_NAME]]);
    u->pub.level = s_arena_dup(s, level);
    if (!u->pub.name || !u->pub.level)
        return -ENOMEM;
    u->pub.set = s->name;
    s->n++;
    return 0;
}

/* Index, parents, child lists and the cycle check, once all rows are in. */
static int
s_link(s_set_t *s, const s_ctx_t *x, const unsigned *lines)
{
    size_t cap = 16;
    while (cap < s->n * 2)
        cap *= 2;
    s->index = th_calloc(cap, sizeof *s->index);
    if (!s->index)
        return -ENOMEM;
    s->index_cap = cap;
    for (size_t i = 0; i < s->n; i++) {
        int32_t dup = s_set_insert(s, (int32_t)i);
        if (dup != S_NONE)
            return s_fail(x, lines[i], TH_E_INVALID, "duplicate code '%s' (first on line %u)",
                          s->units[i].pub.code, lines[dup]);
    }
    for (size_t i = 0; i < s->n; i++) {
        s_unit_t *u = &s->units[i];
        if (!u->pub.parent[0])
            continue;
        int32_t p = s_set_lookup(s, u->pub.parent);
        if (p == S_NONE)
            return s_fail(x, lines[i], TH_E_INVALID, "parent '%s' of unit '%s' is not in the list",
                          u->pub.parent, u->pub.code);
        u->parent = p;
        s_unit_t *pu = &s->units[p];
        if (pu->last_child == S_NONE)
            pu->first_child = (int32_t)i;
        else
            s->units[pu->last_child].next_sib = (int32_t)i;
        pu->last_child = (int32_t)i;
    }
    /* Cycle check in O(n): walk up from each unit, stamping the path with
       the start index; meeting the current stamp again means a cycle,
       meeting an older one means that part was already checked. */
    int32_t *stamp = th_malloc((s->n ? s->n : 1) * sizeof *stamp);
    if (!stamp)
        return -ENOMEM;
    for (size_t i = 0; i < s->n; i++)
        stamp[i] = S_NONE;
    int rc = 0;
    for (size_t i = 0; i < s->n && rc == 0; i++) {
        for (int32_t k = (int32_t)i; k != S_NONE; k = s->units[k].parent) {
            if (stamp[k] == (int32_t)i) {
                rc = s_fail(x, lines[k], TH_E_INVALID, "unit '%s' is its own ancestor",
                            s->units[k].pub.code);
                break;
            }
            if (stamp[k] != S_NONE)
                break;
            stamp[k] = (int32_t)i;
        }
    }
    th_free(stamp);
    return rc;
}

static int
s_parse(s_set_t *s, const s_ctx_t *x, const char *text, size_t len, unsigned **lines_p)
{
    int rc;
    char **f;
    size_t n, lines_cap = 0;
    int col[S_NCOLS];
    size_t ncols = 0;
    unsigned *lines = NULL;
    th_csv_t *c = th_csv_new(text, len);
    if (!c)
        return -ENOMEM;
    rc = th_csv_next(c, &f, &n);
    if (rc == 0) {
        rc = s_fail(x, 1, TH_E_PARSE, "empty file, expected header code,name,level,parent_code");
        goto out;
    }
    if (rc < 0) {
        rc = s_fail(x, th_csv_line(c), rc, "%s", th_strerror(rc));
        goto out;
    }
    if ((rc = s_header(x, th_csv_line(c), f, n, col)) < 0)
        goto out;
    ncols = n;
    while ((rc = th_csv_next(c, &f, &n)) == 1) {
        unsigned line = th_csv_line(c);
        if (n != ncols) {
            rc = s_fail(x, line, TH_E_PARSE, "%zu fields, the header has %zu", n, ncols);
            goto out;
        }
        if (s->n == lines_cap) {
            size_t cap = lines_cap ? lines_cap * 2 : 1024;
            unsigned *nl = th_realloc(lines, cap * sizeof *nl);
            if (!nl) {
                rc = -ENOMEM;
                goto out;
            }
            lines = nl;
            lines_cap = cap;
        }
        lines[s->n] = line;
        if ((rc = s_add_row(s, x, line, f, col)) < 0)
            goto out;
    }
    if (rc < 0) {
        const char *what = rc == TH_E_PARSE   ? "CSV syntax error (unterminated or stray quote)"
                           : rc == TH_E_LIMIT ? "CSV field too long or too many fields"
                                              : th_strerror(rc);
        rc = s_fail(x, th_csv_line(c), rc, "%s", what);
        goto out;
    }
    rc = 0;
out:
    th_csv_destroy(&c);
    *lines_p = lines;
    return rc;
}

int
th_units_load_csv(th_units_t *u, const char *set, const char *origin, const char *text,
                  size_t len, int32_t from, int32_t to, char *errbuf, size_t errcap)
{
    s_ctx_t x = {origin ? origin : (set ? set : "?"), errbuf, errcap};
    if (errbuf && errcap)
        errbuf[0] = '\0';
    if (!u || !set || !*set || strlen(set) > S_SET_NAME_MAX || from > to || (!text && len))
        return s_fail(&x, 0, TH_E_USAGE, "invalid arguments to load set '%s'", set ? set : "");
    for (size_t i = 0; i < u->nsets; i++) {
        if (strcmp(u->sets[i]->name, set) == 0)
            return s_fail(&x, 0, TH_E_EXISTS, "unit set '%s' is already loaded", set);
    }
    if (u->nsets == u->sets_cap) {
        size_t cap = u->sets_cap ? u->sets_cap * 2 : 4;
        s_set_t **ns = th_realloc(u->sets, cap * sizeof *ns);
        if (!ns)
            return -ENOMEM;
        u->sets = ns;
        u->sets_cap = cap;
    }
    s_set_t *s = th_calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    snprintf(s->name, sizeof s->name, "%s", set);
    s->from = from;
    s->to = to;
    unsigned *lines = NULL;
    int rc = s_parse(s, &x, text ? text : "", len, &lines);
    if (rc == 0)
        rc = s_link(s, &x, lines);
    th_free(lines);
    if (rc < 0) {
        if (rc == -ENOMEM && errbuf && errcap && !errbuf[0])
            s_fail(&x, 0, rc, "out of memory");
        s_set_free(s);
        return rc;
    }
    u->sets[u->nsets++] = s;
    return 0;
}

/* ---- successor mappings ------------------------------------------------- */

enum { S_SUCC_LEVEL, S_SUCC_OLD, S_SUCC_NEW, S_SUCC_MAIN, S_SUCC_NOTE, S_SUCC_NCOLS };

/* Reads the mapping into fill[] (the new code for each unit index of s,
   "" when none); applied by the caller only when every row was good. */
static int
s_succ_parse(s_set_t *s, const s_ctx_t *x, const char *text, size_t len,
             char (*fill)[TH_UNIT_MAX])
{
    static const char *const hdr[S_SUCC_NCOLS] = {"level", "old_code", "new_code", "main",
                                                  "note"};
    th_csv_t *c = th_csv_new(text, len);
    if (!c)
        return -ENOMEM;
    char **f;
    size_t n;
    int rc;
    bool header = true;
    while ((rc = th_csv_next(c, &f, &n)) > 0) {
        unsigned line = th_csv_line(c);
        if (header) {
            header = false;
            bool ok = n == S_SUCC_NCOLS;
            for (size_t i = 0; ok && i < n; i++)
                ok = strcmp(f[i], hdr[i]) == 0;
            if (!ok) {
                rc = s_fail(x, line, TH_E_PARSE,
                            "header must be level,old_code,new_code,main,note");
                goto out;
            }
            continue;
        }
        if (n != S_SUCC_NCOLS) {
            rc = s_fail(x, line, TH_E_PARSE, "%zu fields, the header has %d", n,
                        S_SUCC_NCOLS);
            goto out;
        }
        char old[TH_UNIT_MAX], nw[TH_UNIT_MAX];
        if ((rc = s_copy_code(x, line, "old_code", f[S_SUCC_OLD], old)) < 0 ||
            (rc = s_copy_code(x, line, "new_code", f[S_SUCC_NEW], nw)) < 0)
            goto out;
        const char *m = f[S_SUCC_MAIN];
        if (strcmp(m, "0") != 0 && strcmp(m, "1") != 0) {
            rc = s_fail(x, line, TH_E_INVALID, "main must be 0 or 1, not '%.20s'", m);
            goto out;
        }
        int32_t k = s_set_lookup(s, old);
        if (m[0] == '0' || k == S_NONE)
            continue;
        if (fill[k][0]) {
            rc = s_fail(x, line, TH_E_INVALID, "a second main successor for '%s'", old);
            goto out;
        }
        snprintf(fill[k], TH_UNIT_MAX, "%s", nw);
    }
    if (rc < 0) {
        rc = s_fail(x, th_csv_line(c), rc, "%s",
                    rc == TH_E_LIMIT ? "CSV field or field count limit" : th_strerror(rc));
        goto out;
    }
    if (header)
        rc = s_fail(x, 0, TH_E_PARSE, "empty successor mapping");
out:
    th_csv_destroy(&c);
    return rc;
}

int
th_units_load_successors(th_units_t *u, const char *set, const char *origin,
                         const char *text, size_t len, char *errbuf, size_t errcap)
{
    s_ctx_t x = {origin ? origin : "successors", errbuf, errcap};
    if (errbuf && errcap)
        errbuf[0] = '\0';
    s_set_t *s = NULL;
    for (size_t i = 0; u && set && i < u->nsets; i++)
        if (strcmp(u->sets[i]->name, set) == 0)
            s = u->sets[i];
    if (!s || (!text && len))
        return s_fail(&x, 0, TH_E_USAGE, "no unit set '%s' to fill in", set ? set : "");
    char (*fill)[TH_UNIT_MAX] = th_calloc(s->n ? s->n : 1, sizeof *fill);
    if (!fill)
        return -ENOMEM;
    int rc = s_succ_parse(s, &x, text ? text : "", len, fill);
    int filled = 0;
    for (size_t k = 0; rc >= 0 && k < s->n; k++) {
        if (fill[k][0] && !s->units[k].pub.successor[0]) {
            snprintf(s->units[k].pub.successor, TH_UNIT_MAX, "%s", fill[k]);
            filled++;
        }
    }
    th_free(fill);
    return rc < 0 ? rc : filled;
}

const th_unit_t *
th_units_successor(const th_units_t *u, const th_unit_t *unit, int32_t day)
{
    if (!unit || day < unit->valid_from)
        return NULL;
    for (int step = 0; unit && step < 16; step++) {
        if (s_in_force(unit, day))
            return unit;
        if (unit->successor[0]) {
            const th_unit_t *next = NULL;
            if (unit->valid_to < INT32_MAX)
                next = th_units_find(u, unit->successor, unit->valid_to + 1);
            if (!next)
                next = th_units_find(u, unit->successor, day);
            unit = next;
            continue;
        }
        const th_unit_t *same = th_units_find(u, unit->code, day);
        if (same && strcmp(same->name, unit->name) == 0 &&
            strcmp(same->level, unit->level) == 0)
            return same;
        unit = th_units_parent(u, unit);
    }
    return NULL;
}

/* ---- registry ------------------------------------------------------------- */

th_units_t *
th_units_new(void)
{
    return th_calloc(1, sizeof(th_units_t));
}

void
th_units_destroy(th_units_t **p)
{
    if (!p || !*p)
        return;
    for (size_t i = 0; i < (*p)->nsets; i++)
        s_set_free((*p)->sets[i]);
    th_free((*p)->sets);
    th_free(*p);
    *p = NULL;
}

/* Finds code in force on day: its set and index. */
static bool
s_find(const th_units_t *u, const char *code, int32_t day, const s_set_t **set, int32_t *idx)
{
    if (!u || !code)
        return false;
    for (size_t i = u->nsets; i-- > 0;) {
        const s_set_t *s = u->sets[i];
        int32_t k = s_set_lookup(s, code);
        if (k != S_NONE && s_in_force(&s->units[k].pub, day)) {
            *set = s;
            *idx = k;
            return true;
        }
    }
    return false;
}

const th_unit_t *
th_units_find(const th_units_t *u, const char *code, int32_t day)
{
    const s_set_t *s;
    int32_t k;
    return s_find(u, code, day, &s, &k) ? &s->units[k].pub : NULL;
}

static const s_set_t *
s_set_named(const th_units_t *u, const char *set)
{
    for (size_t i = 0; u && set && i < u->nsets; i++) {
        if (strcmp(u->sets[i]->name, set) == 0)
            return u->sets[i];
    }
    return NULL;
}

const th_unit_t *
th_units_find_in_set(const th_units_t *u, const char *set, const char *code)
{
    const s_set_t *s = s_set_named(u, set);
    if (!s || !code)
        return NULL;
    int32_t k = s_set_lookup(s, code);
    return k == S_NONE ? NULL : &s->units[k].pub;
}

const th_unit_t *
th_units_find_latest(const th_units_t *u, const char *code)
{
    for (size_t i = u ? u->nsets : 0; i-- > 0;) {
        int32_t k = code ? s_set_lookup(u->sets[i], code) : S_NONE;
        if (k != S_NONE)
            return &u->sets[i]->units[k].pub;
    }
    return NULL;
}

int32_t
th_units_day_for(const th_unit_t *unit, int32_t day)
{
    if (day < unit->valid_from)
        return unit->valid_from;
    if (day > unit->valid_to)
        return unit->valid_to;
    return day;
}

int32_t
th_units_tree_day(const th_units_t *u, const char *code, int32_t day, const th_unit_t **unit)
{
    const th_unit_t *x = th_units_find(u, code, day);
    if (!x && (x = th_units_find_latest(u, code)))
        day = th_units_day_for(x, day);
    if (unit)
        *unit = x;
    return day;
}

const th_unit_t *
th_units_parent(const th_units_t *u, const th_unit_t *unit)
{
    if (!unit)
        return NULL;
    const s_set_t *s = s_set_named(u, unit->set);
    if (!s)
        return NULL;
    /* pub is the first member, so the unit's index follows from its address. */
    const s_unit_t *su = (const s_unit_t *)(const void *)unit;
    int32_t p = su->parent;
    return p == S_NONE ? NULL : &s->units[p].pub;
}

int
th_units_each_child(const th_units_t *u, const char *code, int32_t day,
                    int (*cb)(const th_unit_t *c, void *ctx), void *ctx)
{
    const s_set_t *s;
    int32_t k;
    if (!s_find(u, code, day, &s, &k))
        return TH_E_UNIT;
    for (int32_t c = s->units[k].first_child; c != S_NONE; c = s->units[c].next_sib) {
        if (!s_in_force(&s->units[c].pub, day))
            continue;
        int rc = cb(&s->units[c].pub, ctx);
        if (rc)
            return rc;
    }
    return 0;
}

/* First sibling from c on (c included) in force on day. */
static int32_t
s_next_in_force(const s_set_t *s, int32_t c, int32_t day)
{
    while (c != S_NONE && !s_in_force(&s->units[c].pub, day))
        c = s->units[c].next_sib;
    return c;
}

int
th_units_each_in_subtree(const th_units_t *u, const char *code, int32_t day, const char *level,
                         int (*cb)(const th_unit_t *c, void *ctx), void *ctx)
{
    const s_set_t *s;
    int32_t root;
    if (!s_find(u, code, day, &s, &root))
        return TH_E_UNIT;
    /* Pre-order walk over first_child / next_sib / parent links: no stack,
       so a deep tree cannot exhaust it. */
    int32_t k = root;
    for (;;) {
        const th_unit_t *pu = &s->units[k].pub;
        if (!level || strcmp(pu->level, level) == 0) {
            int rc = cb(pu, ctx);
            if (rc)
                return rc;
        }
        int32_t next = s_next_in_force(s, s->units[k].first_child, day);
        while (next == S_NONE) {
            if (k == root)
                return 0;
            next = s_next_in_force(s, s->units[k].next_sib, day);
            if (next == S_NONE)
                k = s->units[k].parent;
        }
        k = next;
    }
}

bool
th_units_in_subtree(const th_units_t *u, const char *ancestor, const char *code, int32_t day)
{
    const s_set_t *s;
    int32_t k;
    if (!ancestor || !s_find(u, code, day, &s, &k))
        return false;
    for (; k != S_NONE; k = s->units[k].parent) {
        if (strcmp(s->units[k].pub.code, ancestor) == 0)
            return true;
    }
    return false;
}

int
th_units_each(const th_units_t *u, int32_t day, const char *level,
              int (*cb)(const th_unit_t *c, void *ctx), void *ctx)
{
    for (size_t i = 0; u && i < u->nsets; i++) {
        const s_set_t *s = u->sets[i];
        for (size_t k = 0; k < s->n; k++) {
            const th_unit_t *pu = &s->units[k].pub;
            if (!s_in_force(pu, day) || (level && strcmp(pu->level, level) != 0))
                continue;
            int rc = cb(pu, ctx);
            if (rc)
                return rc;
        }
    }
    return 0;
}

size_t
th_units_count(const th_units_t *u)
{
    size_t n = 0;
    for (size_t i = 0; u && i < u->nsets; i++)
        n += u->sets[i]->n;
    return n;
}

size_t
th_units_set_count(const th_units_t *u, const char *set)
{
    const s_set_t *s = s_set_named(u, set);
    return s ? s->n : 0;
}
