/*  rules: compiles rule expressions into a small node array and evaluates
    them. The whole expression is tokenised first so that every error can
    name a column; parsing is recursive descent with an explicit nesting
    counter so that hostile input cannot exhaust the stack. */
#include "rules.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "mem.h"
#include "model.h"

typedef enum {
    T_END = 0, T_NUM, T_ID, T_LP, T_RP, T_PLUS, T_MINUS, T_STAR, T_SLASH,
    T_LT, T_LE, T_GT, T_GE, T_EQ, T_NE, T_AND, T_OR, T_NOT
} s_tok_kind_t;

typedef struct {
    s_tok_kind_t kind;
    int col;          /* 1-based byte column */
    size_t start, len;
    double num;
} s_tok_t;

typedef enum {
    N_NUM, N_ID, N_NEG, N_NOT, N_ADD, N_SUB, N_MUL, N_DIV,
    N_LT, N_LE, N_GT, N_GE, N_EQ, N_NE, N_AND, N_OR
} s_node_op_t;

typedef struct {
    s_node_op_t op;
    int a, b;         /* child node indexes, -1 when unused */
    double num;       /* N_NUM */
    int ident;        /* N_ID: index into idents */
} s_node_t;

struct th_rule {
    char *text;        /* source expression */
    s_node_t *nodes;   /* node array; root is `root` */
    size_t nnodes;
    int root;
    char **idents;     /* distinct identifiers, first appearance order */
    size_t nidents;
};

typedef struct {
    const char *src;
    s_tok_t *toks;
    size_t ntoks, pos;
    th_rule_t *r;
    size_t cap_nodes;
    int depth;
    int err;
    char *errbuf;
    size_t cap;
} s_parser_t;

static void s_fail(s_parser_t *p, int err, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
s_fail(s_parser_t *p, int err, int col, const char *fmt, ...)
{
    if (p->err)
        return;
    p->err = err;
    if (p->errbuf && p->cap) {
        int n = snprintf(p->errbuf, p->cap, "column %d: ", col);
        if (n >= 0 && (size_t)n < p->cap) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->errbuf + n, p->cap - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
}

static bool s_is_id_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static bool s_is_digit(char c) { return c >= '0' && c <= '9'; }
static bool s_is_id_char(char c) { return s_is_id_start(c) || s_is_digit(c) || c == '.'; }

/* Locale-independent: strtod would follow LC_NUMERIC, and a Vietnamese
   locale reads ',' as the decimal mark. */
static int
s_scan_number(const char *s, size_t *len, double *out)
{
    size_t i = 0;
    double v = 0;
    while (s_is_digit(s[i]))
        v = v * 10 + (s[i++] - '0');
    if (s[i] == '.') {
        i++;
        if (!s_is_digit(s[i]))
            return -1;
        double scale = 1;
        uint64_t frac = 0;
        int nd = 0;
        while (s_is_digit(s[i])) {
            if (nd < 18) {
                frac = frac * 10 + (uint64_t)(s[i] - '0');
                scale *= 10;
                nd++;
            }
            i++;
        }
        v += (double)frac / scale;
    }
    if (s_is_id_start(s[i]) || s[i] == '.')
        return -1;
    *len = i;
    *out = v;
    return 0;
}

static int
s_tokenise(s_parser_t *p)
{
    const char *s = p->src;
    size_t n = strlen(s);
    /* Every token takes at least one byte, plus T_END. */
    p->toks = th_calloc(n + 1, sizeof *p->toks);
    if (!p->toks) {
        p->err = -ENOMEM;
        return -ENOMEM;
    }
    size_t i = 0, k = 0;
    while (i < n) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            i++;
            continue;
        }
        s_tok_t *t = &p->toks[k];
        t->col = (int)i + 1;
        t->start = i;
        size_t len = 1;
        if (s_is_digit(c) || (c == '.' && s_is_digit(s[i + 1]))) {
            if (s_scan_number(s + i, &len, &t->num) < 0) {
                s_fail(p, TH_E_PARSE, t->col, "malformed number");
                return p->err;
            }
            t->kind = T_NUM;
        } else if (s_is_id_start(c)) {
            while (s_is_id_char(s[i + len]))
                len++;
            if (len == 3 && strncasecmp(s + i, "and", 3) == 0)
                t->kind = T_AND;
            else if (len == 2 && strncasecmp(s + i, "or", 2) == 0)
                t->kind = T_OR;
            else if (len == 3 && strncasecmp(s + i, "not", 3) == 0)
                t->kind = T_NOT;
            else {
                if (len >= TH_CODE_MAX) {
                    s_fail(p, TH_E_LIMIT, t->col,
                           "identifier longer than %d bytes", TH_CODE_MAX - 1);
                    return p->err;
                }
                t->kind = T_ID;
            }
        } else {
            char d = s[i + 1];
            switch (c) {
            case '(': t->kind = T_LP; break;
            case ')': t->kind = T_RP; break;
            case '+': t->kind = T_PLUS; break;
            case '-': t->kind = T_MINUS; break;
            case '*': t->kind = T_STAR; break;
            case '/': t->kind = T_SLASH; break;
            case '<':
                if (d == '=') { t->kind = T_LE; len = 2; }
                else if (d == '>') { t->kind = T_NE; len = 2; }
                else t->kind = T_LT;
                break;
            case '>':
                if (d == '=') { t->kind = T_GE; len = 2; }
                else t->kind = T_GT;
                break;
            case '=':
                t->kind = T_EQ;
                if (d == '=')
                    len = 2;
                break;
            case '!':
                if (d == '=') { t->kind = T_NE; len = 2; }
                else t->kind = T_NOT;
                break;
            case '&':
                if (d == '&') { t->kind = T_AND; len = 2; break; }
                s_fail(p, TH_E_PARSE, t->col, "unexpected character '&' (use '&&' or 'and')");
                return p->err;
            case '|':
                if (d == '|') { t->kind = T_OR; len = 2; break; }
                s_fail(p, TH_E_PARSE, t->col, "unexpected character '|' (use '||' or 'or')");
                return p->err;
            default:
                if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
                    s_fail(p, TH_E_PARSE, t->col, "unexpected character '%c'", c);
                else
                    s_fail(p, TH_E_PARSE, t->col, "unexpected byte 0x%02x",
                           (unsigned)(unsigned char)c);
                return p->err;
            }
        }
        t->len = len;
        i += len;
        k++;
    }
    p->toks[k].kind = T_END;
    p->toks[k].col = (int)n + 1;
    p->toks[k].start = n;
    p->ntoks = k + 1;
    return 0;
}

static int
s_node(s_parser_t *p, s_node_op_t op, int a, int b)
{
    if (p->err)
        return -1;
    th_rule_t *r = p->r;
    if (r->nnodes == p->cap_nodes) {
        size_t nc = p->cap_nodes ? p->cap_nodes * 2 : 16;
        s_node_t *nn = th_realloc(r->nodes, nc * sizeof *nn);
        if (!nn) {
            p->err = -ENOMEM;
            return -1;
        }
        r->nodes = nn;
        p->cap_nodes = nc;
    }
    s_node_t *n = &r->nodes[r->nnodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->a = a;
    n->b = b;
    n->ident = -1;
    return (int)r->nnodes++;
}

static int
s_ident(s_parser_t *p, const s_tok_t *t)
{
    th_rule_t *r = p->r;
    for (size_t i = 0; i < r->nidents; i++)
        if (strlen(r->idents[i]) == t->len
            && memcmp(r->idents[i], p->src + t->start, t->len) == 0)
            return (int)i;
    char **ni = th_realloc(r->idents, (r->nidents + 1) * sizeof *ni);
    if (!ni) {
        p->err = -ENOMEM;
        return -1;
    }
    r->idents = ni;
    char *s = th_strndup(p->src + t->start, t->len);
    if (!s) {
        p->err = -ENOMEM;
        return -1;
    }
    r->idents[r->nidents] = s;
    return (int)r->nidents++;
}

static const s_tok_t *s_peek(s_parser_t *p) { return &p->toks[p->pos]; }

static void
s_describe(const s_parser_t *p, const s_tok_t *t, char *buf, size_t cap)
{
    if (t->kind == T_END)
        snprintf(buf, cap, "end of expression");
    else
        snprintf(buf, cap, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), p->src + t->start);
}

static int s_parse_or(s_parser_t *p);

static bool
s_enter(s_parser_t *p, int col)
{
    if (++p->depth > TH_RULE_DEPTH_MAX) {
        s_fail(p, TH_E_LIMIT, col, "nesting deeper than %d", TH_RULE_DEPTH_MAX);
        return false;
    }
    return true;
}

static int
s_parse_unary(s_parser_t *p)
{
    if (p->err)
        return -1;
    const s_tok_t *t = s_peek(p);
    if (t->kind == T_MINUS) {
        if (!s_enter(p, t->col))
            return -1;
        p->pos++;
        int a = s_parse_unary(p);
        p->depth--;
        return s_node(p, N_NEG, a, -1);
    }
    if (t->kind == T_NUM) {
        p->pos++;
        int n = s_node(p, N_NUM, -1, -1);
        if (n >= 0)
            p->r->nodes[n].num = t->num;
        return n;
    }
    if (t->kind == T_ID) {
        p->pos++;
        int id = s_ident(p, t);
        int n = s_node(p, N_ID, -1, -1);
        if (n >= 0)
            p->r->nodes[n].ident = id;
        return n;
    }
    if (t->kind == T_LP) {
        if (!s_enter(p, t->col))
            return -1;
        p->pos++;
        int a = s_parse_or(p);
        if (p->err)
            return -1;
        const s_tok_t *c = s_peek(p);
        if (c->kind != T_RP) {
            char what[64];
            s_describe(p, c, what, sizeof what);
            s_fail(p, TH_E_PARSE, c->col, "expected ')' but found %s", what);
            return -1;
        }
        p->pos++;
        p->depth--;
        return a;
    }
    char what[64];
    s_describe(p, t, what, sizeof what);
    s_fail(p, TH_E_PARSE, t->col, "expected an operand but found %s", what);
    return -1;
}

static int
s_parse_term(s_parser_t *p)
{
    int a = s_parse_unary(p);
    while (!p->err) {
        s_tok_kind_t k = s_peek(p)->kind;
        if (k != T_STAR && k != T_SLASH)
            break;
        p->pos++;
        int b = s_parse_unary(p);
        a = s_node(p, k == T_STAR ? N_MUL : N_DIV, a, b);
    }
    return a;
}

static int
s_parse_sum(s_parser_t *p)
{
    int a = s_parse_term(p);
    while (!p->err) {
        s_tok_kind_t k = s_peek(p)->kind;
        if (k != T_PLUS && k != T_MINUS)
            break;
        p->pos++;
        int b = s_parse_term(p);
        a = s_node(p, k == T_PLUS ? N_ADD : N_SUB, a, b);
    }
    return a;
}

static int
s_parse_cmp(s_parser_t *p)
{
    int a = s_parse_sum(p);
    if (p->err)
        return -1;
    s_node_op_t op;
    switch (s_peek(p)->kind) {
    case T_LT: op = N_LT; break;
    case T_LE: op = N_LE; break;
    case T_GT: op = N_GT; break;
    case T_GE: op = N_GE; break;
    case T_EQ: op = N_EQ; break;
    case T_NE: op = N_NE; break;
    default: return a;
    }
    p->pos++;
    int b = s_parse_sum(p);
    return s_node(p, op, a, b);
}

static int
s_parse_not(s_parser_t *p)
{
    if (p->err)
        return -1;
    const s_tok_t *t = s_peek(p);
    if (t->kind == T_NOT) {
        if (!s_enter(p, t->col))
            return -1;
        p->pos++;
        int a = s_parse_not(p);
        p->depth--;
        return s_node(p, N_NOT, a, -1);
    }
    return s_parse_cmp(p);
}

static int
s_parse_and(s_parser_t *p)
{
    int a = s_parse_not(p);
    while (!p->err && s_peek(p)->kind == T_AND) {
        p->pos++;
        int b = s_parse_not(p);
        a = s_node(p, N_AND, a, b);
    }
    return a;
}

static int
s_parse_or(s_parser_t *p)
{
    int a = s_parse_and(p);
    while (!p->err && s_peek(p)->kind == T_OR) {
        p->pos++;
        int b = s_parse_and(p);
        a = s_node(p, N_OR, a, b);
    }
    return a;
}

th_rule_t *
th_rule_compile(const char *expr, char *errbuf, size_t cap, int *err)
{
    s_parser_t p;
    memset(&p, 0, sizeof p);
    p.errbuf = errbuf;
    p.cap = cap;
    p.src = expr;
    if (errbuf && cap)
        errbuf[0] = '\0';
    if (!expr) {
        if (errbuf && cap)
            snprintf(errbuf, cap, "no expression");
        if (err)
            *err = -EINVAL;
        return NULL;
    }
    size_t n = strlen(expr);
    if (n > TH_RULE_EXPR_MAX) {
        s_fail(&p, TH_E_LIMIT, TH_RULE_EXPR_MAX + 1,
               "expression longer than %d bytes", TH_RULE_EXPR_MAX);
        if (err)
            *err = p.err;
        return NULL;
    }
    p.r = th_calloc(1, sizeof *p.r);
    if (!p.r || !(p.r->text = th_strdup(expr))) {
        p.err = -ENOMEM;
        goto fail;
    }
    if (s_tokenise(&p) < 0)
        goto fail;
    p.r->root = s_parse_or(&p);
    if (!p.err && s_peek(&p)->kind != T_END) {
        char what[64];
        s_describe(&p, s_peek(&p), what, sizeof what);
        s_fail(&p, TH_E_PARSE, s_peek(&p)->col,
               "unexpected %s after a complete expression", what);
    }
    if (p.err)
        goto fail;
    th_free(p.toks);
    if (err)
        *err = 0;
    return p.r;
fail:
    if (p.err == -ENOMEM && errbuf && cap)
        snprintf(errbuf, cap, "out of memory");
    th_free(p.toks);
    th_rule_destroy(&p.r);
    if (err)
        *err = p.err;
    return NULL;
}

void
th_rule_destroy(th_rule_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    th_rule_t *r = *self_p;
    for (size_t i = 0; i < r->nidents; i++)
        th_free(r->idents[i]);
    th_free(r->idents);
    th_free(r->nodes);
    th_free(r->text);
    th_free(r);
    *self_p = NULL;
}

typedef struct {
    const th_rule_t *r;
    const double *vals;
    bool skip;        /* division by zero or non-finite intermediate */
} s_eval_t;

static bool
s_eq(double a, double b)
{
    double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    if (m < 1)
        m = 1;
    return fabs(a - b) <= 1e-9 * m;
}

static double
s_eval(s_eval_t *e, int i)
{
    const s_node_t *n = &e->r->nodes[i];
    double a = 0, b = 0, v = 0;
    if (n->a >= 0)
        a = s_eval(e, n->a);
    if (n->b >= 0)
        b = s_eval(e, n->b);
    switch (n->op) {
    case N_NUM: v = n->num; break;
    case N_ID: v = e->vals[n->ident]; break;
    case N_NEG: v = -a; break;
    case N_NOT: v = (a == 0) ? 1 : 0; break;
    case N_ADD: v = a + b; break;
    case N_SUB: v = a - b; break;
    case N_MUL: v = a * b; break;
    case N_DIV:
        if (b == 0) {
            e->skip = true;
            v = 0;
        } else
            v = a / b;
        break;
    case N_LT: v = (a < b && !s_eq(a, b)) ? 1 : 0; break;
    case N_LE: v = (a < b || s_eq(a, b)) ? 1 : 0; break;
    case N_GT: v = (a > b && !s_eq(a, b)) ? 1 : 0; break;
    case N_GE: v = (a > b || s_eq(a, b)) ? 1 : 0; break;
    case N_EQ: v = s_eq(a, b) ? 1 : 0; break;
    case N_NE: v = s_eq(a, b) ? 0 : 1; break;
    case N_AND: v = (a != 0 && b != 0) ? 1 : 0; break;
    case N_OR: v = (a != 0 || b != 0) ? 1 : 0; break;
    }
    if (!isfinite(v)) {
        e->skip = true;
        v = 0;
    }
    return v;
}

int
th_rule_eval(const th_rule_t *r, th_rule_lookup_fn lookup, void *ctx,
             th_rule_result_t *res)
{
    if (!r || !lookup || !res)
        return -EINVAL;
    /* At most one identifier per two bytes of a bounded expression. */
    double vals[TH_RULE_EXPR_MAX / 2 + 1];
    bool missing = false;
    for (size_t i = 0; i < r->nidents; i++) {
        double v = 0;
        int rc = lookup(r->idents[i], &v, ctx);
        if (rc == TH_E_NOTFOUND) {
            missing = true;
            v = 0;
        } else if (rc < 0)
            return rc;
        else if (!isfinite(v))
            missing = true;
        vals[i] = v;
    }
    if (missing) {
        *res = TH_RULE_SKIP;
        return 0;
    }
    s_eval_t e = { r, vals, false };
    double v = s_eval(&e, r->root);
    *res = e.skip ? TH_RULE_SKIP : (v != 0 ? TH_RULE_TRUE : TH_RULE_FALSE);
    return 0;
}

int
th_rule_each_ident(const th_rule_t *r, int (*cb)(const char *ident, void *ctx),
                   void *ctx)
{
    if (!r || !cb)
        return -EINVAL;
    for (size_t i = 0; i < r->nidents; i++) {
        int rc = cb(r->idents[i], ctx);
        if (rc)
            return rc;
    }
    return 0;
}

size_t
th_rule_ident_count(const th_rule_t *r)
{
    return r ? r->nidents : 0;
}

const char *
th_rule_ident_at(const th_rule_t *r, size_t i)
{
    return (r && i < r->nidents) ? r->idents[i] : NULL;
}

const char *
th_rule_text(const th_rule_t *r)
{
    return r ? r->text : NULL;
}
