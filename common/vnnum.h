/*  vnnum: numbers as Vietnamese write them.

    The thousands separator is '.', the decimal mark ','. What a user types
    is read here (th_vnnum_parse_int, th_vnnum_parse_dec) and every number
    shown to a person (CLI, web pages, exports, validation messages) is
    written here, so that all of them read and write the same way. No
    locale is consulted; all functions are reentrant. */
#ifndef TH_VNNUM_H
#define TH_VNNUM_H

#include <stddef.h>
#include <stdint.h>

/* Reads an integer from s[0..n) (need not be NUL-terminated; the caller
   trims surrounding spaces): an optional '-' or '+', then digits, which
   may be grouped by threes after the first group with '.', ' ', or a
   no-break space (U+00A0, U+202F, U+2009): "1.234.567", "1 234". Every
   group after a separator has exactly three digits; no decimal part.
   Returns 0 and *out, TH_E_INVALID (not an integer written so: "12,5",
   "1.23.456", "abc", "", "-") or -ERANGE (outside int64); *out is left
   untouched on error. */
int th_vnnum_parse_int(const char *s, size_t n, int64_t *out);

/* As th_vnnum_parse_int, followed by an optional decimal part after one
   ',' ("1.234,5", "12,5", "-0,25"). A number with one '.', no ',' and no
   other separator reads the '.' as a decimal point ("12.5", and "1.234"
   is 1.234); with several dots they group thousands ("1.234.567").
   Returns 0 and *out (finite, rounded once), TH_E_INVALID ("1,2,3", "12,",
   "1,2a", "abc") or -ERANGE (more digits than 64 bits hold); *out is left
   untouched on error. */
int th_vnnum_parse_dec(const char *s, size_t n, double *out);

/* "1.234.567", "-12", "-9.223.372.036.854.775.808". Output is cut to fit
   cap (which must be > 0) and always NUL-terminated. */
void th_vnnum_format_int(int64_t v, char *buf, size_t cap);

/* Rounded to 2 decimals, ',' before them, trailing zeros dropped:
   "12,5", "1.234,57", "100", "-0,5"; a value that rounds to 0 is "0"
   (no sign); "—" when v is not finite; beyond 9e13 printed as "%.0f"
   does. Output cut to fit cap (> 0), NUL-terminated. */
void th_vnnum_format_dec(double v, char *buf, size_t cap);

/* The shortest exact form, as a form's bound is written to a reader: a
   whole number below 1e15 as th_vnnum_format_int does ("1.234.567"),
   anything else with 6 significant digits as "%.6g" does, ',' for its
   point ("-2,5", "12,3457", "1e+20"). Output cut to fit cap (> 0),
   NUL-terminated. */
void th_vnnum_format_g(double v, char *buf, size_t cap);

#endif
