/*  msg: the messages of the sync protocol between a child office and its
    parent (docs/protocol.md), and their strict codec.

    Each message is one msgpack map in one ZeroMQ frame (after the routing id
    on the ROUTER side): always `t` (type, uint) and `v` (protocol version,
    uint, TH_MSG_VERSION), then the fields of its type. Encoding writes the
    keys in a fixed order with the smallest msgpack forms; decoding accepts
    any key order, ignores keys it does not know (so a later minor revision
    may add optional fields) but refuses known keys of the wrong type,
    repeated known keys, missing required keys and values out of range.
    Nothing a peer declares is trusted: a frame is walked without allocating
    (th_codec_check with th_msg_limits) before msgpack-c sees it, because
    msgpack-c allocates whatever a header declares (DESIGN §10).
    Identity note: HELLO.unit is what the child *claims*; the parent trusts
    only the ZAP User-Id of the frame and answers a mismatch with ERROR.
    msgpack-c types never appear here. All functions are reentrant; one
    th_msg_t must not be used by two threads at once. */
#ifndef TH_MSG_H
#define TH_MSG_H

#include "codec.h"
#include "crypto.h"
#include "model.h"

#include <stddef.h>
#include <stdint.h>

#define TH_MSG_VERSION      1
#define TH_MSG_FRAME_MAX    (4u * 1024u * 1024u) /* bytes of one frame */
#define TH_MSG_BLOB_MAX     (1024u * 1024u)      /* bytes of one blob */
#define TH_MSG_ENTRIES_MAX  256   /* BATCH.entries: 0..256 (see through) */
#define TH_MSG_REJECTED_MAX 256   /* ACK.rejected: 0..256 */
#define TH_MSG_META_MAX     256   /* META.items: 1..256 */
#define TH_MSG_WINDOW_MAX   1024  /* WELCOME.window: 1..1024 */
#define TH_MSG_REASON_MAX   512   /* bytes of a reason (ACK, ERROR) */
#define TH_MSG_AGENT_MAX    64    /* bytes of HELLO.agent */
/* META item keys are 1..TH_KEY_MAX-1 bytes (room for "form|period|unit"). */

/* Upper bounds of the encoded bytes around the blobs, so that a sender can
   fill a frame without encoding it first: a BATCH of entries e_i is at most
   TH_MSG_ENVELOPE_OVERHEAD + sum(TH_MSG_ENTRY_OVERHEAD + e_i.len) bytes; a
   META likewise with TH_MSG_META_OVERHEAD (key included). */
#define TH_MSG_ENVELOPE_OVERHEAD 48
#define TH_MSG_ENTRY_OVERHEAD    32
#define TH_MSG_META_OVERHEAD     (48 + TH_KEY_MAX)

/* Walker limits of a frame: 4 MiB, depth 6, 1024 items per container,
   65536 objects, 1 MiB per str/bin. */
extern const th_codec_limits_t th_msg_limits;

typedef enum {
    TH_MSG_HELLO = 1,   /* child -> parent */
    TH_MSG_WELCOME,     /* parent -> child */
    TH_MSG_BATCH,       /* child -> parent */
    TH_MSG_ACK,         /* parent -> child */
    TH_MSG_META,        /* parent -> child */
    TH_MSG_META_ACK,    /* child -> parent */
    TH_MSG_PING,        /* either way */
    TH_MSG_PONG,        /* either way */
    TH_MSG_ERROR        /* parent -> child, then the parent drops the peer */
} th_msg_type_t;

/* BATCH entry kinds. */
#define TH_MSG_ENTRY_RECORD 1   /* signed record blob (codec) */
#define TH_MSG_ENTRY_ENROLL 2   /* enrollment signed by the enrolling hub */
#define TH_MSG_ENTRY_REVOKE 3   /* revocation signed by the revoking hub */
#define TH_MSG_ENTRY_ROTATE 4   /* a hub's new key, signed by its old one */

/* META item kinds. */
#define TH_MSG_META_FORM    1   /* form definition */
#define TH_MSG_META_UNITS   2   /* unit list */
#define TH_MSG_META_RECEIPT 3   /* "received by <office> at <time>" */
#define TH_MSG_META_NOTICE  4   /* notice, return for correction */
#define TH_MSG_META_FLOOR   5   /* "the parent holds this report up to rev N,
                                   signed by another key": number after it */
#define TH_MSG_META_KEY     6   /* the parent's next key (32 bytes): it
                                   rotates its own (docs/protocol.md §9) */

typedef struct {
    uint64_t seq;            /* >= 1, strictly increasing within a BATCH */
    uint8_t kind;            /* TH_MSG_ENTRY_* */
    const uint8_t *blob;     /* 1..TH_MSG_BLOB_MAX bytes, borrowed */
    size_t len;
} th_msg_entry_t;

typedef struct {
    uint64_t seq;            /* 1..ACK.upto, strictly increasing in the list */
    int32_t code;            /* a TH_E_* value (< 0) */
    const char *reason;      /* Vietnamese, for the clerk; UTF-8, <= 512 B */
} th_msg_reject_t;

typedef struct {
    uint64_t seq;            /* >= 1, strictly increasing within a META */
    uint8_t kind;            /* TH_MSG_META_* */
    const char *key;         /* UTF-8, 1..TH_KEY_MAX-1 bytes */
    const uint8_t *blob;     /* 0..TH_MSG_BLOB_MAX bytes, borrowed */
    size_t len;
} th_msg_meta_t;

typedef struct {
    th_msg_type_t type;
    char unit[TH_UNIT_MAX];     /* HELLO (claimed), WELCOME; th_valid_unit_code */
    int64_t clock;              /* HELLO, WELCOME, PING, PONG: sender's Unix ms */
    uint64_t meta_upto, head;   /* HELLO */
    char agent[TH_MSG_AGENT_MAX + 1]; /* HELLO: software version, UTF-8 */
    uint64_t resume_after;      /* WELCOME */
    /* WELCOME, optional (0 = absent): the seq of the last entry the parent
       received from this child and a digest of its blob (th_digest16), so
       that a child whose log went back (restored from an older backup)
       sees that its entry at that seq is another one */
    uint64_t check_seq;
    uint8_t check[TH_DIGEST_LEN];
    uint32_t window;            /* WELCOME: 1..TH_MSG_WINDOW_MAX */
    uint64_t upto;              /* ACK, META_ACK */
    /* BATCH: highest child seq this batch settles. Entries the child skipped
       (superseded revisions never sent) lie at or below it, so the parent's
       cursor moves past them. >= the last entry's seq; a BATCH with no
       entries (all skipped) is valid when through >= 1. On encode, 0 means
       "the last entry's seq". */
    uint64_t through;
    /* BATCH: the batch settles the seqs in (after, through]; the child sets
       it to what it believes the parent holds. A parent whose cursor is
       below `after` has missed a batch (lost in a cut) and must not skip
       the gap: it answers with a WELCOME that restarts the child there. */
    uint64_t after;
    size_t nentries; th_msg_entry_t *entries;     /* BATCH */
    size_t nrejected; th_msg_reject_t *rejected;  /* ACK */
    size_t nmeta; th_msg_meta_t *meta;            /* META */
    int32_t code; const char *reason;             /* ERROR: code < 0 */
    void *priv_;   /* decoder/builder-owned memory: arrays and string copies */
} th_msg_t;

/* Zeroes m and sets its type. A zeroed th_msg_t (= {0}) is also a valid
   starting point for th_msg_decode. Never fails. */
void th_msg_init(th_msg_t *m, th_msg_type_t type);

/* Frees what the decoder or the builders allocated (the entries/rejected/
   meta arrays they made, reason and key copies) and zeroes m. Arrays or
   strings the caller attached itself are not freed. Safe on a zeroed,
   initialised or cleared m, and twice. */
void th_msg_clear(th_msg_t *m);

/* Encodes m (only the fields of m->type are read).
   On success *out is a new th_malloc'ed frame of *len bytes, owned by the
   caller (th_free). On error *out = NULL, *len = 0. m is not modified.
   Returns 0 or:
     TH_E_INVALID  m breaks the rules above: unknown type, unit not a valid
                   unit code (or not NUL-terminated), agent over 64 bytes or
                   not UTF-8, window outside 1..1024, entry/item count
                   outside its range or NULL array with a count, BATCH
                   through below its last entry's seq (or 0 with no
                   entries), seq 0 or not strictly increasing, unknown
                   kind, blob NULL with a
                   length, BATCH blob empty or over 1 MiB, META key empty,
                   too long or not UTF-8, reject seq 0, above upto or not
                   increasing, code >= 0, reason over 512 bytes or not
                   UTF-8 (a NULL reason, in ACK or ERROR, encodes as "")
     TH_E_LIMIT    the frame would exceed TH_MSG_FRAME_MAX (a BATCH or META
                   whose blobs together are too big: send fewer)
     -ENOMEM       allocation failed. */
int th_msg_encode(const th_msg_t *m, uint8_t **out, size_t *len);

/* Decodes one frame of len bytes into m.
   m: zeroed, initialised or previously decoded/built; its old content is
   cleared first.
   On success m is filled. Blobs (entries[i].blob, meta[i].blob) point INTO
   frame: the frame must stay alive and unchanged as long as m is used.
   Strings (reason, meta key) and arrays are copies owned by m, valid until
   th_msg_clear(m) or the next decode into m. On error m is left cleared.
   Steps: th_codec_check(th_msg_limits); unpack; top level must be a map
   whose keys are all str; t and v; the fields of t.
   Returns 0 or:
     TH_E_PARSE    malformed msgpack, truncated frame, trailing bytes, or a
                   declared count/length larger than the frame
     TH_E_LIMIT    over th_msg_limits; more entries/items/rejections than
                   allowed; agent, reason or key too long
     TH_E_TYPE     the frame is not a map, a map key is not a str, or a
                   known key holds the wrong msgpack type (including an
                   element of entries/rejected/items that is not a map)
     TH_E_INVALID  missing required key, known key repeated, unknown t, v
                   != TH_MSG_VERSION, integer out of range (negative uint,
                   clock beyond int64, code not a negative int32, window,
                   kind), seq 0 or not strictly increasing, reject seq above
                   upto, BATCH through 0 or below an entry's seq, empty
                   META, empty BATCH blob, bad unit code, bad UTF-8 or NUL
                   in a string
     -ENOMEM       allocation failed (th_ allocator or msgpack-c's). */
int th_msg_decode(const uint8_t *frame, size_t len, th_msg_t *m);

/* "HELLO", "WELCOME", ... for logs; "UNKNOWN" for any other value.
   Static string, never NULL. */
const char *th_msg_type_name(th_msg_type_t t);

/* Builders: append one element to a BATCH, ACK or META under construction
   (m initialised with th_msg_init to the matching type, its array either
   NULL or made by these builders). The arrays belong to m (th_msg_clear).
   Blobs are BORROWED: they must stay alive until m is encoded or cleared.
   Reasons and keys are COPIED. On error m is unchanged. A reason cut to a
   byte budget must be cut on a UTF-8 character boundary, or it is refused
   (TH_E_INVALID).
   th_msg_add_entry returns TH_E_LIMIT when the BATCH already holds
   TH_MSG_ENTRIES_MAX entries or when this entry could push the frame past
   TH_MSG_FRAME_MAX (conservative bound from the *_OVERHEAD constants): the
   caller then encodes and sends what it has, and adds the entry to the next
   BATCH. th_msg_add_meta does the same for META. th_msg_add_reject returns
   TH_E_LIMIT past TH_MSG_REJECTED_MAX.
   All return 0 or TH_E_LIMIT, TH_E_INVALID (the element breaks the rules of
   th_msg_encode, including a seq not above the previous one; for a reject,
   the seq is only checked against upto at encode), TH_E_USAGE (wrong
   message type, or an array the caller attached itself), -ENOMEM. */
int th_msg_add_entry(th_msg_t *m, uint64_t seq, uint8_t kind,
                     const uint8_t *blob, size_t len);
int th_msg_add_reject(th_msg_t *m, uint64_t seq, int32_t code,
                      const char *reason);
int th_msg_add_meta(th_msg_t *m, uint64_t seq, uint8_t kind, const char *key,
                    const uint8_t *blob, size_t len);

#endif
