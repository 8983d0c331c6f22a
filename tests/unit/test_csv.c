/*  Tests for common/csv: the RFC 4180 reader and the field writer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"
#include "err.h"
#include "mem.h"

/* Reads the next row and checks it equals want[0..n). */
static void
s_expect_row(th_csv_t *c, unsigned line, size_t n, const char *const *want)
{
    char **f = NULL;
    size_t got = 0;
    assert_int_equal(th_csv_next(c, &f, &got), 1);
    assert_int_equal(got, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(f[i], want[i]);
    assert_int_equal(th_csv_line(c), line);
}

static void
s_expect_end(th_csv_t *c)
{
    char **f;
    size_t n;
    assert_int_equal(th_csv_next(c, &f, &n), 0);
    assert_int_equal(th_csv_next(c, &f, &n), 0);
}

static th_csv_t *
s_open(const char *s)
{
    th_csv_t *c = th_csv_new(s, strlen(s));
    assert_non_null(c);
    return c;
}

static void
test_csv_simple_lf_and_crlf(void **state)
{
    (void)state;
    th_csv_t *c = s_open("a,b,c\n1,2,3\n");
    assert_int_equal(th_csv_line(c), 0);
    s_expect_row(c, 1, 3, (const char *[]){"a", "b", "c"});
    s_expect_row(c, 2, 3, (const char *[]){"1", "2", "3"});
    s_expect_end(c);
    th_csv_destroy(&c);
    assert_null(c);
    th_csv_destroy(&c); /* safe twice */

    c = s_open("a,b\r\n1,2\r\nx,y");  /* no final line end */
    s_expect_row(c, 1, 2, (const char *[]){"a", "b"});
    s_expect_row(c, 2, 2, (const char *[]){"1", "2"});
    s_expect_row(c, 3, 2, (const char *[]){"x", "y"});
    s_expect_end(c);
    th_csv_destroy(&c);
}

static void
test_csv_empty_fields_and_blank_lines(void **state)
{
    (void)state;
    th_csv_t *c = s_open("\n\r\n,a,,\n\n\n\"\"\nz\n\n");
    s_expect_row(c, 3, 4, (const char *[]){"", "a", "", ""});
    s_expect_row(c, 6, 1, (const char *[]){""});
    s_expect_row(c, 7, 1, (const char *[]){"z"});
    s_expect_end(c);
    th_csv_destroy(&c);

    c = th_csv_new("", 0);
    assert_non_null(c);
    s_expect_end(c);
    th_csv_destroy(&c);
    c = th_csv_new(NULL, 0);
    assert_non_null(c);
    s_expect_end(c);
    th_csv_destroy(&c);
    assert_null(th_csv_new(NULL, 3));
}

static void
test_csv_quoted_fields(void **state)
{
    (void)state;
    const char *text = "name,note\n"
                       "\"Xã A, B\",\"say \"\"hi\"\"\"\n"
                       "\"two\r\nlines\nhere\",x\n"
                       "last,\"\"\n";
    th_csv_t *c = s_open(text);
    s_expect_row(c, 1, 2, (const char *[]){"name", "note"});
    s_expect_row(c, 2, 2, (const char *[]){"Xã A, B", "say \"hi\""});
    s_expect_row(c, 3, 2, (const char *[]){"two\r\nlines\nhere", "x"});
    s_expect_row(c, 6, 2, (const char *[]){"last", ""});  /* lines counted inside quotes */
    s_expect_end(c);
    th_csv_destroy(&c);
}

static void
test_csv_bom_skipped_and_utf8_kept(void **state)
{
    (void)state;
    th_csv_t *c = s_open("\xEF\xBB\xBF" "code,name\n01,Thành phố Hà Nội\n");
    s_expect_row(c, 1, 2, (const char *[]){"code", "name"});
    s_expect_row(c, 2, 2, (const char *[]){"01", "Thành phố Hà Nội"});
    s_expect_end(c);
    th_csv_destroy(&c);
    /* a BOM-like sequence later in the text is data */
    c = s_open("a\n\xEF\xBB\xBF" "b\n");
    s_expect_row(c, 1, 1, (const char *[]){"a"});
    s_expect_row(c, 2, 1, (const char *[]){"\xEF\xBB\xBF" "b"});
    th_csv_destroy(&c);
}

static void
test_csv_text_not_nul_terminated(void **state)
{
    (void)state;
    char text[] = {'a', ',', 'b', '\n', 'c', 'X', 'X'};
    th_csv_t *c = th_csv_new(text, 5);   /* "a,b\nc" */
    assert_non_null(c);
    s_expect_row(c, 1, 2, (const char *[]){"a", "b"});
    s_expect_row(c, 2, 1, (const char *[]){"c"});
    s_expect_end(c);
    th_csv_destroy(&c);
}

static void
s_expect_error(const char *text, int err, unsigned line, int rows_before)
{
    char **f;
    size_t n;
    th_csv_t *c = s_open(text);
    for (int i = 0; i < rows_before; i++)
        assert_int_equal(th_csv_next(c, &f, &n), 1);
    assert_int_equal(th_csv_next(c, &f, &n), err);
    assert_int_equal(th_csv_line(c), line);
    assert_int_equal(th_csv_next(c, &f, &n), err);  /* sticky */
    th_csv_destroy(&c);
}

static void
test_csv_parse_errors(void **state)
{
    (void)state;
    s_expect_error("a,b\n\"open,x\nmore\n", TH_E_PARSE, 2, 1);   /* unterminated */
    s_expect_error("a,b\nab\"c,d\n", TH_E_PARSE, 2, 1);          /* stray quote */
    s_expect_error("a,b\n\"ab\"c,d\n", TH_E_PARSE, 2, 1);        /* text after quote */
    s_expect_error("\"", TH_E_PARSE, 1, 0);
    s_expect_error("x\n\n\"a\"\"", TH_E_PARSE, 3, 1);
}

static void
test_csv_limits(void **state)
{
    (void)state;
    char **f;
    size_t n;
    /* exactly 64 KiB is accepted, one more byte is not */
    size_t big = TH_CSV_FIELD_MAX;
    char *text = malloc(big + 8);
    assert_non_null(text);
    memset(text, 'x', big);
    memcpy(text + big, "\n", 2);
    th_csv_t *c = th_csv_new(text, big + 1);
    assert_int_equal(th_csv_next(c, &f, &n), 1);
    assert_int_equal(strlen(f[0]), big);
    th_csv_destroy(&c);
    text[big] = 'x';
    c = th_csv_new(text, big + 1);
    assert_int_equal(th_csv_next(c, &f, &n), TH_E_LIMIT);
    th_csv_destroy(&c);
    /* also inside quotes */
    text[0] = '"';
    memcpy(text + big + 1, "x\"\n", 3);
    c = th_csv_new(text, big + 4);
    assert_int_equal(th_csv_next(c, &f, &n), TH_E_LIMIT);
    th_csv_destroy(&c);
    free(text);

    /* 256 fields ok, 257 not */
    char row[2 * 257 + 2];
    size_t k = 0;
    for (int i = 0; i < 256; i++) {
        row[k++] = 'a';
        row[k++] = ',';
    }
    row[k - 1] = '\n';
    row[k] = '\0';
    c = s_open(row);
    assert_int_equal(th_csv_next(c, &f, &n), 1);
    assert_int_equal(n, 256);
    th_csv_destroy(&c);
    row[k - 1] = ',';
    row[k] = 'b';
    row[k + 1] = '\0';
    c = s_open(row);
    assert_int_equal(th_csv_next(c, &f, &n), TH_E_LIMIT);
    th_csv_destroy(&c);
}

static void
test_csv_out_of_memory(void **state)
{
    (void)state;
    const char *text = "a,b,c\n\"x\"\"y\",2,3\n";
    int saw_enomem = 0;
    for (long k = 0; k < 20; k++) {
        th_mem_fail_after(k);
        th_csv_t *c = th_csv_new(text, strlen(text));
        if (!c) {
            th_mem_fail_after(-1);
            saw_enomem = 1;
            continue;
        }
        char **f;
        size_t n;
        int rc;
        while ((rc = th_csv_next(c, &f, &n)) == 1)
            ;
        if (rc == -ENOMEM)
            saw_enomem = 1;
        else
            assert_int_equal(rc, 0);
        th_mem_fail_after(-1);
        th_csv_destroy(&c);
    }
    assert_true(saw_enomem);
}

static char *
s_write(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(th_csv_write_field(f, s), 0);
    fclose(f);
    return buf;
}

static void
test_csv_write_field_quotes_when_needed(void **state)
{
    (void)state;
    struct { const char *in, *out; } cases[] = {
        {"plain", "plain"},
        {"Xã Tân Biên", "Xã Tân Biên"},
        {"", ""},
        {NULL, ""},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"two\nlines", "\"two\nlines\""},
        {"cr\r", "\"cr\r\""},
        {" lead", "\" lead\""},
        {"trail ", "\"trail \""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = s_write(cases[i].in);
        assert_string_equal(got, cases[i].out);
        free(got);
    }
    /* what the writer writes, the reader reads back */
    const char *vals[] = {"a,b", "say \"hi\"", "two\r\nlines", "", " x "};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    for (size_t i = 0; i < 5; i++) {
        if (i)
            fputc(',', f);
        assert_int_equal(th_csv_write_field(f, vals[i]), 0);
    }
    fputs("\r\n", f);
    fclose(f);
    th_csv_t *c = th_csv_new(buf, len);
    s_expect_row(c, 1, 5, vals);
    s_expect_end(c);
    th_csv_destroy(&c);
    free(buf);
}

static void
test_csv_write_field_reports_errors(void **state)
{
    (void)state;
    FILE *f = fopen("/dev/full", "w");
    if (!f)
        skip();
    setvbuf(f, NULL, _IONBF, 0);
    assert_true(th_csv_write_field(f, "abc") < 0);
    assert_true(th_csv_write_field(f, "a,b") < 0);
    fclose(f);
}

static void
test_csv_write_cell_ends_rows(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(th_csv_write_cell(f, "Mã", false), 0);
    assert_int_equal(th_csv_write_cell(f, "a,b", true), 0);
    assert_int_equal(th_csv_write_cell(f, "x", true), 0);
    fclose(f);
    assert_string_equal(buf, "Mã,\"a,b\"\r\nx\r\n");
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_simple_lf_and_crlf),
        cmocka_unit_test(test_csv_empty_fields_and_blank_lines),
        cmocka_unit_test(test_csv_quoted_fields),
        cmocka_unit_test(test_csv_bom_skipped_and_utf8_kept),
        cmocka_unit_test(test_csv_text_not_nul_terminated),
        cmocka_unit_test(test_csv_parse_errors),
        cmocka_unit_test(test_csv_limits),
        cmocka_unit_test(test_csv_out_of_memory),
        cmocka_unit_test(test_csv_write_field_quotes_when_needed),
        cmocka_unit_test(test_csv_write_field_reports_errors),
        cmocka_unit_test(test_csv_write_cell_ends_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
