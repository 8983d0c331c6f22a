/*  csv: an RFC 4180 reader over text in memory, and a field writer.

    Unit lists, submitted values (--values FILE.csv) and exports all travel
    as CSV that operators edit in Excel or LibreOffice, so the reader accepts
    what those write: an optional UTF-8 BOM, CRLF or LF line ends, quoted
    fields with "" escapes and embedded newlines. It is strict about what
    would silently shift columns (a stray quote, an unterminated quoted
    field) and bounded (field and field-count limits) because the text may
    come from anyone. A reader borrows the caller's text; it is not
    thread-safe, but distinct readers may be used from distinct threads. */
#ifndef TH_CSV_H
#define TH_CSV_H

#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>

#define TH_CSV_FIELD_MAX  (64 * 1024)  /* bytes in one field */
#define TH_CSV_FIELDS_MAX 256          /* fields in one record */

typedef struct th_csv th_csv_t;

/* A reader over text[0..len). The text is borrowed: it must stay unchanged
   and alive until th_csv_destroy. It need not be NUL-terminated and may
   contain no NUL byte that matters (a NUL is kept as data). A leading UTF-8
   BOM is skipped. Returns NULL on allocation failure (or text NULL with
   len > 0). */
th_csv_t *th_csv_new(const char *text, size_t len);

/* Reads the next record. On 1, *fields points to *n NUL-terminated fields
   (n >= 1) owned by the reader, valid until the next call or destroy; the
   caller may modify their bytes in place but not free them.
   Returns 1 for a row, 0 at the end of the text (and on every call after),
   TH_E_PARSE (unterminated quoted field; a quote inside an unquoted field;
   a character after a closing quote other than ',' or a line end),
   TH_E_LIMIT (a field longer than TH_CSV_FIELD_MAX bytes, or more than
   TH_CSV_FIELDS_MAX fields), -ENOMEM. After an error th_csv_line tells
   where the bad record began and further calls return the same error.
   A line that is entirely empty is skipped (it is no record); a line of
   only "" is a record of one empty field. */
int th_csv_next(th_csv_t *c, char ***fields, size_t *n);

/* 1-based line where the last record returned (or the failing one) began;
   0 before the first call. */
unsigned th_csv_line(const th_csv_t *c);

/* Frees the reader and NULLs *c; safe with NULL or *c NULL. */
void th_csv_destroy(th_csv_t **c);

/* Writes s as one CSV field to f (no separator, no line end): bare when it
   holds none of , " CR LF and no leading/trailing space, else quoted with
   "" escapes. NULL s writes an empty field. Returns 0 or -errno (-EIO when
   the stream does not say). */
int th_csv_write_field(FILE *f, const char *s);
/* A field followed by ',' or, for the last of a row, CRLF. 0 or -errno. */
int th_csv_write_cell(FILE *f, const char *s, bool last);

#endif
