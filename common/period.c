/*  period: civil-day arithmetic (Howard Hinnant's days_from_civil), fixed
    UTC+7 Vietnam time, DHIS2 period ids and deadline shifting. No locale,
    no TZ database, no allocation: the results must not depend on how the
    office machine is configured. */
#include "period.h"

#include "err.h"

#include <stdio.h>
#include <string.h>

#define S_YEAR_MIN 1900
#define S_YEAR_MAX 9999

static bool
s_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
th_date_days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return m == 2 && s_leap(y) ? 29 : dim[m - 1];
}

bool
th_date_valid(int y, int m, int d)
{
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
        return false;
    return d <= th_date_days_in_month(y, m);
}

int32_t
th_date_from_ymd(int y, int m, int d)
{
    long yy = (long)y - (m <= 2);
    long era = (yy >= 0 ? yy : yy - 399) / 400;
    long yoe = yy - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

void
th_date_to_ymd(int32_t day, int *y, int *m, int *d)
{
    long z = (long)day + 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long yy = yoe + era * 400;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long dd = doy - (153 * mp + 2) / 5 + 1;
    long mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (mm <= 2));
    *m = (int)mm;
    *d = (int)dd;
}

static bool
s_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly n digits at s into *out. */
static bool
s_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!s_digit(s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Reads 1 or 2 digits; returns the count read (0 on failure). */
static int
s_digits12(const char *s, int *out)
{
    if (!s_digit(s[0]))
        return 0;
    if (s_digit(s[1])) {
        *out = (s[0] - '0') * 10 + (s[1] - '0');
        return 2;
    }
    *out = s[0] - '0';
    return 1;
}

/* "yyyy-mm-dd" at s (no terminator check). */
static bool
s_parse_iso_date(const char *s, int *y, int *m, int *d)
{
    return s_digits(s, 4, y) && s[4] == '-' && s_digits(s + 5, 2, m) && s[7] == '-' &&
           s_digits(s + 8, 2, d);
}

int
th_date_parse(const char *s, int32_t *day)
{
    int y, m, d;
    if (!s)
        return TH_E_INVALID;
    if (strlen(s) == 10 && s[4] == '-') {
        if (!s_parse_iso_date(s, &y, &m, &d))
            return TH_E_INVALID;
    } else {
        int n = s_digits12(s, &d);
        if (!n || s[n] != '/')
            return TH_E_INVALID;
        s += n + 1;
        n = s_digits12(s, &m);
        if (!n || s[n] != '/')
            return TH_E_INVALID;
        s += n + 1;
        if (strlen(s) != 4 || !s_digits(s, 4, &y))
            return TH_E_INVALID;
    }
    if (!th_date_valid(y, m, d))
        return TH_E_INVALID;
    *day = th_date_from_ymd(y, m, d);
    return 0;
}

/* Writes v as exactly n decimal digits (v reduced modulo 10^n). Done by
   hand so the compiler can prove the fixed width that snprintf cannot. */
static char *
s_put(char *p, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

static unsigned
s_year4(int y)
{
    return (unsigned)(((y % 10000) + 10000) % 10000);
}

void
th_date_format_vn(int32_t day, char buf[11])
{
    int y, m, d;
    th_date_to_ymd(day, &y, &m, &d);
    char *p = s_put(buf, (unsigned)d, 2);
    *p++ = '/';
    p = s_put(p, (unsigned)m, 2);
    *p++ = '/';
    p = s_put(p, s_year4(y), 4);
    *p = '\0';
}

void
th_date_format_iso(int32_t day, char buf[11])
{
    int y, m, d;
    th_date_to_ymd(day, &y, &m, &d);
    char *p = s_put(buf, s_year4(y), 4);
    *p++ = '-';
    p = s_put(p, (unsigned)m, 2);
    *p++ = '-';
    p = s_put(p, (unsigned)d, 2);
    *p = '\0';
}

/* Floor division, because instants before 1970 are negative. */
static int64_t
s_floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

int32_t
th_time_day_vn(int64_t ms)
{
    return (int32_t)s_floordiv(ms + (int64_t)TH_TZ_OFFSET_S * 1000, TH_DAY_MS);
}

int64_t
th_day_start_ms(int32_t day)
{
    return (int64_t)day * TH_DAY_MS - (int64_t)TH_TZ_OFFSET_S * 1000;
}

int64_t
th_day_end_ms(int32_t day)
{
    return th_day_start_ms(day) + TH_DAY_MS - 1;
}

/* Parses the whole ISO string; *bare tells whether it was a date only. */
static int
s_parse_iso(const char *s, int64_t *ms, bool *bare)
{
    int y, m, d, hh = 0, mi = 0, ss = 0, frac = 0;
    int64_t off_s = TH_TZ_OFFSET_S;
    if (!s || !s_parse_iso_date(s, &y, &m, &d) || !th_date_valid(y, m, d))
        return TH_E_INVALID;
    s += 10;
    *bare = (*s == '\0');
    if (!*bare) {
        if (*s != 'T' && *s != ' ')
            return TH_E_INVALID;
        s++;
        if (!s_digits(s, 2, &hh) || s[2] != ':' || !s_digits(s + 3, 2, &mi))
            return TH_E_INVALID;
        s += 5;
        if (*s == ':') {
            if (!s_digits(s + 1, 2, &ss))
                return TH_E_INVALID;
            s += 3;
            if (*s == '.' || *s == ',') {
                s++;
                if (!s_digit(*s))
                    return TH_E_INVALID;
                int scale = 100;
                while (s_digit(*s)) {
                    frac += (*s - '0') * scale;
                    scale /= 10;
                    s++;
                }
            }
        }
        if (hh > 23 || mi > 59 || ss > 59)
            return TH_E_INVALID;
        if (*s == 'Z') {
            off_s = 0;
            s++;
        } else if (*s == '+' || *s == '-') {
            int sign = *s == '-' ? -1 : 1, oh, om = 0;
            s++;
            if (!s_digits(s, 2, &oh))
                return TH_E_INVALID;
            s += 2;
            if (*s == ':') {
                if (!s_digits(s + 1, 2, &om))
                    return TH_E_INVALID;
                s += 3;
            } else if (s_digit(*s)) {
                if (!s_digits(s, 2, &om))
                    return TH_E_INVALID;
                s += 2;
            }
            if (om > 59 || oh * 60 + om > 14 * 60)
                return TH_E_INVALID;
            off_s = sign * (int64_t)(oh * 3600 + om * 60);
        }
        if (*s != '\0')
            return TH_E_INVALID;
    }
    int64_t local = (int64_t)th_date_from_ymd(y, m, d) * TH_DAY_MS +
                    ((int64_t)hh * 3600 + mi * 60 + ss) * 1000 + frac;
    *ms = local - off_s * 1000;
    return 0;
}

int
th_time_parse_iso(const char *s, int64_t *ms)
{
    bool bare;
    return s_parse_iso(s, ms, &bare);
}

int
th_time_parse_iso_end(const char *s, int64_t *ms)
{
    bool bare;
    int64_t t;
    int rc = s_parse_iso(s, &t, &bare);
    if (rc < 0)
        return rc;
    *ms = bare ? t + TH_DAY_MS - 1 : t;
    return 0;
}

static void
s_split(int64_t ms, int32_t *day, int *hh, int *mi, int *ss)
{
    int64_t d = s_floordiv(ms, TH_DAY_MS);
    int64_t rem = (ms - d * TH_DAY_MS) / 1000;
    *day = (int32_t)d;
    *hh = (int)(rem / 3600);
    *mi = (int)(rem / 60 % 60);
    *ss = (int)(rem % 60);
}

void
th_time_format_iso(int64_t ms, char buf[32])
{
    int32_t day;
    int hh, mi, ss;
    s_split(ms, &day, &hh, &mi, &ss);
    th_date_format_iso(day, buf);
    char *p = buf + 10;
    *p++ = 'T';
    p = s_put(p, (unsigned)hh, 2);
    *p++ = ':';
    p = s_put(p, (unsigned)mi, 2);
    *p++ = ':';
    p = s_put(p, (unsigned)ss, 2);
    *p++ = 'Z';
    *p = '\0';
}

void
th_time_format_vn(int64_t ms, char buf[32])
{
    int32_t day;
    int hh, mi, ss;
    s_split(ms + (int64_t)TH_TZ_OFFSET_S * 1000, &day, &hh, &mi, &ss);
    th_date_format_vn(day, buf);
    char *p = buf + 10;
    *p++ = ' ';
    p = s_put(p, (unsigned)hh, 2);
    *p++ = ':';
    p = s_put(p, (unsigned)mi, 2);
    *p = '\0';
}

/* ---- Periods ------------------------------------------------------------- */

/* Months in one period of type t; 0 if t is unknown. */
static int
s_months(th_period_type_t t)
{
    switch (t) {
    case TH_PT_YEARLY: return 12;
    case TH_PT_SIXMONTHLY: return 6;
    case TH_PT_QUARTERLY: return 3;
    case TH_PT_MONTHLY: return 1;
    }
    return 0;
}

int
th_period_make(th_period_type_t t, int year, int index, th_period_t *p)
{
    int months = s_months(t);
    if (!months || year < S_YEAR_MIN || year > S_YEAR_MAX || index < 1 ||
        index > 12 / months)
        return TH_E_PERIOD;
    int m0 = (index - 1) * months + 1;
    int m1 = m0 + months - 1;
    p->type = t;
    p->year = year;
    p->index = index;
    p->start = th_date_from_ymd(year, m0, 1);
    p->end = th_date_from_ymd(year, m1, th_date_days_in_month(year, m1));
    switch (t) {
    case TH_PT_YEARLY: snprintf(p->id, sizeof p->id, "%04d", year); break;
    case TH_PT_SIXMONTHLY: snprintf(p->id, sizeof p->id, "%04dS%d", year, index); break;
    case TH_PT_QUARTERLY: snprintf(p->id, sizeof p->id, "%04dQ%d", year, index); break;
    case TH_PT_MONTHLY: snprintf(p->id, sizeof p->id, "%04d%02d", year, index); break;
    }
    return 0;
}

int
th_period_parse(const char *id, th_period_t *p)
{
    int year, idx;
    if (!id || !s_digits(id, 4, &year))
        return TH_E_PERIOD;
    const char *r = id + 4;
    size_t n = strlen(r);
    if (n == 0)
        return th_period_make(TH_PT_YEARLY, year, 1, p);
    if (n == 2 && r[0] == 'S' && s_digit(r[1]))
        return th_period_make(TH_PT_SIXMONTHLY, year, r[1] - '0', p);
    if (n == 2 && r[0] == 'Q' && s_digit(r[1]))
        return th_period_make(TH_PT_QUARTERLY, year, r[1] - '0', p);
    if (n == 2 && s_digits(r, 2, &idx))
        return th_period_make(TH_PT_MONTHLY, year, idx, p);
    return TH_E_PERIOD;
}

const char *
th_period_type_name(th_period_type_t t)
{
    switch (t) {
    case TH_PT_YEARLY: return "yearly";
    case TH_PT_SIXMONTHLY: return "sixmonthly";
    case TH_PT_QUARTERLY: return "quarterly";
    case TH_PT_MONTHLY: return "monthly";
    }
    return "?";
}

int
th_period_type_parse(const char *s, th_period_type_t *t)
{
    static const th_period_type_t all[] = {TH_PT_YEARLY, TH_PT_SIXMONTHLY,
                                           TH_PT_QUARTERLY, TH_PT_MONTHLY};
    if (!s)
        return TH_E_INVALID;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(s, th_period_type_name(all[i])) == 0) {
            *t = all[i];
            return 0;
        }
    }
    return TH_E_INVALID;
}

void
th_period_label_vn(const th_period_t *p, char *buf, size_t cap)
{
    static const char *const roman[] = {"I", "II", "III", "IV"};
    if (!buf || cap == 0)
        return;
    switch (p->type) {
    case TH_PT_YEARLY:
        snprintf(buf, cap, "Năm %d", p->year);
        break;
    case TH_PT_SIXMONTHLY:
        snprintf(buf, cap, "6 tháng %s năm %d", p->index == 1 ? "đầu" : "cuối", p->year);
        break;
    case TH_PT_QUARTERLY:
        snprintf(buf, cap, "Quý %s năm %d",
                 p->index >= 1 && p->index <= 4 ? roman[p->index - 1] : "?", p->year);
        break;
    case TH_PT_MONTHLY:
        snprintf(buf, cap, "Tháng %d năm %d", p->index, p->year);
        break;
    default:
        snprintf(buf, cap, "%s", p->id);
        break;
    }
}

int
th_period_of_day(th_period_type_t t, int32_t day, th_period_t *p)
{
    int y, m, d;
    int months = s_months(t);
    if (!months)
        return TH_E_PERIOD;
    th_date_to_ymd(day, &y, &m, &d);
    return th_period_make(t, y, (m - 1) / months + 1, p);
}

int
th_period_next(const th_period_t *p, th_period_t *out)
{
    int per_year = s_months(p->type) ? 12 / s_months(p->type) : 0;
    if (!per_year)
        return TH_E_PERIOD;
    if (p->index < per_year)
        return th_period_make(p->type, p->year, p->index + 1, out);
    return th_period_make(p->type, p->year + 1, 1, out);
}

int
th_period_prev(const th_period_t *p, th_period_t *out)
{
    int per_year = s_months(p->type) ? 12 / s_months(p->type) : 0;
    if (!per_year)
        return TH_E_PERIOD;
    if (p->index > 1)
        return th_period_make(p->type, p->year, p->index - 1, out);
    return th_period_make(p->type, p->year - 1, per_year, out);
}

/* ---- Deadlines ----------------------------------------------------------- */

int
th_deadline_spec_parse(const char *s, th_deadline_spec_t *spec)
{
    int d, m, years = 0;
    if (!s)
        return TH_E_INVALID;
    int n = s_digits12(s, &d);
    if (!n || s[n] != '/')
        return TH_E_INVALID;
    s += n + 1;
    n = s_digits12(s, &m);
    if (!n)
        return TH_E_INVALID;
    s += n;
    if (*s == '+' || *s == '-') {
        if (!s_digit(s[1]) || s[2] != '\0')
            return TH_E_INVALID;
        years = *s == '-' ? -(s[1] - '0') : s[1] - '0';
    } else if (*s != '\0') {
        return TH_E_INVALID;
    }
    if (d < 1 || d > 31 || m < 1 || m > 12)
        return TH_E_INVALID;
    spec->day = d;
    spec->month = m;
    spec->years = years;
    return 0;
}

int32_t
th_period_deadline(const th_period_t *p, const th_deadline_spec_t *spec)
{
    int shift = p->type == TH_PT_YEARLY ? 0 : (p->index - 1) * s_months(p->type);
    /* Months counted from January of year 0 keep the carry arithmetic in
       one place; all values are non-negative for years 1900..9999 (a spec
       goes back 9 years at most). */
    long total = (long)(p->year + spec->years) * 12 + (spec->month - 1) + shift;
    int y = (int)(total / 12);
    int m = (int)(total % 12) + 1;
    int dim = th_date_days_in_month(y, m);
    int d = spec->day > dim ? dim : spec->day;
    return th_date_from_ymd(y, m, d);
}
