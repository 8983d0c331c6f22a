/*  codec: the one byte representation of a record, and a strict decoder.

    A record is signed over its canonical body (a msgpack map, keys sorted
    bytewise, every key always present, each value in exactly one encoding),
    so two nodes that hold the same record hold the same bytes and a relay
    can forward a blob untouched. The decoder trusts nothing: msgpack-c
    allocates whatever a header declares (DESIGN §10), so every input is first
    walked byte by byte without allocating (th_codec_check) and only then
    unpacked; after unpacking, the record is re-encoded and compared with the
    input, so any second encoding of the same content is rejected.
    msgpack-c types never appear here. All functions are reentrant and
    thread-safe (no shared state besides the const limits).

    Canonical body (DESIGN §3), keys in this (bytewise sorted) order:
      at      submitted_at, int (smallest msgpack int form)
      author  str ("" when NULL)
      by      (version 2 only) str, th_valid_unit_code: the hub that entered it
      doc     (version 2 only) str ("" when NULL): the document it came from
      form    str, th_valid_form_id
      fv      form_version, uint
      key     origin public key, bin 32
      note    str ("" when NULL)
      period  str, 1..15 of [0-9A-Za-z] (semantics belong to the periods module)
      proxy   bool
      rev     uint >= 1
      st      status, uint 0 (draft) or 1 (submitted)
      unit    str, th_valid_unit_code
      v       format version, uint: TH_CODEC_VERSION, or TH_CODEC_VERSION_PROXY
              for an entry on behalf of a unit (proxy true), which alone has
              the keys by and doc (so that every record made before them
              keeps its bytes and its signature)
      vals    map code -> value, codes sorted bytewise and unique;
              TH_V_INT -> smallest int, TH_V_DEC -> float64, TH_V_BOOL ->
              true/false, TH_V_TEXT -> str (NULL text encodes as "")
    Strings use the smallest str header (fixstr, str8, str16, str32), must be
    valid UTF-8 without NUL bytes and shorter than TH_TEXT_MAX bytes.
    Signed blob: msgpack array of 2 = [bin body, bin sig (64 bytes)]. */
#ifndef TH_CODEC_H
#define TH_CODEC_H

#include "model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TH_CODEC_VERSION 1
#define TH_CODEC_VERSION_PROXY 2

/* Deepest nesting th_codec_check walks; a larger max_depth acts as this. */
#define TH_CODEC_DEPTH_CAP 256

typedef struct {
    size_t max_bytes;      /* whole input */
    unsigned max_depth;    /* nesting of arrays/maps (top-level container = 1) */
    size_t max_items;      /* elements of one array or entries of one map */
    size_t max_total;      /* all objects in the input (map keys count) */
    size_t max_str;        /* bytes of one str or bin */
} th_codec_limits_t;

/* 1 MiB, depth 8, 1024 items, 65536 objects, TH_TEXT_MAX bytes per string. */
extern const th_codec_limits_t th_codec_record_limits;

/* Walks raw msgpack without allocating. Accepts exactly one complete object
   spanning exactly len bytes, in which every declared count/length fits in
   the bytes that remain (each pending element counts >= 1 byte), within
   lim. Ext/fixext types, 0xc1 and trailing bytes are rejected.
   buf: the bytes (may be NULL only when len is 0, which is rejected).
   lim: the limits; NULL means th_codec_record_limits.
   Returns 0; TH_E_PARSE (malformed, truncated, trailing bytes, a count or
   length larger than what remains); TH_E_LIMIT (len > max_bytes, depth,
   items, total objects or a string/bin length over the limits). */
int th_codec_check(const uint8_t *buf, size_t len, const th_codec_limits_t *lim);

/* Canonical body of r: the bytes that get signed.
   On success *out is a new buffer owned by the caller (free with th_free)
   of *len bytes. On error *out = NULL, *len = 0.
   Returns 0, -ENOMEM, or TH_E_INVALID when r violates the model invariants
   (bad form/unit/period identifier, status not draft/submitted, rev 0,
   values unsorted/duplicate/NULL array, bad code or kind, non-finite
   decimal, text/author/note/doc >= TH_TEXT_MAX bytes or not UTF-8 or
   containing NUL, more than TH_VALUES_MAX values; proxy without a valid
   by, or by or doc set without proxy). r is not modified. */
int th_codec_record_body(const th_record_t *r, uint8_t **out, size_t *len);

/* Signed blob of r: [bin body, bin r->sig]. The signature is copied as is
   (the codec does not sign; crypto signs the body from th_codec_record_body).
   Ownership and errors as th_codec_record_body. */
int th_codec_record_encode(const th_record_t *r, uint8_t **out, size_t *len);

/* Strict decode of a signed blob of len bytes.
   Steps: th_codec_check of the blob (record limits, except that the body
   bin may be up to max_bytes long), unpack, [bin, bin(64)]; th_codec_check
   of the body with th_codec_record_limits, unpack, exact types, required
   keys, no unknown keys, keys and value codes strictly increasing,
   identifiers and values valid; finally the record is re-encoded and must
   equal buf byte for byte.
   out: must be initialised (th_record_init); its old content is cleared.
   On success it holds the record (empty author/note decode to NULL, sig
   filled); on error it is left cleared.
   body/body_len: if body != NULL (then body_len must not be NULL), they are
   set on success to the signed body bytes, which point INTO buf and live as
   long as buf. Untouched on error.
   Returns 0 or:
     TH_E_PARSE    malformed msgpack (blob or body)
     TH_E_LIMIT    over th_codec_record_limits, more than TH_VALUES_MAX
                   values, or a text/author/note of TH_TEXT_MAX bytes or more
     TH_E_TYPE     a field or value of the wrong msgpack type (including a
                   blob that is not [bin, bin], a body that is not a map, a
                   key that is not a str, a value that is nil/array/map/bin)
     TH_E_CANON    keys or value codes unsorted or duplicated, float32, or
                   any other encoding that differs from the canonical one
     TH_E_INVALID  unknown or missing key, bad identifier, key/sig length,
                   format version, status, rev 0, integer out of range,
                   bad UTF-8 or NUL in a string
     -ENOMEM       allocation failed (th_ allocator or msgpack-c's). */
int th_codec_record_decode(const uint8_t *buf, size_t len, th_record_t *out,
                           const uint8_t **body, size_t *body_len);

/* The same for bytes this process's store vouches for (a matching seal,
   th_store_revision_sealed: they passed th_codec_record_decode when they
   were stored): the checks of the values, without the walk of the limits
   and the canonical re-encoding, which were most of the time of a decode.
   Never for bytes from outside: msgpack-c trusts declared lengths. */
int th_codec_record_decode_sealed(const uint8_t *buf, size_t len, th_record_t *out);

/* Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF)
   and no NUL byte: what every text the project encodes must be. */
bool th_codec_utf8_valid(const uint8_t *s, size_t n);

#endif
