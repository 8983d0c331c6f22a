/*  Tests of table: display width of Vietnamese text (NFC and NFD) and
    column alignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "table.h"

static void
test_table_width_counts_display_columns(void **state)
{
    (void)state;
    assert_int_equal(th_table_width("abc"), 3);
    assert_int_equal(th_table_width(""), 0);
    assert_int_equal(th_table_width(NULL), 0);
    /* NFC: "Phường" is 6 letters in 9 bytes */
    assert_int_equal(th_table_width("Phường"), 6);
    assert_int_equal(strlen("Phường"), 9);
    /* NFD: "ố" as o + U+0302 + U+0301 is one column */
    assert_int_equal(th_table_width("So\xcc\x82\xcc\x81"), 2);
    assert_int_equal(th_table_width("Số"), 2);
    assert_int_equal(th_table_width("Tỉnh Tây Ninh"), 13);
    /* an invalid byte counts one column */
    assert_int_equal(th_table_width("a\xff" "b"), 3);
}

/* Display column where needle starts in line. */
static size_t
s_col(const char *line, const char *needle)
{
    const char *p = strstr(line, needle);
    assert_non_null(p);
    char buf[256];
    snprintf(buf, sizeof buf, "%.*s", (int)(p - line), line);
    return th_table_width(buf);
}

static void
test_table_aligns_vietnamese_columns(void **state)
{
    (void)state;
    static const char *const hdr[] = { "Mã", "Đơn vị", "Số liệu" };
    th_table_t *t = th_table_new(3, hdr);
    assert_non_null(t);
    assert_int_equal(th_table_align(t, 2, TH_TABLE_RIGHT), 0);
    assert_int_equal(th_table_align(t, 3, TH_TABLE_RIGHT), TH_E_INVALID);
    const char *r1[] = { "25459", "Phường Tân Ninh", "1.234.567" };
    const char *r2[] = { "1", "Xa\xcc\x83 Nghi\xcc\xa3 Ti\xcc\x81n", "5" };  /* NFD */
    const char *r3[] = { "00004", "Ba Dinh", "95,83" };
    assert_int_equal(th_table_add_row(t, r1), 0);
    assert_int_equal(th_table_add_row(t, r2), 0);
    assert_int_equal(th_table_add_row(t, r3), 0);
    assert_int_equal(th_table_rows(t), 3);
    char *out;
    size_t len;
    assert_int_equal(th_table_render(t, &out, &len), 0);
    assert_int_equal(strlen(out), len);
    char *lines[8];
    size_t n = 0;
    for (char *l = strtok(out, "\n"); l && n < 8; l = strtok(NULL, "\n"))
        lines[n++] = l;
    assert_int_equal(n, 5);   /* header, rule, 3 rows */
    /* every line has the same display width (right-aligned last column) */
    size_t w = th_table_width(lines[0]);
    for (size_t i = 1; i < n; i++)
        assert_int_equal(th_table_width(lines[i]), w);
    /* the second column starts at the same display column everywhere */
    assert_int_equal(s_col(lines[0], "Đơn vị"), 7);
    assert_int_equal(s_col(lines[2], "Phường"), 7);
    assert_int_equal(s_col(lines[3], "Xa"), 7);
    assert_int_equal(s_col(lines[4], "Ba Dinh"), 7);
    /* numbers end at the same column */
    assert_int_equal(s_col(lines[2], "1.234.567") + 9, w);
    assert_int_equal(s_col(lines[4], "95,83") + 5, w);
    assert_int_equal(lines[1][0], '-');
    assert_int_equal(th_table_width(lines[1]), w);
    th_free(out);
    th_table_destroy(&t);
    assert_null(t);
    th_table_destroy(&t);
}

static void
test_table_no_trailing_spaces_and_empty_cells(void **state)
{
    (void)state;
    th_table_t *t = th_table_new(2, NULL);
    const char *r1[] = { "dài hơn", NULL };
    const char *r2[] = { "a", "b" };
    assert_int_equal(th_table_add_row(t, r1), 0);
    assert_int_equal(th_table_add_row(t, r2), 0);
    char *out;
    assert_int_equal(th_table_render(t, &out, NULL), 0);
    assert_string_equal(out, "dài hơn\na        b\n");
    th_free(out);
    th_table_destroy(&t);
    assert_null(th_table_new(0, NULL));
    assert_int_equal(th_table_add_row(NULL, r1), TH_E_INVALID);
}

static void
test_table_out_of_memory(void **state)
{
    (void)state;
    th_table_t *t = th_table_new(1, NULL);
    const char *r[] = { "x" };
    th_mem_fail_after(0);
    assert_int_equal(th_table_add_row(t, r), -ENOMEM);
    char *out = NULL;
    assert_int_equal(th_table_render(t, &out, NULL), -ENOMEM);
    assert_null(th_table_new(2, NULL));
    th_mem_fail_after(-1);
    assert_int_equal(th_table_rows(t), 0);
    th_table_destroy(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_width_counts_display_columns),
        cmocka_unit_test(test_table_aligns_vietnamese_columns),
        cmocka_unit_test(test_table_no_trailing_spaces_and_empty_cells),
        cmocka_unit_test(test_table_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
