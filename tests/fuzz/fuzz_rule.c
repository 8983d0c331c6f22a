/*  libFuzzer target: the rule-expression parser and evaluator of the forms.
    The first byte picks the values the identifiers take (so evaluation is
    exercised with present, absent, zero and huge values); the rest is the
    expression. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
s_lookup(const char *ident, double *v, void *ctx)
{
    unsigned mode = *(const uint8_t *)ctx;
    size_t h = strlen(ident) + (unsigned char)ident[0];
    switch ((mode + h) % 5) {
    case 0: return TH_E_NOTFOUND;
    case 1: *v = 0; return 0;
    case 2: *v = 1e308; return 0;
    case 3: *v = -(double)h; return 0;
    default: *v = (double)h / 3.0; return 0;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *expr = th_strndup((const char *)data + 1, size - 1);
    if (!expr)
        return 0;
    char err[256];
    int rc;
    th_rule_t *r = th_rule_compile(expr, err, sizeof err, &rc);
    if (r) {
        th_rule_result_t res;
        uint8_t mode = data[0];
        (void)th_rule_eval(r, s_lookup, &mode, &res);
        th_rule_destroy(&r);
    } else if (rc == 0) {
        abort();
    }
    th_free(expr);
    return 0;
}
