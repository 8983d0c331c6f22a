/*  Tests for common/units: the official trees from config/units/ (run from
    the repository root) and small hand-written lists for the checks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "err.h"
#include "mem.h"
#include "period.h"
#include "units.h"
#include "builtin.h"

#define S_REFORM TH_UNITS_REFORM_DAY

static char *
s_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int32_t
s_day(const char *s)
{
    int32_t d = 0;
    assert_int_equal(th_date_parse(s, &d), 0);
    return d;
}

/* Both official trees, loaded once for the tests that only read. */
static int
s_setup_official(void **state)
{
    size_t l24, l25;
    char *t24 = s_read("config/units/vn-2024.csv", &l24);
    char *t25 = s_read("config/units/vn-2025.csv", &l25);
    char err[256] = "";
    th_units_t *u = th_units_new();
    assert_non_null(u);
    int rc = th_units_load_csv(u, "vn-2024", "config/units/vn-2024.csv", t24, l24, INT32_MIN,
                               S_REFORM - 1, err, sizeof err);
    if (rc)
        fail_msg("vn-2024: %s", err);
    rc = th_units_load_csv(u, "vn-2025", "config/units/vn-2025.csv", t25, l25, S_REFORM,
                           INT32_MAX, err, sizeof err);
    if (rc)
        fail_msg("vn-2025: %s", err);
    /* load time is measured by `make bench`, not asserted here */
    size_t ls;
    char *ts = s_read("config/units/successors-2025.csv", &ls);
    rc = th_units_load_successors(u, "vn-2024", "config/units/successors-2025.csv", ts, ls, err,
                                  sizeof err);
    if (rc != 10794)
        fail_msg("successors: %d %s", rc, err);
    free(ts);
    free(t24);
    free(t25);
    *state = u;
    return 0;
}

static int
s_teardown(void **state)
{
    th_units_t *u = *state;
    th_units_destroy(&u);
    assert_null(u);
    th_units_destroy(&u);
    return 0;
}

typedef struct {
    size_t n;
    size_t province, district, commune;
    char first[8][TH_UNIT_MAX];
} s_count_t;

static int
s_count_cb(const th_unit_t *c, void *ctx)
{
    s_count_t *k = ctx;
    if (k->n < 8)
        snprintf(k->first[k->n], TH_UNIT_MAX, "%s", c->code);
    k->n++;
    if (strcmp(c->level, "province") == 0)
        k->province++;
    else if (strcmp(c->level, "district") == 0)
        k->district++;
    else if (strcmp(c->level, "commune") == 0)
        k->commune++;
    return 0;
}

static void
test_units_official_counts_per_tree(void **state)
{
    th_units_t *u = *state;
    assert_int_equal(th_units_count(u), 10794 + 3355);
    assert_int_equal(th_units_set_count(u, "vn-2024"), 10794);
    assert_int_equal(th_units_set_count(u, "vn-2025"), 3355);
    assert_int_equal(th_units_set_count(u, "vn-2030"), 0);

    s_count_t k = {0};
    assert_int_equal(th_units_each(u, s_day("30/06/2025"), NULL, s_count_cb, &k), 0);
    assert_int_equal(k.province, 63);
    assert_int_equal(k.district, 696);
    assert_int_equal(k.commune, 10035);
    assert_int_equal(k.n, 10794);

    memset(&k, 0, sizeof k);
    assert_int_equal(th_units_each(u, s_day("01/07/2025"), NULL, s_count_cb, &k), 0);
    assert_int_equal(k.province, 34);
    assert_int_equal(k.district, 0);
    assert_int_equal(k.commune, 3321);

    memset(&k, 0, sizeof k);
    assert_int_equal(th_units_each(u, s_day("01/07/2025"), "province", s_count_cb, &k), 0);
    assert_int_equal(k.n, 34);
    assert_string_equal(k.first[0], "01");
}

static void
test_units_reused_code_differs_across_reform(void **state)
{
    th_units_t *u = *state;
    const th_unit_t *a = th_units_find(u, "25459", s_day("2025-06-30"));
    const th_unit_t *b = th_units_find(u, "25459", s_day("2025-07-01"));
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a->name, "Phường 3");
    assert_string_equal(a->parent, "703");
    assert_string_equal(a->set, "vn-2024");
    assert_int_equal(a->valid_to, S_REFORM - 1);
    assert_true(a->valid_from == INT32_MIN);
    assert_string_equal(b->name, "Phường Tân Ninh");
    assert_string_equal(b->parent, "80");
    assert_string_equal(b->set, "vn-2025");
    assert_true(b->valid_to == INT32_MAX);
    assert_int_equal(b->valid_from, S_REFORM);
    assert_string_equal(b->level, "commune");

    assert_string_equal(th_units_find(u, "80", s_day("2025-06-30"))->name, "Tỉnh Long An");
    assert_string_equal(th_units_find(u, "80", s_day("2025-07-01"))->name, "Tỉnh Tây Ninh");
    assert_string_equal(th_units_find(u, "80", s_day("2020-01-01"))->name, "Tỉnh Long An");
    assert_string_equal(th_units_find(u, "80", s_day("2030-01-01"))->name, "Tỉnh Tây Ninh");

    /* codes that exist in one tree only */
    assert_non_null(th_units_find(u, "72", s_day("2025-06-30")));
    assert_null(th_units_find(u, "72", s_day("2025-07-01")));
    assert_non_null(th_units_find(u, "703", s_day("2025-06-30")));
    assert_null(th_units_find(u, "703", s_day("2025-07-01")));
    assert_null(th_units_find(u, "26732", s_day("2025-06-30")));
    assert_string_equal(th_units_find(u, "26732", s_day("2025-07-01"))->name, "Đặc khu Côn Đảo");
    assert_null(th_units_find(u, "99999", s_day("2025-07-01")));
    assert_null(th_units_find(u, "", s_day("2025-07-01")));

    /* lookups by set and parent stay inside one tree */
    const th_unit_t *old80 = th_units_find_in_set(u, "vn-2024", "80");
    assert_non_null(old80);
    assert_string_equal(old80->name, "Tỉnh Long An");
    assert_null(th_units_find_in_set(u, "vn-2025", "72"));
    assert_null(th_units_find_in_set(u, "nope", "80"));
    const th_unit_t *p = th_units_parent(u, a);
    assert_non_null(p);
    assert_string_equal(p->name, "Thành phố Tây Ninh");
    p = th_units_parent(u, p);
    assert_string_equal(p->code, "72");
    assert_null(th_units_parent(u, p));
    assert_string_equal(th_units_parent(u, b)->name, "Tỉnh Tây Ninh");
}

static void
test_units_subtree_tay_ninh_2024(void **state)
{
    th_units_t *u = *state;
    int32_t day = s_day("2025-06-30");
    s_count_t k = {0};
    assert_int_equal(th_units_each_in_subtree(u, "72", day, NULL, s_count_cb, &k), 0);
    assert_int_equal(k.province, 1);
    assert_int_equal(k.district, 9);
    assert_int_equal(k.commune, 94);
    /* pre-order, file order: the province, its first district, its communes */
    assert_string_equal(k.first[0], "72");
    assert_string_equal(k.first[1], "703");
    assert_string_equal(k.first[2], "25456");
    assert_string_equal(k.first[3], "25459");

    memset(&k, 0, sizeof k);
    assert_int_equal(th_units_each_child(u, "72", day, s_count_cb, &k), 0);
    assert_int_equal(k.n, 9);
    assert_int_equal(k.district, 9);
    assert_string_equal(k.first[0], "703");
    assert_string_equal(k.first[7], "711");

    memset(&k, 0, sizeof k);
    assert_int_equal(th_units_each_in_subtree(u, "72", day, "commune", s_count_cb, &k), 0);
    assert_int_equal(k.n, 94);
    assert_int_equal(k.commune, 94);
    assert_string_equal(k.first[0], "25456");

    /* a unit not in force that day has no subtree */
    k.n = 0;
    assert_int_equal(th_units_each_in_subtree(u, "72", S_REFORM, NULL, s_count_cb, &k), TH_E_UNIT);
    assert_int_equal(th_units_each_child(u, "72", S_REFORM, s_count_cb, &k), TH_E_UNIT);
    assert_int_equal(k.n, 0);
}

static void
test_units_subtree_tay_ninh_2025(void **state)
{
    th_units_t *u = *state;
    s_count_t k = {0};
    assert_int_equal(th_units_each_in_subtree(u, "80", s_day("2025-07-01"), NULL, s_count_cb, &k),
                     0);
    assert_int_equal(k.province, 1);
    assert_int_equal(k.district, 0);
    assert_int_equal(k.commune, 96);
    assert_string_equal(k.first[1], "25459");
    /* the same code the day before is Long An, a three-level tree */
    memset(&k, 0, sizeof k);
    assert_int_equal(th_units_each_in_subtree(u, "80", s_day("2025-06-30"), NULL, s_count_cb, &k),
                     0);
    assert_int_equal(k.province, 1);
    assert_true(k.district > 0);
    assert_true(k.commune > 96);
}

static void
test_units_in_subtree_across_trees(void **state)
{
    th_units_t *u = *state;
    int32_t before = s_day("2025-06-30"), after = s_day("2025-07-01");
    assert_true(th_units_in_subtree(u, "72", "25459", before));
    assert_true(th_units_in_subtree(u, "703", "25459", before));
    assert_false(th_units_in_subtree(u, "80", "25459", before));
    assert_true(th_units_in_subtree(u, "80", "25459", after));
    assert_false(th_units_in_subtree(u, "72", "25459", after));
    assert_false(th_units_in_subtree(u, "703", "25459", after));
    assert_true(th_units_in_subtree(u, "25459", "25459", after));  /* itself */
    assert_false(th_units_in_subtree(u, "25459", "80", after));    /* not upward */
    assert_false(th_units_in_subtree(u, "80", "99999", after));
    assert_false(th_units_in_subtree(u, "79", "26732", before));   /* not yet in force */
    assert_true(th_units_in_subtree(u, "79", "26732", after));
}

static int
s_fail_cb(const th_unit_t *c, void *ctx)
{
    (void)c;
    (void)ctx;
    fail_msg("callback must not run");
    return 0;
}

static int
s_stop_cb(const th_unit_t *c, void *ctx)
{
    int *n = ctx;
    (void)c;
    return ++*n == 3 ? 77 : 0;
}

static void
test_units_district_without_communes(void **state)
{
    th_units_t *u = *state;
    int32_t day = s_day("2025-01-01");
    const th_unit_t *cd = th_units_find(u, "755", day);
    assert_non_null(cd);
    assert_string_equal(cd->name, "Huyện Côn Đảo");
    assert_string_equal(cd->level, "district");
    assert_int_equal(th_units_each_child(u, "755", day, s_fail_cb, NULL), 0);
    s_count_t k = {0};
    assert_int_equal(th_units_each_in_subtree(u, "755", day, NULL, s_count_cb, &k), 0);
    assert_int_equal(k.n, 1);
    assert_string_equal(k.first[0], "755");
    assert_int_equal(th_units_each_in_subtree(u, "755", day, "commune", s_fail_cb, NULL), 0);
}

static void
test_units_callback_stops_walk(void **state)
{
    th_units_t *u = *state;
    int n = 0;
    assert_int_equal(th_units_each_in_subtree(u, "72", s_day("2025-01-01"), NULL, s_stop_cb, &n),
                     77);
    assert_int_equal(n, 3);
    n = 0;
    assert_int_equal(th_units_each_child(u, "72", s_day("2025-01-01"), s_stop_cb, &n), 77);
    assert_int_equal(n, 3);
    n = 0;
    assert_int_equal(th_units_each(u, s_day("2025-01-01"), NULL, s_stop_cb, &n), 77);
    assert_int_equal(n, 3);
}

/* Loads text as set "t" into a fresh registry; returns rc, err filled. */
static int
s_load(const char *text, char *err, size_t cap)
{
    th_units_t *u = th_units_new();
    assert_non_null(u);
    int rc = th_units_load_csv(u, "t", "t.csv", text, strlen(text), INT32_MIN, INT32_MAX, err, cap);
    if (rc)
        assert_int_equal(th_units_count(u), 0);   /* nothing kept */
    th_units_destroy(&u);
    return rc;
}

static void
s_expect_fail(const char *text, int want, const char *msg)
{
    char err[256] = "";
    assert_int_equal(s_load(text, err, sizeof err), want);
    assert_string_equal(err, msg);
}

static void
test_units_load_errors_with_lines(void **state)
{
    (void)state;
    s_expect_fail("code,name,level,parent_code\n"
                  "01,Tỉnh A,province,\n"
                  "001,Huyện B,district,01\n"
                  "00001,Xã C,commune,002\n",
                  TH_E_INVALID, "t.csv:4: parent '002' of unit '00001' is not in the list");
    s_expect_fail("code,name,level,parent_code\n"
                  "01,Tỉnh A,province,\n"
                  "\n"
                  "001,Huyện B,district,01\n"
                  "001,Huyện C,district,01\n",
                  TH_E_INVALID, "t.csv:5: duplicate code '001' (first on line 4)");
    s_expect_fail("code,name,parent_code,level\n01,A,province,\n", TH_E_PARSE,
                  "t.csv:1: header must start with code,name,level,parent_code");
    s_expect_fail("code,name,level\n01,A,province\n", TH_E_PARSE,
                  "t.csv:1: header must start with code,name,level,parent_code");
    s_expect_fail("", TH_E_PARSE,
                  "t.csv:1: empty file, expected header code,name,level,parent_code");
    s_expect_fail("code,name,level,parent_code\n01,A,province,\n,B,district,01\n", TH_E_INVALID,
                  "t.csv:3: empty code");
    s_expect_fail("code,name,level,parent_code\n01,A,,\n", TH_E_INVALID,
                  "t.csv:2: unit '01' has an empty level");
    s_expect_fail("code,name,level,parent_code\n01,,province,\n", TH_E_INVALID,
                  "t.csv:2: unit '01' has an empty name");
    s_expect_fail("code,name,level,parent_code\n01,A,Province,\n", TH_E_INVALID,
                  "t.csv:2: unit '01': invalid level 'Province' (lowercase a-z 0-9 _ -)");
    s_expect_fail("code,name,level,parent_code\n0 1,A,province,\n", TH_E_INVALID,
                  "t.csv:2: invalid code '0 1' (1..15 of A-Z a-z 0-9 _ -)");
    s_expect_fail("code,name,level,parent_code\n01,A,province\n", TH_E_PARSE,
                  "t.csv:2: 3 fields, the header has 4");
    s_expect_fail("code,name,level,parent_code\n01,\"A,province,\n", TH_E_PARSE,
                  "t.csv:2: CSV syntax error (unterminated or stray quote)");
    s_expect_fail("code,name,level,parent_code,note\n01,A,province,,x\n", TH_E_PARSE,
                  "t.csv:1: unknown column 'note' (allowed after parent_code: valid_from, "
                  "valid_to, successor)");
    s_expect_fail("code,name,level,parent_code,valid_to,valid_to\n01,A,province,,,\n",
                  TH_E_PARSE, "t.csv:1: column 'valid_to' appears twice");
    s_expect_fail("code,name,level,parent_code\n01,A,province,02\n02,B,province,01\n",
                  TH_E_INVALID, "t.csv:2: unit '01' is its own ancestor");
    s_expect_fail("code,name,level,parent_code\n01,A,province,01\n", TH_E_INVALID,
                  "t.csv:2: unit '01' is its own ancestor");
    s_expect_fail("code,name,level,parent_code,valid_to\n01,A,province,,31/02/2025\n",
                  TH_E_INVALID,
                  "t.csv:2: valid_to '31/02/2025' is not a date (dd/mm/yyyy or yyyy-mm-dd)");
    s_expect_fail("code,name,level,parent_code,valid_from,valid_to\n"
                  "01,A,province,,02/01/2025,01/01/2025\n",
                  TH_E_INVALID, "t.csv:2: unit '01': valid_from is after valid_to");
    s_expect_fail("code,name,level,parent_code,successor\n01,A,province,,x y\n", TH_E_INVALID,
                  "t.csv:2: invalid successor 'x y' (1..15 of A-Z a-z 0-9 _ -)");
    /* a long line number and a tiny errbuf still terminate */
    char tiny[8];
    assert_int_equal(s_load("code,name,level,parent_code\n01,A,province,9\n", tiny, sizeof tiny),
                     TH_E_INVALID);
    assert_string_equal(tiny, "t.csv:2");
    assert_int_equal(s_load("code,name,level,parent_code\n01,A,province,9\n", NULL, 0),
                     TH_E_INVALID);
}

static void
test_units_parent_after_child_and_crlf_bom(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBF" "code,name,level,parent_code\r\n"
                       "00001,\"Xã A, mới\",commune,001\r\n"
                       "001,Huyện B,district,01\r\n"
                       "01,Tỉnh C,province,\r\n"
                       "DEP-01,Sở Nội vụ,department,01\r\n";
    th_units_t *u = th_units_new();
    char err[128] = "";
    assert_int_equal(th_units_load_csv(u, "t", "t.csv", text, strlen(text), INT32_MIN, INT32_MAX,
                                       err, sizeof err),
                     0);
    assert_string_equal(err, "");
    assert_string_equal(th_units_find(u, "00001", 0)->name, "Xã A, mới");
    s_count_t k = {0};
    assert_int_equal(th_units_each_in_subtree(u, "01", 0, NULL, s_count_cb, &k), 0);
    assert_int_equal(k.n, 4);
    assert_string_equal(k.first[0], "01");
    assert_string_equal(k.first[1], "001");
    assert_string_equal(k.first[2], "00001");
    assert_string_equal(k.first[3], "DEP-01");
    assert_true(th_units_in_subtree(u, "01", "DEP-01", 0));
    th_units_destroy(&u);
}

static void
test_units_optional_columns_merged_unit(void **state)
{
    (void)state;
    const char *text = "code,name,level,parent_code,valid_from,valid_to,successor\n"
                       "01,Tỉnh A,province,,,,\n"
                       "001,Huyện B,district,01,,,\n"
                       "00001,Xã Cũ,commune,001,,2024-12-31,00004\n"
                       "00004,Xã Mới,commune,001,01/01/2025,,\n"
                       "00007,Xã Giữ,commune,001,,,\n";
    th_units_t *u = th_units_new();
    char err[128] = "";
    int32_t from = s_day("01/01/2020"), to = s_day("30/06/2025");
    assert_int_equal(th_units_load_csv(u, "t", "t.csv", text, strlen(text), from, to, err,
                                       sizeof err),
                     0);
    const th_unit_t *old = th_units_find(u, "00001", s_day("31/12/2024"));
    assert_non_null(old);
    assert_int_equal(old->valid_from, from);
    assert_int_equal(old->valid_to, s_day("31/12/2024"));
    assert_string_equal(old->successor, "00004");
    assert_null(th_units_find(u, "00001", s_day("01/01/2025")));
    assert_null(th_units_find(u, "00004", s_day("31/12/2024")));
    const th_unit_t *nu = th_units_find(u, "00004", s_day("01/01/2025"));
    assert_non_null(nu);
    assert_string_equal(nu->successor, "");
    assert_int_equal(nu->valid_to, to);
    assert_null(th_units_find(u, "00007", s_day("01/07/2025")));   /* set's end */
    assert_null(th_units_find(u, "00007", s_day("31/12/2019")));   /* set's start */

    s_count_t k = {0};
    assert_int_equal(th_units_each_child(u, "001", s_day("31/12/2024"), s_count_cb, &k), 0);
    assert_int_equal(k.n, 2);
    assert_string_equal(k.first[0], "00001");
    assert_string_equal(k.first[1], "00007");
    memset(&k, 0, sizeof k);
    assert_int_equal(th_units_each_in_subtree(u, "01", s_day("01/01/2025"), "commune", s_count_cb,
                                              &k),
                     0);
    assert_int_equal(k.n, 2);
    assert_string_equal(k.first[0], "00004");
    assert_string_equal(k.first[1], "00007");
    assert_false(th_units_in_subtree(u, "01", "00001", s_day("01/01/2025")));
    assert_true(th_units_in_subtree(u, "01", "00001", s_day("01/01/2024")));
    th_units_destroy(&u);
}

static void
test_units_set_name_and_usage_errors(void **state)
{
    (void)state;
    const char *text = "code,name,level,parent_code\n01,A,province,\n";
    th_units_t *u = th_units_new();
    char err[128];
    assert_int_equal(th_units_load_csv(u, "a", "a.csv", text, strlen(text), 0, 10, err, sizeof err),
                     0);
    assert_int_equal(th_units_load_csv(u, "a", "b.csv", text, strlen(text), 20, 30, err, sizeof err),
                     TH_E_EXISTS);
    assert_string_equal(err, "b.csv: unit set 'a' is already loaded");
    assert_int_equal(th_units_load_csv(u, "", "c.csv", text, strlen(text), 0, 1, err, sizeof err),
                     TH_E_USAGE);
    assert_int_equal(th_units_load_csv(u, "c", "c.csv", text, strlen(text), 5, 1, err, sizeof err),
                     TH_E_USAGE);
    assert_int_equal(th_units_count(u), 1);
    /* overlapping sets: the one loaded last wins */
    const char *text2 = "code,name,level,parent_code\n01,B,province,\n";
    assert_int_equal(th_units_load_csv(u, "b", NULL, text2, strlen(text2), 5, 20, err, sizeof err),
                     0);
    assert_string_equal(th_units_find(u, "01", 4)->name, "A");
    assert_string_equal(th_units_find(u, "01", 5)->name, "B");
    assert_string_equal(th_units_find(u, "01", 20)->name, "B");
    assert_null(th_units_find(u, "01", 21));
    th_units_destroy(&u);
}

static void
test_units_out_of_memory_leaves_nothing(void **state)
{
    (void)state;
    const char *text = "code,name,level,parent_code\n01,A,province,\n001,B,district,01\n";
    int saw_enomem = 0, saw_ok = 0;
    for (long k = 0; k < 40; k++) {
        th_mem_fail_after(k);
        th_units_t *u = th_units_new();
        if (!u) {
            th_mem_fail_after(-1);
            continue;
        }
        char err[128] = "";
        int rc = th_units_load_csv(u, "t", "t", text, strlen(text), 0, 10, err, sizeof err);
        th_mem_fail_after(-1);
        if (rc == -ENOMEM) {
            saw_enomem = 1;
            assert_int_equal(th_units_count(u), 0);
            assert_null(th_units_find(u, "01", 1));
        } else {
            assert_int_equal(rc, 0);
            saw_ok = 1;
            assert_int_equal(th_units_count(u), 2);
        }
        th_units_destroy(&u);
    }
    assert_true(saw_enomem);
    assert_true(saw_ok);
}


/* Where old units went on 01/07/2025, with real codes: the mapping, not the
   code, decides (old 80 Long An and old 72 Tây Ninh both went into new 80). */
static void
test_units_successor_across_reform(void **state)
{
    th_units_t *u = *state;
    int32_t d26 = s_day("31/12/2026"), d24 = s_day("31/12/2024");
    static const char *const cases[][3] = {
        { "80", "80", "Tỉnh Tây Ninh" },             /* old Long An */
        { "72", "80", "Tỉnh Tây Ninh" },             /* old Tây Ninh */
        { "02", "08", "Tỉnh Tuyên Quang" },          /* old Hà Giang */
        { "25459", "25459", "Phường Tân Ninh" },     /* was Phường 3 */
        { "25462", "25459", "Phường Tân Ninh" },     /* Phường 4, Tây Ninh */
        { "27691", "27694", "Phường Long An" },      /* Phường 4, Tân An (Long An) */
        { "703", "80", "Tỉnh Tây Ninh" },            /* district: to its province */
        { "755", "26732", "Đặc khu Côn Đảo" },       /* island district: its đặc khu */
        { "01651", "01648", "Xã Phục Hòa" },         /* the source's code corrected by name */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const th_unit_t *old = th_units_find_in_set(u, "vn-2024", cases[i][0]);
        assert_non_null(old);
        const th_unit_t *nu = th_units_successor(u, old, d26);
        if (!nu || strcmp(nu->code, cases[i][1]) != 0 || strcmp(nu->name, cases[i][2]) != 0)
            fail_msg("%s: got %s", cases[i][0], nu ? nu->code : "(none)");
        assert_string_equal(nu->set, "vn-2025");
        /* the same day as the old unit's own: itself */
        assert_ptr_equal(th_units_successor(u, old, d24), old);
    }
    const th_unit_t *old80 = th_units_find_in_set(u, "vn-2024", "80");
    assert_string_equal(old80->name, "Tỉnh Long An");
    assert_string_equal(old80->successor, "80");
    /* a new unit is its own successor, and maps nowhere before it existed */
    const th_unit_t *new80 = th_units_find(u, "80", d26);
    assert_ptr_equal(th_units_successor(u, new80, d26), new80);
    assert_null(th_units_successor(u, new80, d24));
    assert_null(th_units_successor(u, NULL, d26));
}

typedef struct {
    const th_units_t *u;
    int32_t day;
    size_t mapped, to_new80;
} s_succ_count_t;

static int
s_succ_cb(const th_unit_t *c, void *ctx)
{
    s_succ_count_t *k = ctx;
    const th_unit_t *s = th_units_successor(k->u, c, k->day);
    if (s) {
        k->mapped++;
        k->to_new80 += th_units_in_subtree(k->u, "80", s->code, k->day);
    }
    return 0;
}

/* Coverage: every old commune maps into the 2025 tree; those of new Tây
   Ninh are old Long An's and old Tây Ninh's. */
static void
test_units_successor_coverage(void **state)
{
    th_units_t *u = *state;
    s_succ_count_t k = { u, s_day("31/12/2026"), 0, 0 };
    assert_int_equal(th_units_each(u, s_day("31/12/2024"), "commune", s_succ_cb, &k), 0);
    assert_int_equal(k.mapped, 10035);
    s_count_t la = {0}, tn = {0};
    assert_int_equal(th_units_each_in_subtree(u, "80", s_day("31/12/2024"), "commune",
                                              s_count_cb, &la), 0);
    assert_int_equal(th_units_each_in_subtree(u, "72", s_day("31/12/2024"), "commune",
                                              s_count_cb, &tn), 0);
    assert_int_equal(k.to_new80, la.n + tn.n);
    memset(&k, 0, sizeof k);
    k.u = u;
    k.day = s_day("31/12/2026");
    assert_int_equal(th_units_each(u, s_day("31/12/2024"), "province", s_succ_cb, &k), 0);
    assert_int_equal(k.mapped, 63);
    assert_int_equal(k.to_new80, 2);
}

/* The mapping's own checks, and what is kept. */
static void
test_units_load_successors_checks(void **state)
{
    (void)state;
    const char *list = "code,name,level,parent_code,successor\n"
                       "01,Tỉnh A,province,,\n"
                       "00001,Xã Một,commune,01,\n"
                       "00002,Xã Hai,commune,01,00009\n";
    th_units_t *u = th_units_new();
    char err[160] = "";
    assert_int_equal(th_units_load_csv(u, "old", "old.csv", list, strlen(list), INT32_MIN,
                                       s_day("30/06/2025"), err, sizeof err), 0);
    static const struct { const char *text; int rc; const char *msg; } bad[] = {
        { "old_code,new_code\n", TH_E_PARSE,
          "m.csv:1: header must be level,old_code,new_code,main,note" },
        { "level,old_code,new_code,main,note\ncommune,00001,00004,2,\n", TH_E_INVALID,
          "m.csv:2: main must be 0 or 1, not '2'" },
        { "level,old_code,new_code,main,note\ncommune,00001,x y,1,\n", TH_E_INVALID,
          "m.csv:2: invalid new_code 'x y' (1..15 of A-Z a-z 0-9 _ -)" },
        { "level,old_code,new_code,main,note\ncommune,00001,00004,1,\n"
          "commune,00001,00005,1,\n", TH_E_INVALID,
          "m.csv:3: a second main successor for '00001'" },
        { "level,old_code,new_code,main,note\ncommune,00001,00004,1\n", TH_E_PARSE,
          "m.csv:2: 4 fields, the header has 5" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(th_units_load_successors(u, "old", "m.csv", bad[i].text,
                                                  strlen(bad[i].text), err, sizeof err),
                         bad[i].rc);
        assert_string_equal(err, bad[i].msg);
        assert_string_equal(th_units_find_in_set(u, "old", "00001")->successor, "");
    }
    assert_int_equal(th_units_load_successors(u, "nope", "m.csv", "", 0, err, sizeof err),
                     TH_E_USAGE);
    /* main = 0 rows, unknown codes and a unit's own successor are left alone */
    const char *ok = "level,old_code,new_code,main,note\n"
                     "commune,00001,00004,1,Nhập một phần\n"
                     "commune,00001,00005,0,Nhập một phần\n"
                     "commune,00002,00004,1,Nhập toàn bộ\n"
                     "commune,00003,00004,1,\n"
                     "province,01,01,1,\n";
    assert_int_equal(th_units_load_successors(u, "old", "m.csv", ok, strlen(ok), err,
                                              sizeof err), 2);
    assert_string_equal(th_units_find_in_set(u, "old", "00001")->successor, "00004");
    assert_string_equal(th_units_find_in_set(u, "old", "00002")->successor, "00009");
    assert_string_equal(th_units_find_in_set(u, "old", "01")->successor, "01");
    /* no unit in force on the day: nowhere to go */
    assert_null(th_units_successor(u, th_units_find_in_set(u, "old", "00001"),
                                   s_day("01/07/2025")));
    th_units_destroy(&u);
}

/* The lists the offices load: the official ones with the national root VN
   above the provinces (builtin.h), in both trees. */
static void
test_units_builtin_national_root(void **state)
{
    (void)state;
    size_t n = 0;
    const th_builtin_t *b = th_builtin_units(&n);
    assert_int_equal(n, 2);
    th_units_t *u = th_units_new();
    char err[256];
    for (size_t i = 0; i < n; i++)
        assert_int_equal(th_units_load_csv(u, b[i].name, b[i].name, b[i].text, b[i].len,
                                           b[i].valid_from, b[i].valid_to, err, sizeof err),
                         0);
    assert_int_equal(th_units_set_count(u, "vn-2024"), 10794 + 1);
    assert_int_equal(th_units_set_count(u, "vn-2025"), 3355 + 1);
    const char *days[] = { "30/06/2025", "01/07/2025" };
    const size_t provinces[] = { 63, 34 };
    for (size_t d = 0; d < 2; d++) {
        const th_unit_t *vn = th_units_find(u, TH_BUILTIN_ROOT_CODE, s_day(days[d]));
        assert_non_null(vn);
        assert_string_equal(vn->name, "Việt Nam");
        assert_string_equal(vn->level, "country");
        assert_string_equal(vn->parent, "");
        s_count_t k = { 0 };
        assert_int_equal(th_units_each_child(u, "VN", s_day(days[d]), s_count_cb, &k), 0);
        assert_int_equal(k.province, provinces[d]);
        assert_int_equal(k.n, provinces[d]);   /* only provinces below it */
        /* every commune lies below it, the old ones in their own tree */
        assert_true(th_units_in_subtree(u, "VN", "25459", s_day(days[d])));
    }
    th_units_destroy(&u);
}

int
main(void)
{
    const struct CMUnitTest official[] = {
        cmocka_unit_test(test_units_builtin_national_root),
        cmocka_unit_test(test_units_official_counts_per_tree),
        cmocka_unit_test(test_units_reused_code_differs_across_reform),
        cmocka_unit_test(test_units_subtree_tay_ninh_2024),
        cmocka_unit_test(test_units_subtree_tay_ninh_2025),
        cmocka_unit_test(test_units_in_subtree_across_trees),
        cmocka_unit_test(test_units_district_without_communes),
        cmocka_unit_test(test_units_callback_stops_walk),
        cmocka_unit_test(test_units_successor_across_reform),
        cmocka_unit_test(test_units_successor_coverage),
    };
    const struct CMUnitTest small[] = {
        cmocka_unit_test(test_units_load_errors_with_lines),
        cmocka_unit_test(test_units_parent_after_child_and_crlf_bom),
        cmocka_unit_test(test_units_optional_columns_merged_unit),
        cmocka_unit_test(test_units_set_name_and_usage_errors),
        cmocka_unit_test(test_units_out_of_memory_leaves_nothing),
        cmocka_unit_test(test_units_load_successors_checks),
    };
    int failed = cmocka_run_group_tests_name("units_official", official, s_setup_official,
                                             s_teardown);
    failed += cmocka_run_group_tests_name("units_small", small, NULL, NULL);
    return failed;
}
