/*  crypto: Ed25519 identities and signatures through libsodium, Z85
    through libzmq, so no cryptography is written here by hand. */
#include "crypto.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define S_HEADER "# tonghop office identity: Ed25519 seed (Z85). Secret: keep mode 0600.\n"

int
th_crypto_init(void)
{
    return sodium_init() < 0 ? -EIO : 0;
}

int
th_identity_generate(th_identity_t *id)
{
    crypto_sign_keypair(id->pk, id->sk);
    return 0;
}

void
th_identity_wipe(th_identity_t *id)
{
    sodium_memzero(id, sizeof *id);
}

void
th_z85_encode_key(const uint8_t key[32], char *out)
{
    zmq_z85_encode(out, key, 32);
}

int
th_z85_decode_key(const char *s, uint8_t key[32])
{
    if (!s || strlen(s) != TH_Z85_KEY_LEN)
        return TH_E_KEY;
    /* libzmq's decoder does not reject every character outside the Z85
       alphabet, so check it here. */
    static const char alphabet[] =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
        ".-:+=^!/*?&<>()[]{}@%$#";
    for (const char *p = s; *p; p++)
        if (!strchr(alphabet, *p))
            return TH_E_KEY;
    return zmq_z85_decode(key, s) ? 0 : TH_E_KEY;
}

int
th_identity_save(const th_identity_t *id, const char *path)
{
    char z85[TH_Z85_KEY_LEN + 1];
    char text[sizeof S_HEADER + TH_Z85_KEY_LEN + 2];
    zmq_z85_encode(z85, id->sk, 32);   /* the seed is the first 32 bytes */
    int n = snprintf(text, sizeof text, "%s%s\n", S_HEADER, z85);
    sodium_memzero(z85, sizeof z85);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        sodium_memzero(text, sizeof text);
        return -errno;
    }
    int rc = 0;
    if (write(fd, text, (size_t)n) != n || fsync(fd) < 0)
        rc = errno ? -errno : -EIO;
    sodium_memzero(text, sizeof text);
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0)
        unlink(path);
    return rc;
}

int
th_identity_load(const char *path, th_identity_t *id)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    if (st.st_mode & 077) {
        close(fd);
        return -EACCES;
    }
    char text[512];
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n < 0)
        return -errno;
    text[n] = '\0';
    /* The key is the first line that is not a comment. */
    char *line = text, *seed_txt = NULL;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (*line && *line != '#') {
            seed_txt = line;
            break;
        }
        line = nl ? nl + 1 : NULL;
    }
    uint8_t seed[32];
    int rc = TH_E_KEY;
    if (seed_txt && th_z85_decode_key(seed_txt, seed) == 0) {
        crypto_sign_seed_keypair(id->pk, id->sk, seed);
        rc = 0;
    }
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(text, sizeof text);
    return rc;
}

void
th_sign(const th_identity_t *id, const uint8_t *msg, size_t len,
        uint8_t sig[64])
{
    crypto_sign_detached(sig, NULL, msg, len, id->sk);
}

int
th_verify(const uint8_t pk[32], const uint8_t *msg, size_t len,
          const uint8_t sig[64])
{
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : TH_E_SIG;
}

int
th_identity_curve(const th_identity_t *id, uint8_t curve_pk[32],
                  uint8_t curve_sk[32])
{
    if (crypto_sign_ed25519_pk_to_curve25519(curve_pk, id->pk) != 0)
        return TH_E_KEY;
    if (crypto_sign_ed25519_sk_to_curve25519(curve_sk, id->sk) != 0)
        return TH_E_KEY;
    return 0;
}

int
th_pubkey_curve(const uint8_t ed_pk[32], uint8_t curve_pk[32])
{
    return crypto_sign_ed25519_pk_to_curve25519(curve_pk, ed_pk) == 0
               ? 0 : TH_E_KEY;
}

void
th_digest16(const uint8_t *p, size_t n, uint8_t out[TH_DIGEST_LEN])
{
    crypto_generichash(out, TH_DIGEST_LEN, p, n, NULL, 0);
}
