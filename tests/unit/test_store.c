/*  Unit tests of the store: the API's semantics, map growth, and crash
    safety (a child writing revisions is SIGKILLed at seeded random moments;
    everything it reported as committed must be there, intact, with a
    contiguous log). Each test works in its own mkdtemp directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "log.h"
#include "mem.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <lmdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Helpers */

typedef struct {
    char root[64];      /* mkdtemp directory, removed at teardown */
    char dir[96];       /* root/store: the store directory (not created) */
} fx_t;

static int
s_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static int
s_setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    strcpy(fx->root, "/tmp/th_store_XXXXXX");
    if (!mkdtemp(fx->root)) {
        free(fx);
        return -1;
    }
    snprintf(fx->dir, sizeof fx->dir, "%s/store", fx->root);
    *state = fx;
    return 0;
}

static int
s_teardown(void **state)
{
    fx_t *fx = *state;
    nftw(fx->root, s_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

static th_store_t *
s_open(const char *dir, bool create, size_t map)
{
    th_store_opts_t o = { .map_size = map, .create = create };
    int err = 12345;
    th_store_t *s = th_store_open(dir, &o, &err);
    if (!s)
        fail_msg("th_store_open('%s'): %s", dir, th_err_name(err));
    assert_int_equal(err, 0);
    return s;
}

static int
s_open_err(const char *dir, bool create)
{
    th_store_opts_t o = { .map_size = 0, .create = create };
    int err = 0;
    th_store_t *s = th_store_open(dir, &o, &err);
    if (s)
        th_store_destroy(&s);
    return s ? 0 : err;
}

/* FNV-1a, 64 bits: the checksum inside self-checking blobs. */
static uint64_t
s_fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static uint32_t
s_rng(uint32_t *st)
{
    /* xorshift32: deterministic per seed, enough for test choices */
    uint32_t x = *st ? *st : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *st = x;
}

/* Self-checking blob: u8 klen | key | u32 rev | u32 plen | payload | u64 fnv */
static size_t
s_make_blob(uint8_t *buf, size_t cap, const char *key, uint32_t rev, uint32_t plen)
{
    size_t klen = strlen(key);
    size_t n = 1 + klen + 8 + plen + 8;
    if (n > cap)
        return 0;
    uint8_t *p = buf;
    *p++ = (uint8_t)klen;
    memcpy(p, key, klen);
    p += klen;
    memcpy(p, &rev, 4);
    memcpy(p + 4, &plen, 4);
    p += 8;
    uint32_t st = rev * 2654435761u ^ (uint32_t)klen ^ (uint32_t)s_fnv((const uint8_t *)key, klen);
    for (uint32_t i = 0; i < plen; i++)
        *p++ = (uint8_t)s_rng(&st);
    uint64_t h = s_fnv(buf, (size_t)(p - buf));
    memcpy(p, &h, 8);
    return n;
}

static bool
s_blob_ok(const uint8_t *b, size_t len, const char *key, uint32_t rev)
{
    size_t klen = strlen(key);
    uint32_t r, plen;
    uint64_t h;
    if (len < 1 + klen + 16 || b[0] != klen || memcmp(b + 1, key, klen) != 0)
        return false;
    memcpy(&r, b + 1 + klen, 4);
    memcpy(&plen, b + 5 + klen, 4);
    if (r != rev || len != 1 + klen + 8 + (size_t)plen + 8)
        return false;
    memcpy(&h, b + len - 8, 8);
    return h == s_fnv(b, len - 8);
}

/* ------------------------------------------------------------------ */
/* Open, reopen, schema */

static int
s_put_hello(th_store_txn_t *txn, void *ctx)
{
    (void)ctx;
    return th_store_kv_put(txn, TH_DB_META, "hello", "xin chào", strlen("xin chào"));
}

static int
s_get_hello(th_store_txn_t *txn, void *ctx)
{
    const void *v;
    size_t n;
    int rc = th_store_kv_get(txn, TH_DB_META, "hello", &v, &n);
    if (rc == 0) {
        assert_int_equal(n, strlen("xin chào"));
        assert_memory_equal(v, "xin chào", n);
        *(int *)ctx = 1;
    }
    return rc;
}

static void
test_store_create_open_reopen(void **state)
{
    fx_t *fx = *state;
    /* Missing directory without create: nothing is created. */
    assert_int_equal(s_open_err(fx->dir, false), -ENOENT);
    assert_int_equal(access(fx->dir, F_OK), -1);
    assert_int_equal(s_open_err(NULL, true), TH_E_INVALID);
    assert_int_equal(s_open_err("", true), TH_E_INVALID);

    th_store_t *s = s_open(fx->dir, true, 0);
    struct stat st;
    assert_int_equal(stat(fx->dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_true(th_store_map_size(s) >= ((size_t)64 << 20));
    assert_int_equal(th_store_write(s, s_put_hello, NULL), 0);

    /* The same directory twice in one process is refused, also by another
       spelling of its path. */
    char alias[160];
    snprintf(alias, sizeof alias, "%s/../store/.", fx->dir);
    assert_int_equal(s_open_err(fx->dir, false), -EBUSY);
    assert_int_equal(s_open_err(alias, true), -EBUSY);

    th_store_destroy(&s);
    assert_null(s);
    th_store_destroy(&s);   /* safe twice */
    th_store_destroy(NULL);

    s = s_open(alias, false, 0);
    int seen = 0;
    assert_int_equal(th_store_read(s, s_get_hello, &seen), 0);
    assert_int_equal(seen, 1);
    th_store_destroy(&s);

    /* create=true on an existing store opens it and keeps the data. */
    s = s_open(fx->dir, true, 0);
    seen = 0;
    assert_int_equal(th_store_read(s, s_get_hello, &seen), 0);
    assert_int_equal(seen, 1);
    assert_int_equal(th_store_write(NULL, s_put_hello, NULL), TH_E_INVALID);
    assert_int_equal(th_store_read(s, NULL, NULL), TH_E_INVALID);
    th_store_destroy(&s);
}

static int
s_put_schema2(th_store_txn_t *txn, void *ctx)
{
    (void)ctx;
    return th_store_state_put_u64(txn, "schema", 2);
}

static void
test_store_schema_absent_and_wrong(void **state)
{
    fx_t *fx = *state;
    char path[256];

    /* An empty directory is not a store and stays empty. */
    assert_int_equal(mkdir(fx->dir, 0700), 0);
    assert_int_equal(s_open_err(fx->dir, false), TH_E_NOTFOUND);
    snprintf(path, sizeof path, "%s/data.mdb", fx->dir);
    assert_int_equal(access(path, F_OK), -1);

    /* An LMDB environment of someone else: no schema. */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
    assert_int_equal(mdb_env_open(env, fx->dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "state", MDB_CREATE, &dbi), 0);
    MDB_val k = { 3, "foo" }, d = { 3, "bar" };
    assert_int_equal(mdb_put(txn, dbi, &k, &d, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    assert_int_equal(s_open_err(fx->dir, false), TH_E_NOTFOUND);

    /* A store of another schema version, with or without create. */
    char dir2[160];
    snprintf(dir2, sizeof dir2, "%s/v2", fx->root);
    th_store_t *s = s_open(dir2, true, 0);
    assert_int_equal(th_store_write(s, s_put_schema2, NULL), 0);
    th_store_destroy(&s);
    assert_int_equal(s_open_err(dir2, false), TH_E_SCHEMA);
    assert_int_equal(s_open_err(dir2, true), TH_E_SCHEMA);

    /* Garbage where data.mdb should be. */
    char dir3[160];
    snprintf(dir3, sizeof dir3, "%s/junk", fx->root);
    assert_int_equal(mkdir(dir3, 0700), 0);
    snprintf(path, sizeof path, "%s/data.mdb", dir3);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 16384; i++)
        fputc((i * 7919) & 0xff, f);
    fclose(f);
    assert_int_equal(s_open_err(dir3, false), TH_E_CORRUPT);
}

/* ------------------------------------------------------------------ */
/* Revisions */

typedef struct {
    const char *key;
    uint32_t rev;
    uint8_t status;
    const char *blob;
    bool log_it;
    uint64_t seq;
} s_put1_t;

static int
s_put1(th_store_txn_t *txn, void *ctx)
{
    s_put1_t *p = ctx;
    th_store_rev_t r = { .key = p->key, .rev = p->rev, .status = p->status,
                         .received_at = 1700000000000 + p->rev,
                         .blob = (const uint8_t *)p->blob, .len = strlen(p->blob) };
    return th_store_put_revision(txn, &r, p->log_it, &p->seq);
}

static int
s_put(th_store_t *s, const char *key, uint32_t rev, uint8_t status, const char *blob,
      bool log_it, uint64_t *seq)
{
    s_put1_t p = { key, rev, status, blob, log_it, 99 };
    int rc = th_store_write(s, s_put1, &p);
    if (seq)
        *seq = p.seq;
    return rc;
}

static void
s_assert_rev(const th_store_rev_t *r, const char *key, uint32_t rev, uint8_t status,
             const char *blob)
{
    assert_string_equal(r->key, key);
    assert_int_equal(r->rev, rev);
    assert_int_equal(r->status, status);
    assert_int_equal(r->received_at, 1700000000000 + rev);
    assert_int_equal(r->len, strlen(blob));
    assert_memory_equal(r->blob, blob, r->len);
}

static int
s_check_basic(th_store_txn_t *txn, void *ctx)
{
    (void)ctx;
    th_store_rev_t r;
    assert_int_equal(th_store_get_current(txn, "f|2026|A", &r), 0);
    s_assert_rev(&r, "f|2026|A", 2, 1, "second");
    assert_int_equal(th_store_get_revision(txn, "f|2026|A", 1, &r), 0);
    s_assert_rev(&r, "f|2026|A", 1, 0, "first");
    assert_int_equal(th_store_get_revision(txn, "f|2026|A", 2, &r), 0);
    s_assert_rev(&r, "f|2026|A", 2, 1, "second");
    assert_int_equal(th_store_get_revision(txn, "f|2026|A", 3, &r), TH_E_NOTFOUND);
    assert_int_equal(th_store_get_current(txn, "f|2026|B", &r), TH_E_NOTFOUND);
    assert_int_equal(th_store_get_current(txn, "f|2026|E", &r), 0);
    assert_int_equal(r.len, 0);
    uint64_t last;
    assert_int_equal(th_store_log_last(txn, &last), 0);
    assert_int_equal(last, 1);   /* only rev 1 was logged */

    /* Writes are refused in a read transaction. */
    th_store_rev_t w = { .key = "f|2026|Z", .rev = 1, .blob = (const uint8_t *)"x", .len = 1 };
    assert_int_equal(th_store_put_revision(txn, &w, false, NULL), TH_E_USAGE);
    assert_int_equal(th_store_kv_put(txn, TH_DB_UNITS, "x", "y", 1), TH_E_USAGE);
    assert_int_equal(th_store_log_append(txn, 1, "", 0, NULL, 0, NULL), TH_E_USAGE);
    return 0;
}

static void
test_store_put_get_current_and_revisions(void **state)
{
    fx_t *fx = *state;
    th_store_t *s = s_open(fx->dir, true, 0);
    uint64_t seq = 77;
    assert_int_equal(s_put(s, "f|2026|A", 1, 0, "first", true, &seq), 0);
    assert_int_equal(seq, 1);
    assert_int_equal(s_put(s, "f|2026|A", 2, 1, "second", false, &seq), 0);
    assert_int_equal(seq, 0);
    assert_int_equal(s_put(s, "f|2026|E", 1, 1, "", false, NULL), 0);
    assert_int_equal(th_store_read(s, s_check_basic, NULL), 0);

    /* Key limits and invalid arguments. */
    char k127[128], k128[129];
    memset(k127, 'k', 127);
    k127[127] = '\0';
    memset(k128, 'k', 128);
    k128[128] = '\0';
    assert_int_equal(s_put(s, k127, 1, 1, "ok", false, NULL), 0);
    assert_int_equal(s_put(s, k128, 1, 1, "no", false, NULL), TH_E_LIMIT);
    assert_int_equal(s_put(s, "", 1, 1, "no", false, NULL), TH_E_INVALID);
    assert_int_equal(s_put(s, "f|2026|C", 0, 1, "no", false, NULL), TH_E_INVALID);
    th_store_destroy(&s);

    /* Durable across close. */
    s = s_open(fx->dir, false, 0);
    assert_int_equal(th_store_read(s, s_check_basic, NULL), 0);
    th_store_destroy(&s);
}

static int
s_check_after_stale(th_store_txn_t *txn, void *ctx)
{
    (void)ctx;
    th_store_rev_t r;
    assert_int_equal(th_store_get_current(txn, "f|2026|A", &r), 0);
    s_assert_rev(&r, "f|2026|A", 3, 1, "three");
    assert_int_equal(th_store_get_revision(txn, "f|2026|A", 2, &r), TH_E_NOTFOUND);
    assert_int_equal(th_store_get_revision(txn, "f|2026|A", 3, &r), 0);
    s_assert_rev(&r, "f|2026|A", 3, 1, "three");
    uint64_t last;
    assert_int_equal(th_store_log_last(txn, &last), 0);
    assert_int_equal(last, 1);
    return 0;
}

static void
test_store_stale_rev_rejected(void **state)
{
    fx_t *fx = *state;
    th_store_t *s = s_open(fx->dir, true, 0);
    uint64_t seq = 5;
    assert_int_equal(s_put(s, "f|2026|A", 3, 1, "three", true, &seq), 0);
    assert_int_equal(seq, 1);
    assert_int_equal(s_put(s, "f|2026|A", 3, 1, "again", true, &seq), TH_E_STALE);
    assert_int_equal(seq, 0);
    assert_int_equal(s_put(s, "f|2026|A", 2, 1, "older", true, NULL), TH_E_STALE);
    assert_int_equal(th_store_read(s, s_check_after_stale, NULL), 0);
    assert_int_equal(s_put(s, "f|2026|A", 4, 1, "four", true, &seq), 0);
    assert_int_equal(seq, 2);
    th_store_destroy(&s);
}

/* ------------------------------------------------------------------ */
/* Walks */

static const char *const s_walk_keys[] = { "bm|2026|1", "bm|2026|10", "bm|2026|100",
                                           "bm|2026|1x", "bm|2026" };
#define S_NWALK (sizeof s_walk_keys / sizeof s_walk_keys[0])

static int
s_put_300(th_store_txn_t *txn, void *ctx)
{
    (void)ctx;
    uint8_t buf[256];
    for (uint32_t rev = 1; rev <= 300; rev++)
        for (size_t i = 0; i < S_NWALK; i++) {
            th_store_rev_t r = { .key = s_walk_keys[i], .rev = rev, .status = 1,
                                 .received_at = rev };
            r.len = s_make_blob(buf, sizeof buf, s_walk_keys[i], rev, rev % 50);
            r.blob = buf;
            int rc = th_store_put_revision(txn, &r, false, NULL);
            if (rc)
                return rc;
        }
    return 0;
}

typedef struct {
    const char *key;
    uint32_t n;
    uint32_t stop_at;
} s_revwalk_t;

static int
s_revwalk_cb(const th_store_rev_t *r, void *ctx)
{
    s_revwalk_t *w = ctx;
    assert_string_equal(r->key, w->key);
    assert_int_equal(r->rev, w->n + 1);
    assert_int_equal(r->received_at, r->rev);
    assert_true(s_blob_ok(r->blob, r->len, w->key, r->rev));
    w->n++;
    return w->n == w->stop_at ? 7 : 0;
}

static int
s_check_300(th_store_txn_t *txn, void *ctx)
{
    (void)ctx;
    for (size_t i = 0; i < S_NWALK; i++) {
        s_revwalk_t w = { s_walk_keys[i], 0, 0 };
        assert_int_equal(th_store_each_revision(txn, s_walk_keys[i], s_revwalk_cb, &w), 0);
        assert_int_equal(w.n, 300);
        th_store_rev_t r;
        assert_int_equal(th_store_get_current(txn, s_walk_keys[i], &r), 0);
        assert_int_equal(r.rev, 300);
        assert_true(s_blob_ok(r.blob, r.len, s_walk_keys[i], 300));
    }
    s_revwalk_t w = { "bm|2026|1", 0, 5 };
    assert_int_equal(th_store_each_revision(txn, "bm|2026|1", s_revwalk_cb, &w), 7);
    assert_int_equal(w.n, 5);
    s_revwalk_t none = { "bm|2026|2", 0, 0 };
    assert_int_equal(th_store_each_revision(txn, "bm|2026|2", s_revwalk_cb, &none), 0);
    assert_int_equal(none.n, 0);
    return 0;
}

static void
test_store_each_revision_order(void **state)
{
    fx_t *fx = *state;
    th_store_t *s = s_open(fx->dir, true, 0);
    assert_int_equal(th_store_write(s, s_put_300, NULL), 0);
    assert_int_equal(th_store_read(s, s_check_300, NULL), 0);
    th_store_destroy(&s);
}

typedef struct {
    char keys[8][32];
    uint32_t revs[8];
    int n;
    int stop_at;
} s_repwalk_t;

static int
s_repwalk_cb(const th_store_rev_t *r, void *ctx)
{
    s_repwalk_t *w = ctx;
    assert_true(w->n < 8);
    snprintf(w->keys[w->n], sizeof w->keys[0], "%s", r->key);
    w->revs[w->n] = r->rev;
    w->n++;
    return w->n == w->stop_at ? -99 : 0;
}

static int
s_check_reports(th_store_txn_t *txn, void *ctx)
{
    (void)ctx;
    s_repwalk_t w = { .n = 0 };
    assert_int_equal(th_store_each_report(txn, "f1|2026|", s_repwalk_cb, &w), 0);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.keys[0], "f1|2026|A");
    assert_int_equal(w.revs[0], 2);
    assert_string_equal(w.keys[1], "f1|2026|B");
    assert_int_equal(w.revs[1], 1);

    memset(&w, 0, sizeof w);
    assert_int_equal(th_store_each_report(txn, "", s_repwalk_cb, &w), 0);
    assert_int_equal(w.n, 5);   /* byte order: 'S' (0x53) sorts before '|' (0x7c) */
    assert_string_equal(w.keys[0], "f1|2026S1|A");
    assert_string_equal(w.keys[1], "f1|2026S1|A2");
    assert_string_equal(w.keys[2], "f1|2026|A");
    assert_string_equal(w.keys[3], "f1|2026|B");
    assert_string_equal(w.keys[4], "f2|2026|A");

    memset(&w, 0, sizeof w);
    assert_int_equal(th_store_each_report(txn, "f1|2026S1|A", s_repwalk_cb, &w), 0);
    assert_int_equal(w.n, 2);

    memset(&w, 0, sizeof w);
    assert_int_equal(th_store_each_report(txn, "zz", s_repwalk_cb, &w), 0);
    assert_int_equal(w.n, 0);

    memset(&w, 0, sizeof w);
    w.stop_at = 1;
    assert_int_equal(th_store_each_report(txn, "f", s_repwalk_cb, &w), -99);
    assert_int_equal(w.n, 1);
    return 0;
}

static void
test_store_each_report_prefix(void **state)
{
    fx_t *fx = *state;
    th_store_t *s = s_open(fx->dir, true, 0);
    assert_int_equal(s_put(s, "f2|2026|A", 1, 1, "x", false, NULL), 0);
    assert_int_equal(s_put(s, "f1|2026|B", 1, 1, "x", false, NULL), 0);
    assert_int_equal(s_put(s, "f1|2026|A", 1, 1, "x", false, NULL), 0);
    assert_int_equal(s_put(s, "f1|2026|A", 2, 1, "y", false, NULL), 0);
    assert_int_equal(s_put(s, "f1|2026S1|A2", 1, 1, "x", false, NULL), 0);
    assert_int_equal(s_put(s, "f1|2026S1|A", 1, 1, "x", false, NULL), 0);
    assert_int_equal(th_store_read(s, s_check_reports, NULL), 0);
    th_store_destroy(&s);
}

/* ------------------------------------------------------------------ */
/* Log */

#define S_LOG_N 70000u   /* beyond 256 and 65536: big-endian keys must sort */

static int
s_log_batch(th_store_txn_t *txn, void *ctx)
{
    uint32_t *from = ctx;
    for (uint32_t i = *from; i < *from + 10000 && i <= S_LOG_N; i++) {
        char key[32], blob[32];
        uint64_t seq;
        bool enroll = i % 1000 == 0;
        snprintf(key, sizeof key, "f|2026|%u", i % 97);
        int n = snprintf(blob, sizeof blob, "entry %u", i);
        int rc = th_store_log_append(txn, enroll ? TH_LOG_KIND_ENROLL : TH_LOG_KIND_RECORD,
                                     enroll ? "" : key, i, (const uint8_t *)blob,
                                     (size_t)n, &seq);
        if (rc)
            return rc;
        if (seq != i)
            return -1000;
    }
    return 0;
}

typedef struct {
    uint64_t next;
    uint64_t count;
} s_logwalk_t;

static int
s_logwalk_cb(const th_store_log_entry_t *e, void *ctx)
{
    s_logwalk_t *w = ctx;
    char key[32], blob[32];
    if (e->seq != w->next)
        fail_msg("log seq %llu, expected %llu", (unsigned long long)e->seq,
                 (unsigned long long)w->next);
    assert_int_equal(e->rev, (uint32_t)e->seq);
    if (e->seq % 1000 == 0) {
        assert_int_equal(e->kind, TH_LOG_KIND_ENROLL);
        assert_string_equal(e->key, "");
    } else {
        assert_int_equal(e->kind, TH_LOG_KIND_RECORD);
        snprintf(key, sizeof key, "f|2026|%u", (unsigned)(e->seq % 97));
        assert_string_equal(e->key, key);
    }
    int n = snprintf(blob, sizeof blob, "entry %u", (unsigned)e->seq);
    assert_int_equal(e->len, (size_t)n);
    assert_memory_equal(e->blob, blob, e->len);
    w->next++;
    w->count++;
    return 0;
}

static int
s_check_log(th_store_txn_t *txn, void *ctx)
{
    (void)ctx;
    uint64_t last;
    assert_int_equal(th_store_log_last(txn, &last), 0);
    assert_int_equal(last, S_LOG_N);
    s_logwalk_t w = { 1, 0 };
    assert_int_equal(th_store_log_each(txn, 0, s_logwalk_cb, &w), 0);
    assert_int_equal(w.count, S_LOG_N);
    w = (s_logwalk_t){ 256, 0 };
    assert_int_equal(th_store_log_each(txn, 255, s_logwalk_cb, &w), 0);
    assert_int_equal(w.count, S_LOG_N - 255);
    w = (s_logwalk_t){ 65537, 0 };
    assert_int_equal(th_store_log_each(txn, 65536, s_logwalk_cb, &w), 0);
    assert_int_equal(w.count, S_LOG_N - 65536);
    w = (s_logwalk_t){ 0, 0 };
    assert_int_equal(th_store_log_each(txn, S_LOG_N, s_logwalk_cb, &w), 0);
    assert_int_equal(th_store_log_each(txn, UINT64_MAX, s_logwalk_cb, &w), 0);
    assert_int_equal(w.count, 0);
    return 0;
}

static int
s_log_empty(th_store_txn_t *txn, void *ctx)
{
    (void)ctx;
    uint64_t last = 5;
    s_logwalk_t w = { 1, 0 };
    assert_int_equal(th_store_log_last(txn, &last), 0);
    assert_int_equal(last, 0);
    assert_int_equal(th_store_log_each(txn, 0, s_logwalk_cb, &w), 0);
    assert_int_equal(w.count, 0);
    return 0;
}

static void
test_store_log_seq_order_beyond_65536(void **state)
{
    fx_t *fx = *state;
    th_store_t *s = s_open(fx->dir, true, 0);
    assert_int_equal(th_store_read(s, s_log_empty, NULL), 0);
    for (uint32_t from = 1; from <= S_LOG_N; from += 10000)
        assert_int_equal(th_store_write(s, s_log_batch, &from), 0);
    assert_int_equal(th_store_read(s, s_check_log, NULL), 0);
    th_store_destroy(&s);
}

/* ------------------------------------------------------------------ */
/* Generic tables and state */

static int
s_kv_write(th_store_txn_t *txn, void *ctx)
{
    (void)ctx;
    int rc = 0;
    rc |= th_store_kv_put(txn, TH_DB_UNITS, "01", "Hà Nội", strlen("Hà Nội"));
    rc |= th_store_kv_put(txn, TH_DB_UNITS, "01001", "Phường Ba Đình", strlen("Phường Ba Đình"));
    rc |= th_store_kv_put(txn, TH_DB_UNITS, "02", "old", 3);
    rc |= th_store_kv_put(txn, TH_DB_UNITS, "02", "Hà Giang", strlen("Hà Giang"));
    rc |= th_store_kv_put(txn, TH_DB_UNITS, "03", "gone", 4);
    rc |= th_store_kv_put(txn, TH_DB_FORMS, "01", "form", 4);
    rc |= th_store_kv_put(txn, TH_DB_PEERS, "empty", NULL, 0);
    rc |= th_store_kv_put(txn, TH_DB_RECEIPTS, "r", "1", 1);
    rc |= th_store_kv_put(txn, TH_DB_QUARANTINE, "q", "2", 1);
    rc |= th_store_state_put_u64(txn, "uplink.acked", 0x0102030405060708ull);
    if (rc)
        return -1;
    assert_int_equal(th_store_kv_del(txn, TH_DB_UNITS, "03"), 0);
    assert_int_equal(th_store_kv_del(txn, TH_DB_UNITS, "03"), TH_E_NOTFOUND);
    assert_int_equal(th_store_kv_put(txn, (th_store_db_t)42, "x", "y", 1), TH_E_INVALID);
    char k128[129];
    memset(k128, 'u', 128);
    k128[128] = '\0';
    assert_int_equal(th_store_kv_put(txn, TH_DB_UNITS, k128, "y", 1), TH_E_LIMIT);
    assert_int_equal(th_store_kv_put(txn, TH_DB_UNITS, "", "y", 1), TH_E_INVALID);
    assert_int_equal(th_store_kv_put(txn, TH_DB_UNITS, "x", NULL, 1), TH_E_INVALID);
    return 0;
}

typedef struct {
    char keys[8][16];
    int n;
} s_kvwalk_t;

static int
s_kvwalk_cb(const char *key, const void *val, size_t len, void *ctx)
{
    (void)val;
    (void)len;
    s_kvwalk_t *w = ctx;
    assert_true(w->n < 8);
    snprintf(w->keys[w->n++], sizeof w->keys[0], "%s", key);
    return 0;
}

static int
s_kv_check(th_store_txn_t *txn, void *ctx)
{
    (void)ctx;
    const void *v;
    size_t n;
    assert_int_equal(th_store_kv_get(txn, TH_DB_UNITS, "02", &v, &n), 0);
    assert_int_equal(n, strlen("Hà Giang"));
    assert_memory_equal(v, "Hà Giang", n);
    assert_int_equal(th_store_kv_get(txn, TH_DB_FORMS, "01", &v, &n), 0);
    assert_int_equal(n, 4);
    assert_memory_equal(v, "form", 4);
    assert_int_equal(th_store_kv_get(txn, TH_DB_UNITS, "03", &v, &n), TH_E_NOTFOUND);
    assert_int_equal(th_store_kv_get(txn, TH_DB_META, "01", &v, &n), TH_E_NOTFOUND);
    assert_int_equal(th_store_kv_get(txn, TH_DB_PEERS, "empty", &v, &n), 0);
    assert_int_equal(n, 0);

    s_kvwalk_t w = { .n = 0 };
    assert_int_equal(th_store_kv_each(txn, TH_DB_UNITS, "", s_kvwalk_cb, &w), 0);
    assert_int_equal(w.n, 3);
    assert_string_equal(w.keys[0], "01");
    assert_string_equal(w.keys[1], "01001");
    assert_string_equal(w.keys[2], "02");
    memset(&w, 0, sizeof w);
    assert_int_equal(th_store_kv_each(txn, TH_DB_UNITS, "01", s_kvwalk_cb, &w), 0);
    assert_int_equal(w.n, 2);
    memset(&w, 0, sizeof w);
    assert_int_equal(th_store_kv_each(txn, TH_DB_FORMS, NULL, s_kvwalk_cb, &w), 0);
    assert_int_equal(w.n, 1);

    uint64_t u = 1;
    assert_int_equal(th_store_state_get_u64(txn, "uplink.acked", &u), 0);
    assert_true(u == 0x0102030405060708ull);
    assert_int_equal(th_store_state_get_u64(txn, "absent", &u), 0);
    assert_int_equal(u, 0);
    /* Big-endian on disk. */
    assert_int_equal(th_store_kv_get(txn, TH_DB_STATE, "uplink.acked", &v, &n), 0);
    assert_int_equal(n, 8);
    assert_memory_equal(v, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    /* A u64 of the wrong length is corrupt, not garbage. */
    assert_int_equal(th_store_state_get_u64(txn, "short", &u), TH_E_CORRUPT);
    return 0;
}

static int
s_kv_short(th_store_txn_t *txn, void *ctx)
{
    (void)ctx;
    return th_store_kv_put(txn, TH_DB_STATE, "short", "abc", 3);
}

static void
test_store_kv_tables(void **state)
{
    fx_t *fx = *state;
    th_store_t *s = s_open(fx->dir, true, 0);
    assert_int_equal(th_store_write(s, s_kv_write, NULL), 0);
    assert_int_equal(th_store_write(s, s_kv_short, NULL), 0);
    assert_int_equal(th_store_read(s, s_kv_check, NULL), 0);
    th_store_destroy(&s);
}

/* ------------------------------------------------------------------ */
/* fn failure aborts */

static int
s_write_then_fail(th_store_txn_t *txn, void *ctx)
{
    int ret = *(int *)ctx;
    th_store_rev_t r = { .key = "f|2026|A", .rev = 1, .status = 1,
                         .blob = (const uint8_t *)"abc", .len = 3 };
    uint64_t seq;
    assert_int_equal(th_store_put_revision(txn, &r, true, &seq), 0);
    assert_int_equal(seq, 1);
    assert_int_equal(th_store_kv_put(txn, TH_DB_UNITS, "01", "x", 1), 0);
    assert_int_equal(th_store_state_put_u64(txn, "cursor", 9), 0);
    /* Visible inside the transaction... */
    th_store_rev_t cur;
    assert_int_equal(th_store_get_current(txn, "f|2026|A", &cur), 0);
    return ret;
}

static int
s_check_nothing(th_store_txn_t *txn, void *ctx)
{
    (void)ctx;
    th_store_rev_t r;
    const void *v;
    size_t n;
    uint64_t u;
    assert_int_equal(th_store_get_current(txn, "f|2026|A", &r), TH_E_NOTFOUND);
    assert_int_equal(th_store_get_revision(txn, "f|2026|A", 1, &r), TH_E_NOTFOUND);
    assert_int_equal(th_store_kv_get(txn, TH_DB_UNITS, "01", &v, &n), TH_E_NOTFOUND);
    assert_int_equal(th_store_state_get_u64(txn, "cursor", &u), 0);
    assert_int_equal(u, 0);
    assert_int_equal(th_store_log_last(txn, &u), 0);
    assert_int_equal(u, 0);
    return 0;
}

static int
s_check_committed(th_store_txn_t *txn, void *ctx)
{
    (void)ctx;
    th_store_rev_t r;
    uint64_t u;
    assert_int_equal(th_store_get_current(txn, "f|2026|A", &r), 0);
    assert_int_equal(r.rev, 1);
    assert_int_equal(th_store_state_get_u64(txn, "cursor", &u), 0);
    assert_int_equal(u, 9);
    assert_int_equal(th_store_log_last(txn, &u), 0);
    assert_int_equal(u, 1);
    return 0;
}

static void
test_store_fn_error_aborts(void **state)
{
    fx_t *fx = *state;
    th_store_t *s = s_open(fx->dir, true, 0);
    int ret = -42;
    assert_int_equal(th_store_write(s, s_write_then_fail, &ret), -42);
    assert_int_equal(th_store_read(s, s_check_nothing, NULL), 0);
    ret = 3;   /* positive returns abort too, and come back unchanged */
    assert_int_equal(th_store_write(s, s_write_then_fail, &ret), 3);
    assert_int_equal(th_store_read(s, s_check_nothing, NULL), 0);
    /* The same fn returning 0 does commit: the checks above can fail. */
    ret = 0;
    assert_int_equal(th_store_write(s, s_write_then_fail, &ret), 0);
    assert_int_equal(th_store_read(s, s_check_committed, NULL), 0);
    th_store_destroy(&s);
}

/* ------------------------------------------------------------------ */
/* Map growth */

#define S_GROW_TXNS  40
#define S_GROW_KEYS  5
#define S_GROW_BLOB  (40 * 1024)

typedef struct {
    uint32_t t;         /* rev of this batch */
    unsigned calls;     /* fn runs in all, retries included */
    uint8_t *buf;
} s_grow_t;

static int
s_grow_fn(th_store_txn_t *txn, void *ctx)
{
    s_grow_t *g = ctx;
    g->calls++;
    for (int k = 0; k < S_GROW_KEYS; k++) {
        char key[32];
        snprintf(key, sizeof key, "g|2026|%02d", k);
        th_store_rev_t r = { .key = key, .rev = g->t, .status = 1, .received_at = g->t,
                             .blob = g->buf };
        r.len = s_make_blob(g->buf, S_GROW_BLOB + 64, key, g->t, S_GROW_BLOB);
        int rc = th_store_put_revision(txn, &r, true, NULL);
        if (rc)
            return rc;
    }
    return 0;
}

static int
s_grow_kv(th_store_txn_t *txn, void *ctx)
{
    s_grow_t *g = ctx;
    g->calls++;
    uint8_t val[512];
    for (int i = 0; i < 2000; i++) {
        char key[16];
        snprintf(key, sizeof key, "u%05d", i);
        memset(val, i & 0xff, sizeof val);
        int rc = th_store_kv_put(txn, TH_DB_UNITS, key, val, sizeof val);
        if (rc)
            return rc;
    }
    return 0;
}

static int
s_grow_check(th_store_txn_t *txn, void *ctx)
{
    (void)ctx;
    for (int k = 0; k < S_GROW_KEYS; k++) {
        char key[32];
        snprintf(key, sizeof key, "g|2026|%02d", k);
        for (uint32_t t = 1; t <= S_GROW_TXNS; t++) {
            th_store_rev_t r;
            assert_int_equal(th_store_get_revision(txn, key, t, &r), 0);
            assert_true(s_blob_ok(r.blob, r.len, key, t));
        }
        th_store_rev_t r;
        assert_int_equal(th_store_get_current(txn, key, &r), 0);
        assert_int_equal(r.rev, S_GROW_TXNS);
    }
    for (int i = 0; i < 2000; i++) {
        char key[16];
        const void *v;
        size_t n;
        snprintf(key, sizeof key, "u%05d", i);
        assert_int_equal(th_store_kv_get(txn, TH_DB_UNITS, key, &v, &n), 0);
        assert_int_equal(n, 512);
        assert_int_equal(((const uint8_t *)v)[511], i & 0xff);
    }
    uint64_t last;
    assert_int_equal(th_store_log_last(txn, &last), 0);
    assert_int_equal(last, S_GROW_TXNS * S_GROW_KEYS);
    return 0;
}

static void
test_store_map_growth(void **state)
{
    fx_t *fx = *state;
    const size_t small = 256 * 1024;
    th_store_t *s = s_open(fx->dir, true, small);
    size_t before = th_store_map_size(s);
    assert_true(before >= small && before < 2 * small);

    s_grow_t g = { .buf = malloc(S_GROW_BLOB + 64) };
    assert_non_null(g.buf);
    for (g.t = 1; g.t <= S_GROW_TXNS; g.t++)
        assert_int_equal(th_store_write(s, s_grow_fn, &g), 0);
    unsigned txns = S_GROW_TXNS;
    assert_int_equal(th_store_write(s, s_grow_kv, &g), 0);
    txns++;
    /* Some runs hit MAP_FULL and were run again on a larger map. */
    assert_true(g.calls > txns);
    size_t after = th_store_map_size(s);
    assert_true(after >= (size_t)S_GROW_TXNS * S_GROW_KEYS * S_GROW_BLOB);
    assert_int_equal(th_store_read(s, s_grow_check, NULL), 0);
    th_store_destroy(&s);

    /* Reopened with the small size asked, the store keeps its grown map. */
    s = s_open(fx->dir, false, small);
    assert_true(th_store_map_size(s) >= after);
    assert_int_equal(th_store_read(s, s_grow_check, NULL), 0);
    th_store_destroy(&s);
    free(g.buf);
}

/* Threads share one store: writers growing the map while readers read. */

#define S_THR_WRITERS 4
#define S_THR_TXNS    15
#define S_THR_BLOB    (8 * 1024)

typedef struct {
    th_store_t *s;
    int id;
    uint32_t rev;
    int rc;
    uint8_t buf[S_THR_BLOB + 64];
} s_thr_t;

static int
s_thr_write(th_store_txn_t *txn, void *ctx)
{
    s_thr_t *t = ctx;
    for (int k = 0; k < 5; k++) {
        char key[32];
        snprintf(key, sizeof key, "t|2026|%d-%d", t->id, k);
        th_store_rev_t r = { .key = key, .rev = t->rev, .status = 1, .blob = t->buf };
        r.len = s_make_blob(t->buf, sizeof t->buf, key, t->rev, S_THR_BLOB);
        int rc = th_store_put_revision(txn, &r, true, NULL);
        if (rc)
            return rc;
    }
    return 0;
}

static void *
s_thr_writer(void *arg)
{
    s_thr_t *t = arg;
    for (t->rev = 1; t->rev <= S_THR_TXNS && t->rc == 0; t->rev++)
        t->rc = th_store_write(t->s, s_thr_write, t);
    return NULL;
}

typedef struct {
    th_store_t *s;
    volatile int *stop;
    int rc;
    unsigned long seen;
} s_thr_reader_t;

static int
s_thr_count(const th_store_rev_t *r, void *ctx)
{
    unsigned long *n = ctx;
    if (!s_blob_ok(r->blob, r->len, r->key, r->rev))
        return -500;
    (*n)++;
    return 0;
}

static int
s_thr_read(th_store_txn_t *txn, void *ctx)
{
    return th_store_each_report(txn, "t|", s_thr_count, ctx);
}

static void *
s_thr_reader(void *arg)
{
    s_thr_reader_t *r = arg;
    while (!*r->stop && r->rc == 0)
        r->rc = th_store_read(r->s, s_thr_read, &r->seen);
    return NULL;
}

static int
s_thr_check(th_store_txn_t *txn, void *ctx)
{
    unsigned long n = 0;
    (void)ctx;
    assert_int_equal(th_store_each_report(txn, "t|", s_thr_count, &n), 0);
    assert_int_equal(n, S_THR_WRITERS * 5);
    uint64_t last;
    assert_int_equal(th_store_log_last(txn, &last), 0);
    assert_int_equal(last, S_THR_WRITERS * 5 * S_THR_TXNS);
    for (int w = 0; w < S_THR_WRITERS; w++)
        for (int k = 0; k < 5; k++) {
            char key[32];
            snprintf(key, sizeof key, "t|2026|%d-%d", w, k);
            for (uint32_t rev = 1; rev <= S_THR_TXNS; rev++) {
                th_store_rev_t r;
                assert_int_equal(th_store_get_revision(txn, key, rev, &r), 0);
                assert_true(s_blob_ok(r.blob, r.len, key, rev));
            }
        }
    return 0;
}

static void
test_store_threads_grow_concurrently(void **state)
{
    fx_t *fx = *state;
    th_store_t *s = s_open(fx->dir, true, 256 * 1024);
    size_t before = th_store_map_size(s);
    static s_thr_t w[S_THR_WRITERS];
    s_thr_reader_t r[2];
    pthread_t tw[S_THR_WRITERS], tr[2];
    volatile int stop = 0;
    for (int i = 0; i < 2; i++) {
        r[i] = (s_thr_reader_t){ .s = s, .stop = &stop };
        assert_int_equal(pthread_create(&tr[i], NULL, s_thr_reader, &r[i]), 0);
    }
    for (int i = 0; i < S_THR_WRITERS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].s = s;
        w[i].id = i;
        assert_int_equal(pthread_create(&tw[i], NULL, s_thr_writer, &w[i]), 0);
    }
    for (int i = 0; i < S_THR_WRITERS; i++)
        pthread_join(tw[i], NULL);
    stop = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(tr[i], NULL);
    for (int i = 0; i < S_THR_WRITERS; i++)
        assert_int_equal(w[i].rc, 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(r[i].rc, 0);
    assert_true(th_store_map_size(s) > before);
    assert_int_equal(th_store_read(s, s_thr_check, NULL), 0);
    th_store_destroy(&s);
}

/* Another process grows the map while this one has the store open with
   the old size: the next transaction here adopts the new size. */
static void
test_store_map_grown_by_other_process(void **state)
{
    fx_t *fx = *state;
    const size_t small = 256 * 1024;
    th_store_t *s = s_open(fx->dir, true, small);
    size_t before = th_store_map_size(s);
    int p[2];
    char c = 0;
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        th_store_opts_t o = { 0, false };
        close(p[0]);
        th_store_t *cs = th_store_open(fx->dir, &o, NULL);
        s_grow_t g = { .buf = malloc(S_GROW_BLOB + 64) };
        if (!cs || !g.buf)
            _exit(30);
        for (g.t = 1; g.t <= S_GROW_TXNS; g.t++)
            if (th_store_write(cs, s_grow_fn, &g) != 0)
                _exit(31);
        if (th_store_write(cs, s_grow_kv, &g) != 0)
            _exit(32);
        th_store_destroy(&cs);
        free(g.buf);
        /* Success goes through the pipe: under valgrind the exit status
           also reflects the parent's allocations the child inherited. */
        _exit(write(p[1], "k", 1) == 1 ? 0 : 33);
    }
    close(p[1]);
    assert_int_equal(read(p[0], &c, 1), 1);
    assert_int_equal(c, 'k');
    close(p[0]);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    assert_int_equal(th_store_map_size(s), before);
    assert_int_equal(th_store_read(s, s_grow_check, NULL), 0);
    assert_true(th_store_map_size(s) >= (size_t)S_GROW_TXNS * S_GROW_KEYS * S_GROW_BLOB);
    assert_int_equal(s_put(s, "f|2026|A", 1, 1, "after", true, NULL), 0);
    th_store_destroy(&s);
}

/* ------------------------------------------------------------------ */
/* Crash safety: SIGKILL a writer at seeded random moments */

static const char *const s_crash_keys[] = {
    "bm|2026S1|1", "bm|2026S1|10", "bm|2026S1|100", "bm|2026S1|11", "bm|2026|1", "bm2|2026S1|1",
};
#define S_NCRASH   (sizeof s_crash_keys / sizeof s_crash_keys[0])
#define S_ROUNDS   20
#define S_BUFCAP   (32 * 1024)

typedef struct {
    uint32_t key;
    uint32_t rev;
} s_report_t;

typedef struct {
    int n;
    uint32_t key[3];
    uint32_t plen[3];
    uint32_t rev[3];    /* out: rewritten by every run of fn */
    uint8_t *buf;
} s_crash_txn_t;

static int
s_crash_fn(th_store_txn_t *txn, void *ctx)
{
    s_crash_txn_t *c = ctx;
    for (int i = 0; i < c->n; i++) {
        const char *key = s_crash_keys[c->key[i]];
        th_store_rev_t cur;
        int rc = th_store_get_current(txn, key, &cur);
        if (rc < 0 && rc != TH_E_NOTFOUND)
            return rc;
        uint32_t rev = rc == 0 ? cur.rev + 1 : 1;
        th_store_rev_t r = { .key = key, .rev = rev, .status = 1, .received_at = rev,
                             .blob = c->buf };
        r.len = s_make_blob(c->buf, S_BUFCAP, key, rev, c->plen[i]);
        if ((rc = th_store_put_revision(txn, &r, true, NULL)) < 0)
            return rc;
        c->rev[i] = rev;
    }
    return 0;
}

/* The child: writes until killed; reports each revision only after
   th_store_write returned 0. Never returns. */
static void
s_crash_child(const char *dir, uint32_t seed, int fd)
{
    th_store_opts_t o = { .map_size = 0, .create = false };
    int err;
    th_store_t *s = th_store_open(dir, &o, &err);
    if (!s)
        _exit(10);
    s_crash_txn_t c = { .buf = malloc(S_BUFCAP) };
    if (!c.buf)
        _exit(11);
    uint32_t st = seed * 2654435761u + 1;
    time_t until = time(NULL) + 20;
    while (time(NULL) < until) {
        c.n = 1 + (int)(s_rng(&st) % 3);
        for (int i = 0; i < c.n; i++) {
            c.key[i] = s_rng(&st) % S_NCRASH;
            uint32_t x = s_rng(&st);
            c.plen[i] = x % 10 == 0 ? 4000 + x % 20000 : x % 700;
        }
        if (th_store_write(s, s_crash_fn, &c) != 0)
            _exit(12);
        for (int i = 0; i < c.n; i++) {
            s_report_t r = { c.key[i], c.rev[i] };
            if (write(fd, &r, sizeof r) != (ssize_t)sizeof r)
                _exit(13);
        }
    }
    _exit(14);   /* never killed: the parent lost track */
}

/* Reads one report; 1 = got one, 0 = EOF, -1 = timeout. */
static int
s_read_report(int fd, s_report_t *r, int timeout_ms)
{
    size_t got = 0;
    while (got < sizeof *r) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int pr = poll(&p, 1, timeout_ms);
        if (pr == 0)
            return -1;
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        ssize_t n = read(fd, (char *)r + got, sizeof *r - got);
        if (n == 0)
            return got ? -1 : 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    return 1;
}

typedef struct {
    const uint32_t *reported;   /* highest rev reported per key, all rounds */
    uint32_t n[S_NCRASH];       /* revisions found per key */
    uint32_t logged[S_NCRASH];  /* highest rev seen in the log per key */
    uint64_t next_seq;
    uint64_t entries;
    th_store_txn_t *txn;
    uint32_t k;
} s_verify_t;

static int
s_verify_rev(const th_store_rev_t *r, void *ctx)
{
    s_verify_t *v = ctx;
    if (r->rev != v->n[v->k] + 1)
        fail_msg("key %s: rev %u after %u", r->key, r->rev, v->n[v->k]);
    if (!s_blob_ok(r->blob, r->len, r->key, r->rev))
        fail_msg("key %s rev %u: blob damaged", r->key, r->rev);
    v->n[v->k]++;
    return 0;
}

static int
s_verify_log(const th_store_log_entry_t *e, void *ctx)
{
    s_verify_t *v = ctx;
    if (e->seq != v->next_seq)
        fail_msg("log seq %llu, expected %llu", (unsigned long long)e->seq,
                 (unsigned long long)v->next_seq);
    assert_int_equal(e->kind, TH_LOG_KIND_RECORD);
    uint32_t k = 0;
    while (k < S_NCRASH && strcmp(s_crash_keys[k], e->key) != 0)
        k++;
    if (k == S_NCRASH)
        fail_msg("log entry %llu has unknown key '%s'", (unsigned long long)e->seq, e->key);
    /* Each revision logged exactly once, in rev order. */
    assert_int_equal(e->rev, v->logged[k] + 1);
    v->logged[k] = e->rev;
    th_store_rev_t r;
    assert_int_equal(th_store_get_revision(v->txn, e->key, e->rev, &r), 0);
    assert_int_equal(r.len, e->len);
    assert_memory_equal(r.blob, e->blob, e->len);
    assert_true(s_blob_ok(e->blob, e->len, e->key, e->rev));
    v->next_seq++;
    v->entries++;
    return 0;
}

static int
s_verify_fn(th_store_txn_t *txn, void *ctx)
{
    s_verify_t *v = ctx;
    uint64_t total = 0;
    v->txn = txn;
    for (uint32_t k = 0; k < S_NCRASH; k++) {
        v->k = k;
        v->n[k] = 0;
        assert_int_equal(th_store_each_revision(txn, s_crash_keys[k], s_verify_rev, v), 0);
        if (v->n[k] < v->reported[k])
            fail_msg("key %s: reported rev %u committed but only %u found", s_crash_keys[k],
                     v->reported[k], v->n[k]);
        th_store_rev_t cur, last;
        if (v->n[k] == 0) {
            assert_int_equal(th_store_get_current(txn, s_crash_keys[k], &cur), TH_E_NOTFOUND);
            continue;
        }
        assert_int_equal(th_store_get_current(txn, s_crash_keys[k], &cur), 0);
        assert_int_equal(cur.rev, v->n[k]);
        assert_int_equal(th_store_get_revision(txn, s_crash_keys[k], v->n[k], &last), 0);
        assert_int_equal(cur.len, last.len);
        assert_memory_equal(cur.blob, last.blob, cur.len);
        total += v->n[k];
    }
    memset(v->logged, 0, sizeof v->logged);
    v->next_seq = 1;
    v->entries = 0;
    assert_int_equal(th_store_log_each(txn, 0, s_verify_log, v), 0);
    assert_int_equal(v->entries, total);
    for (uint32_t k = 0; k < S_NCRASH; k++)
        assert_int_equal(v->logged[k], v->n[k]);
    uint64_t lastseq;
    assert_int_equal(th_store_log_last(txn, &lastseq), 0);
    assert_int_equal(lastseq, total);
    return 0;
}

static void
test_store_crash_safety(void **state)
{
    fx_t *fx = *state;
    th_store_t *s = s_open(fx->dir, true, 0);
    th_store_destroy(&s);

    uint32_t reported[S_NCRASH] = { 0 };
    unsigned long total_reports = 0;
    for (uint32_t round = 0; round < S_ROUNDS; round++) {
        uint32_t seed = 0x5eed0000u + round;
        uint32_t st = seed;
        uint32_t target = s_rng(&st) % 40;
        useconds_t delay = s_rng(&st) % 3000;
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            s_crash_child(fx->dir, seed, p[1]);
        }
        close(p[1]);
        s_report_t r;
        uint32_t got = 0;
        while (got < target) {
            int rc = s_read_report(p[0], &r, 10000);
            if (rc != 1) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                fail_msg("round %u (seed %#x): child stopped reporting (%d)", round, seed, rc);
            }
            assert_true(r.key < S_NCRASH);
            if (r.rev > reported[r.key])
                reported[r.key] = r.rev;
            got++;
        }
        usleep(delay);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int rc;
        while ((rc = s_read_report(p[0], &r, 10000)) == 1) {
            assert_true(r.key < S_NCRASH);
            if (r.rev > reported[r.key])
                reported[r.key] = r.rev;
            got++;
        }
        assert_int_equal(rc, 0);
        close(p[0]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
            fail_msg("round %u (seed %#x): child ended with status %#x", round, seed, status);
        total_reports += got;

        s = s_open(fx->dir, false, 0);
        s_verify_t v = { .reported = reported };
        assert_int_equal(th_store_read(s, s_verify_fn, &v), 0);
        th_store_destroy(&s);
    }
    if (getenv("TH_TEST_VERBOSE"))
        fprintf(stderr, "crash: %lu reports in %u rounds\n", total_reports, S_ROUNDS);
    /* The rounds did write: the test is not vacuous. */
    assert_true(total_reports >= S_ROUNDS);
}

/* ------------------------------------------------------------------ */
/* Stale readers */

static int
s_hold_read(th_store_txn_t *txn, void *ctx)
{
    (void)txn;
    int fd = *(int *)ctx;
    if (write(fd, "r", 1) != 1)
        _exit(21);
    for (;;)
        pause();
}

static void
test_store_stale_reader_cleared(void **state)
{
    fx_t *fx = *state;
    th_store_t *s = s_open(fx->dir, true, 0);
    th_store_destroy(&s);

    /* A holder process keeps the environment open (like a daemon), so the
       lock file is not reset and the dead reader's slot stays until
       mdb_reader_check clears it. */
    int p[2];
    char c;
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    fflush(NULL);
    pid_t holder = fork();
    assert_true(holder >= 0);
    if (holder == 0) {
        th_store_opts_t o = { 0, false };
        th_store_t *hs = th_store_open(fx->dir, &o, NULL);
        if (!hs || write(p[1], "h", 1) != 1)
            _exit(20);
        for (;;)
            pause();
    }
    assert_int_equal(read(p[0], &c, 1), 1);
    assert_int_equal(c, 'h');

    pid_t reader = fork();
    assert_true(reader >= 0);
    if (reader == 0) {
        th_store_opts_t o = { 0, false };
        th_store_t *rs = th_store_open(fx->dir, &o, NULL);
        if (!rs)
            _exit(22);
        th_store_read(rs, s_hold_read, &p[1]);
        _exit(23);
    }
    assert_int_equal(read(p[0], &c, 1), 1);
    assert_int_equal(c, 'r');
    assert_int_equal(kill(reader, SIGKILL), 0);
    assert_int_equal(waitpid(reader, NULL, 0), reader);

    s = s_open(fx->dir, false, 0);
    assert_int_equal(th_store_stale_cleared(s), 1);
    int cleared = -1;
    assert_int_equal(th_store_reader_check(s, &cleared), 0);
    assert_int_equal(cleared, 0);
    assert_int_equal(s_put(s, "f|2026|A", 1, 1, "after", true, NULL), 0);
    th_store_destroy(&s);

    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    close(p[0]);
    close(p[1]);
}

/* ------------------------------------------------------------------ */
/* Seals (seal.h) */

typedef struct {
    uint32_t rev;
    bool seal;
    const char *blob;
} s_sealput_t;

static int
s_sealput(th_store_txn_t *txn, void *ctx)
{
    const s_sealput_t *p = ctx;
    th_store_rev_t r = { .key = "f|2026|u", .rev = p->rev, .status = 1,
                         .received_at = 1700000000000 + p->rev,
                         .blob = (const uint8_t *)p->blob, .len = strlen(p->blob),
                         .seal = p->seal };
    return th_store_put_revision(txn, &r, false, NULL);
}

typedef struct {
    bool sealed[4];           /* by rev, 1..3 */
    bool other_status, other_time;
    char blob1[16];
} s_sealget_t;

typedef struct {
    s_sealget_t g;
    th_store_txn_t *txn;
} s_sealget_ctx_t;

static int
s_sealget_cb(const th_store_rev_t *r, void *ctx)
{
    s_sealget_ctx_t *c = ctx;
    s_sealget_t *g = &c->g;
    th_store_txn_t *txn = c->txn;
    if (r->rev < 4)
        g->sealed[r->rev] = th_store_revision_sealed(txn, r);
    if (r->rev == 1) {
        snprintf(g->blob1, sizeof g->blob1, "%.*s", (int)r->len, (const char *)r->blob);
        th_store_rev_t x = *r;
        x.status = 0;
        g->other_status = th_store_revision_sealed(txn, &x);
        x = *r;
        x.received_at++;
        g->other_time = th_store_revision_sealed(txn, &x);
    }
    return 0;
}

static int
s_sealget(th_store_txn_t *txn, void *ctx)
{
    s_sealget_ctx_t *c = ctx;
    memset(&c->g, 0, sizeof c->g);
    c->txn = txn;
    return th_store_each_revision(txn, "f|2026|u", s_sealget_cb, c);
}

static s_sealget_t
s_seals_of(const char *dir)
{
    th_store_t *s = s_open(dir, false, 0);
    s_sealget_ctx_t c;
    assert_int_equal(th_store_read(s, s_sealget, &c), 0);
    th_store_destroy(&s);
    return c.g;
}

/* Raw LMDB on a closed store: flip the first blob byte of rev 1 (header 9
   bytes), or drop the seals table as a store made before seals has none. */
static void
s_raw(const char *dir, bool drop_seals)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    if (drop_seals) {
        assert_int_equal(mdb_dbi_open(txn, "seals", 0, &dbi), 0);
        assert_int_equal(mdb_drop(txn, dbi, 1), 0);
    } else {
        assert_int_equal(mdb_dbi_open(txn, "revisions", 0, &dbi), 0);
        uint8_t k[13] = "f|2026|u";
        k[8] = 0;
        k[9] = k[10] = k[11] = 0;
        k[12] = 1;
        MDB_val key = { sizeof k, k }, d;
        assert_int_equal(mdb_get(txn, dbi, &key, &d), 0);
        uint8_t buf[64];
        assert_true(d.mv_size <= sizeof buf && d.mv_size > 9);
        memcpy(buf, d.mv_data, d.mv_size);
        buf[9] ^= 0x20;   /* 'a' -> 'A' */
        MDB_val nd = { d.mv_size, buf };
        assert_int_equal(mdb_put(txn, dbi, &key, &nd, 0), 0);
    }
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void
test_store_seals(void **state)
{
    fx_t *fx = *state;
    char key_path[160];
    snprintf(key_path, sizeof key_path, "%s/seal.key", fx->dir);
    th_store_t *s = s_open(fx->dir, true, 0);
    s_sealput_t p1 = { 1, true, "alpha" }, p2 = { 2, false, "beta" };
    assert_int_equal(th_store_write(s, s_sealput, &p1), 0);
    assert_int_equal(th_store_write(s, s_sealput, &p2), 0);
    th_store_destroy(&s);
    struct stat st;
    assert_int_equal(stat(key_path, &st), 0);
    assert_int_equal(st.st_size, 32);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* sealed when asked, not otherwise; the seal covers status and time;
       a reopened store keeps its key */
    s_sealget_t g = s_seals_of(fx->dir);
    assert_true(g.sealed[1]);
    assert_false(g.sealed[2]);
    assert_false(g.other_status);
    assert_false(g.other_time);

    /* bytes altered behind the store's back: no longer sealed */
    s_raw(fx->dir, false);
    g = s_seals_of(fx->dir);
    assert_string_equal(g.blob1, "Alpha");
    assert_false(g.sealed[1]);

    /* a store made before seals: the table is added at open, the old
       revisions are unsealed, new ones sealed */
    s_raw(fx->dir, true);
    s = s_open(fx->dir, false, 0);
    s_sealput_t p3 = { 3, true, "gamma" };
    assert_int_equal(th_store_write(s, s_sealput, &p3), 0);
    th_store_destroy(&s);
    g = s_seals_of(fx->dir);
    assert_false(g.sealed[1]);
    assert_true(g.sealed[3]);

    /* a store restored without its seal.key gets a new one: nothing of
       the old key's seals holds */
    assert_int_equal(unlink(key_path), 0);
    g = s_seals_of(fx->dir);
    assert_false(g.sealed[3]);
    assert_int_equal(stat(key_path, &st), 0);

    /* a damaged seal.key: the store still opens and works, without seals */
    FILE *f = fopen(key_path, "wb");
    assert_non_null(f);
    fputs("short", f);
    fclose(f);
    s = s_open(fx->dir, false, 0);
    s_sealput_t p4 = { 4, true, "delta" };
    assert_int_equal(th_store_write(s, s_sealput, &p4), 0);
    th_store_destroy(&s);
    g = s_seals_of(fx->dir);
    assert_false(g.sealed[3]);
}

int
main(void)
{
    th_log_level = TH_LOG_ERROR;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store_create_open_reopen, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_store_schema_absent_and_wrong, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_store_put_get_current_and_revisions, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_store_stale_rev_rejected, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_store_each_revision_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_store_each_report_prefix, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_store_log_seq_order_beyond_65536, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_store_kv_tables, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_store_fn_error_aborts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_store_map_growth, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_store_threads_grow_concurrently, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_store_map_grown_by_other_process, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_store_crash_safety, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_store_stale_reader_cleared, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_store_seals, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
