/*  forms: the form model's names, lookups and destruction, and the set of
    forms (newest version per id, sorted by id). Forms are made by the INI
    reader (form_ini.c), which fills the public struct and calls
    th_form_index last. */
#include "forms.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "mem.h"

/* ---- names ---------------------------------------------------------------- */

static const char *const s_itype_names[] = { NULL, "int", "decimal", "bool", "text", "enum" };
static const char *const s_agg_names[] = { NULL, "sum", "count_true", "min", "max",
                                           "mean", "ratio", "text" };

const char *
th_itype_name(th_itype_t t)
{
    return (t >= TH_IT_INT && t <= TH_IT_ENUM) ? s_itype_names[t] : "?";
}

const char *
th_agg_name(th_agg_t a)
{
    return (a >= TH_AGG_SUM && a <= TH_AGG_TEXT) ? s_agg_names[a] : "?";
}

int
th_itype_parse(const char *s, th_itype_t *out)
{
    for (int i = TH_IT_INT; s && i <= TH_IT_ENUM; i++)
        if (strcmp(s, s_itype_names[i]) == 0) {
            *out = (th_itype_t)i;
            return 0;
        }
    return TH_E_INVALID;
}

int
th_agg_parse(const char *s, th_agg_t *out)
{
    for (int i = TH_AGG_SUM; s && i <= TH_AGG_TEXT; i++)
        if (strcmp(s, s_agg_names[i]) == 0) {
            *out = (th_agg_t)i;
            return 0;
        }
    return TH_E_INVALID;
}

/* ---- yes/no words ------------------------------------------------------------ */

/* Lowercases ASCII and Latin-1 letters (enough for "CÓ", "KHÔNG"). */
static void
s_lower(const char *s, size_t n, char *out, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; i < n && j + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        else if (c >= 0x80 && c <= 0x9E && i > 0 && (unsigned char)s[i - 1] == 0xC3
                 && c != 0x97)
            c = (unsigned char)(c + 0x20);
        out[j++] = (char)c;
    }
    out[j] = '\0';
}

bool
th_form_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int
th_yesno_parse(const char *s, bool *out)
{
    char low[16];
    size_t n = strlen(s);
    if (n >= sizeof low)
        return TH_E_INVALID;
    s_lower(s, n, low, sizeof low);
    static const char *const yes[] = { "yes", "true", "1", "có", "co", NULL };
    static const char *const no[] = { "no", "false", "0", "không", "khong", NULL };
    for (int i = 0; yes[i]; i++)
        if (strcmp(low, yes[i]) == 0) {
            *out = true;
            return 0;
        }
    for (int i = 0; no[i]; i++)
        if (strcmp(low, no[i]) == 0) {
            *out = false;
            return 0;
        }
    return TH_E_INVALID;
}

/* ---- destruction ------------------------------------------------------------ */

void
th_form_destroy(th_form_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    th_form_t *f = *self_p;
    th_free(f->title);
    th_free(f->levels);
    th_free(f->deadlines);
    for (size_t i = 0; i < f->nsections; i++)
        th_free(f->sections[i].title);
    th_free(f->sections);
    for (size_t i = 0; i < f->nindicators; i++) {
        th_indicator_t *ind = &f->indicators[i];
        th_free(ind->label);
        th_free(ind->unit);
        th_free(ind->help);
        for (size_t j = 0; j < ind->noptions; j++)
            th_free(ind->options[j].label);
        th_free(ind->options);
    }
    th_free(f->indicators);
    for (size_t i = 0; i < f->nrules; i++) {
        th_free(f->rules[i].expr);
        th_free(f->rules[i].message);
        th_rule_destroy(&f->rules[i].rule);
    }
    th_free(f->rules);
    th_free(f->origin);
    th_free(f->source);
    th_free(f->by_code);
    th_free(f);
    *self_p = NULL;
}

/* ---- lookups ---------------------------------------------------------------- */

static int
s_cmp_ind_ptr(const void *a, const void *b)
{
    const th_indicator_t *x = *(const th_indicator_t *const *)a;
    const th_indicator_t *y = *(const th_indicator_t *const *)b;
    return strcmp(x->code, y->code);
}

int
th_form_index(th_form_t *f)
{
    if (!f)
        return -EINVAL;
    th_free(f->by_code);
    f->by_code = NULL;
    if (f->nindicators == 0)
        return 0;
    const th_indicator_t **idx = th_calloc(f->nindicators, sizeof *idx);
    if (!idx)
        return -ENOMEM;
    for (size_t i = 0; i < f->nindicators; i++)
        idx[i] = &f->indicators[i];
    qsort(idx, f->nindicators, sizeof *idx, s_cmp_ind_ptr);
    f->by_code = idx;
    return 0;
}

static int
s_cmp_key_ind(const void *key, const void *elem)
{
    return strcmp(key, (*(const th_indicator_t *const *)elem)->code);
}

const th_indicator_t *
th_form_indicator(const th_form_t *f, const char *code)
{
    if (!f || !code)
        return NULL;
    if (!f->by_code) {   /* before th_form_index: while parsing */
        for (size_t i = 0; i < f->nindicators; i++)
            if (strcmp(f->indicators[i].code, code) == 0)
                return &f->indicators[i];
        return NULL;
    }
    const th_indicator_t *const *p = bsearch(code, f->by_code, f->nindicators,
                                             sizeof *f->by_code, s_cmp_key_ind);
    return p ? *p : NULL;
}

const th_form_section_t *
th_form_section(const th_form_t *f, const char *id)
{
    for (size_t i = 0; f && id && i < f->nsections; i++)
        if (strcmp(f->sections[i].id, id) == 0)
            return &f->sections[i];
    return NULL;
}

const th_deadline_spec_t *
th_form_deadline(const th_form_t *f, const char *level)
{
    for (size_t i = 0; f && level && i < f->ndeadlines; i++)
        if (strcmp(f->deadlines[i].level, level) == 0)
            return &f->deadlines[i].spec;
    return NULL;
}

bool
th_form_cutoff(const th_form_t *f, const th_period_t *p, int32_t *from, int32_t *to)
{
    if (!f->has_cutoff)
        return false;
    *from = th_period_deadline(p, &f->cutoff_from);
    *to = th_period_deadline(p, &f->cutoff_to);
    return true;
}

const char *
th_form_cutoff_text(const th_form_t *f, const th_period_t *p, char *buf, size_t cap)
{
    int32_t a, b;
    char da[11], db[11];
    buf[0] = '\0';
    if (!th_form_cutoff(f, p, &a, &b))
        return buf;
    th_date_format_vn(a, da);
    th_date_format_vn(b, db);
    snprintf(buf, cap, "Số liệu tính từ ngày %s đến ngày %s", da, db);
    return buf;
}

bool
th_form_reported_by(const th_form_t *f, const char *level)
{
    for (size_t i = 0; f && level && i < f->nlevels; i++)
        if (strcmp(f->levels[i], level) == 0)
            return true;
    return false;
}

/* ---- the set of forms ------------------------------------------------------- */

struct th_forms {
    th_form_t **items;   /* owned, sorted by id */
    size_t n, cap;
};

th_forms_t *
th_forms_new(void)
{
    return th_calloc(1, sizeof(th_forms_t));
}

void
th_forms_destroy(th_forms_t **p)
{
    if (!p || !*p)
        return;
    th_forms_t *fs = *p;
    for (size_t i = 0; i < fs->n; i++)
        th_form_destroy(&fs->items[i]);
    th_free(fs->items);
    th_free(fs);
    *p = NULL;
}

/* Index of id, or of where it would be inserted (*found false). */
static size_t
s_find(const th_forms_t *fs, const char *id, bool *found)
{
    size_t lo = 0, hi = fs->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(fs->items[mid]->id, id);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

int
th_forms_add(th_forms_t *fs, th_form_t **form)
{
    if (!form || !*form)
        return -EINVAL;
    if (!fs) {
        th_form_destroy(form);
        return -EINVAL;
    }
    th_form_t *f = *form;
    *form = NULL;
    bool found;
    size_t i = s_find(fs, f->id, &found);
    if (found) {
        if (fs->items[i]->version >= f->version) {
            th_form_destroy(&f);
            return TH_E_STALE;
        }
        th_form_destroy(&fs->items[i]);
        fs->items[i] = f;
        return 0;
    }
    if (fs->n == fs->cap) {
        size_t nc = fs->cap ? fs->cap * 2 : 8;
        th_form_t **ni = th_realloc(fs->items, nc * sizeof *ni);
        if (!ni) {
            th_form_destroy(&f);
            return -ENOMEM;
        }
        fs->items = ni;
        fs->cap = nc;
    }
    memmove(fs->items + i + 1, fs->items + i, (fs->n - i) * sizeof *fs->items);
    fs->items[i] = f;
    fs->n++;
    return 0;
}

const th_form_t *
th_forms_get(const th_forms_t *fs, const char *id)
{
    if (!fs || !id)
        return NULL;
    bool found;
    size_t i = s_find(fs, id, &found);
    return found ? fs->items[i] : NULL;
}

size_t
th_forms_count(const th_forms_t *fs)
{
    return fs ? fs->n : 0;
}

const th_form_t *
th_forms_at(const th_forms_t *fs, size_t i)
{
    return (fs && i < fs->n) ? fs->items[i] : NULL;
}
