/*  Tests for common/period: days, Vietnam time, DHIS2 periods, deadlines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "period.h"

static int32_t
s_day(const char *iso)
{
    int32_t d = 0;
    assert_int_equal(th_date_parse(iso, &d), 0);
    return d;
}

static void
s_assert_day(int32_t day, const char *want_vn)
{
    char buf[11];
    th_date_format_vn(day, buf);
    assert_string_equal(buf, want_vn);
}

static void
test_period_epoch_and_known_days(void **state)
{
    (void)state;
    assert_int_equal(th_date_from_ymd(1970, 1, 1), 0);
    assert_int_equal(th_date_from_ymd(1969, 12, 31), -1);
    assert_int_equal(th_date_from_ymd(2000, 3, 1), 11017);
    assert_int_equal(th_date_from_ymd(2025, 7, 1), 20270);
    assert_int_equal(th_date_from_ymd(1900, 1, 1), -25567);
}

static void
test_period_leap_years(void **state)
{
    (void)state;
    assert_true(th_date_valid(2024, 2, 29));
    assert_false(th_date_valid(2026, 2, 29));
    assert_false(th_date_valid(1900, 2, 29));
    assert_true(th_date_valid(2000, 2, 29));
    assert_false(th_date_valid(2100, 2, 29));
    assert_false(th_date_valid(2026, 4, 31));
    assert_false(th_date_valid(2026, 13, 1));
    assert_false(th_date_valid(2026, 0, 1));
    assert_false(th_date_valid(2026, 1, 0));
    assert_int_equal(th_date_days_in_month(2024, 2), 29);
    assert_int_equal(th_date_days_in_month(1900, 2), 28);
    assert_int_equal(th_date_days_in_month(2000, 2), 29);
    assert_int_equal(th_date_from_ymd(2024, 3, 1) - th_date_from_ymd(2024, 2, 28), 2);
    assert_int_equal(th_date_from_ymd(1900, 3, 1) - th_date_from_ymd(1900, 2, 28), 1);
}

static void
test_period_round_trip_1900_2100(void **state)
{
    (void)state;
    int32_t first = th_date_from_ymd(1900, 1, 1);
    int32_t last = th_date_from_ymd(2100, 12, 31);
    int py = 1899, pm = 12, pd = 31;
    for (int32_t day = first; day <= last; day++) {
        int y, m, d;
        th_date_to_ymd(day, &y, &m, &d);
        assert_true(th_date_valid(y, m, d));
        assert_int_equal(th_date_from_ymd(y, m, d), day);
        /* consecutive days advance the calendar by exactly one */
        if (d != 1) {
            assert_int_equal(y, py);
            assert_int_equal(m, pm);
            assert_int_equal(d, pd + 1);
        } else {
            assert_int_equal(pd, th_date_days_in_month(py, pm));
        }
        py = y, pm = m, pd = d;
    }
    assert_int_equal(last - first + 1, 201 * 365 + 49); /* 1904..2096: 49 leap years */
}

static void
test_period_date_parse_and_format(void **state)
{
    (void)state;
    int32_t d = 0;
    assert_int_equal(th_date_parse("01/11/2026", &d), 0);
    assert_int_equal(d, th_date_from_ymd(2026, 11, 1));
    assert_int_equal(th_date_parse("2026-11-01", &d), 0);
    assert_int_equal(d, th_date_from_ymd(2026, 11, 1));
    assert_int_equal(th_date_parse("1/7/2025", &d), 0);
    assert_int_equal(d, 20270);
    char buf[11];
    th_date_format_vn(d, buf);
    assert_string_equal(buf, "01/07/2025");
    th_date_format_iso(d, buf);
    assert_string_equal(buf, "2025-07-01");

    int32_t keep = 12345;
    const char *bad[] = {"29/02/2026", "2026-02-29", "32/01/2026", "01/13/2026", "",
                         "2026-1-01",  "01-11-2026", "01/11/26",   "01/11/2026 ", " 01/11/2026",
                         "2026/11/01", "aa/bb/cccc", "2026-11-01x", "0000-01-01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(th_date_parse(bad[i], &keep), TH_E_INVALID);
        assert_int_equal(keep, 12345);
    }
    assert_int_equal(th_date_parse(NULL, &keep), TH_E_INVALID);
}

static void
test_period_parse_types_and_bounds(void **state)
{
    (void)state;
    th_period_t p;
    assert_int_equal(th_period_parse("2026", &p), 0);
    assert_int_equal(p.type, TH_PT_YEARLY);
    assert_int_equal(p.index, 1);
    assert_string_equal(p.id, "2026");
    assert_int_equal(p.start, s_day("2026-01-01"));
    assert_int_equal(p.end, s_day("2026-12-31"));

    assert_int_equal(th_period_parse("2026S1", &p), 0);
    assert_int_equal(p.type, TH_PT_SIXMONTHLY);
    assert_int_equal(p.start, s_day("2026-01-01"));
    assert_int_equal(p.end, s_day("2026-06-30"));
    assert_int_equal(th_period_parse("2026S2", &p), 0);
    assert_int_equal(p.index, 2);
    assert_int_equal(p.start, s_day("2026-07-01"));
    assert_int_equal(p.end, s_day("2026-12-31"));

    assert_int_equal(th_period_parse("2026Q1", &p), 0);
    assert_int_equal(p.type, TH_PT_QUARTERLY);
    assert_int_equal(p.end, s_day("2026-03-31"));
    assert_int_equal(th_period_parse("2024Q1", &p), 0);
    assert_int_equal(p.end - p.start + 1, 91); /* leap year */
    assert_int_equal(th_period_parse("2026Q3", &p), 0);
    assert_int_equal(p.start, s_day("2026-07-01"));
    assert_int_equal(p.end, s_day("2026-09-30"));
    assert_int_equal(th_period_parse("2026Q4", &p), 0);
    assert_int_equal(p.start, s_day("2026-10-01"));
    assert_int_equal(p.end, s_day("2026-12-31"));

    assert_int_equal(th_period_parse("202605", &p), 0);
    assert_int_equal(p.type, TH_PT_MONTHLY);
    assert_int_equal(p.index, 5);
    assert_string_equal(p.id, "202605");
    assert_int_equal(p.end, s_day("2026-05-31"));
    assert_int_equal(th_period_parse("202612", &p), 0);
    assert_int_equal(p.start, s_day("2026-12-01"));
    assert_int_equal(p.end, s_day("2026-12-31"));
    assert_int_equal(th_period_parse("202402", &p), 0);
    assert_int_equal(p.end, s_day("2024-02-29"));
    assert_int_equal(th_period_parse("202602", &p), 0);
    assert_int_equal(p.end, s_day("2026-02-28"));
    assert_int_equal(th_period_parse("1900", &p), 0);
    assert_int_equal(th_period_parse("9999Q4", &p), 0);
    assert_int_equal(p.end, th_date_from_ymd(9999, 12, 31));
}

static void
test_period_rejects(void **state)
{
    (void)state;
    /* Lowercase ids are rejected on purpose: ids are keys, DHIS2 writes
       them uppercase, and accepting both would make two keys for one report. */
    const char *bad[] = {"2026S3", "2026Q0", "2026Q5", "202613", "202600", "20261",
                         "abc",    "",       "2026s1", "2026q3", "2026S0", "1899",
                         "10000",  "2026 ",  " 2026",  "2026S",  "2026Q",  "2026S12",
                         "2026W1", "2026-05", "0999",  "2026S1x", "20260"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        th_period_t p = {.year = -7};
        assert_int_equal(th_period_parse(bad[i], &p), TH_E_PERIOD);
        assert_int_equal(p.year, -7);
    }
    th_period_t p;
    assert_int_equal(th_period_parse(NULL, &p), TH_E_PERIOD);
    assert_int_equal(th_period_make(TH_PT_QUARTERLY, 2026, 5, &p), TH_E_PERIOD);
    assert_int_equal(th_period_make((th_period_type_t)9, 2026, 1, &p), TH_E_PERIOD);
}

static void
test_period_type_names(void **state)
{
    (void)state;
    th_period_type_t t = TH_PT_YEARLY;
    const char *names[] = {"yearly", "sixmonthly", "quarterly", "monthly"};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(th_period_type_name((th_period_type_t)(i + 1)), names[i]);
        assert_int_equal(th_period_type_parse(names[i], &t), 0);
        assert_int_equal(t, i + 1);
    }
    t = TH_PT_MONTHLY;
    assert_int_equal(th_period_type_parse("Yearly", &t), TH_E_INVALID);
    assert_int_equal(th_period_type_parse("weekly", &t), TH_E_INVALID);
    assert_int_equal(th_period_type_parse("", &t), TH_E_INVALID);
    assert_int_equal(t, TH_PT_MONTHLY);
    assert_string_equal(th_period_type_name((th_period_type_t)0), "?");
}

static void
s_assert_label(const char *id, const char *want)
{
    th_period_t p;
    char buf[64];
    assert_int_equal(th_period_parse(id, &p), 0);
    th_period_label_vn(&p, buf, sizeof buf);
    assert_string_equal(buf, want);
}

static void
test_period_labels_vn(void **state)
{
    (void)state;
    s_assert_label("2026", "Năm 2026");
    s_assert_label("2026S1", "6 tháng đầu năm 2026");
    s_assert_label("2026S2", "6 tháng cuối năm 2026");
    s_assert_label("2026Q1", "Quý I năm 2026");
    s_assert_label("2026Q3", "Quý III năm 2026");
    s_assert_label("2026Q4", "Quý IV năm 2026");
    s_assert_label("202605", "Tháng 5 năm 2026");
    s_assert_label("202612", "Tháng 12 năm 2026");
    th_period_t p;
    char small[6];
    assert_int_equal(th_period_parse("2026", &p), 0);
    th_period_label_vn(&p, small, sizeof small);
    assert_int_equal(strlen(small), 5);  /* truncated, NUL-terminated */
}

static void
test_period_of_day_and_neighbours(void **state)
{
    (void)state;
    th_period_t p, q;
    assert_int_equal(th_period_of_day(TH_PT_QUARTERLY, s_day("2026-09-30"), &p), 0);
    assert_string_equal(p.id, "2026Q3");
    assert_int_equal(th_period_of_day(TH_PT_QUARTERLY, s_day("2026-10-01"), &p), 0);
    assert_string_equal(p.id, "2026Q4");
    assert_int_equal(th_period_of_day(TH_PT_SIXMONTHLY, s_day("2026-06-30"), &p), 0);
    assert_string_equal(p.id, "2026S1");
    assert_int_equal(th_period_of_day(TH_PT_SIXMONTHLY, s_day("2026-07-01"), &p), 0);
    assert_string_equal(p.id, "2026S2");
    assert_int_equal(th_period_of_day(TH_PT_MONTHLY, s_day("2024-02-29"), &p), 0);
    assert_string_equal(p.id, "202402");
    assert_int_equal(th_period_of_day(TH_PT_YEARLY, s_day("2026-12-31"), &p), 0);
    assert_string_equal(p.id, "2026");
    assert_int_equal(th_period_of_day((th_period_type_t)0, 0, &p), TH_E_PERIOD);
    assert_int_equal(th_period_of_day(TH_PT_YEARLY, th_date_from_ymd(1899, 12, 31), &p),
                     TH_E_PERIOD);

    /* every period's start/end contains exactly the days that map to it */
    for (int t = TH_PT_YEARLY; t <= TH_PT_MONTHLY; t++) {
        assert_int_equal(th_period_of_day((th_period_type_t)t, s_day("2025-01-01"), &p), 0);
        for (int i = 0; i < 30; i++) {
            assert_int_equal(th_period_next(&p, &q), 0);
            assert_int_equal(q.start, p.end + 1);
            th_period_t r;
            assert_int_equal(th_period_of_day((th_period_type_t)t, q.start, &r), 0);
            assert_string_equal(r.id, q.id);
            assert_int_equal(th_period_of_day((th_period_type_t)t, q.end, &r), 0);
            assert_string_equal(r.id, q.id);
            assert_int_equal(th_period_prev(&q, &r), 0);
            assert_string_equal(r.id, p.id);
            p = q;
        }
    }
    assert_int_equal(th_period_parse("202612", &p), 0);
    assert_int_equal(th_period_next(&p, &q), 0);
    assert_string_equal(q.id, "202701");
    assert_int_equal(th_period_parse("9999", &p), 0);
    assert_int_equal(th_period_next(&p, &q), TH_E_PERIOD);
}

static int32_t
s_deadline(const char *period, const char *spec)
{
    th_period_t p;
    th_deadline_spec_t ds;
    assert_int_equal(th_period_parse(period, &p), 0);
    assert_int_equal(th_deadline_spec_parse(spec, &ds), 0);
    return th_period_deadline(&p, &ds);
}

static void
test_period_deadlines(void **state)
{
    (void)state;
    s_assert_day(s_deadline("2026", "01/11"), "01/11/2026");
    s_assert_day(s_deadline("2026", "15/01+1"), "15/01/2027");
    s_assert_day(s_deadline("2026S1", "10/06"), "10/06/2026");
    s_assert_day(s_deadline("2026S2", "10/06"), "10/12/2026");
    s_assert_day(s_deadline("2026S2", "10/07"), "10/01/2027");
    s_assert_day(s_deadline("2026Q1", "20/04"), "20/04/2026");
    s_assert_day(s_deadline("2026Q3", "20/04"), "20/10/2026");
    s_assert_day(s_deadline("2026Q4", "20/04"), "20/01/2027");
    s_assert_day(s_deadline("202601", "05/02"), "05/02/2026");
    s_assert_day(s_deadline("202606", "05/02"), "05/07/2026");
    s_assert_day(s_deadline("202611", "05/02"), "05/12/2026");
    s_assert_day(s_deadline("202612", "05/02"), "05/01/2027");
    /* clamping to the month's last day */
    s_assert_day(s_deadline("2026", "31/06"), "30/06/2026");
    s_assert_day(s_deadline("2026S1", "31/06"), "30/06/2026");
    s_assert_day(s_deadline("2026S2", "31/06"), "31/12/2026");
    s_assert_day(s_deadline("202601", "31/01"), "31/01/2026");
    s_assert_day(s_deadline("202602", "31/01"), "28/02/2026");
    s_assert_day(s_deadline("202402", "31/01"), "29/02/2024");
    s_assert_day(s_deadline("2026", "29/02"), "28/02/2026");
    s_assert_day(s_deadline("2028", "29/02"), "29/02/2028");
    s_assert_day(s_deadline("2026", "1/7"), "01/07/2026");

    th_deadline_spec_t ds = {.day = 9, .month = 9, .years = 9};
    const char *bad[] = {"", "10", "10/", "/06", "00/06", "32/06", "10/00", "10/13",
                         "10/06+", "10/06+x", "10/06+10", "10/06-", "10/06-10", "10-06", "100/06",
                         "10/06/2026", " 10/06", "10/06 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(th_deadline_spec_parse(bad[i], &ds), TH_E_INVALID);
        assert_int_equal(ds.day, 9);
    }
    assert_int_equal(th_deadline_spec_parse("10/06+2", &ds), 0);
    assert_int_equal(ds.day, 10);
    assert_int_equal(ds.month, 6);
    assert_int_equal(ds.years, 2);
    /* a year back: the start of a data cut-off (Nghị định 09/2019, Điều 12) */
    assert_int_equal(th_deadline_spec_parse("15/12-1", &ds), 0);
    assert_int_equal(ds.years, -1);
    s_assert_day(s_deadline("2026", "15/12-1"), "15/12/2025");
    s_assert_day(s_deadline("2026S1", "15/12-1"), "15/12/2025");
    s_assert_day(s_deadline("2026S2", "15/12-1"), "15/06/2026");
    s_assert_day(s_deadline("2026S2", "14/06"), "14/12/2026");
}

static void
test_period_time_parse_iso(void **state)
{
    (void)state;
    int64_t ms = 0;
    int64_t base = (int64_t)th_date_from_ymd(2026, 11, 1) * TH_DAY_MS; /* 00:00Z */
    assert_int_equal(th_time_parse_iso("2026-11-01T00:00:00Z", &ms), 0);
    assert_true(ms == base);
    assert_int_equal(th_time_parse_iso("2026-11-01", &ms), 0);
    assert_true(ms == base - 7 * 3600 * 1000);               /* start of day VN */
    assert_int_equal(th_time_parse_iso("2026-11-01T23:59", &ms), 0);
    assert_true(ms == base + (16 * 3600 + 59 * 60) * INT64_C(1000));
    assert_int_equal(th_time_parse_iso("2026-11-01T23:59:59", &ms), 0);
    assert_true(ms == base + (16 * 3600 + 59 * 60 + 59) * INT64_C(1000));
    assert_int_equal(th_time_parse_iso("2026-11-01T23:59:59.5", &ms), 0);
    assert_true(ms == base + (16 * 3600 + 59 * 60 + 59) * INT64_C(1000) + 500);
    assert_int_equal(th_time_parse_iso("2026-11-01T23:59:59.123456+07:00", &ms), 0);
    assert_true(ms == base + (16 * 3600 + 59 * 60 + 59) * INT64_C(1000) + 123);
    assert_int_equal(th_time_parse_iso("2026-11-01T10:00:00.250Z", &ms), 0);
    assert_true(ms == base + 10 * 3600 * INT64_C(1000) + 250);
    assert_int_equal(th_time_parse_iso("2026-11-01T10:00-05:30", &ms), 0);
    assert_true(ms == base + (15 * 3600 + 30 * 60) * INT64_C(1000));
    assert_int_equal(th_time_parse_iso("2026-11-01T10:00+0700", &ms), 0);
    assert_true(ms == base + 3 * 3600 * INT64_C(1000));
    assert_int_equal(th_time_parse_iso("2026-11-01 10:00Z", &ms), 0);
    assert_true(ms == base + 10 * 3600 * INT64_C(1000));
    /* before 1970 (negative instants) */
    assert_int_equal(th_time_parse_iso("1969-12-31T23:59:59Z", &ms), 0);
    assert_true(ms == -1000);

    int64_t keep = 42;
    const char *bad[] = {"", "2026-11-01T", "2026-11-01T24:00", "2026-11-01T23:60",
                         "2026-11-01T23:59:60", "2026-02-29T00:00Z", "2026-11-01T1:00",
                         "2026-11-01T10:00:00.", "2026-11-01T10:00+15:00", "2026-11-01T10:00+07:60",
                         "2026-11-01T10:00X", "2026-11-01T10:00Z ", "01/11/2026",
                         "2026-11-01T10", "2026-11-01T10:00+7"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(th_time_parse_iso(bad[i], &keep), TH_E_INVALID);
        assert_int_equal(th_time_parse_iso_end(bad[i], &keep), TH_E_INVALID);
        assert_true(keep == 42);
    }
}

static void
test_period_time_parse_iso_end_and_day_end(void **state)
{
    (void)state;
    int64_t ms = 0, t = 0;
    int32_t day = th_date_from_ymd(2026, 11, 1);
    assert_int_equal(th_time_parse_iso_end("2026-11-01", &ms), 0);
    assert_true(ms == th_day_end_ms(day));
    assert_int_equal(th_time_parse_iso("2026-11-01T23:59:59.999+07:00", &t), 0);
    assert_true(ms == t);
    assert_int_equal(th_time_day_vn(ms), day);
    assert_int_equal(th_time_day_vn(ms + 1), day + 1);
    assert_true(th_day_start_ms(day + 1) == ms + 1);
    /* with a time part, _end is the exact instant */
    assert_int_equal(th_time_parse_iso_end("2026-11-01T08:00Z", &ms), 0);
    assert_int_equal(th_time_parse_iso("2026-11-01T08:00Z", &t), 0);
    assert_true(ms == t);
    char buf[32];
    th_time_format_iso(th_day_end_ms(day), buf);
    assert_string_equal(buf, "2026-11-01T16:59:59Z");
    th_time_format_vn(th_day_end_ms(day), buf);
    assert_string_equal(buf, "01/11/2026 23:59");
}

static void
test_period_vn_time_across_midnight_utc(void **state)
{
    (void)state;
    int64_t ms = 0;
    char buf[32];
    assert_int_equal(th_time_parse_iso("2026-10-31T17:30Z", &ms), 0);
    th_time_format_vn(ms, buf);
    assert_string_equal(buf, "01/11/2026 00:30");
    th_time_format_iso(ms, buf);
    assert_string_equal(buf, "2026-10-31T17:30:00Z");
    assert_int_equal(th_time_day_vn(ms), th_date_from_ymd(2026, 11, 1));
    /* 16:59:59Z is still 31/10 in Vietnam, 17:00:00Z is 01/11 */
    assert_int_equal(th_time_parse_iso("2026-10-31T16:59:59Z", &ms), 0);
    assert_int_equal(th_time_day_vn(ms), th_date_from_ymd(2026, 10, 31));
    th_time_format_vn(ms, buf);
    assert_string_equal(buf, "31/10/2026 23:59");
    assert_int_equal(th_time_parse_iso("2026-10-31T17:00:00Z", &ms), 0);
    assert_int_equal(th_time_day_vn(ms), th_date_from_ymd(2026, 11, 1));
    /* round trip of the UTC format */
    int64_t back = 0;
    th_time_format_iso(ms, buf);
    assert_int_equal(th_time_parse_iso(buf, &back), 0);
    assert_true(back == ms);
    /* a negative instant formats on the right side of midnight */
    th_time_format_iso(-1000, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    assert_int_equal(th_time_day_vn(-1), 0);  /* 06:59:59.999 on 01/01/1970 VN */
    assert_int_equal(th_time_day_vn(-7 * 3600 * 1000 - 1), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_period_epoch_and_known_days),
        cmocka_unit_test(test_period_leap_years),
        cmocka_unit_test(test_period_round_trip_1900_2100),
        cmocka_unit_test(test_period_date_parse_and_format),
        cmocka_unit_test(test_period_parse_types_and_bounds),
        cmocka_unit_test(test_period_rejects),
        cmocka_unit_test(test_period_type_names),
        cmocka_unit_test(test_period_labels_vn),
        cmocka_unit_test(test_period_of_day_and_neighbours),
        cmocka_unit_test(test_period_deadlines),
        cmocka_unit_test(test_period_time_parse_iso),
        cmocka_unit_test(test_period_time_parse_iso_end_and_day_end),
        cmocka_unit_test(test_period_vn_time_across_midnight_utc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
