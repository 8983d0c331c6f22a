/*  model: the in-memory shape of the data tonghop moves around.

    A record is one revision of one report, keyed by (form, period, unit).
    Only the owning office creates revisions of its key, so rev numbers are
    assigned by one writer and the highest rev wins everywhere (DESIGN §3).
    The one exception is an entry on behalf of an office without a node
    (nhập thay): its parent hub signs it (proxy, by = the hub's unit, doc =
    the paper it came from); when the office's own node reports later, the
    hub tells it the rev it holds and the office numbers above it.
    Identifiers are short and bounded, so they live in fixed arrays; values,
    author and note are heap-owned by the record (th_record_clear frees). */
#ifndef TH_MODEL_H
#define TH_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TH_FORM_ID_MAX 32   /* form id incl. NUL: [a-z0-9._-], 1..31 */
#define TH_PERIOD_MAX  16   /* DHIS2 period id incl. NUL */
#define TH_UNIT_MAX    16   /* unit code incl. NUL: [A-Za-z0-9_-] */
#define TH_CODE_MAX    32   /* indicator code incl. NUL: [A-Za-z0-9_.] */
#define TH_KEY_MAX     (TH_FORM_ID_MAX + TH_PERIOD_MAX + TH_UNIT_MAX)
#define TH_TEXT_MAX    16384 /* bytes of one text value, author or note */
#define TH_VALUES_MAX  512   /* indicator values in one record */
#define TH_PUBKEY_LEN  32
#define TH_SIG_LEN     64

typedef enum {
    TH_V_INT = 1,    /* int64 */
    TH_V_DEC = 2,    /* double, finite */
    TH_V_BOOL = 3,   /* 0 or 1 */
    TH_V_TEXT = 4    /* UTF-8, heap-owned; also enum option codes */
} th_vkind_t;

typedef struct {
    char code[TH_CODE_MAX];
    th_vkind_t kind;
    union {
        int64_t i;
        double d;
        bool b;
        char *s;
    } u;
} th_value_t;

typedef enum {
    TH_STATUS_DRAFT = 0,      /* never leaves the office */
    TH_STATUS_SUBMITTED = 1
} th_status_t;

typedef struct {
    char form[TH_FORM_ID_MAX];
    char period[TH_PERIOD_MAX];
    char unit[TH_UNIT_MAX];
    uint32_t form_version;          /* version of the form entered against */
    uint32_t rev;                   /* 1, 2, ... per key */
    th_status_t status;
    int64_t submitted_at;           /* owner's clock, Unix ms UTC */
    char *author;                   /* owned, NULL = empty */
    char *note;                     /* owned, NULL = empty */
    bool proxy;                     /* entered by a hub on behalf of the unit */
    char by[TH_UNIT_MAX];           /* proxy: unit of the hub that entered it,
                                       "" otherwise */
    char *doc;                      /* proxy: owned, the document it was entered
                                       from (số/ký hiệu, ngày), NULL = none */
    uint8_t origin[TH_PUBKEY_LEN];  /* Ed25519 public key of the signer */
    uint8_t sig[TH_SIG_LEN];        /* over the canonical body (codec) */
    size_t nvalues;
    th_value_t *values;             /* owned, sorted by code, codes unique */
} th_record_t;

/* Zeroes r. Never fails. */
void th_record_init(th_record_t *r);

/* Frees what r owns and zeroes it. Safe on an initialised or cleared r. */
void th_record_clear(th_record_t *r);

/* Deep copy; dst must be initialised (its old content is cleared first).
   Returns 0 or -ENOMEM (dst left cleared). */
int th_record_copy(th_record_t *dst, const th_record_t *src);

/* Inserts or replaces a value, copying it (text duplicated); keeps values
   sorted by code. Returns 0, -ENOMEM, TH_E_LIMIT (too many values or text
   too long) or TH_E_INVALID (bad code, non-finite decimal). r unchanged on
   error. */
int th_record_set(th_record_t *r, const th_value_t *v);

/* Removes the value of code if present. Returns 1 if removed, 0 if absent. */
int th_record_unset(th_record_t *r, const char *code);

/* True when a and b hold the same values (codes, kinds, contents). */
bool th_record_values_equal(const th_record_t *a, const th_record_t *b);

/* Value for code or NULL; pointer valid until r changes. */
const th_value_t *th_record_get(const th_record_t *r, const char *code);

/* Frees the text of a value (if any); the value struct itself is not freed. */
void th_value_clear(th_value_t *v);

/* Writes "form|period|unit" into buf (cap >= TH_KEY_MAX).
   Returns the length, or TH_E_LIMIT when it does not fit. */
int th_record_key(const th_record_t *r, char *buf, size_t cap);
int th_key_make(char *buf, size_t cap, const char *form, const char *period,
                const char *unit);

/* Identifier checks (charset and length as documented above). */
bool th_valid_form_id(const char *s);
bool th_valid_unit_code(const char *s);
bool th_valid_indicator_code(const char *s);

/* Current time, Unix ms UTC. */
int64_t th_now_ms(void);

#endif
