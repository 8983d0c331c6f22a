/*  validate: typed values from what users type, record validation against
    a form, computed ratios (see validate.h). Messages are Vietnamese and
    shown to users as they are. */
#include "validate.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "codec.h"
#include "err.h"
#include "mem.h"
#include "vnnum.h"

/* ---- values typed by users -------------------------------------------------- */

#define S_MSG_INT   "Phải là số nguyên"
#define S_MSG_DEC   "Phải là số (ví dụ: 12,5 hoặc 1.234)"
#define S_MSG_BIG   "Số quá lớn"
#define S_MSG_EMPTY "Chưa nhập giá trị"

int
th_form_parse_value(const th_indicator_t *ind, const char *text, th_value_t *out,
                    const char **msg)
{
    const char *dummy;
    if (!msg)
        msg = &dummy;
    *msg = NULL;
    if (!ind || !text || !out)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    snprintf(out->code, sizeof out->code, "%s", ind->code);
    if (ind->computed) {
        *msg = "Chỉ tiêu này được tính tự động, không nhập";
        return TH_E_INVALID;
    }
    size_t n = strlen(text);
    const char *s = text;
    while (n && th_form_space(*s)) {
        s++;
        n--;
    }
    while (n && th_form_space(s[n - 1]))
        n--;
    switch (ind->type) {
    case TH_IT_INT:
    case TH_IT_DEC: {
        if (n == 0) {
            *msg = S_MSG_EMPTY;
            return TH_E_INVALID;
        }
        bool want_int = ind->type == TH_IT_INT;
        int rc = want_int ? th_vnnum_parse_int(s, n, &out->u.i)
                          : th_vnnum_parse_dec(s, n, &out->u.d);
        if (rc == -ERANGE) {
            *msg = S_MSG_BIG;
            return TH_E_INVALID;
        }
        if (rc) {
            *msg = want_int ? S_MSG_INT : S_MSG_DEC;
            return TH_E_INVALID;
        }
        out->kind = want_int ? TH_V_INT : TH_V_DEC;
        return 0;
    }
    case TH_IT_BOOL: {
        bool b;
        char low[16];
        if (n == 0) {
            b = false;
        } else if (n < sizeof low) {
            memcpy(low, s, n);
            low[n] = '\0';
            if (strcmp(low, "x") == 0 || strcmp(low, "X") == 0)
                b = true;
            else if (th_yesno_parse(low, &b) != 0) {
                *msg = "Phải là Có hoặc Không";
                return TH_E_INVALID;
            }
        } else {
            *msg = "Phải là Có hoặc Không";
            return TH_E_INVALID;
        }
        out->kind = TH_V_BOOL;
        out->u.b = b;
        return 0;
    }
    case TH_IT_ENUM: {
        const char *code = NULL;
        if (n == 0) {
            *msg = S_MSG_EMPTY;
            return TH_E_INVALID;
        }
        for (size_t i = 0; i < ind->noptions && !code; i++)
            if (strlen(ind->options[i].code) == n
                && strncasecmp(ind->options[i].code, s, n) == 0)
                code = ind->options[i].code;
        for (size_t i = 0; i < ind->noptions && !code; i++)
            if (strlen(ind->options[i].label) == n && memcmp(ind->options[i].label, s, n) == 0)
                code = ind->options[i].code;
        if (!code) {
            *msg = "Không có trong danh sách lựa chọn";
            return TH_E_INVALID;
        }
        out->kind = TH_V_TEXT;
        if (!(out->u.s = th_strdup(code)))
            return -ENOMEM;
        return 0;
    }
    case TH_IT_TEXT:
        if (!th_codec_utf8_valid((const uint8_t *)s, n)) {
            *msg = "Văn bản chứa ký tự không hợp lệ (không phải UTF-8)";
            return TH_E_INVALID;
        }
        if (n >= TH_TEXT_MAX) {
            *msg = "Văn bản quá dài";
            return TH_E_INVALID;
        }
        out->kind = TH_V_TEXT;
        if (!(out->u.s = th_strndup(s, n)))
            return -ENOMEM;
        return 0;
    }
    *msg = "Loại chỉ tiêu không hợp lệ";
    return TH_E_INVALID;
}

/* ---- validation ------------------------------------------------------------- */

void
th_problems_clear(th_problems_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        th_free(p->items[i].message);
    th_free(p->items);
    p->items = NULL;
    p->n = 0;
}

static int s_problem(th_problems_t *out, const char *code, const char *label,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
s_problem(th_problems_t *out, const char *code, const char *label, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = th_vasprintf(fmt, ap);
    va_end(ap);
    if (!m)
        return -ENOMEM;
    th_problem_t *ni = th_realloc(out->items, (out->n + 1) * sizeof *ni);
    if (!ni) {
        th_free(m);
        return -ENOMEM;
    }
    out->items = ni;
    th_problem_t *p = &ni[out->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->code, sizeof p->code, "%s", code);
    p->label = label;
    p->message = m;
    return 0;
}

typedef struct {
    const th_form_t *f;
    const th_record_t *r;
} s_lookup_ctx_t;

static bool
s_numeric_value(const th_value_t *v, double *out)
{
    switch (v->kind) {
    case TH_V_INT: *out = (double)v->u.i; return true;
    case TH_V_DEC: *out = v->u.d; return true;
    case TH_V_BOOL: *out = v->u.b ? 1 : 0; return true;
    default: return false;
    }
}

static int
s_lookup(const char *ident, double *v, void *ctx)
{
    const s_lookup_ctx_t *c = ctx;
    const th_indicator_t *ind = th_form_indicator(c->f, ident);
    if (!ind)
        return TH_E_NOTFOUND;
    if (ind->computed)
        return th_form_computed(c->f, ind, c->r, v);
    const th_value_t *val = th_record_get(c->r, ident);
    if (!val || !s_numeric_value(val, v))
        return TH_E_NOTFOUND;
    return 0;
}

static int
s_check_value(const th_form_t *f, const th_value_t *v, th_problems_t *out)
{
    const th_indicator_t *ind = th_form_indicator(f, v->code);
    if (!ind)
        return s_problem(out, v->code, NULL, "Chỉ tiêu %s không có trong biểu mẫu", v->code);
    const char *L = ind->label;
    if (ind->computed)
        return s_problem(out, ind->code, L, "Chỉ tiêu này được tính tự động, không nhập");
    double d = 0;
    switch (ind->type) {
    case TH_IT_INT:
        if (v->kind != TH_V_INT)
            return s_problem(out, ind->code, L, "Phải là số nguyên");
        d = (double)v->u.i;
        break;
    case TH_IT_DEC:
        if (v->kind != TH_V_DEC && v->kind != TH_V_INT)
            return s_problem(out, ind->code, L, "Phải là số");
        d = v->kind == TH_V_INT ? (double)v->u.i : v->u.d;
        if (!isfinite(d))
            return s_problem(out, ind->code, L, "Phải là số");
        break;
    case TH_IT_BOOL:
        if (v->kind != TH_V_BOOL)
            return s_problem(out, ind->code, L, "Phải là Có hoặc Không");
        return 0;
    case TH_IT_TEXT:
        if (v->kind != TH_V_TEXT || !v->u.s)
            return s_problem(out, ind->code, L, "Phải là văn bản");
        if (!th_codec_utf8_valid((const uint8_t *)v->u.s, strlen(v->u.s)))
            return s_problem(out, ind->code, L,
                             "Văn bản chứa ký tự không hợp lệ (không phải UTF-8)");
        if (strlen(v->u.s) >= TH_TEXT_MAX)
            return s_problem(out, ind->code, L, "Văn bản quá dài");
        return 0;
    case TH_IT_ENUM:
        if (v->kind != TH_V_TEXT || !v->u.s)
            return s_problem(out, ind->code, L, "Phải chọn một giá trị trong danh sách");
        for (size_t i = 0; i < ind->noptions; i++)
            if (strcmp(ind->options[i].code, v->u.s) == 0)
                return 0;
        return s_problem(out, ind->code, L, "Giá trị \"%.64s\" không có trong danh sách lựa chọn",
                         v->u.s);
    }
    char b[48];
    if (ind->has_min && d < ind->min) {
        th_vnnum_format_g(ind->min, b, sizeof b);
        return s_problem(out, ind->code, L, "Không được nhỏ hơn %s", b);
    }
    if (ind->has_max && d > ind->max) {
        th_vnnum_format_g(ind->max, b, sizeof b);
        return s_problem(out, ind->code, L, "Không được lớn hơn %s", b);
    }
    return 0;
}

static bool
s_blank(const char *s)
{
    for (; s && *s; s++)
        if (!th_form_space(*s))
            return false;
    return true;
}

int
th_form_validate(const th_form_t *f, const th_record_t *r, bool submitting, th_problems_t *out)
{
    if (!f || !r || !out)
        return -EINVAL;
    th_problems_clear(out);
    int rc = 0;
    for (size_t i = 0; i < r->nvalues && !rc; i++)
        rc = s_check_value(f, &r->values[i], out);
    if (submitting) {
        for (size_t i = 0; i < f->nindicators && !rc; i++) {
            const th_indicator_t *ind = &f->indicators[i];
            if (!ind->required)
                continue;
            const th_value_t *v = th_record_get(r, ind->code);
            if (!v || (v->kind == TH_V_TEXT && s_blank(v->u.s)))
                rc = s_problem(out, ind->code, ind->label, "Bắt buộc phải nhập");
        }
        s_lookup_ctx_t ctx = { f, r };
        for (size_t i = 0; i < f->nrules && !rc; i++) {
            const th_form_rule_t *fr = &f->rules[i];
            th_rule_result_t res;
            rc = th_rule_eval(fr->rule, s_lookup, &ctx, &res);
            if (rc == 0 && res == TH_RULE_FALSE) {
                const char *code = th_rule_ident_at(fr->rule, 0);
                const th_indicator_t *ind = code ? th_form_indicator(f, code) : NULL;
                rc = s_problem(out, code ? code : "", ind ? ind->label : NULL,
                               "%s (quy tắc %s)", fr->message, fr->id);
            }
        }
    }
    if (rc) {
        th_problems_clear(out);
        return rc;
    }
    return out->n ? TH_E_REJECTED : 0;
}

int
th_form_computed(const th_form_t *f, const th_indicator_t *ind, const th_record_t *r,
                 double *v)
{
    if (!f || !ind || !r || !v)
        return -EINVAL;
    if (ind->agg != TH_AGG_RATIO)
        return TH_E_INVALID;
    const th_value_t *a = th_record_get(r, ind->numerator);
    const th_value_t *b = th_record_get(r, ind->denominator);
    double x, y;
    if (!a || !b || !s_numeric_value(a, &x) || !s_numeric_value(b, &y) || y == 0)
        return TH_E_NOTFOUND;
    double q = ind->scale * x / y;
    if (!isfinite(q))
        return TH_E_NOTFOUND;
    *v = q;
    return 0;
}

