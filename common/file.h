/*  file: reading a whole file into memory.

    Forms, unit lists and submitted values are small files an operator
    names; each reader wants all of the text at once, bounded so that a
    wrong path (a disk image, /dev/zero) fails with a clear error instead of
    eating the memory. One reader, so that every caller reports the same
    errors for the same failures. */
#ifndef TH_FILE_H
#define TH_FILE_H

#include <stddef.h>

/* Reads the whole file at path into a new buffer. On success *buf holds
   *len bytes followed by a NUL (not counted in *len; the text itself may
   contain NUL bytes), owned by the caller (th_free); an empty file gives
   *len 0 and a buffer of one NUL. max is the largest size accepted, in
   bytes (at most SIZE_MAX / 2).
   Returns 0, or (with *buf NULL and *len 0):
     -errno      the file cannot be opened (-ENOENT, -EACCES, ...)
     -EIO        reading failed (also when path names a directory)
     TH_E_LIMIT  the file has more than max bytes
     -ENOMEM
     -EINVAL     path, buf or len is NULL, or max too large
   Reentrant. */
int th_file_read(const char *path, size_t max, char **buf, size_t *len);

#endif
