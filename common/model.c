/*  model: records and values, their copies and invariants. */
#include "model.h"
#include "err.h"
#include "mem.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void
th_record_init(th_record_t *r)
{
    memset(r, 0, sizeof *r);
}

void
th_value_clear(th_value_t *v)
{
    if (v->kind == TH_V_TEXT) {
        th_free(v->u.s);
        v->u.s = NULL;
    }
}

void
th_record_clear(th_record_t *r)
{
    for (size_t i = 0; i < r->nvalues; i++)
        th_value_clear(&r->values[i]);
    th_free(r->values);
    th_free(r->author);
    th_free(r->note);
    th_free(r->doc);
    th_record_init(r);
}

static int
s_value_copy(th_value_t *dst, const th_value_t *src)
{
    *dst = *src;
    if (src->kind == TH_V_TEXT) {
        dst->u.s = th_strdup(src->u.s ? src->u.s : "");
        if (!dst->u.s)
            return -ENOMEM;
    }
    return 0;
}

int
th_record_copy(th_record_t *dst, const th_record_t *src)
{
    th_record_clear(dst);
    *dst = *src;
    dst->author = NULL;
    dst->note = NULL;
    dst->doc = NULL;
    dst->values = NULL;
    dst->nvalues = 0;
    if ((src->author && !(dst->author = th_strdup(src->author))) ||
        (src->note && !(dst->note = th_strdup(src->note))) ||
        (src->doc && !(dst->doc = th_strdup(src->doc))))
        goto oom;
    if (src->nvalues) {
        dst->values = th_calloc(src->nvalues, sizeof *dst->values);
        if (!dst->values)
            goto oom;
        for (size_t i = 0; i < src->nvalues; i++) {
            if (s_value_copy(&dst->values[i], &src->values[i]) < 0)
                goto oom;
            dst->nvalues++;
        }
    }
    return 0;
oom:
    th_record_clear(dst);
    return -ENOMEM;
}

const th_value_t *
th_record_get(const th_record_t *r, const char *code)
{
    size_t lo = 0, hi = r->nvalues;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->values[mid].code, code);
        if (c == 0)
            return &r->values[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int
th_record_set(th_record_t *r, const th_value_t *v)
{
    if (!th_valid_indicator_code(v->code))
        return TH_E_INVALID;
    switch (v->kind) {
    case TH_V_INT:
    case TH_V_BOOL:
        break;
    case TH_V_DEC:
        if (!isfinite(v->u.d))
            return TH_E_INVALID;
        break;
    case TH_V_TEXT:
        if (v->u.s && strlen(v->u.s) >= TH_TEXT_MAX)
            return TH_E_LIMIT;
        break;
    default:
        return TH_E_INVALID;
    }
    th_value_t copy;
    int rc = s_value_copy(&copy, v);
    if (rc < 0)
        return rc;
    size_t pos = 0;
    while (pos < r->nvalues && strcmp(r->values[pos].code, v->code) < 0)
        pos++;
    if (pos < r->nvalues && strcmp(r->values[pos].code, v->code) == 0) {
        th_value_clear(&r->values[pos]);
        r->values[pos] = copy;
        return 0;
    }
    if (r->nvalues >= TH_VALUES_MAX) {
        th_value_clear(&copy);
        return TH_E_LIMIT;
    }
    th_value_t *nv = th_realloc(r->values, (r->nvalues + 1) * sizeof *nv);
    if (!nv) {
        th_value_clear(&copy);
        return -ENOMEM;
    }
    r->values = nv;
    memmove(&nv[pos + 1], &nv[pos], (r->nvalues - pos) * sizeof *nv);
    nv[pos] = copy;
    r->nvalues++;
    return 0;
}

int
th_record_unset(th_record_t *r, const char *code)
{
    const th_value_t *v = th_record_get(r, code);
    if (!v)
        return 0;
    size_t pos = (size_t)(v - r->values);
    th_value_clear(&r->values[pos]);
    memmove(&r->values[pos], &r->values[pos + 1],
            (r->nvalues - pos - 1) * sizeof *r->values);
    r->nvalues--;
    return 1;
}

bool
th_record_values_equal(const th_record_t *a, const th_record_t *b)
{
    if (a->nvalues != b->nvalues)
        return false;
    for (size_t i = 0; i < a->nvalues; i++) {
        const th_value_t *x = &a->values[i], *y = &b->values[i];
        if (strcmp(x->code, y->code) != 0 || x->kind != y->kind)
            return false;
        switch (x->kind) {
        case TH_V_INT: if (x->u.i != y->u.i) return false; break;
        case TH_V_DEC: if (x->u.d != y->u.d) return false; break;
        case TH_V_BOOL: if (x->u.b != y->u.b) return false; break;
        case TH_V_TEXT:
            if (strcmp(x->u.s ? x->u.s : "", y->u.s ? y->u.s : "") != 0)
                return false;
            break;
        }
    }
    return true;
}

int
th_key_make(char *buf, size_t cap, const char *form, const char *period,
            const char *unit)
{
    int n = snprintf(buf, cap, "%s|%s|%s", form, period, unit);
    if (n < 0 || (size_t)n >= cap)
        return TH_E_LIMIT;
    return n;
}

int
th_record_key(const th_record_t *r, char *buf, size_t cap)
{
    return th_key_make(buf, cap, r->form, r->period, r->unit);
}

static bool
s_valid_id(const char *s, size_t max, const char *extra, bool lower_only)
{
    size_t n = 0;
    if (!s || !*s)
        return false;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                  (!lower_only && c >= 'A' && c <= 'Z') ||
                  (c && strchr(extra, c));
        if (!ok || n + 1 >= max)
            return false;
    }
    return true;
}

bool
th_valid_form_id(const char *s)
{
    return s_valid_id(s, TH_FORM_ID_MAX, "._-", true);
}

bool
th_valid_unit_code(const char *s)
{
    return s_valid_id(s, TH_UNIT_MAX, "_-", false);
}

bool
th_valid_indicator_code(const char *s)
{
    return s_valid_id(s, TH_CODE_MAX, "_.", false);
}

int64_t
th_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
