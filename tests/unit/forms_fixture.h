/*  forms_fixture: what test_forms.c, test_form_ini.c and test_validate.c
    share: the shipped forms, a valid [form] header, and parsing or loading
    a form that must succeed. Header-only, included once by each of those
    test binaries, after cmocka.h; not every binary uses every helper. */
#ifndef TH_TEST_FORMS_FIXTURE_H
#define TH_TEST_FORMS_FIXTURE_H

#include "form_ini.h"
#include "forms.h"

#define NAM   "config/forms/dvcq-nam.ini"
#define SAU   "config/forms/dvcq-6thang.ini"

/* Six lines of a valid [form] section; case texts continue at line 7. */
#define HDR "[form]\nid = t\nversion = 1\ntitle = Thử\nperiod_type = yearly\nlevels = commune\n"

__attribute__((unused)) static th_form_t *
s_parse(const char *text)
{
    char eb[256];
    int err = 1;
    th_form_t *f = th_form_parse(text, strlen(text), "t.ini", eb, sizeof eb, &err);
    if (!f)
        fail_msg("parse failed: %s", eb);
    assert_int_equal(err, 0);
    return f;
}

__attribute__((unused)) static th_form_t *
s_load(const char *path)
{
    char eb[256];
    int err = 1;
    th_form_t *f = th_form_load(path, eb, sizeof eb, &err);
    if (!f)
        fail_msg("load %s failed: %s", path, eb);
    return f;
}

/* The bytes of a shipped form, read with plain stdio (not th_file_read,
   which th_form_load uses) into a static buffer; *n gets their count. */
__attribute__((unused)) static const char *
s_source(const char *path, size_t *n)
{
    static char buf[TH_FORM_SOURCE_MAX];
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    *n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    return buf;
}

#endif
