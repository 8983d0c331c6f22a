/*  err: the project's error codes and th_strerror().

    Every function that can fail returns int: 0 on success, a negative value
    on failure. System failures are -errno (e.g. -ENOMEM, -ENOENT); project
    failures are the TH_E_* codes below, in a reserved negative range that
    overlaps neither errno values nor LMDB's own (-30799..-30780).
    The table is the single source of the codes and their messages. */
#ifndef TH_ERR_H
#define TH_ERR_H

#include <stddef.h>

/* X(name, value, message) */
#define TH_ERROR_TABLE(X)                                                    \
    X(TH_E_PARSE,    -31001, "malformed input")                             \
    X(TH_E_LIMIT,    -31002, "input exceeds a limit")                       \
    X(TH_E_CANON,    -31003, "encoding is not canonical")                   \
    X(TH_E_CORRUPT,  -31004, "stored data is corrupt")                      \
    X(TH_E_SCHEMA,   -31005, "store schema version not supported")          \
    X(TH_E_NOTFOUND, -31006, "not found")                                   \
    X(TH_E_EXISTS,   -31007, "already exists")                              \
    X(TH_E_SIG,      -31008, "signature verification failed")               \
    X(TH_E_INVALID,  -31009, "invalid value")                               \
    X(TH_E_CONFIG,   -31010, "configuration error")                         \
    X(TH_E_STORE,    -31011, "store error")                                 \
    X(TH_E_STALE,    -31012, "revision is not newer than the stored one")   \
    X(TH_E_UNIT,     -31013, "unknown unit")                                \
    X(TH_E_FORM,     -31014, "unknown form")                                \
    X(TH_E_PERIOD,   -31015, "invalid period")                              \
    X(TH_E_KEY,      -31016, "invalid key")                                 \
    X(TH_E_USAGE,    -31017, "invalid usage")                               \
    X(TH_E_REJECTED, -31018, "rejected by validation")                      \
    X(TH_E_TYPE,     -31019, "unexpected type")                             \
    X(TH_E_BUSY,     -31020, "another daemon runs on this data directory")   \
    X(TH_E_DISKFULL, -31021, "no space left on the disk of the store")

enum {
#define TH_X_ENUM(name, value, msg) name = value,
    TH_ERROR_TABLE(TH_X_ENUM)
#undef TH_X_ENUM
};

/* Message for any code returned by a th_ function: project codes from the
   table, -errno through strerror. Never NULL; the string is static. */
const char *th_strerror(int err);

/* Writes a message into errbuf (if not NULL) and returns rc: the one way
   modules fill an "errbuf, cap" pair, `return th_errbuf(buf, cap, rc, ...)`. */
int th_errbuf(char *errbuf, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Symbolic name ("TH_E_PARSE", "ENOMEM", ...) for logs; static, never NULL. */
const char *th_err_name(int err);

#endif
