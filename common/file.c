/*  file: the one whole-file reader (see file.h). The buffer grows by
    doubling up to max + 1 bytes, so that a file of exactly max bytes is
    read whole and one byte more is seen without reading further. */
#include "file.h"
#include "err.h"
#include "mem.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

int
th_file_read(const char *path, size_t max, char **buf, size_t *len)
{
    if (buf)
        *buf = NULL;
    if (len)
        *len = 0;
    if (!path || !buf || !len || max > SIZE_MAX / 2)
        return -EINVAL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    char *b = NULL;
    size_t cap = 0, n = 0;   /* b has room for cap bytes and a NUL */
    int rc = 0;
    for (;;) {
        if (n == cap) {
            if (cap > max) {
                rc = TH_E_LIMIT;
                break;
            }
            size_t nc = cap ? cap * 2 : 4096;
            if (nc > max + 1)
                nc = max + 1;
            char *nb = th_realloc(b, nc + 1);
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            b = nb;
            cap = nc;
        }
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f))
                rc = -EIO;
            break;
        }
    }
    fclose(f);
    if (rc < 0) {
        th_free(b);
        return rc;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}
