/*  rules: validation rule expressions such as "DVK02 <= DVK01".

    A form's [rule] sections hold small boolean expressions over indicator
    codes. They are compiled once when the form is parsed (so a bad rule is
    reported to the operator with a column, never at entry time) and then
    evaluated against each record, at the entry office and again at hubs.
    Grammar (whitespace free between tokens):
        or    := and (('or'|'||') and)*
        and   := not (('and'|'&&') not)*
        not   := ('not'|'!') not | cmp
        cmp   := sum (('<'|'<='|'>'|'>='|'=='|'='|'!='|'<>') sum)?
        sum   := term (('+'|'-') term)*
        term  := unary (('*'|'/') unary)*
        unary := '-' unary | primary
        primary := NUMBER | IDENT | '(' or ')'
    NUMBER is ASCII digits with an optional '.' fraction ("12", "0.5"); it
    never depends on the C locale. IDENT is an indicator code
    [A-Za-z_][A-Za-z0-9_.]*, at most TH_CODE_MAX-1 bytes. The keywords
    and/or/not are case-insensitive and cannot be used as identifiers.
    Values are doubles: booleans are 1/0, a comparison yields 1/0, and a
    number is "true" when it is not 0. A compiled rule is immutable: several
    threads may evaluate the same rule at once. */
#ifndef TH_RULES_H
#define TH_RULES_H

#include <stddef.h>

#define TH_RULE_EXPR_MAX  1024  /* bytes of one expression (without NUL) */
#define TH_RULE_DEPTH_MAX 32    /* nesting of '(', unary '-' and 'not' */

typedef struct th_rule th_rule_t;

/* Compiles expr (NUL-terminated UTF-8/ASCII).
   errbuf/cap: optional (NULL/0 allowed); on failure receives an English
   message with the 1-based byte column, e.g. "column 7: expected an
   operand". err: optional; receives 0 on success or the error:
     TH_E_PARSE  syntax error (unknown character, missing operand or ')',
                 trailing tokens, malformed number, empty expression)
     TH_E_LIMIT  expression longer than TH_RULE_EXPR_MAX bytes, nesting
                 deeper than TH_RULE_DEPTH_MAX, identifier too long
     -ENOMEM     allocation failed
     -EINVAL     expr is NULL
   Returns the compiled rule (owned by the caller, free with
   th_rule_destroy) or NULL on failure. Thread-safe. */
th_rule_t *th_rule_compile(const char *expr, char *errbuf, size_t cap, int *err);

/* Frees *self_p and sets it to NULL; safe on NULL and twice. */
void th_rule_destroy(th_rule_t **self_p);

/* Supplies the value of an identifier during evaluation: returns 0 and sets
   *v (booleans as 1/0), TH_E_NOTFOUND when the value is absent, or another
   negative code to abort the evaluation with that code. */
typedef int (*th_rule_lookup_fn)(const char *ident, double *v, void *ctx);

typedef enum {
    TH_RULE_FALSE = 0,
    TH_RULE_TRUE = 1,
    TH_RULE_SKIP = 2   /* the rule does not apply to this data */
} th_rule_result_t;

/* Evaluates r. Every identifier is looked up (each distinct one once) and
   the whole expression is evaluated without short-circuit, so the outcome
   does not depend on operand order: the result is SKIP when any identifier
   is absent (TH_E_NOTFOUND) or any division by zero occurs, like DHIS2's
   SKIP_IF_ANY_VALUE_MISSING strategy; otherwise TRUE or FALSE.
   Comparisons treat a and b as equal when |a-b| <= 1e-9 * max(1,|a|,|b|).
   A non-finite lookup value or an overflow to infinity also gives SKIP.
   Returns 0 and sets *res; -EINVAL when an argument is NULL; or the lookup's
   own error (other than TH_E_NOTFOUND), *res untouched. Thread-safe for a
   shared r as long as lookup is. */
int th_rule_eval(const th_rule_t *r, th_rule_lookup_fn lookup, void *ctx,
                 th_rule_result_t *res);

/* Calls cb for each distinct identifier of r, in order of first appearance.
   Stops at the first non-zero return of cb and returns it; returns 0 when
   all were visited, -EINVAL when r or cb is NULL. The ident string lives as
   long as r. */
int th_rule_each_ident(const th_rule_t *r,
                       int (*cb)(const char *ident, void *ctx), void *ctx);

/* Number of distinct identifiers, and the i-th (order of first appearance;
   NULL when i is out of range). The string lives as long as r. */
size_t th_rule_ident_count(const th_rule_t *r);
const char *th_rule_ident_at(const th_rule_t *r, size_t i);

/* The source text the rule was compiled from; lives as long as r. */
const char *th_rule_text(const th_rule_t *r);

#endif
