/*  period: calendar days, Vietnam time, DHIS2 period ids and deadlines.

    Every date in tonghop is a civil day counted as int32 days since
    1970-01-01 (proleptic Gregorian), and every instant is int64 Unix ms UTC.
    Offices work in Vietnam time, UTC+7 with no daylight saving, so "the day
    of" an instant and "the end of" a deadline day are computed at that fixed
    offset, never from the machine's TZ. Reporting periods use DHIS2 ids
    ("2026", "2026S1", "2026Q3", "202605"); a form's deadline is written once
    for the first sub-period of a year ("10/06") and shifted for the others.
    Everything here is pure computation: no allocation, no global state, all
    functions are thread-safe. Functions documented as "caller passes a valid
    X" assume it (programmer error otherwise); anything parsed from text is
    checked and reported with a return code. */
#ifndef TH_PERIOD_H
#define TH_PERIOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Vietnam: UTC+7, no DST. */
#define TH_TZ_OFFSET_S (7 * 3600)
#define TH_DAY_MS      INT64_C(86400000)

/* ---- Days ---------------------------------------------------------------- */

/* Day number of y-m-d. The caller passes a valid date (th_date_valid);
   any year representable in int32 days works. */
int32_t th_date_from_ymd(int y, int m, int d);

/* Inverse of th_date_from_ymd; y, m, d must not be NULL. */
void th_date_to_ymd(int32_t day, int *y, int *m, int *d);

/* True when y-m-d is a real calendar date and 1 <= y <= 9999. */
bool th_date_valid(int y, int m, int d);

/* Days in month m (1..12) of year y; 0 when m is out of range. */
int th_date_days_in_month(int y, int m);

/* Parses "dd/mm/yyyy" (d and m may have one digit: "1/7/2025") or
   "yyyy-mm-dd" (exactly 10 chars). Surrounding spaces are not accepted.
   Returns 0 and sets *day, or TH_E_INVALID (malformed or not a real date;
   *day untouched). */
int th_date_parse(const char *s, int32_t *day);

/* "01/11/2026" and "2026-11-01"; buf receives 10 chars + NUL. Years outside
   0..9999 are printed modulo 10000 (never reached in practice). */
void th_date_format_vn(int32_t day, char buf[11]);
void th_date_format_iso(int32_t day, char buf[11]);

/* ---- Instants (Unix ms UTC) --------------------------------------------- */

/* Calendar day in Vietnam time of instant ms. */
int32_t th_time_day_vn(int64_t ms);

/* First ms (00:00:00.000 VN) and last ms (23:59:59.999 VN) of day. */
int64_t th_day_start_ms(int32_t day);
int64_t th_day_end_ms(int32_t day);

/* Parses ISO 8601: "2026-11-01", "2026-11-01T23:59", "2026-11-01T23:59:59",
   with optional ".s" to ".sss" fraction (more digits are truncated to ms),
   optional zone "Z", "+07:00", "-05:30", "+0700" or "+07". A space is
   accepted in place of 'T'. No zone means Vietnam time. A bare date is the
   START of that day (00:00 VN). Returns 0 and sets *ms, or TH_E_INVALID
   (malformed, impossible date/time, hour > 23, minute/second > 59, zone
   beyond +-14:00); *ms untouched on error. */
int th_time_parse_iso(const char *s, int64_t *ms);

/* Same, except that a bare date means the END of that day in Vietnam time
   (23:59:59.999), which is what users mean by "--as-of 2026-11-01".
   A string with a time part is parsed exactly as th_time_parse_iso. */
int th_time_parse_iso_end(const char *s, int64_t *ms);

/* "2026-11-01T16:59:59Z" (UTC, seconds, no ms); buf >= 32. Both formatters
   expect instants in years 1..9999 (as the parsers produce). */
void th_time_format_iso(int64_t ms, char buf[32]);

/* "01/11/2026 23:59" in Vietnam time; buf >= 32. */
void th_time_format_vn(int64_t ms, char buf[32]);

/* ---- DHIS2 periods ------------------------------------------------------- */

typedef enum {
    TH_PT_YEARLY = 1,
    TH_PT_SIXMONTHLY,
    TH_PT_QUARTERLY,
    TH_PT_MONTHLY
} th_period_type_t;

typedef struct {
    th_period_type_t type;
    int year;
    int index;          /* 1-based: 1 for yearly, S1/S2, Q1..Q4, month 1..12 */
    int32_t start, end; /* inclusive days */
    char id[16];        /* canonical DHIS2 id, NUL-terminated */
} th_period_t;

/* Parses a DHIS2 id: "2026", "2026S1".."2026S2", "2026Q1".."2026Q4",
   "202601".."202612", year 1900..9999. Case-sensitive: "2026s1" and
   "2026q3" are rejected (DHIS2 writes them uppercase and ids are keys).
   Returns 0 and fills *p, or TH_E_PERIOD (p untouched). */
int th_period_parse(const char *id, th_period_t *p);

/* Fills *p for (t, year, index). Returns 0, or TH_E_PERIOD when t, year
   (1900..9999) or index is out of range. */
int th_period_make(th_period_type_t t, int year, int index, th_period_t *p);

/* "yearly", "sixmonthly", "quarterly", "monthly"; "?" for anything else.
   Static string. */
const char *th_period_type_name(th_period_type_t t);

/* Inverse of th_period_type_name (exact, lowercase). Returns 0 or
   TH_E_INVALID (*t untouched). */
int th_period_type_parse(const char *s, th_period_type_t *t);

/* Vietnamese label: "Năm 2026", "6 tháng đầu năm 2026",
   "6 tháng cuối năm 2026", "Quý III năm 2026", "Tháng 5 năm 2026".
   Truncated (always NUL-terminated, possibly mid-UTF-8 if cap is tiny) when
   cap is too small; cap >= 32 always suffices. */
void th_period_label_vn(const th_period_t *p, char *buf, size_t cap);

/* The period of type t containing day. Returns 0, or TH_E_PERIOD when t is
   unknown or the day's year is outside 1900..9999. */
int th_period_of_day(th_period_type_t t, int32_t day, th_period_t *p);

/* The period right after / before p (same type). Returns 0 or TH_E_PERIOD
   at the 1900/9999 edge. out may equal p. */
int th_period_next(const th_period_t *p, th_period_t *out);
int th_period_prev(const th_period_t *p, th_period_t *out);

/* ---- Deadlines ----------------------------------------------------------- */

/* Deadline specs as written in form files: "dd/mm", "dd/mm+N" (N years
   later, 0..9) or "dd/mm-N" (N years earlier: the start of a data cut-off
   in the year before, "15/12-1"). The day may be one or two digits, as may the month.
   For yearly periods: that date in the period's year (+N). For sub-year
   periods the date is written for the FIRST sub-period (S1, Q1, January)
   and shifted by (index-1) * period length in months for the others:
   sixmonthly "10/06" gives 2026S1 10/06/2026, 2026S2 10/12/2026; quarterly
   "20/04" gives Q3 20/10; monthly "05/02" gives 202612 05/01/2027.
   A day past the month's end is clamped to its last day (31/06 -> 30/06). */
typedef struct {
    int day;    /* 1..31 */
    int month;  /* 1..12 */
    int years;  /* -9..9 */
} th_deadline_spec_t;

/* Returns 0, or TH_E_INVALID (malformed, day outside 1..31, month outside
   1..12, N outside 0..9); *spec untouched on error. Any day 1..31 is
   accepted for any month and clamped when applied, because a shifted
   deadline lands in other months anyway ("31/01" monthly -> 28/02). */
int th_deadline_spec_parse(const char *s, th_deadline_spec_t *spec);

/* The deadline day of p (a filled period) under spec (a parsed spec). */
int32_t th_period_deadline(const th_period_t *p, const th_deadline_spec_t *spec);

#endif
