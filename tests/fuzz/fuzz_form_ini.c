/*  libFuzzer target: the form INI parser (libinih callbacks, sections,
    indicators, rules, deadlines), as init and a form from above run it.
    A parsed form is also asked for what the pages ask of it. */
#include <stdint.h>
#include <stdlib.h>

#include "form_ini.h"
#include "forms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    int rc;
    th_form_t *f = th_form_parse((const char *)data, size, "fuzz.ini", err, sizeof err, &rc);
    if (f) {
        (void)th_form_indicator(f, "TT01");
        (void)th_form_deadline(f, "province");
        (void)th_form_reported_by(f, "commune");
        th_form_destroy(&f);
    } else if (rc == 0) {
        abort();   /* a failure must say why */
    }
    return 0;
}
