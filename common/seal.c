/*  seal: the key file beside the store and the tag (see seal.h). */
#include "seal.h"

#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
s_read_key(const char *path, uint8_t key[TH_SEAL_KEY_LEN])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    uint8_t buf[TH_SEAL_KEY_LEN + 1];
    size_t n = 0;
    int rc = 0;
    while (n < sizeof buf) {
        ssize_t r = read(fd, buf + n, sizeof buf - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (rc == 0 && n != TH_SEAL_KEY_LEN)
        rc = TH_E_CORRUPT;
    if (rc == 0)
        memcpy(key, buf, TH_SEAL_KEY_LEN);
    sodium_memzero(buf, sizeof buf);
    return rc;
}

/* A new random key in a temporary file of dir, durable, then linked to
   path: link() fails with EEXIST when another process made one first, and
   then both use that one. */
static int
s_make_key(const char *dir, const char *path)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s/.seal.key.XXXXXX", dir) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    if (sodium_init() < 0)   /* idempotent; randombytes needs it */
        return -EIO;
    int fd = mkstemp(tmp);   /* 0600 */
    if (fd < 0)
        return -errno;
    uint8_t key[TH_SEAL_KEY_LEN];
    randombytes_buf(key, sizeof key);
    int rc = 0;
    ssize_t w = write(fd, key, sizeof key);
    if (w < 0)
        rc = -errno;
    else if (w != (ssize_t)sizeof key)
        rc = -ENOSPC;   /* a short write of 32 bytes: the disk is full */
    sodium_memzero(key, sizeof key);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && link(tmp, path) < 0 && errno != EEXIST)
        rc = -errno;
    unlink(tmp);
    return rc;
}

int
th_seal_key_load(const char *dir, uint8_t key[TH_SEAL_KEY_LEN])
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, TH_SEAL_FILE) >= (int)sizeof path)
        return -ENAMETOOLONG;
    int rc = s_read_key(path, key);
    if (rc != -ENOENT)
        return rc;
    if ((rc = s_make_key(dir, path)) < 0)
        return rc;
    return s_read_key(path, key);
}

void
th_seal_tag(const uint8_t key[TH_SEAL_KEY_LEN], const uint8_t *rk, size_t rklen,
            const uint8_t *hdr, size_t hlen, const uint8_t *blob, size_t len,
            uint8_t tag[TH_SEAL_TAG_LEN])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, TH_SEAL_KEY_LEN, TH_SEAL_TAG_LEN);
    crypto_generichash_update(&st, rk, rklen);
    crypto_generichash_update(&st, hdr, hlen);
    if (len)
        crypto_generichash_update(&st, blob, len);
    crypto_generichash_final(&st, tag, TH_SEAL_TAG_LEN);
}
