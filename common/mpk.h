/*  mpk: the msgpack-c plumbing that codec.c and msg.c share.

    PRIVATE to codec.c and msg.c: no other file includes this header, so
    that msgpack-c types stay inside the two modules that wrap them
    (CONVENTIONS 1). It holds what both need once: the growing output
    buffer for msgpack-c's packer, the string packer, the strict UTF-8
    check, and the small getters of the strict decoders. Each getter checks one object's type and range
    and returns the same codes in both decoders:
      TH_E_TYPE     the object has the wrong msgpack type
      TH_E_INVALID  right type, value not allowed (out of range, NUL byte,
                    invalid UTF-8); also a NULL object (a missing field)
      TH_E_LIMIT    a string longer than allowed
    Outputs are written only on success. All functions are reentrant. */
#ifndef TH_MPK_H
#define TH_MPK_H

#include <msgpack.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The strict UTF-8 check behind th_codec_utf8_valid (codec.h), which
   every other file calls instead. */
bool th_mpk_utf8_valid(const uint8_t *s, size_t n);

/* A growing output buffer for msgpack-c's packer, allocated through
   th_realloc (so allocation failures are injectable):
   msgpack_packer_init(&pk, &buf, th_mpk_buf_write). After packing, oom
   tells whether an allocation failed; p (len bytes) belongs to the caller
   (th_free). A caller may preallocate p and cap. */
typedef struct {
    uint8_t *p;
    size_t len;
    size_t cap;
    bool oom;
} th_mpk_buf_t;
int th_mpk_buf_write(void *data, const char *b, size_t n);

/* Packs s (NULL as "") as a str. */
void th_mpk_pack_str(msgpack_packer *pk, const char *s);

/* A positive integer no greater than max; a negative one is TH_E_INVALID. */
int th_mpk_uint(const msgpack_object *o, uint64_t max, uint64_t *v);

/* An integer within int64. */
int th_mpk_int64(const msgpack_object *o, int64_t *v);

/* A UTF-8 str (th_mpk_utf8_valid) of at most max bytes: *s points into
   the unpacked object (not NUL-terminated), *n is its length. */
int th_mpk_str(const msgpack_object *o, size_t max, const char **s, size_t *n);

/* A str copied into dst as a C string: shorter than cap, no NUL byte;
   any other rule (characters allowed, non-empty) is the caller's. */
int th_mpk_id(const msgpack_object *o, char *dst, size_t cap);

#endif
