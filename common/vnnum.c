/*  vnnum: reading and writing numbers the Vietnamese way (see vnnum.h).

    Parsing accumulates all digits, integer and decimal part, into one
    64-bit mantissa and divides once by a power of ten, so a decimal is
    rounded once (the mantissa is exact below 2^53 and 10^fd is exact). */
#include "vnnum.h"
#include "err.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- parsing ------------------------------------------------------------- */

/* Length of a group separator at s (n bytes left): '.', ' ', U+00A0, U+202F,
   U+2009; 0 otherwise. Sets *dot when it is '.'. */
static size_t
s_sep(const char *s, size_t n, bool *dot)
{
    *dot = false;
    if (s[0] == '.') {
        *dot = true;
        return 1;
    }
    if (s[0] == ' ')
        return 1;
    if (n >= 2 && (unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0)
        return 2;
    if (n >= 3 && (unsigned char)s[0] == 0xE2 && (unsigned char)s[1] == 0x80
        && ((unsigned char)s[2] == 0xAF || (unsigned char)s[2] == 0x89))
        return 3;
    return 0;
}

/* Appends digit c to the mantissa *m; past 64 bits *over is set and *m
   stays. False when c is not a digit. */
static bool
s_digit(char c, uint64_t *m, bool *over)
{
    if (c < '0' || c > '9')
        return false;
    if (*m > (UINT64_MAX - 9) / 10)
        *over = true;
    else
        *m = *m * 10 + (uint64_t)(c - '0');
    return true;
}

/* Both parsers: *iv when want_int, else *dv. */
static int
s_parse(const char *s, size_t n, bool want_int, int64_t *iv, double *dv)
{
    bool neg = false;
    size_t i = 0;
    if (n && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    const char *comma = memchr(s + i, ',', n - i);
    size_t int_end = comma ? (size_t)(comma - s) : n;
    if (comma && memchr(comma + 1, ',', n - int_end - 1))
        return TH_E_INVALID;
    /* One dot, no comma, no other separator: a decimal point (decimal only). */
    size_t dots = 0, others = 0;
    for (size_t k = i; k < int_end; k++) {
        bool d;
        size_t l = s_sep(s + k, int_end - k, &d);
        if (l) {
            dots += d;
            others += !d;
            k += l - 1;
        }
    }
    size_t frac_start = comma ? int_end + 1 : n;
    if (!want_int && !comma && dots == 1 && others == 0) {
        int_end = (size_t)((const char *)memchr(s + i, '.', n - i) - s);
        frac_start = int_end + 1;
    }
    /* Integer part: groups of exactly three after the first separator. */
    uint64_t m = 0;
    int nd = 0, group = -1;
    bool over = false;
    for (size_t k = i; k < int_end; k++) {
        bool d;
        size_t l = s_sep(s + k, int_end - k, &d);
        if (l) {
            if (nd == 0 || (group >= 0 && group != 3) || (group < 0 && nd > 3))
                return TH_E_INVALID;
            group = 0;
            k += l - 1;
            continue;
        }
        if (!s_digit(s[k], &m, &over))
            return TH_E_INVALID;
        nd++;
        if (group >= 0)
            group++;
    }
    if (nd == 0 || (group >= 0 && group != 3))
        return TH_E_INVALID;
    int fd = 0;
    if (frac_start < n || comma || frac_start == int_end + 1) {
        if (want_int)
            return TH_E_INVALID;
        for (size_t k = frac_start; k < n; k++) {
            if (!s_digit(s[k], &m, &over))
                return TH_E_INVALID;
            fd++;
        }
        if (fd == 0)
            return TH_E_INVALID;
    }
    if (want_int) {
        if (over || m > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
            return -ERANGE;
        *iv = neg ? (int64_t)(0 - m) : (int64_t)m;
        return 0;
    }
    if (over)
        return -ERANGE;
    double v = (double)m / pow(10, fd);
    *dv = neg ? -v : v;
    return 0;
}

int
th_vnnum_parse_int(const char *s, size_t n, int64_t *out)
{
    double unused;
    return s_parse(s, n, true, out, &unused);
}

int
th_vnnum_parse_dec(const char *s, size_t n, double *out)
{
    int64_t unused;
    return s_parse(s, n, false, &unused, out);
}

/* ---- formatting ---------------------------------------------------------- */

/* digits with a '.' before every group of three from the right. */
static void
s_group(const char *digits, char *buf, size_t cap)
{
    size_t n = strlen(digits), o = 0;
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = '.';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

void
th_vnnum_format_int(int64_t v, char *buf, size_t cap)
{
    char digits[24];
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    snprintf(digits, sizeof digits, "%" PRIu64, mag);
    if (v < 0 && cap > 1) {
        buf[0] = '-';
        s_group(digits, buf + 1, cap - 1);
    } else {
        s_group(digits, buf, cap);
    }
}

void
th_vnnum_format_dec(double v, char *buf, size_t cap)
{
    if (!isfinite(v)) {
        snprintf(buf, cap, "—");
        return;
    }
    double r = round(fabs(v) * 100.0);
    if (r > 9e15) {   /* beyond exact integers: print plainly */
        snprintf(buf, cap, "%.0f", v);
        return;
    }
    int64_t whole = (int64_t)(r / 100.0);
    int cents = (int)(r - (double)whole * 100.0);
    char ip[40];
    th_vnnum_format_int(whole, ip, sizeof ip);
    const char *sign = (v < 0 && r > 0) ? "-" : "";
    if (cents == 0)
        snprintf(buf, cap, "%s%s", sign, ip);
    else if (cents % 10 == 0)
        snprintf(buf, cap, "%s%s,%d", sign, ip, cents / 10);
    else
        snprintf(buf, cap, "%s%s,%02d", sign, ip, cents);
}

void
th_vnnum_format_g(double v, char *buf, size_t cap)
{
    if (v == floor(v) && fabs(v) < 1e15) {
        th_vnnum_format_int((int64_t)v, buf, cap);
        return;
    }
    snprintf(buf, cap, "%.6g", v);
    for (char *p = buf; *p; p++)
        if (*p == '.')
            *p = ',';
}
