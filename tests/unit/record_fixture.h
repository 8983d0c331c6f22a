/*  record_fixture: setting one value of a record, as test_codec.c and
    test_validate.c do. Header-only, included once by each of those test
    binaries, after cmocka.h and model.h. */
#ifndef TH_TEST_RECORD_FIXTURE_H
#define TH_TEST_RECORD_FIXTURE_H

static void
s_put(th_record_t *r, const char *code, th_value_t v)
{
    snprintf(v.code, sizeof v.code, "%s", code);
    assert_int_equal(th_record_set(r, &v), 0);
}

static void
s_set_int(th_record_t *r, const char *code, int64_t i)
{
    s_put(r, code, (th_value_t){ .kind = TH_V_INT, .u.i = i });
}

static void
s_set_dec(th_record_t *r, const char *code, double d)
{
    s_put(r, code, (th_value_t){ .kind = TH_V_DEC, .u.d = d });
}

static void
s_set_bool(th_record_t *r, const char *code, bool b)
{
    s_put(r, code, (th_value_t){ .kind = TH_V_BOOL, .u.b = b });
}

static void
s_set_text(th_record_t *r, const char *code, const char *s)
{
    s_put(r, code, (th_value_t){ .kind = TH_V_TEXT, .u.s = (char *)s });
}

#endif
