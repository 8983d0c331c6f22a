/*  Tests for node/rotation: the identity swap of a key rotation, its
    crash recovery and its end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "office.h"
#include "rotation.h"

static char s_tmp[64];
static int s_n;

static th_office_t *
s_office(char *dir, size_t cap)
{
    char err[512];
    snprintf(dir, cap, "%s/o%d", s_tmp, ++s_n);
    th_office_init_t opt = { .dir = dir, .unit = "703", .bind = "tcp://127.0.0.1:1",
                             .parent_endpoint = "tcp://127.0.0.1:2",
                             .parent_key = "0000000000000000000000000000000000000000" };
    if (th_office_init(&opt, err, sizeof err) < 0)
        fail_msg("init: %s", err);
    int rc;
    th_office_t *o = th_office_open(dir, err, sizeof err, &rc);
    if (!o)
        fail_msg("open: %s", err);
    return o;
}

static th_office_t *
s_reopen(th_office_t **o, const char *dir)
{
    char err[512];
    int rc;
    th_office_destroy(o);
    th_office_t *n = th_office_open(dir, err, sizeof err, &rc);
    if (!n)
        fail_msg("reopen: %s", err);
    return n;
}

static bool
s_exists(const char *dir, const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

typedef struct {
    int fail;                 /* the callback's answer */
    uint8_t seen[32];         /* the fresh key it was given */
} s_cb_t;

static int
s_cb(th_store_txn_t *txn, void *ctx, const th_identity_t *fresh)
{
    s_cb_t *x = ctx;
    memcpy(x->seen, fresh->pk, 32);
    if (x->fail)
        return x->fail;
    return th_store_state_put_u64(txn, "rotation.seq", 7);
}

static int
s_progress(th_store_txn_t *txn, void *ctx)
{
    return th_rotation_progress(txn, ctx);
}

static void
test_rotation_begin_and_end(void **state)
{
    (void)state;
    char dir[128], err[512];
    th_office_t *o = s_office(dir, sizeof dir);
    uint8_t old[32];
    memcpy(old, o->id.pk, 32);
    /* the caller's transaction fails: nothing changes */
    s_cb_t x = { .fail = TH_E_INVALID };
    assert_int_equal(th_rotation_begin(dir, o->store, &o->id, &o->prev, &o->has_prev, s_cb, &x,
                                       err, sizeof err), TH_E_INVALID);
    assert_memory_equal(o->id.pk, old, 32);
    assert_false(o->has_prev);
    assert_false(s_exists(dir, "identity.new"));
    assert_false(s_exists(dir, "identity.prev"));
    /* it succeeds */
    x.fail = 0;
    assert_int_equal(th_rotation_begin(dir, o->store, &o->id, &o->prev, &o->has_prev, s_cb, &x,
                                       err, sizeof err), 0);
    assert_memory_equal(o->id.pk, x.seen, 32);
    assert_memory_equal(o->prev.pk, old, 32);
    assert_true(o->has_prev);
    assert_false(s_exists(dir, "identity.new"));
    struct stat st;
    char p[256];
    snprintf(p, sizeof p, "%s/identity.prev", dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    th_rotation_progress_t pr;
    assert_int_equal(th_store_read(o->store, s_progress, &pr), 0);
    assert_true(pr.active);
    assert_int_equal(pr.seq, 7);
    assert_false(pr.parent_has);   /* acked 0 < 7 */
    /* a second one is refused while it lasts */
    assert_int_equal(th_rotation_begin(dir, o->store, &o->id, &o->prev, &o->has_prev, s_cb, &x,
                                       err, sizeof err), TH_E_EXISTS);
    assert_non_null(strstr(err, "in progress"));
    /* reopened, the office signs with the new key and still has the old one */
    o = s_reopen(&o, dir);
    assert_memory_equal(o->id.pk, x.seen, 32);
    assert_true(o->has_prev);
    assert_memory_equal(o->prev.pk, old, 32);
    /* the end */
    assert_int_equal(th_rotation_end(dir, o->store, &o->prev, &o->has_prev), 0);
    assert_false(o->has_prev);
    assert_false(s_exists(dir, "identity.prev"));
    assert_int_equal(th_store_read(o->store, s_progress, &pr), 0);
    assert_false(pr.active);
    assert_int_equal(pr.seq, 0);   /* rotation.seq went with the rest */
    o = s_reopen(&o, dir);
    assert_memory_equal(o->id.pk, x.seen, 32);
    assert_false(o->has_prev);
    th_office_destroy(&o);
}

static int
s_record(th_store_txn_t *txn, void *ctx)
{
    return th_store_kv_put(txn, TH_DB_STATE, TH_ROTATION_STATE, ctx, 32);
}

/* A rekey stopped half way: before its commit it never happened; after
   it, the next open finishes the swap. */
static void
test_rotation_recovers_an_interrupted_swap(void **state)
{
    (void)state;
    char dir[128], p[256];
    th_office_t *o = s_office(dir, sizeof dir);
    uint8_t old[32];
    memcpy(old, o->id.pk, 32);
    th_identity_t fresh;
    th_identity_generate(&fresh);
    snprintf(p, sizeof p, "%s/identity.new", dir);
    /* identity.new written, nothing committed */
    assert_int_equal(th_identity_save(&fresh, p), 0);
    o = s_reopen(&o, dir);
    assert_memory_equal(o->id.pk, old, 32);
    assert_false(o->has_prev);
    assert_false(s_exists(dir, "identity.new"));
    /* committed, then stopped before the files moved */
    assert_int_equal(th_identity_save(&fresh, p), 0);
    assert_int_equal(th_store_write(o->store, s_record, fresh.pk), 0);
    o = s_reopen(&o, dir);
    assert_memory_equal(o->id.pk, fresh.pk, 32);
    assert_true(o->has_prev);
    assert_memory_equal(o->prev.pk, old, 32);
    assert_false(s_exists(dir, "identity.new"));
    /* stopped after identity.prev was linked: the same result */
    th_office_destroy(&o);
    char d2[128];
    o = s_office(d2, sizeof d2);
    memcpy(old, o->id.pk, 32);
    snprintf(p, sizeof p, "%s/identity.new", d2);
    assert_int_equal(th_identity_save(&fresh, p), 0);
    assert_int_equal(th_store_write(o->store, s_record, fresh.pk), 0);
    char a[256], b[256];
    snprintf(a, sizeof a, "%s/identity.key", d2);
    snprintf(b, sizeof b, "%s/identity.prev", d2);
    assert_int_equal(link(a, b), 0);
    o = s_reopen(&o, d2);
    assert_memory_equal(o->id.pk, fresh.pk, 32);
    assert_true(o->has_prev);
    assert_memory_equal(o->prev.pk, old, 32);
    th_identity_wipe(&fresh);
    th_office_destroy(&o);
}

/* An identity.prev left behind after its rotation ended (the stop came
   between the store's commit and the unlink) is removed at the next open,
   not taken for a rotation in progress. */
static void
test_rotation_removes_a_left_old_key(void **state)
{
    (void)state;
    char dir[128], err[512], a[256], b[256];
    th_office_t *o = s_office(dir, sizeof dir);
    s_cb_t x = { 0 };
    assert_int_equal(th_rotation_begin(dir, o->store, &o->id, &o->prev, &o->has_prev, s_cb, &x,
                                       err, sizeof err), 0);
    assert_int_equal(th_rotation_end(dir, o->store, &o->prev, &o->has_prev), 0);
    assert_false(s_exists(dir, "identity.prev"));
    /* as if the unlink had not happened */
    snprintf(a, sizeof a, "%s/identity.key", dir);
    snprintf(b, sizeof b, "%s/identity.prev", dir);
    assert_int_equal(link(a, b), 0);
    o = s_reopen(&o, dir);
    assert_false(o->has_prev);
    assert_false(s_exists(dir, "identity.prev"));
    assert_memory_equal(o->id.pk, x.seen, 32);
    /* and a new rotation may start */
    assert_int_equal(th_rotation_begin(dir, o->store, &o->id, &o->prev, &o->has_prev, s_cb, &x,
                                       err, sizeof err), 0);
    assert_true(o->has_prev);
    th_office_destroy(&o);
}

static int
s_setup(void **state)
{
    (void)state;
    if (th_crypto_init() < 0)
        return -1;
    strcpy(s_tmp, "/tmp/th-rotation-XXXXXX");
    return mkdtemp(s_tmp) ? 0 : -1;
}

static int
s_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_tmp);
    return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotation_begin_and_end),
        cmocka_unit_test(test_rotation_recovers_an_interrupted_swap),
        cmocka_unit_test(test_rotation_removes_a_left_old_key),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
