/*  table: plain-text tables aligned by display width, for terminals and
    printouts read by Vietnamese users.

    Byte counts and even code-point counts misalign Vietnamese text: "Số"
    may be written with a precomposed "ố" (NFC, one code point) or with
    "o" + U+0302 + U+0301 (NFD). A cell's width here is its number of code
    points, where combining marks (U+0300-U+036F, U+1AB0-U+1AFF,
    U+1DC0-U+1DFF, U+20D0-U+20FF, U+FE20-U+FE2F) and zero-width characters
    (U+200B-U+200F, U+FEFF) count 0, and every other code point 1 (East
    Asian wide characters are not expected in this data and count 1).
    Invalid UTF-8 bytes count 1 each. A table has a fixed number of
    columns, an optional header row underlined with '-', and rows of
    strings that the table copies. Columns are separated by two spaces;
    each column is left- or right-aligned (numbers right). Not
    thread-safe: one thread uses a table at a time; tables are
    independent. */
#ifndef TH_TABLE_H
#define TH_TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef enum { TH_TABLE_LEFT = 0, TH_TABLE_RIGHT = 1 } th_table_align_t;

typedef struct th_table th_table_t;

/* Display width of the NUL-terminated UTF-8 string s (see above); 0 for
   NULL. Pure, thread-safe. */
size_t th_table_width(const char *s);

/* A table of ncols (1..64) columns, all left-aligned; header may be NULL
   (no header row) or point to ncols strings (NULL cells print empty),
   which are copied. Returns NULL when ncols is out of range or on
   allocation failure. The caller owns it (th_table_destroy). */
th_table_t *th_table_new(size_t ncols, const char *const *header);

/* Frees the table and every copied cell; NULLs *p; safe with NULL / twice. */
void th_table_destroy(th_table_t **p);

/* Sets the alignment of column col. Returns 0, or TH_E_INVALID when t is
   NULL or col >= ncols. */
int th_table_align(th_table_t *t, size_t col, th_table_align_t a);

/* Appends a row of ncols cells (copied; a NULL cell prints empty).
   Returns 0, -ENOMEM (table unchanged), TH_E_INVALID when t or cells is
   NULL. */
int th_table_add_row(th_table_t *t, const char *const *cells);

/* Number of rows added (the header not counted); 0 for NULL. */
size_t th_table_rows(const th_table_t *t);

/* Renders the table into a new NUL-terminated string (*out, owned by the
   caller, free with th_free; *len gets its length without the NUL, len may
   be NULL). Every line ends with '\n' and has no trailing spaces; the last
   column is padded only when right-aligned. Returns 0, -ENOMEM or
   TH_E_INVALID (NULL argument). */
int th_table_render(const th_table_t *t, char **out, size_t *len);

/* Renders t to f. Returns 0, -ENOMEM, TH_E_INVALID, or -EIO when writing
   failed. */
int th_table_print(const th_table_t *t, FILE *f);

#endif
