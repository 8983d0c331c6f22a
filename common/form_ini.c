/*  form_ini: parses form definitions with libinih.

    libinih (Debian 55: multi-line values and " ;" inline comments on, a
    200-byte stack line buffer) gives neither line numbers to the handler
    (its header defaults INI_HANDLER_LINENO to 0) nor a way to tell a
    continuation line from a repeated key, strips inline comments only from
    key lines, and silently truncates lines longer than its buffer. So
    the text is fed through our own line reader (ini_parse_stream): it
    counts lines, rejects over-long lines, NUL bytes and invalid UTF-8,
    classifies each line the way inih will (comment, continuation, section
    header, key), and handles section headers itself so that even an empty
    [indicator X] is seen. inih then only splits "key = value" and strips
    inline comments; its handler runs synchronously right after the reader
    returned that line, so the reader's state describes the current line. */
#include "form_ini.h"

#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec.h"
#include "err.h"
#include "file.h"
#include "log.h"
#include "mem.h"

/* ---- small helpers -------------------------------------------------------- */

static bool
s_valid_level(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= TH_LEVEL_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Section, rule and option ids: [A-Za-z0-9_.-], 1..31 bytes. */
static bool
s_valid_id(const char *s, size_t n)
{
    if (n == 0 || n >= TH_SECTION_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

/* ASCII number as written in form files: [+-]digits[.digits]. Locale-free. */
static int
s_parse_plain_number(const char *s, double *out)
{
    bool neg = false;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    uint64_t m = 0;
    int nd = 0, frac = 0;
    bool dot = false;
    for (; *s; s++) {
        if (*s == '.' && !dot) {
            dot = true;
            continue;
        }
        if (*s < '0' || *s > '9')
            return TH_E_INVALID;
        if (++nd > 18)
            return TH_E_INVALID;
        m = m * 10 + (uint64_t)(*s - '0');
        if (dot)
            frac++;
    }
    if (nd == 0 || (dot && frac == 0))
        return TH_E_INVALID;
    double v = (double)m;
    if (frac)
        v /= pow(10, frac);
    *out = neg ? -v : v;
    return 0;
}

/* Appends " " + more to *dst (a heap string). */
static int
s_append(char **dst, const char *more)
{
    size_t a = *dst ? strlen(*dst) : 0, b = strlen(more);
    char *n = th_realloc(*dst, a + b + 2);
    if (!n)
        return -ENOMEM;
    if (a) {
        n[a] = ' ';
        memcpy(n + a + 1, more, b + 1);
    } else
        memcpy(n, more, b + 1);
    *dst = n;
    return 0;
}

static int
s_set_str(char **dst, const char *v)
{
    char *n = th_strdup(v);
    if (!n)
        return -ENOMEM;
    th_free(*dst);
    *dst = n;
    return 0;
}

static int
s_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = th_realloc(*arr, nc * elem);
    if (!p)
        return -ENOMEM;
    memset((char *)p + *cap * elem, 0, (nc - *cap) * elem);
    *arr = p;
    *cap = nc;
    return 0;
}

/* ---- parse state ---------------------------------------------------------- */

typedef enum { E_NONE = 0, E_FORM, E_SECTION, E_IND, E_RULE } s_entity_t;

/* Keys per entity; the index is the bit in s_ps_t.seen. */
static const char *const s_form_keys[] = { "id", "version", "title", "period_type", "levels",
                                           "cutoff.from", "cutoff.to", NULL };
static const char *const s_section_keys[] = { "title", NULL };
static const char *const s_ind_keys[] = { "section", "label", "type", "unit", "agg", "required",
                                          "min", "max", "help", "options", "numerator",
                                          "denominator", "scale", NULL };
static const char *const s_rule_keys[] = { "expr", "message", NULL };
enum { K_SECTION, K_LABEL, K_TYPE, K_UNIT, K_AGG, K_REQUIRED, K_MIN, K_MAX, K_HELP,
       K_OPTIONS, K_NUM, K_DEN, K_SCALE, K_NKEYS };

typedef struct {
    /* reader */
    const char *text;
    size_t len, off;
    int line;
    bool cont;              /* current line continues the previous key */
    bool prev_name;         /* inih has a previous key in this section */
    bool stop;              /* an error was recorded: feed no more lines */
    /* result */
    th_form_t *f;
    size_t cap_ind, cap_sec, cap_rule, cap_dl;
    const char *origin;
    char *errbuf;
    size_t cap;
    int err;
    int err_line;
    /* current entity */
    s_entity_t cur;
    int cur_line;
    uint32_t seen;
    int key_line[K_NKEYS];
    char last_key[64];
    bool last_cont_ok;      /* last key may be continued */
    char *raw_options;
    char last_section[TH_SECTION_ID_MAX];
    bool form_seen;
    int form_line;
    bool ptype_set;
    bool cutoff_from_set, cutoff_to_set;
    bool version_set;
    bool agg_set;
    bool type_set;
    int *rule_expr_line;    /* per rule: line of its expr key */
    size_t cap_rel;
} s_ps_t;

static void s_err(s_ps_t *ps, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
s_err(s_ps_t *ps, int line, const char *fmt, ...)
{
    if (ps->err)
        return;
    ps->err = TH_E_PARSE;
    ps->err_line = line;
    ps->stop = true;
    if (ps->errbuf && ps->cap) {
        int n = snprintf(ps->errbuf, ps->cap, "%s:%d: ", ps->origin, line);
        if (n >= 0 && (size_t)n < ps->cap) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(ps->errbuf + n, ps->cap - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
}

static void
s_oom(s_ps_t *ps)
{
    if (ps->err)
        return;
    ps->err = -ENOMEM;
    ps->stop = true;
    if (ps->errbuf && ps->cap)
        snprintf(ps->errbuf, ps->cap, "%s: out of memory", ps->origin);
}

static th_indicator_t *s_cur_ind(s_ps_t *ps) { return &ps->f->indicators[ps->f->nindicators - 1]; }

/* Checks an entity once all its keys are known (at the next header or EOF);
   cross-references wait for s_finish_form. */
static void
s_close_entity(s_ps_t *ps)
{
    th_form_t *f = ps->f;
    if (ps->err)
        return;
    if (ps->cur == E_SECTION) {
        th_form_section_t *s = &f->sections[f->nsections - 1];
        if (!s->title || !*s->title)
            s_err(ps, ps->cur_line, "section %s has no title", s->id);
    } else if (ps->cur == E_RULE) {
        th_form_rule_t *r = &f->rules[f->nrules - 1];
        int eline = ps->key_line[0] ? ps->key_line[0] : ps->cur_line;
        ps->rule_expr_line[f->nrules - 1] = eline;
        if (!r->expr || !*r->expr) {
            s_err(ps, ps->cur_line, "rule %s has no expr", r->id);
            return;
        }
        if (!r->message || !*r->message) {
            s_err(ps, ps->cur_line, "rule %s has no message", r->id);
            return;
        }
        char eb[160];
        int err = 0;
        r->rule = th_rule_compile(r->expr, eb, sizeof eb, &err);
        if (!r->rule) {
            if (err == -ENOMEM)
                s_oom(ps);
            else
                s_err(ps, eline, "rule %s: %s", r->id, eb);
        }
    } else if (ps->cur == E_IND) {
        th_indicator_t *ind = s_cur_ind(ps);
        const char *c = ind->code;
        int *kl = ps->key_line;
        if (!ind->label || !*ind->label) {
            s_err(ps, ps->cur_line, "indicator %s has no label", c);
            return;
        }
        if (!ps->type_set) {
            s_err(ps, ps->cur_line, "indicator %s has no type", c);
            return;
        }
        bool numeric = ind->type == TH_IT_INT || ind->type == TH_IT_DEC;
        if (!ps->agg_set)
            ind->agg = numeric ? TH_AGG_SUM
                     : ind->type == TH_IT_BOOL ? TH_AGG_COUNT_TRUE : TH_AGG_TEXT;
        int al = kl[K_AGG] ? kl[K_AGG] : ps->cur_line;
        switch (ind->agg) {
        case TH_AGG_SUM: case TH_AGG_MIN: case TH_AGG_MAX: case TH_AGG_MEAN:
            if (!numeric) {
                s_err(ps, al, "indicator %s: agg = %s needs type int or decimal, not %s",
                      c, th_agg_name(ind->agg), th_itype_name(ind->type));
                return;
            }
            break;
        case TH_AGG_COUNT_TRUE:
            if (ind->type != TH_IT_BOOL) {
                s_err(ps, al, "indicator %s: agg = count_true needs type bool, not %s", c,
                      th_itype_name(ind->type));
                return;
            }
            break;
        case TH_AGG_TEXT:
            if (ind->type != TH_IT_TEXT && ind->type != TH_IT_ENUM) {
                s_err(ps, al, "indicator %s: agg = text needs type text or enum, not %s", c,
                      th_itype_name(ind->type));
                return;
            }
            break;
        case TH_AGG_RATIO:
            if (ind->type != TH_IT_DEC) {
                s_err(ps, al, "indicator %s: agg = ratio needs type decimal, not %s", c,
                      th_itype_name(ind->type));
                return;
            }
            if (!ind->numerator[0] || !ind->denominator[0]) {
                s_err(ps, al, "indicator %s: agg = ratio needs numerator and denominator", c);
                return;
            }
            if (ind->required) {
                s_err(ps, kl[K_REQUIRED],
                      "indicator %s: a computed (ratio) indicator cannot be required", c);
                return;
            }
            ind->computed = true;
            break;
        }
        if (ind->agg != TH_AGG_RATIO) {
            static const int rk[] = { K_NUM, K_DEN, K_SCALE };
            for (int i = 0; i < 3; i++)
                if (kl[rk[i]]) {
                    s_err(ps, kl[rk[i]], "indicator %s: %s applies only to agg = ratio", c,
                          s_ind_keys[rk[i]]);
                    return;
                }
        }
        if (!numeric && (kl[K_MIN] || kl[K_MAX])) {
            s_err(ps, kl[K_MIN] ? kl[K_MIN] : kl[K_MAX],
                  "indicator %s: min/max apply only to type int or decimal", c);
            return;
        }
        if (ind->has_min && ind->has_max && ind->min > ind->max) {
            s_err(ps, kl[K_MAX], "indicator %s: max is smaller than min", c);
            return;
        }
        if (ind->type == TH_IT_ENUM && !ps->raw_options) {
            s_err(ps, ps->cur_line, "indicator %s: type enum needs options", c);
            return;
        }
        if (ind->type != TH_IT_ENUM && ps->raw_options) {
            s_err(ps, kl[K_OPTIONS], "indicator %s: options apply only to type enum", c);
            return;
        }
        if (ps->raw_options) {
            /* "code: label | code: label" */
            char *save = NULL;
            for (char *tok = strtok_r(ps->raw_options, "|", &save); tok;
                 tok = strtok_r(NULL, "|", &save)) {
                char *colon = strchr(tok, ':');
                char *b = tok;
                while (th_form_space(*b))
                    b++;
                if (!colon) {
                    s_err(ps, kl[K_OPTIONS], "indicator %s: option '%s' is not 'code: label'",
                          c, b);
                    return;
                }
                char *e = colon;
                while (e > b && th_form_space(e[-1]))
                    e--;
                char *lb = colon + 1;
                while (th_form_space(*lb))
                    lb++;
                char *le = lb + strlen(lb);
                while (le > lb && th_form_space(le[-1]))
                    le--;
                *le = '\0';
                if (!s_valid_id(b, (size_t)(e - b)) || (size_t)(e - b) >= TH_CODE_MAX) {
                    s_err(ps, kl[K_OPTIONS], "indicator %s: bad option code '%.*s'", c,
                          (int)(e - b), b);
                    return;
                }
                if (!*lb) {
                    s_err(ps, kl[K_OPTIONS], "indicator %s: option '%.*s' has no label", c,
                          (int)(e - b), b);
                    return;
                }
                for (size_t i = 0; i < ind->noptions; i++)
                    if (strlen(ind->options[i].code) == (size_t)(e - b)
                        && memcmp(ind->options[i].code, b, (size_t)(e - b)) == 0) {
                        s_err(ps, kl[K_OPTIONS], "indicator %s: duplicate option '%.*s'", c,
                              (int)(e - b), b);
                        return;
                    }
                th_form_option_t *no = th_realloc(ind->options,
                                                  (ind->noptions + 1) * sizeof *no);
                if (!no) {
                    s_oom(ps);
                    return;
                }
                ind->options = no;
                th_form_option_t *o = &no[ind->noptions];
                memset(o, 0, sizeof *o);
                memcpy(o->code, b, (size_t)(e - b));
                o->label = th_strdup(lb);
                if (!o->label) {
                    s_oom(ps);
                    return;
                }
                ind->noptions++;
            }
            if (ind->noptions == 0) {
                s_err(ps, kl[K_OPTIONS], "indicator %s: options list is empty", c);
                return;
            }
        }
    }
}

static void
s_reset_entity(s_ps_t *ps, s_entity_t e, int line)
{
    ps->cur = e;
    ps->cur_line = line;
    ps->seen = 0;
    memset(ps->key_line, 0, sizeof ps->key_line);
    ps->last_key[0] = '\0';
    ps->last_cont_ok = false;
    th_free(ps->raw_options);
    ps->raw_options = NULL;
    ps->agg_set = ps->type_set = false;
}

/* Handles a "[...]" line; hdr is the trimmed text between the brackets. */
static void
s_header(s_ps_t *ps, const char *hdr, size_t n)
{
    th_form_t *f = ps->f;
    s_close_entity(ps);
    if (ps->err)
        return;
    size_t k = 0;
    while (k < n && !th_form_space(hdr[k]))
        k++;
    const char *arg = hdr + k;
    size_t an = n - k;
    while (an && th_form_space(*arg)) {
        arg++;
        an--;
    }
    int line = ps->line;
    if (k == 4 && memcmp(hdr, "form", 4) == 0 && an == 0) {
        if (ps->form_seen) {
            s_err(ps, line, "second [form] section (first at line %d)", ps->form_line);
            return;
        }
        ps->form_seen = true;
        ps->form_line = line;
        s_reset_entity(ps, E_FORM, line);
    } else if (k == 7 && memcmp(hdr, "section", 7) == 0) {
        if (!s_valid_id(arg, an)) {
            s_err(ps, line, "bad section id '%.*s' (expected [section ID], ID of "
                  "letters, digits, '_', '.', '-')", (int)an, arg);
            return;
        }
        for (size_t i = 0; i < f->nsections; i++)
            if (strlen(f->sections[i].id) == an && memcmp(f->sections[i].id, arg, an) == 0) {
                s_err(ps, line, "duplicate section %.*s (first at line %d)", (int)an, arg,
                      f->sections[i].line);
                return;
            }
        if (s_grow((void **)&f->sections, &ps->cap_sec, f->nsections, sizeof *f->sections)) {
            s_oom(ps);
            return;
        }
        th_form_section_t *s = &f->sections[f->nsections++];
        memcpy(s->id, arg, an);
        s->line = line;
        memcpy(ps->last_section, s->id, sizeof s->id);
        s_reset_entity(ps, E_SECTION, line);
    } else if (k == 9 && memcmp(hdr, "indicator", 9) == 0) {
        char code[TH_CODE_MAX];
        if (an == 0 || an >= TH_CODE_MAX) {
            s_err(ps, line, "bad indicator code '%.*s'", (int)an, arg);
            return;
        }
        memcpy(code, arg, an);
        code[an] = '\0';
        bool kw = strcasecmp(code, "and") == 0 || strcasecmp(code, "or") == 0
                  || strcasecmp(code, "not") == 0;
        if (!th_valid_indicator_code(code) || kw
            || !((code[0] >= 'A' && code[0] <= 'Z') || (code[0] >= 'a' && code[0] <= 'z')
                 || code[0] == '_')) {
            s_err(ps, line, "bad indicator code '%s' (a letter or '_' first, then letters, "
                  "digits, '_', '.'; not and/or/not)", code);
            return;
        }
        for (size_t i = 0; i < f->nindicators; i++)
            if (strcmp(f->indicators[i].code, code) == 0) {
                s_err(ps, line, "duplicate indicator %s (first at line %d)", code,
                      f->indicators[i].line);
                return;
            }
        if (f->nindicators >= TH_VALUES_MAX) {
            s_err(ps, line, "more than %d indicators", TH_VALUES_MAX);
            ps->err = TH_E_LIMIT;
            return;
        }
        if (s_grow((void **)&f->indicators, &ps->cap_ind, f->nindicators,
                   sizeof *f->indicators)) {
            s_oom(ps);
            return;
        }
        th_indicator_t *ind = &f->indicators[f->nindicators++];
        memcpy(ind->code, code, sizeof code);
        ind->line = line;
        ind->scale = 1;
        memcpy(ind->section, ps->last_section, sizeof ind->section);
        if (!(ind->unit = th_strdup("")) || !(ind->help = th_strdup(""))) {
            s_oom(ps);
            return;
        }
        s_reset_entity(ps, E_IND, line);
    } else if (k == 4 && memcmp(hdr, "rule", 4) == 0) {
        if (!s_valid_id(arg, an)) {
            s_err(ps, line, "bad rule id '%.*s'", (int)an, arg);
            return;
        }
        for (size_t i = 0; i < f->nrules; i++)
            if (strlen(f->rules[i].id) == an && memcmp(f->rules[i].id, arg, an) == 0) {
                s_err(ps, line, "duplicate rule %.*s (first at line %d)", (int)an, arg,
                      f->rules[i].line);
                return;
            }
        size_t oc = ps->cap_rule;
        if (s_grow((void **)&f->rules, &ps->cap_rule, f->nrules, sizeof *f->rules)) {
            s_oom(ps);
            return;
        }
        if (oc != ps->cap_rule) {
            int *nl = th_realloc(ps->rule_expr_line, ps->cap_rule * sizeof *nl);
            if (!nl) {
                s_oom(ps);
                return;
            }
            ps->rule_expr_line = nl;
        }
        th_form_rule_t *r = &f->rules[f->nrules++];
        memcpy(r->id, arg, an);
        r->line = line;
        s_reset_entity(ps, E_RULE, line);
    } else {
        s_err(ps, line, "unknown section '[%.*s]' (expected [form], [section ID], "
              "[indicator CODE] or [rule ID])", (int)n, hdr);
    }
}

/* fgets-style reader over the text; see the file comment. */
static char *
s_reader(char *str, int num, void *stream)
{
    s_ps_t *ps = stream;
    if (ps->stop || ps->off >= ps->len)
        return NULL;
    const char *s = ps->text + ps->off;
    size_t rest = ps->len - ps->off;
    const char *nl = memchr(s, '\n', rest);
    size_t n = nl ? (size_t)(nl - s) : rest;
    ps->off += nl ? n + 1 : n;
    ps->line++;
    if (n && s[n - 1] == '\r')
        n--;
    if (ps->line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        n -= 3;
    }
    if (memchr(s, '\0', n)) {
        s_err(ps, ps->line, "NUL byte in the text");
        return NULL;
    }
    if (!th_codec_utf8_valid((const uint8_t *)s, n)) {
        s_err(ps, ps->line, "invalid UTF-8");
        return NULL;
    }
    if (num < 3 || n + 2 > (size_t)num - 1 || n > TH_FORM_LINE_MAX) {
        s_err(ps, ps->line, "line longer than %d bytes: continue a long text on the next "
              "line, indented", TH_FORM_LINE_MAX);
        return NULL;
    }
    memcpy(str, s, n);
    str[n] = '\n';
    str[n + 1] = '\0';

    /* Classify as inih will. */
    size_t b = 0;
    while (b < n && th_form_space(s[b]))
        b++;
    ps->cont = false;
    if (b == n || s[b] == ';' || s[b] == '#')
        return str;
    if (b > 0 && ps->prev_name) {
        ps->cont = true;
        return str;
    }
    if (s[b] == '[') {
        const char *e = memchr(s + b, ']', n - b);
        if (!e) {
            s_err(ps, ps->line, "section header without ']'");
            return NULL;
        }
        const char *h = s + b + 1;
        size_t hn = (size_t)(e - h);
        while (hn && th_form_space(*h)) {
            h++;
            hn--;
        }
        while (hn && th_form_space(h[hn - 1]))
            hn--;
        ps->prev_name = false;
        s_header(ps, h, hn);
        return ps->stop ? NULL : str;
    }
    const char *eq = NULL;
    for (size_t i = b; i < n; i++) {
        if (s[i] == '=' || s[i] == ':') {
            eq = s + i;
            break;
        }
        if (s[i] == ';' && i > b && th_form_space(s[i - 1]))
            break;
    }
    if (!eq) {
        s_err(ps, ps->line, "expected 'key = value', '[section]' or a comment");
        return NULL;
    }
    ps->prev_name = true;
    return str;
}

static int
s_key_index(const char *const *keys, const char *name)
{
    for (int i = 0; keys[i]; i++)
        if (strcmp(keys[i], name) == 0)
            return i;
    return -1;
}

static void
s_set(s_ps_t *ps, char **dst, const char *v)
{
    if (s_set_str(dst, v))
        s_oom(ps);
}

static void
s_copy_code(s_ps_t *ps, char *dst, const char *v, const char *what)
{
    if (!th_valid_indicator_code(v)) {
        s_err(ps, ps->line, "bad %s '%s'", what, v);
        return;
    }
    strcpy(dst, v);   /* th_valid_indicator_code bounds it to TH_CODE_MAX-1 */
}

static void
s_form_key(s_ps_t *ps, const char *name, const char *v)
{
    th_form_t *f = ps->f;
    int line = ps->line;
    if (strncmp(name, "deadline.", 9) == 0) {
        const char *lvl = name + 9;
        if (!s_valid_level(lvl)) {
            s_err(ps, line, "bad level '%s' in '%s'", lvl, name);
            return;
        }
        for (size_t i = 0; i < f->ndeadlines; i++)
            if (strcmp(f->deadlines[i].level, lvl) == 0) {
                s_err(ps, line, "duplicate key '%s'", name);
                return;
            }
        th_deadline_spec_t spec;
        if (th_deadline_spec_parse(v, &spec) != 0 || spec.years < 0) {
            s_err(ps, line, "bad deadline '%s' (expected dd/mm or dd/mm+N)", v);
            return;
        }
        if (s_grow((void **)&f->deadlines, &ps->cap_dl, f->ndeadlines, sizeof *f->deadlines)) {
            s_oom(ps);
            return;
        }
        th_form_deadline_t *d = &f->deadlines[f->ndeadlines++];
        strcpy(d->level, lvl);
        d->spec = spec;
        return;
    }
    int k = s_key_index(s_form_keys, name);
    if (k < 0) {
        s_err(ps, line, "unknown key '%s' in [form]", name);
        return;
    }
    if (ps->seen & (1u << k)) {
        s_err(ps, line, "duplicate key '%s'", name);
        return;
    }
    ps->seen |= 1u << k;
    snprintf(ps->last_key, sizeof ps->last_key, "%s", name);
    ps->last_cont_ok = (k == 2);
    switch (k) {
    case 0:
        if (!th_valid_form_id(v)) {
            s_err(ps, line, "bad form id '%s' (expected 1 to %d of a-z 0-9 . _ -)", v,
                  TH_FORM_ID_MAX - 1);
            return;
        }
        strcpy(f->id, v);
        break;
    case 1: {
        char *end = NULL;
        errno = 0;
        unsigned long long x = (*v >= '0' && *v <= '9') ? strtoull(v, &end, 10) : 0;
        if (!end || *end || errno || x < 1 || x > UINT32_MAX) {
            s_err(ps, line, "bad version '%s' (expected a whole number from 1)", v);
            return;
        }
        f->version = (uint32_t)x;
        ps->version_set = true;
        break;
    }
    case 2:
        s_set(ps, &f->title, v);
        break;
    case 3:
        if (th_period_type_parse(v, &f->period_type) != 0) {
            s_err(ps, line, "bad period_type '%s' (expected yearly, sixmonthly, "
                  "quarterly or monthly)", v);
            return;
        }
        ps->ptype_set = true;
        break;
    case 5:
    case 6:
        if (th_deadline_spec_parse(v, k == 5 ? &f->cutoff_from : &f->cutoff_to) != 0) {
            s_err(ps, line, "bad %s '%s' (expected dd/mm, dd/mm-N for N years before the "
                  "period's year, or dd/mm+N)", name, v);
            return;
        }
        if (k == 5)
            ps->cutoff_from_set = true;
        else
            ps->cutoff_to_set = true;
        break;
    case 4: {
        const char *p = v;
        while (*p) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            const char *b = p;
            while (n && th_form_space(*b)) {
                b++;
                n--;
            }
            while (n && th_form_space(b[n - 1]))
                n--;
            char lvl[TH_LEVEL_MAX];
            if (n == 0 || n >= TH_LEVEL_MAX) {
                s_err(ps, line, "bad level list '%s'", v);
                return;
            }
            memcpy(lvl, b, n);
            lvl[n] = '\0';
            if (!s_valid_level(lvl)) {
                s_err(ps, line, "bad level '%s' (expected a-z 0-9 _ -)", lvl);
                return;
            }
            for (size_t i = 0; i < f->nlevels; i++)
                if (strcmp(f->levels[i], lvl) == 0) {
                    s_err(ps, line, "level '%s' listed twice", lvl);
                    return;
                }
            char (*nl)[TH_LEVEL_MAX] = th_realloc(f->levels, (f->nlevels + 1) * sizeof *nl);
            if (!nl) {
                s_oom(ps);
                return;
            }
            f->levels = nl;
            memcpy(nl[f->nlevels++], lvl, sizeof lvl);
            if (!e)
                break;
            p = e + 1;
            if (!*p) {
                s_err(ps, line, "bad level list '%s'", v);
                return;
            }
        }
        break;
    }
    }
}

static void
s_ind_key(s_ps_t *ps, const char *name, const char *v)
{
    th_indicator_t *ind = s_cur_ind(ps);
    int line = ps->line;
    int k = s_key_index(s_ind_keys, name);
    if (k < 0) {
        s_err(ps, line, "unknown key '%s' in [indicator %s]", name, ind->code);
        return;
    }
    if (ps->seen & (1u << k)) {
        s_err(ps, line, "duplicate key '%s'", name);
        return;
    }
    ps->seen |= 1u << k;
    ps->key_line[k] = line;
    snprintf(ps->last_key, sizeof ps->last_key, "%s", name);
    ps->last_cont_ok = (k == K_LABEL || k == K_HELP || k == K_OPTIONS || k == K_UNIT);
    switch (k) {
    case K_SECTION:
        if (!s_valid_id(v, strlen(v))) {
            s_err(ps, line, "bad section id '%s'", v);
            return;
        }
        strcpy(ind->section, v);
        break;
    case K_LABEL: s_set(ps, &ind->label, v); break;
    case K_UNIT: s_set(ps, &ind->unit, v); break;
    case K_HELP: s_set(ps, &ind->help, v); break;
    case K_TYPE:
        if (th_itype_parse(v, &ind->type) != 0) {
            s_err(ps, line, "bad type '%s' (expected int, decimal, bool, text or enum)", v);
            return;
        }
        ps->type_set = true;
        break;
    case K_AGG:
        if (th_agg_parse(v, &ind->agg) != 0) {
            s_err(ps, line, "bad agg '%s' (expected sum, count_true, min, max, mean, "
                  "ratio or text)", v);
            return;
        }
        ps->agg_set = true;
        break;
    case K_REQUIRED:
        if (th_yesno_parse(v, &ind->required) != 0) {
            s_err(ps, line, "bad required '%s' (expected yes or no)", v);
            return;
        }
        break;
    case K_MIN:
    case K_MAX: {
        double d;
        if (s_parse_plain_number(v, &d) != 0) {
            s_err(ps, line, "bad %s '%s' (expected a number such as 0 or 12.5)", name, v);
            return;
        }
        if (k == K_MIN) {
            ind->min = d;
            ind->has_min = true;
        } else {
            ind->max = d;
            ind->has_max = true;
        }
        break;
    }
    case K_SCALE:
        if (s_parse_plain_number(v, &ind->scale) != 0 || ind->scale == 0) {
            s_err(ps, line, "bad scale '%s' (expected a non-zero number such as 100)", v);
            return;
        }
        break;
    case K_OPTIONS:
        if (s_set_str(&ps->raw_options, v))
            s_oom(ps);
        break;
    case K_NUM: s_copy_code(ps, ind->numerator, v, "numerator"); break;
    case K_DEN: s_copy_code(ps, ind->denominator, v, "denominator"); break;
    }
}

static int
s_handler(void *user, const char *section, const char *name, const char *value)
{
    s_ps_t *ps = user;
    (void)section;
    if (ps->err)
        return 1;
    th_form_t *f = ps->f;
    if (ps->cont) {
        if (!ps->last_cont_ok) {
            s_err(ps, ps->line, "indented line continues '%s', which cannot span lines "
                  "(keys must start at the beginning of the line)", name);
            return 1;
        }
        /* inih strips inline comments from key lines but not from
           continuation lines; do it here so both behave alike. */
        char part[TH_FORM_LINE_MAX + 1];
        snprintf(part, sizeof part, "%s", value);
        for (char *c = part + 1; *c; c++)
            if (*c == ';' && th_form_space(c[-1])) {
                *c = '\0';
                break;
            }
        size_t pn = strlen(part);
        while (pn && th_form_space(part[pn - 1]))
            part[--pn] = '\0';
        if (!pn)
            return 1;
        value = part;
        char **dst = NULL;
        if (ps->cur == E_FORM) dst = &f->title;
        else if (ps->cur == E_SECTION) dst = &f->sections[f->nsections - 1].title;
        else if (ps->cur == E_RULE) {
            th_form_rule_t *r = &f->rules[f->nrules - 1];
            dst = strcmp(ps->last_key, "expr") == 0 ? &r->expr : &r->message;
        } else if (ps->cur == E_IND) {
            th_indicator_t *ind = s_cur_ind(ps);
            if (strcmp(ps->last_key, "label") == 0) dst = &ind->label;
            else if (strcmp(ps->last_key, "help") == 0) dst = &ind->help;
            else if (strcmp(ps->last_key, "unit") == 0) dst = &ind->unit;
            else dst = &ps->raw_options;
        }
        if (dst && s_append(dst, value))
            s_oom(ps);
        return 1;
    }
    switch (ps->cur) {
    case E_NONE:
        s_err(ps, ps->line, "key '%s' outside any section (start with [form])", name);
        break;
    case E_FORM:
        s_form_key(ps, name, value);
        break;
    case E_SECTION: {
        int k = s_key_index(s_section_keys, name);
        th_form_section_t *s = &f->sections[f->nsections - 1];
        if (k < 0) {
            s_err(ps, ps->line, "unknown key '%s' in [section %s]", name, s->id);
        } else if (ps->seen & 1u) {
            s_err(ps, ps->line, "duplicate key '%s'", name);
        } else {
            ps->seen |= 1u;
            snprintf(ps->last_key, sizeof ps->last_key, "%s", name);
            ps->last_cont_ok = true;
            s_set(ps, &s->title, value);
        }
        break;
    }
    case E_IND:
        s_ind_key(ps, name, value);
        break;
    case E_RULE: {
        int k = s_key_index(s_rule_keys, name);
        th_form_rule_t *r = &f->rules[f->nrules - 1];
        if (k < 0) {
            s_err(ps, ps->line, "unknown key '%s' in [rule %s]", name, r->id);
        } else if (ps->seen & (1u << k)) {
            s_err(ps, ps->line, "duplicate key '%s'", name);
        } else {
            ps->seen |= 1u << k;
            ps->key_line[k] = ps->line;
            snprintf(ps->last_key, sizeof ps->last_key, "%s", name);
            ps->last_cont_ok = true;
            s_set(ps, k == 0 ? &r->expr : &r->message, value);
        }
        break;
    }
    }
    return 1;
}
/* Cross-references, once the whole file is read. */
static void
s_finish_form(s_ps_t *ps)
{
    th_form_t *f = ps->f;
    s_close_entity(ps);
    if (ps->err)
        return;
    if (!ps->form_seen) {
        s_err(ps, 1, "no [form] section");
        return;
    }
    int fl = ps->form_line;
    if (!f->id[0]) { s_err(ps, fl, "[form] has no id"); return; }
    if (!ps->version_set) { s_err(ps, fl, "[form] has no version"); return; }
    if (!f->title || !*f->title) { s_err(ps, fl, "[form] has no title"); return; }
    if (!ps->ptype_set) { s_err(ps, fl, "[form] has no period_type"); return; }
    if (f->nlevels == 0) { s_err(ps, fl, "[form] has no levels"); return; }
    bool cf = ps->cutoff_from_set, ct = ps->cutoff_to_set;
    if (cf != ct) {
        s_err(ps, fl, "[form] has cutoff.%s without cutoff.%s: give both (the first and "
              "the last day the figures count)", cf ? "from" : "to", cf ? "to" : "from");
        return;
    }
    f->has_cutoff = cf;
    if (f->has_cutoff) {
        /* the cut-off of the first period must be a range, before the deadlines */
        th_period_t first;
        int32_t a, b;
        if (th_period_parse(f->period_type == TH_PT_YEARLY ? "2026"
                            : f->period_type == TH_PT_SIXMONTHLY ? "2026S1"
                            : f->period_type == TH_PT_QUARTERLY ? "2026Q1" : "202601",
                            &first) == 0 && th_form_cutoff(f, &first, &a, &b)) {
            if (a > b) {
                s_err(ps, fl, "[form] cutoff.from is after cutoff.to");
                return;
            }
            /* Nghị định 09/2019/NĐ-CP, Điều 12: the figures are closed before
               they are due */
            for (size_t i = 0; i < f->ndeadlines; i++)
                if (th_period_deadline(&first, &f->deadlines[i].spec) <= b) {
                    s_err(ps, fl, "[form] cutoff.to is not before deadline.%s: the "
                          "figures must be closed before they are due",
                          f->deadlines[i].level);
                    return;
                }
        }
    }
    if (f->nindicators == 0) { s_err(ps, fl, "the form has no [indicator] section"); return; }
    for (size_t i = 0; i < f->nindicators; i++) {
        th_indicator_t *ind = &f->indicators[i];
        if (ind->section[0] && !th_form_section(f, ind->section)) {
            s_err(ps, ind->line, "indicator %s: unknown section '%s'", ind->code, ind->section);
            return;
        }
    }
    if (th_form_index(f) != 0) {
        s_oom(ps);
        return;
    }
    for (size_t i = 0; i < f->nindicators; i++) {
        th_indicator_t *ind = &f->indicators[i];
        if (!ind->computed)
            continue;
        const char *parts[2] = { ind->numerator, ind->denominator };
        for (int j = 0; j < 2; j++) {
            const th_indicator_t *p = th_form_indicator(f, parts[j]);
            if (!p) {
                s_err(ps, ind->line, "indicator %s: %s '%s' is not an indicator of this form",
                      ind->code, j ? "denominator" : "numerator", parts[j]);
                return;
            }
            if ((p->type != TH_IT_INT && p->type != TH_IT_DEC) || p->computed) {
                s_err(ps, ind->line, "indicator %s: %s '%s' must be an entered int or "
                      "decimal indicator", ind->code, j ? "denominator" : "numerator",
                      parts[j]);
                return;
            }
        }
    }
    for (size_t i = 0; i < f->nrules; i++) {
        th_form_rule_t *r = &f->rules[i];
        for (size_t j = 0; j < th_rule_ident_count(r->rule); j++) {
            const char *id = th_rule_ident_at(r->rule, j);
            const th_indicator_t *p = th_form_indicator(f, id);
            if (!p) {
                s_err(ps, ps->rule_expr_line[i], "rule %s names unknown indicator '%s'",
                      r->id, id);
                return;
            }
            if (p->type == TH_IT_TEXT || p->type == TH_IT_ENUM) {
                s_err(ps, ps->rule_expr_line[i], "rule %s: indicator '%s' is %s, not a "
                      "number", r->id, id, th_itype_name(p->type));
                return;
            }
        }
    }
}

th_form_t *
th_form_parse(const char *text, size_t len, const char *origin, char *errbuf, size_t cap,
              int *err)
{
    s_ps_t ps;
    memset(&ps, 0, sizeof ps);
    ps.origin = origin ? origin : "form";
    ps.errbuf = errbuf;
    ps.cap = cap;
    if (errbuf && cap)
        errbuf[0] = '\0';
    if (!text) {
        if (errbuf && cap)
            snprintf(errbuf, cap, "%s: no text", ps.origin);
        if (err)
            *err = -EINVAL;
        return NULL;
    }
    if (len > TH_FORM_SOURCE_MAX) {
        if (errbuf && cap)
            snprintf(errbuf, cap, "%s:1: form text longer than %d bytes", ps.origin,
                     TH_FORM_SOURCE_MAX);
        if (err)
            *err = TH_E_LIMIT;
        return NULL;
    }
    ps.text = text;
    ps.len = len;
    ps.f = th_calloc(1, sizeof *ps.f);
    if (!ps.f) {
        s_oom(&ps);
        goto fail;
    }
    if (!(ps.f->origin = th_strdup(ps.origin)) || !(ps.f->source = th_malloc(len + 1))) {
        s_oom(&ps);
        goto fail;
    }
    memcpy(ps.f->source, text, len);
    ps.f->source[len] = '\0';
    ps.f->source_len = len;

    int rc = ini_parse_stream(s_reader, &ps, s_handler, &ps);
    if (rc == -2 && !ps.err)
        s_oom(&ps);
    /* Our reader classifies every line first, so inih's own syntax errors
       should not happen; report one anyway rather than trust it silently. */
    if (rc > 0 && (!ps.err || rc < ps.err_line)) {
        ps.err = 0;
        s_err(&ps, rc, "malformed line");
    }
    if (!ps.err)
        s_finish_form(&ps);
    if (ps.err)
        goto fail;
    th_free(ps.raw_options);
    th_free(ps.rule_expr_line);
    if (err)
        *err = 0;
    return ps.f;
fail:
    th_free(ps.raw_options);
    th_free(ps.rule_expr_line);
    th_form_destroy(&ps.f);
    if (err)
        *err = ps.err;
    return NULL;
}

th_form_t *
th_form_load(const char *path, char *errbuf, size_t cap, int *err)
{
    char *buf = NULL;
    size_t n = 0;
    int e = path ? th_file_read(path, TH_FORM_SOURCE_MAX, &buf, &n) : -EINVAL;
    if (e < 0) {
        if (errbuf && cap)
            snprintf(errbuf, cap, "cannot read form '%s': %s", path ? path : "(null)",
                     th_strerror(e));
        if (err)
            *err = e;
        return NULL;
    }
    th_form_t *f = th_form_parse(buf, n, path, errbuf, cap, err);
    th_free(buf);
    return f;
}

static int
s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
th_forms_load_dir(th_forms_t *fs, const char *dir, char *errbuf, size_t cap)
{
    if (errbuf && cap)
        errbuf[0] = '\0';
    if (!fs || !dir)
        return -EINVAL;
    DIR *d = opendir(dir);
    if (!d) {
        int e = -errno;
        if (errbuf && cap)
            snprintf(errbuf, cap, "cannot open forms directory '%s': %s", dir, th_strerror(e));
        return e;
    }
    char **names = NULL;
    size_t n = 0, ncap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || de->d_name[0] == '.' || strcmp(de->d_name + l - 4, ".ini") != 0)
            continue;
        if (s_grow((void **)&names, &ncap, n, sizeof *names)) {
            rc = -ENOMEM;
            break;
        }
        size_t pl = strlen(dir) + 1 + l + 1;
        if (!(names[n] = th_malloc(pl))) {
            rc = -ENOMEM;
            break;
        }
        snprintf(names[n++], pl, "%s/%s", dir, de->d_name);
    }
    closedir(d);
    if (!rc && n)
        qsort(names, n, sizeof *names, s_cmp_str);
    for (size_t i = 0; i < n && !rc; i++) {
        th_form_t *f = th_form_load(names[i], errbuf, cap, &rc);
        if (!f)
            break;
        char id[TH_FORM_ID_MAX];
        uint32_t ver = f->version;
        memcpy(id, f->id, sizeof id);
        rc = th_forms_add(fs, &f);
        if (rc == TH_E_STALE) {
            th_log(TH_LOG_WARN, "forms: '%s' skipped: form %s version %u is not newer than "
                   "the one already loaded", names[i], id, (unsigned)ver);
            rc = 0;
        }
    }
    if (rc == -ENOMEM && errbuf && cap && !errbuf[0])
        snprintf(errbuf, cap, "out of memory loading forms from '%s'", dir);
    for (size_t i = 0; i < n; i++)
        th_free(names[i]);
    th_free(names);
    return rc;
}
