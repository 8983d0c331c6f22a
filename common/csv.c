/*  csv: RFC 4180 reader. Field bytes are unescaped into one growing buffer
    per record; the pointer array is built once the record is complete,
    because the buffer may move while it grows. */
#include "csv.h"

#include "err.h"
#include "mem.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

struct th_csv {
    const char *text;  /* borrowed */
    size_t len;
    size_t pos;        /* next byte to read */
    unsigned line;     /* 1-based line of text[pos] */
    unsigned rec_line; /* line where the last record began */
    int err;           /* sticky error, 0 if none */
    char *buf;         /* unescaped fields, each NUL-terminated */
    size_t buf_len, buf_cap;
    size_t *offs;      /* start of each field in buf */
    char **fields;     /* pointers into buf, handed out */
    size_t nfields, fields_cap;
};

th_csv_t *
th_csv_new(const char *text, size_t len)
{
    if (!text && len > 0)
        return NULL;
    th_csv_t *c = th_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->text = text;
    c->len = len;
    c->line = 1;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        c->pos = 3;
    return c;
}

void
th_csv_destroy(th_csv_t **c)
{
    if (!c || !*c)
        return;
    th_free((*c)->buf);
    th_free((*c)->offs);
    th_free((*c)->fields);
    th_free(*c);
    *c = NULL;
}

unsigned
th_csv_line(const th_csv_t *c)
{
    return c ? c->rec_line : 0;
}

static int
s_putc(th_csv_t *c, char ch)
{
    if (c->buf_len == c->buf_cap) {
        size_t cap = c->buf_cap ? c->buf_cap * 2 : 256;
        char *nb = th_realloc(c->buf, cap);
        if (!nb)
            return -ENOMEM;
        c->buf = nb;
        c->buf_cap = cap;
    }
    c->buf[c->buf_len++] = ch;
    return 0;
}

static int
s_begin_field(th_csv_t *c)
{
    if (c->nfields == TH_CSV_FIELDS_MAX)
        return TH_E_LIMIT;
    if (c->nfields == c->fields_cap) {
        size_t cap = c->fields_cap ? c->fields_cap * 2 : 16;
        size_t *no = th_realloc(c->offs, cap * sizeof *no);
        if (!no)
            return -ENOMEM;
        c->offs = no;
        char **nf = th_realloc(c->fields, cap * sizeof *nf);
        if (!nf)
            return -ENOMEM;
        c->fields = nf;
        c->fields_cap = cap;
    }
    c->offs[c->nfields++] = c->buf_len;
    return 0;
}

/* Appends one data byte to the current field, enforcing the field limit. */
static int
s_add(th_csv_t *c, char ch)
{
    if (c->buf_len - c->offs[c->nfields - 1] >= TH_CSV_FIELD_MAX)
        return TH_E_LIMIT;
    return s_putc(c, ch);
}

/* Consumes a line end (LF, CRLF or a lone CR) at pos if there is one. */
static bool
s_eat_eol(th_csv_t *c)
{
    if (c->pos >= c->len)
        return false;
    if (c->text[c->pos] == '\n') {
        c->pos++;
    } else if (c->text[c->pos] == '\r') {
        c->pos++;
        if (c->pos < c->len && c->text[c->pos] == '\n')
            c->pos++;
    } else {
        return false;
    }
    c->line++;
    return true;
}

static int
s_read_record(th_csv_t *c)
{
    int rc;
    for (;;) {
        if ((rc = s_begin_field(c)) < 0)
            return rc;
        if (c->pos < c->len && c->text[c->pos] == '"') {
            c->pos++;
            for (;;) {
                if (c->pos >= c->len)
                    return TH_E_PARSE;   /* unterminated quoted field */
                char ch = c->text[c->pos++];
                if (ch == '"') {
                    if (c->pos < c->len && c->text[c->pos] == '"') {
                        c->pos++;
                    } else {
                        break;
                    }
                } else if (ch == '\n') {
                    c->line++;
                } else if (ch == '\r' &&
                           !(c->pos < c->len && c->text[c->pos] == '\n')) {
                    c->line++;
                }
                if ((rc = s_add(c, ch)) < 0)
                    return rc;
            }
            if (c->pos < c->len) {
                char ch = c->text[c->pos];
                if (ch != ',' && ch != '\r' && ch != '\n')
                    return TH_E_PARSE;   /* text after the closing quote */
            }
        } else {
            while (c->pos < c->len) {
                char ch = c->text[c->pos];
                if (ch == ',' || ch == '\r' || ch == '\n')
                    break;
                if (ch == '"')
                    return TH_E_PARSE;   /* stray quote in a bare field */
                if ((rc = s_add(c, ch)) < 0)
                    return rc;
                c->pos++;
            }
        }
        if ((rc = s_putc(c, '\0')) < 0)
            return rc;
        if (c->pos < c->len && c->text[c->pos] == ',') {
            c->pos++;
            continue;
        }
        s_eat_eol(c);
        return 0;
    }
}

int
th_csv_next(th_csv_t *c, char ***fields, size_t *n)
{
    if (c->err)
        return c->err;
    /* Blank lines are no records (a trailing newline, Excel's empty rows). */
    while (s_eat_eol(c))
        ;
    if (c->pos >= c->len)
        return 0;
    c->rec_line = c->line;
    c->buf_len = 0;
    c->nfields = 0;
    int rc = s_read_record(c);
    if (rc < 0) {
        c->err = rc;
        return rc;
    }
    for (size_t i = 0; i < c->nfields; i++)
        c->fields[i] = c->buf + c->offs[i];
    *fields = c->fields;
    *n = c->nfields;
    return 1;
}

int
th_csv_write_field(FILE *f, const char *s)
{
    if (!s)
        s = "";
    size_t len = strlen(s);
    bool quote = len > 0 && (s[0] == ' ' || s[len - 1] == ' ' || strpbrk(s, ",\"\r\n"));
    errno = 0;
    if (!quote) {
        if (len && fwrite(s, 1, len, f) != len)
            return errno ? -errno : -EIO;
        return 0;
    }
    if (fputc('"', f) == EOF)
        return errno ? -errno : -EIO;
    for (const char *p = s; *p; p++) {
        if (*p == '"' && fputc('"', f) == EOF)
            return errno ? -errno : -EIO;
        if (fputc(*p, f) == EOF)
            return errno ? -errno : -EIO;
    }
    if (fputc('"', f) == EOF)
        return errno ? -errno : -EIO;
    return 0;
}

int
th_csv_write_cell(FILE *f, const char *s, bool last)
{
    int rc = th_csv_write_field(f, s);
    if (rc == 0 && fputs(last ? "\r\n" : ",", f) == EOF)
        rc = -EIO;
    return rc;
}
