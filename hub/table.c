/*  table: text tables aligned by display width (see table.h). */
#include "table.h"

#include "err.h"
#include "mem.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define S_MAX_COLS 64

struct th_table {
    size_t ncols;
    char **header;               /* ncols cells or NULL: no header row */
    th_table_align_t *align;     /* per column */
    size_t nrows, cap;
    char ***rows;                /* nrows rows of ncols owned cells */
};

/* Decodes one code point at s; returns its byte length (>= 1) and puts it
   in *cp, or -1 in *cp for an invalid byte (which then counts alone). */
static size_t
s_utf8_next(const unsigned char *s, int32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    int32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2, v = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, v = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, v = c & 0x07;
    } else {
        *cp = -1;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = -1;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    *cp = v;
    return n;
}

static bool
s_zero_width(int32_t cp)
{
    return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
           (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
           (cp >= 0xFE20 && cp <= 0xFE2F) || (cp >= 0x200B && cp <= 0x200F) ||
           cp == 0xFEFF;
}

size_t
th_table_width(const char *s)
{
    if (!s)
        return 0;
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int32_t cp;
        p += s_utf8_next(p, &cp);
        if (cp < 0 || !s_zero_width(cp))
            w++;
    }
    return w;
}

static void
s_free_cells(char **cells, size_t n)
{
    if (!cells)
        return;
    for (size_t i = 0; i < n; i++)
        th_free(cells[i]);
    th_free(cells);
}

static char **
s_copy_cells(const char *const *cells, size_t n)
{
    char **c = th_calloc(n, sizeof *c);
    if (!c)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        c[i] = th_strdup(cells[i] ? cells[i] : "");
        if (!c[i]) {
            s_free_cells(c, n);
            return NULL;
        }
    }
    return c;
}

th_table_t *
th_table_new(size_t ncols, const char *const *header)
{
    if (ncols == 0 || ncols > S_MAX_COLS)
        return NULL;
    th_table_t *t = th_calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ncols = ncols;
    t->align = th_calloc(ncols, sizeof *t->align);
    if (!t->align)
        goto err;
    if (header && !(t->header = s_copy_cells(header, ncols)))
        goto err;
    return t;
err:
    th_table_destroy(&t);
    return NULL;
}

void
th_table_destroy(th_table_t **p)
{
    if (!p || !*p)
        return;
    th_table_t *t = *p;
    for (size_t i = 0; i < t->nrows; i++)
        s_free_cells(t->rows[i], t->ncols);
    th_free(t->rows);
    s_free_cells(t->header, t->ncols);
    th_free(t->align);
    th_free(t);
    *p = NULL;
}

int
th_table_align(th_table_t *t, size_t col, th_table_align_t a)
{
    if (!t || col >= t->ncols)
        return TH_E_INVALID;
    t->align[col] = a;
    return 0;
}

int
th_table_add_row(th_table_t *t, const char *const *cells)
{
    if (!t || !cells)
        return TH_E_INVALID;
    if (t->nrows == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        char ***nr = th_realloc(t->rows, ncap * sizeof *nr);
        if (!nr)
            return -ENOMEM;
        t->rows = nr;
        t->cap = ncap;
    }
    char **c = s_copy_cells(cells, t->ncols);
    if (!c)
        return -ENOMEM;
    t->rows[t->nrows++] = c;
    return 0;
}

size_t
th_table_rows(const th_table_t *t)
{
    return t ? t->nrows : 0;
}

typedef struct {
    char *buf;
    size_t len, cap;
    bool oom;
} s_buf_t;

static void
s_put(s_buf_t *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        char *nb = th_realloc(b->buf, ncap);
        if (!nb) {
            b->oom = true;
            return;
        }
        b->buf = nb;
        b->cap = ncap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

static void
s_spaces(s_buf_t *b, size_t n)
{
    static const char sp[] = "                                ";
    while (n > 0) {
        size_t k = n < sizeof sp - 1 ? n : sizeof sp - 1;
        s_put(b, sp, k);
        n -= k;
    }
}

static void
s_line(s_buf_t *b, const th_table_t *t, char *const *cells, const size_t *w)
{
    /* Trailing padding is pointless and makes diffs noisy: pad a cell only
       when something follows it on the line. */
    size_t last = 0;
    for (size_t c = 0; c < t->ncols; c++)
        if (cells[c][0] || t->align[c] == TH_TABLE_RIGHT)
            last = c;
    for (size_t c = 0; c <= last; c++) {
        size_t cw = th_table_width(cells[c]);
        size_t pad = w[c] > cw ? w[c] - cw : 0;
        if (c > 0)
            s_put(b, "  ", 2);
        if (t->align[c] == TH_TABLE_RIGHT)
            s_spaces(b, pad);
        s_put(b, cells[c], strlen(cells[c]));
        if (t->align[c] == TH_TABLE_LEFT && c < last)
            s_spaces(b, pad);
    }
    s_put(b, "\n", 1);
}

int
th_table_render(const th_table_t *t, char **out, size_t *len)
{
    if (!t || !out)
        return TH_E_INVALID;
    size_t w[S_MAX_COLS] = { 0 };
    for (size_t c = 0; c < t->ncols; c++) {
        if (t->header)
            w[c] = th_table_width(t->header[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t cw = th_table_width(t->rows[r][c]);
            if (cw > w[c])
                w[c] = cw;
        }
    }
    s_buf_t b = { 0 };
    s_put(&b, "", 0);
    if (t->header) {
        s_line(&b, t, t->header, w);
        size_t total = 0;
        for (size_t c = 0; c < t->ncols; c++)
            total += w[c] + (c ? 2 : 0);
        for (size_t i = 0; i < total; i++)
            s_put(&b, "-", 1);
        s_put(&b, "\n", 1);
    }
    for (size_t r = 0; r < t->nrows; r++)
        s_line(&b, t, t->rows[r], w);
    if (b.oom) {
        th_free(b.buf);
        return -ENOMEM;
    }
    *out = b.buf;
    if (len)
        *len = b.len;
    return 0;
}

int
th_table_print(const th_table_t *t, FILE *f)
{
    if (!t || !f)
        return TH_E_INVALID;
    char *s;
    size_t n;
    int rc = th_table_render(t, &s, &n);
    if (rc < 0)
        return rc;
    size_t w = fwrite(s, 1, n, f);
    th_free(s);
    return w == n ? 0 : -EIO;
}
