/*  seal: the store's tamper-evident tags on revisions it was told to trust.

    A hub verifies every record at its boundary (strict decode, Ed25519
    against the key the record names, then the enrolled key); an office
    signs its own. Reading them back for a consolidation used to verify
    every signature again (most of a rollup's time, docs/benchmarks.md
    workload 4). Instead, the writer that checked a revision asks the store
    to seal it: a keyed BLAKE2b-128 tag over the revision's key, number,
    status, reception time and bytes, with a secret kept beside the store
    (`seal.key`, 0600) and never sent anywhere. A reader that finds the tag
    matching knows the bytes are those the checking writer stored and skips
    the signature; a revision altered behind the daemon's back, restored
    without its seal.key, or written by a program that does not seal, has
    no matching tag and is verified in full as before. The tag is stronger
    than re-verifying against the key the record names (anyone may sign
    with a key of their own): forging it needs the secret.

    Thread-safe; no state. */
#ifndef TH_SEAL_H
#define TH_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define TH_SEAL_KEY_LEN 32
#define TH_SEAL_TAG_LEN 16
#define TH_SEAL_FILE    "seal.key"

/* Reads dir/seal.key into key, creating it (random, 0600, written to a
   temporary file and linked into place, so that two processes opening the
   same new store agree on one key) when it does not exist.
   Errors: -errno of open/read/write/link (e.g. -EACCES, -ENOSPC);
   TH_E_CORRUPT when the file is not TH_SEAL_KEY_LEN bytes. The store then
   runs without seals (everything read is verified in full). */
int th_seal_key_load(const char *dir, uint8_t key[TH_SEAL_KEY_LEN]);

/* The tag of one revision: its table key (rk, rklen bytes), its stored
   header (hdr, hlen bytes: reception time and status) and its blob. */
void th_seal_tag(const uint8_t key[TH_SEAL_KEY_LEN], const uint8_t *rk, size_t rklen,
                 const uint8_t *hdr, size_t hlen, const uint8_t *blob, size_t len,
                 uint8_t tag[TH_SEAL_TAG_LEN]);

#endif
