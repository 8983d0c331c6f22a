/*  Tests of ingest: a hub's checks on every entry a child sends, applied
    once, quarantined with a reason otherwise, the batch going on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "enrollment.h"
#include "err.h"
#include "ingest.h"
#include "verify.h"
#include "mem.h"
#include "metaq.h"
#include "peers.h"

static char s_tmp[64];

typedef struct {
    th_office_t *hub;
    th_identity_t child, other;
} s_fx_t;

static th_office_t *
s_make_office(const char *name, const char *unit, const char *bind, const char *parent,
              const char *parent_key)
{
    char dir[128], err[512];
    snprintf(dir, sizeof dir, "%s/%s", s_tmp, name);
    th_office_init_t opt = { .dir = dir, .unit = unit, .bind = bind,
                             .parent_endpoint = parent, .parent_key = parent_key };
    if (th_office_init(&opt, err, sizeof err) < 0)
        fail_msg("init %s: %s", name, err);
    int rc;
    th_office_t *o = th_office_open(dir, err, sizeof err, &rc);
    if (!o)
        fail_msg("open %s: %s", name, err);
    return o;
}

static int
s_setup(void **state)
{
    if (th_crypto_init() < 0)
        return -1;
    strcpy(s_tmp, "/tmp/th-ingest-XXXXXX");
    if (!mkdtemp(s_tmp))
        return -1;
    static s_fx_t fx;
    fx.hub = s_make_office("p72", "72", "tcp://127.0.0.1:1", NULL, NULL);
    th_identity_generate(&fx.child);
    th_identity_generate(&fx.other);
    *state = &fx;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fx_t *fx = *state;
    th_office_destroy(&fx->hub);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_tmp);
    return system(cmd) == 0 ? 0 : -1;
}

typedef struct {
    const char *unit;
    const uint8_t *pk;
    bool direct;
} s_enr_t;

static int
s_enroll_txn(th_store_txn_t *txn, void *ctx)
{
    s_enr_t *e = ctx;
    return th_peers_enroll(txn, e->unit, e->pk, e->direct);
}

static int64_t s_submitted_at = 1730000000000LL;   /* of the records s_blob makes */

/* A signed record blob of unit for dvcq-nam 2024 (2024 tree). */
static uint8_t *
s_blob(const th_identity_t *signer, const char *unit, uint32_t rev, int64_t tt01,
       th_status_t st, const char *form, size_t *len)
{
    th_record_t r;
    th_record_init(&r);
    snprintf(r.form, sizeof r.form, "%s", form);
    snprintf(r.period, sizeof r.period, "2024");
    snprintf(r.unit, sizeof r.unit, "%s", unit);
    r.rev = rev;
    r.form_version = 1;
    r.status = st;
    r.submitted_at = s_submitted_at;
    memcpy(r.origin, signer->pk, 32);
    th_value_t v = { .code = "TT01", .kind = TH_V_INT, .u.i = tt01 };
    assert_int_equal(th_record_set(&r, &v), 0);
    uint8_t *body, *blob;
    size_t bl;
    assert_int_equal(th_codec_record_body(&r, &body, &bl), 0);
    th_sign(signer, body, bl, r.sig);
    th_free(body);
    assert_int_equal(th_codec_record_encode(&r, &blob, len), 0);
    th_record_clear(&r);
    return blob;
}

static th_ingest_t *
s_run(th_office_t *hub, const char *sender, th_msg_entry_t *e, size_t n)
{
    static th_ingest_t b;
    memset(&b, 0, sizeof b);
    b.office = hub;
    b.sender = sender;
    b.entries = e;
    b.nentries = n;
    b.through = n ? e[n - 1].seq : 0;
    b.now = th_now_ms();
    assert_int_equal(th_store_write(hub->store, th_ingest_batch, &b), 0);
    return &b;
}

typedef struct {
    const char *key;
    uint32_t rev;
    int found;
    bool sealed;     /* the current revision carries the store's seal */
    size_t quarantined;
} s_q_t;

static int
s_count_q(const char *key, const void *val, size_t len, void *ctx)
{
    (void)key; (void)val; (void)len;
    ((s_q_t *)ctx)->quarantined++;
    return 0;
}

static int
s_query(th_store_txn_t *txn, void *ctx)
{
    s_q_t *q = ctx;
    th_store_rev_t r;
    q->found = th_store_get_current(txn, q->key, &r) == 0;
    q->rev = q->found ? r.rev : 0;
    q->sealed = q->found && th_store_revision_sealed(txn, &r);
    q->quarantined = 0;
    return th_store_kv_each(txn, TH_DB_QUARANTINE, "", s_count_q, q);
}

typedef struct {
    const char *code;
} s_first_t;

static int
s_first_child(const th_unit_t *u, void *ctx)
{
    ((s_first_t *)ctx)->code = u->code;
    return 1;
}

typedef struct {
    const char *child;
    bool found;
    char blob[32];
} s_mf_t;

static int
s_meta_floor(th_store_txn_t *txn, void *ctx)
{
    s_mf_t *mf = ctx;
    th_msg_t m;
    th_msg_init(&m, TH_MSG_META);
    int rc = th_metaq_fill(txn, mf->child, 0, 128, &m);
    for (size_t i = 0; rc == 0 && i < m.nmeta; i++)
        if (m.meta[i].kind == TH_MSG_META_FLOOR && m.meta[i].len < sizeof mf->blob) {
            mf->found = true;
            memcpy(mf->blob, m.meta[i].blob, m.meta[i].len);
            mf->blob[m.meta[i].len] = '\0';
        }
    th_msg_clear(&m);
    return rc;
}

static void
test_ingest_district_hub_batch(void **state)
{
    s_fx_t *fx = *state;
    th_office_t *hub = fx->hub;
    /* district 703 is a direct child of province 72 */
    th_identity_t district;
    th_identity_generate(&district);
    s_enr_t en = { "703", district.pk, true };
    assert_int_equal(th_store_write(hub->store, s_enroll_txn, &en), 0);

    /* the district relays the enrollment of commune 25459 it admitted */
    th_enrollment_t e = { .kind = TH_LOG_KIND_ENROLL,
                          .unit = "25459", .parent = "703", .at = th_now_ms() };
    memcpy(e.key, fx->child.pk, 32);
    uint8_t enr[TH_ENROLLMENT_LEN], forged[TH_ENROLLMENT_LEN], outside[TH_ENROLLMENT_LEN];
    assert_int_equal(th_enrollment_sign(&e, &district, enr), 0);
    th_enrollment_t f = e;
    snprintf(f.unit, sizeof f.unit, "25456");
    assert_int_equal(th_enrollment_sign(&f, &fx->other, forged), 0);   /* wrong signer */
    th_enrollment_t g = e;
    snprintf(g.unit, sizeof g.unit, "25486");   /* a commune of district 705 */
    assert_int_equal(th_enrollment_sign(&g, &district, outside), 0);

    size_t l1, l2, l3, l4, l5, l6, l7;
    uint8_t *ok1 = s_blob(&fx->child, "25459", 1, 10, TH_STATUS_SUBMITTED, "dvcq-nam", &l1);
    uint8_t *ok2 = s_blob(&fx->child, "25459", 2, 12, TH_STATUS_SUBMITTED, "dvcq-nam", &l2);
    uint8_t *bad_sig = s_blob(&fx->child, "25459", 3, 13, TH_STATUS_SUBMITTED, "dvcq-nam", &l3);
    bad_sig[l3 - 5] ^= 1;
    uint8_t *other_key = s_blob(&fx->other, "25459", 4, 14, TH_STATUS_SUBMITTED, "dvcq-nam", &l4);
    uint8_t *not_mine = s_blob(&fx->child, "25486", 1, 15, TH_STATUS_SUBMITTED, "dvcq-nam", &l5);
    uint8_t *draft = s_blob(&fx->child, "25459", 5, 16, TH_STATUS_DRAFT, "dvcq-nam", &l6);
    uint8_t *no_form = s_blob(&fx->child, "25459", 6, 17, TH_STATUS_SUBMITTED, "khong-co", &l7);
    uint8_t junk[] = { 0x92, 0xc4, 0x01 };   /* truncated */
    th_msg_entry_t ent[] = {
        { 1, TH_MSG_ENTRY_ENROLL, enr, sizeof enr },
        { 2, TH_MSG_ENTRY_RECORD, ok1, l1 },
        { 3, TH_MSG_ENTRY_RECORD, bad_sig, l3 },
        { 4, TH_MSG_ENTRY_RECORD, other_key, l4 },
        { 5, TH_MSG_ENTRY_RECORD, not_mine, l5 },
        { 6, TH_MSG_ENTRY_RECORD, draft, l6 },
        { 7, TH_MSG_ENTRY_RECORD, no_form, l7 },
        { 8, TH_MSG_ENTRY_RECORD, junk, sizeof junk },
        { 9, TH_MSG_ENTRY_ENROLL, forged, sizeof forged },
        { 10, TH_MSG_ENTRY_ENROLL, outside, sizeof outside },
        { 11, TH_MSG_ENTRY_RECORD, ok2, l2 },
        { 12, TH_MSG_ENTRY_RECORD, ok1, l1 },   /* an old revision again */
    };
    th_ingest_t *b = s_run(hub, "703", ent, 12);
    assert_int_equal(b->upto, 12);
    assert_int_equal(b->applied, 3);      /* enrollment, rev 1, rev 2 */
    assert_int_equal(b->duplicates, 1);   /* rev 1 after rev 2: held, not applied */
    assert_int_equal(b->nrejected, 8);
    uint64_t want[] = { 3, 4, 5, 6, 7, 8, 9, 10 };
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(b->rejected[i].seq, want[i]);
        assert_true(b->rejected[i].code < 0);
        assert_true(strlen(b->rejected[i].reason) > 0);
    }
    assert_int_equal(b->rejected[0].code, TH_E_SIG);
    assert_non_null(strstr(b->rejected[2].reason, "25486"));
    s_q_t q = { .key = "dvcq-nam|2024|25459" };
    assert_int_equal(th_store_read(hub->store, s_query, &q), 0);
    assert_true(q.found);
    assert_int_equal(q.rev, 2);
    assert_true(q.sealed);   /* applied after every check: sealed */
    assert_int_equal(q.quarantined, 8);

    /* the same batch again (lost ACK): nothing applied twice */
    b = s_run(hub, "703", ent, 12);
    assert_int_equal(b->applied, 0);
    assert_int_equal(b->skipped_old, 12);
    assert_int_equal(b->upto, 12);
    assert_int_equal(th_store_read(hub->store, s_query, &q), 0);
    assert_int_equal(q.rev, 2);
    assert_int_equal(q.quarantined, 8);

    /* a batch that starts beyond what we hold (an earlier one was lost in
       a cut) is not applied, and its seqs are not skipped */
    th_msg_entry_t later[] = { { 20, TH_MSG_ENTRY_RECORD, ok2, l2 } };
    static th_ingest_t gp;
    memset(&gp, 0, sizeof gp);
    gp.office = hub;
    gp.sender = "703";
    gp.entries = later;
    gp.nentries = 1;
    gp.through = 20;
    gp.after = 15;
    gp.now = th_now_ms();
    assert_int_equal(th_store_write(hub->store, th_ingest_batch, &gp), 0);
    assert_true(gp.gap);
    assert_int_equal(gp.upto, 12);
    assert_int_equal(gp.applied + gp.duplicates + gp.nrejected, 0);
    gp.after = 12;   /* resent from where we stand: taken */
    assert_int_equal(th_store_write(hub->store, th_ingest_batch, &gp), 0);
    assert_false(gp.gap);
    assert_int_equal(gp.upto, 20);

    /* [limits] child_store_mb: the bytes applied are charged to the sender;
       once it has stored store_cap, a batch is refused whole */
    s_q_t q2 = { .key = "dvcq-nam|2024|25459" };
    size_t l8, l9;
    uint8_t *ok3 = s_blob(&fx->child, "25459", 3, 30, TH_STATUS_SUBMITTED, "dvcq-nam", &l8);
    uint8_t *ok4 = s_blob(&fx->child, "25459", 4, 40, TH_STATUS_SUBMITTED, "dvcq-nam", &l9);
    th_msg_entry_t capped[] = { { 21, TH_MSG_ENTRY_RECORD, ok3, l8 } };
    memset(&gp, 0, sizeof gp);
    gp.office = hub;
    gp.sender = "703";
    gp.entries = capped;
    gp.nentries = 1;
    gp.after = 20;
    gp.now = th_now_ms();
    gp.store_cap = 1;   /* already used: rev 1, rev 2, the enrollment, quarantine */
    assert_int_equal(th_store_write(hub->store, th_ingest_batch, &gp), 0);
    assert_true(gp.over_cap);
    assert_true(gp.stored > l1 + l2);
    assert_int_equal(gp.upto, 20);   /* the cursor did not move */
    assert_int_equal(gp.applied + gp.nrejected, 0);
    uint64_t before = gp.stored;
    gp.store_cap = before + 1;   /* room for one more batch, of any size */
    assert_int_equal(th_store_write(hub->store, th_ingest_batch, &gp), 0);
    assert_false(gp.over_cap);
    assert_int_equal(gp.applied, 1);
    assert_int_equal(gp.stored, before + l8);   /* charged: the blob applied */
    th_msg_entry_t next[] = { { 22, TH_MSG_ENTRY_RECORD, ok4, l9 } };
    gp.entries = next;
    gp.after = 21;
    assert_int_equal(th_store_write(hub->store, th_ingest_batch, &gp), 0);
    assert_true(gp.over_cap);   /* now past the cap: refused */
    assert_int_equal(th_store_read(hub->store, s_query, &q2), 0);
    assert_int_equal(q2.rev, 3);
    gp.store_cap = 0;   /* no cap */
    assert_int_equal(th_store_write(hub->store, th_ingest_batch, &gp), 0);
    assert_false(gp.over_cap);
    assert_int_equal(gp.applied, 1);
    th_free(ok3);
    th_free(ok4);

    /* a commune that is not the sender's cannot send for the district */
    th_msg_entry_t one[] = { { 1, TH_MSG_ENTRY_RECORD, ok2, l2 } };
    b = s_run(hub, "705", one, 1);
    assert_int_equal(b->nrejected, 1);
    assert_int_equal(b->rejected[0].code, TH_E_UNIT);
    th_free(ok1);
    th_free(ok2); th_free(bad_sig); th_free(other_key);
    th_free(not_mine); th_free(draft); th_free(no_form);
}

typedef struct {
    const char *unit, *key;
    uint64_t cursor, bytes;
    uint32_t rev;
    bool enrolled;
    size_t quarantined;
} s_st_t;

static int
s_st_txn(th_store_txn_t *txn, void *ctx)
{
    s_st_t *st = ctx;
    int rc = th_peers_seq_get(txn, st->unit, &st->cursor);
    if (rc == 0)
        rc = th_peers_bytes_get(txn, st->unit, &st->bytes);
    th_store_rev_t r;
    st->rev = rc == 0 && th_store_get_current(txn, st->key, &r) == 0 ? r.rev : 0;
    uint8_t pk[32];
    st->enrolled = th_peers_key(txn, "25486", pk, NULL) == 0;
    s_q_t q = { 0 };
    if (rc == 0)
        rc = th_store_kv_each(txn, TH_DB_QUARANTINE, "", s_count_q, &q);
    st->quarantined = q.quarantined;
    return rc;
}

/* The Nth allocation fails, for every N, across the ingest of a whole
   batch (an enrollment, two revisions, a bad entry): each attempt fails
   with -ENOMEM and commits nothing (cursor, report, enrollment, quarantine
   and the charged bytes as before), until one succeeds whole. */
static void
test_ingest_out_of_memory_commits_nothing(void **state)
{
    s_fx_t *fx = *state;
    th_office_t *hub = fx->hub;
    th_identity_t district;
    th_identity_generate(&district);
    s_enr_t en = { "705", district.pk, true };
    assert_int_equal(th_store_write(hub->store, s_enroll_txn, &en), 0);
    th_enrollment_t e = { .kind = TH_LOG_KIND_ENROLL,
                          .unit = "25486", .parent = "705", .at = th_now_ms() };
    memcpy(e.key, fx->other.pk, 32);
    uint8_t enr[TH_ENROLLMENT_LEN];
    assert_int_equal(th_enrollment_sign(&e, &district, enr), 0);
    size_t l1, l2;
    uint8_t *r1 = s_blob(&fx->other, "25486", 1, 10, TH_STATUS_SUBMITTED, "dvcq-nam", &l1);
    uint8_t *r2 = s_blob(&fx->other, "25486", 2, 11, TH_STATUS_SUBMITTED, "dvcq-nam", &l2);
    uint8_t junk[] = { 0x92, 0xc4, 0x01 };
    s_st_t before = { .unit = "705", .key = "dvcq-nam|2024|25486" }, after = before;
    assert_int_equal(th_store_read(hub->store, s_st_txn, &before), 0);
    uint64_t c0 = before.cursor;   /* 705 may have sent before */
    th_msg_entry_t ent[] = {
        { c0 + 1, TH_MSG_ENTRY_ENROLL, enr, sizeof enr },
        { c0 + 2, TH_MSG_ENTRY_RECORD, r1, l1 },
        { c0 + 3, TH_MSG_ENTRY_RECORD, junk, sizeof junk },
        { c0 + 4, TH_MSG_ENTRY_RECORD, r2, l2 },
    };
    static th_ingest_t b;
    long n = 0;
    int rc;
    for (;; n++) {
        memset(&b, 0, sizeof b);
        b.office = hub;
        b.sender = "705";
        b.entries = ent;
        b.nentries = 4;
        b.through = c0 + 4;
        b.after = c0;
        b.now = th_now_ms();
        th_mem_fail_after(n);
        rc = th_store_write(hub->store, th_ingest_batch, &b);
        th_mem_fail_after(-1);
        if (rc == 0)
            break;
        assert_int_equal(rc, -ENOMEM);
        assert_int_equal(th_store_read(hub->store, s_st_txn, &after), 0);
        assert_int_equal(after.cursor, before.cursor);
        assert_int_equal(after.bytes, before.bytes);
        assert_int_equal(after.rev, before.rev);
        assert_int_equal(after.enrolled, before.enrolled);
        assert_int_equal(after.quarantined, before.quarantined);
        assert_true(n < 100000);
    }
    assert_true(n > 5);   /* the batch allocates: the loop was exercised */
    assert_int_equal(b.applied, 3);
    assert_int_equal(b.nrejected, 1);
    assert_int_equal(th_store_read(hub->store, s_st_txn, &after), 0);
    assert_int_equal(after.cursor, c0 + 4);
    assert_int_equal(after.rev, 2);
    assert_true(after.enrolled);
    assert_int_equal(after.quarantined, before.quarantined + 1);
    assert_true(after.bytes > l1 + l2);
    th_free(r1);
    th_free(r2);
}

/* District 706 relays the revocation of commune 25516's key: the province
   refuses every record that key signs from then on, saying why, and relays
   nothing of it. A new key enrolled for 25516 numbers from 1 again: a
   revision at or below what is held (signed by the old key) is refused
   and the office is sent the floor (META), not taken for a duplicate. */
static void
test_ingest_revocation_and_a_new_key(void **state)
{
    s_fx_t *fx = *state;
    th_office_t *hub = fx->hub;
    th_identity_t district, old, fresh;
    th_identity_generate(&district);
    th_identity_generate(&old);
    th_identity_generate(&fresh);
    s_enr_t en = { "706", district.pk, true };
    assert_int_equal(th_store_write(hub->store, s_enroll_txn, &en), 0);
    th_enrollment_t e = { .kind = TH_LOG_KIND_ENROLL,
                          .unit = "25516", .parent = "706", .at = th_now_ms() };
    memcpy(e.key, old.pk, 32);
    uint8_t enr[TH_ENROLLMENT_LEN], rvk[TH_ENROLLMENT_LEN], fake[TH_ENROLLMENT_LEN];
    assert_int_equal(th_enrollment_sign(&e, &district, enr), 0);
    e.kind = TH_LOG_KIND_REVOKE;
    assert_int_equal(th_enrollment_sign(&e, &district, rvk), 0);
    assert_int_equal(th_enrollment_sign(&e, &fx->other, fake), 0);   /* not the district */
    size_t l1, l2, l3, l4;
    uint8_t *r1 = s_blob(&old, "25516", 1, 10, TH_STATUS_SUBMITTED, "dvcq-nam", &l1);
    uint8_t *r2 = s_blob(&old, "25516", 2, 11, TH_STATUS_SUBMITTED, "dvcq-nam", &l2);
    uint8_t *n1 = s_blob(&fresh, "25516", 1, 20, TH_STATUS_SUBMITTED, "dvcq-nam", &l3);
    uint8_t *n3 = s_blob(&fresh, "25516", 3, 21, TH_STATUS_SUBMITTED, "dvcq-nam", &l4);
    th_msg_entry_t a[] = {
        { 1, TH_MSG_ENTRY_ENROLL, enr, sizeof enr },
        { 2, TH_MSG_ENTRY_RECORD, r1, l1 },
        { 3, TH_MSG_ENTRY_REVOKE, fake, sizeof fake },
        { 4, TH_MSG_ENTRY_REVOKE, enr, sizeof enr },   /* an enrollment as a revocation */
        { 5, TH_MSG_ENTRY_REVOKE, rvk, sizeof rvk },
        { 6, TH_MSG_ENTRY_RECORD, r2, l2 },            /* signed by the revoked key */
        { 7, TH_MSG_ENTRY_REVOKE, rvk, sizeof rvk },   /* again: held */
    };
    th_ingest_t *b = s_run(hub, "706", a, 7);
    assert_int_equal(b->applied, 3);   /* enrollment, rev 1, revocation */
    assert_int_equal(b->duplicates, 1);
    assert_int_equal(b->nrejected, 3);
    assert_int_equal(b->rejected[0].seq, 3);
    assert_int_equal(b->rejected[0].code, TH_E_SIG);
    assert_int_equal(b->rejected[1].seq, 4);
    assert_int_equal(b->rejected[1].code, TH_E_PARSE);
    assert_int_equal(b->rejected[2].seq, 6);
    assert_int_equal(b->rejected[2].code, TH_E_KEY);
    assert_non_null(strstr(b->rejected[2].reason, "đã bị thu hồi"));
    s_q_t q = { .key = "dvcq-nam|2024|25516" };
    assert_int_equal(th_store_read(hub->store, s_query, &q), 0);
    assert_int_equal(q.rev, 1);

    /* the new key, enrolled by the district; its rev 1 is below what is held */
    th_enrollment_t g = { .kind = TH_LOG_KIND_ENROLL,
                          .unit = "25516", .parent = "706", .at = th_now_ms() };
    memcpy(g.key, fresh.pk, 32);
    uint8_t enr2[TH_ENROLLMENT_LEN];
    assert_int_equal(th_enrollment_sign(&g, &district, enr2), 0);
    th_msg_entry_t c[] = {
        { 8, TH_MSG_ENTRY_ENROLL, enr2, sizeof enr2 },
        { 9, TH_MSG_ENTRY_RECORD, n1, l3 },
    };
    b = s_run(hub, "706", c, 2);
    assert_int_equal(b->applied, 1);
    assert_int_equal(b->nrejected, 1);
    assert_int_equal(b->rejected[0].code, TH_E_STALE);
    assert_non_null(strstr(b->rejected[0].reason, "lần 1"));
    assert_int_equal(th_store_read(hub->store, s_query, &q), 0);
    assert_int_equal(q.rev, 1);   /* the old figures stay until the office renumbers */
    /* the floor went to the district, for the office on its path */
    s_mf_t mf = { .child = "706" };
    assert_int_equal(th_store_read(hub->store, s_meta_floor, &mf), 0);
    assert_true(mf.found);
    assert_string_equal(mf.blob, "1");
    /* the office's revision numbered after the floor (its rev 2 would do): taken */
    th_msg_entry_t d[] = { { 10, TH_MSG_ENTRY_RECORD, n3, l4 } };
    b = s_run(hub, "706", d, 1);
    assert_int_equal(b->applied, 1);
    assert_int_equal(th_store_read(hub->store, s_query, &q), 0);
    assert_int_equal(q.rev, 3);
    th_free(r1); th_free(r2); th_free(n1); th_free(n3);
}

typedef struct {
    const uint8_t *pk;       /* in: an Ed25519 key */
    char unit[TH_UNIT_MAX];  /* out: whom its CURVE key admits ("" none) */
    uint8_t key[32];         /* out: key:<unit> of "708" */
    bool has_prev;
} s_rot_q_t;

static int
s_rot_query(th_store_txn_t *txn, void *ctx)
{
    s_rot_q_t *q = ctx;
    uint8_t curve[32], prev[32];
    q->unit[0] = '\0';
    if (th_pubkey_curve(q->pk, curve) < 0)
        return TH_E_KEY;
    int rc = th_peers_unit_by_curve(txn, curve, q->unit);
    if (rc < 0 && rc != TH_E_NOTFOUND)
        return rc;
    if ((rc = th_peers_key(txn, "708", q->key, NULL)) < 0)
        return rc;
    q->has_prev = th_peers_prev(txn, "708", prev) == 0;
    return 0;
}

static int
s_prev_drop(th_store_txn_t *txn, void *ctx)
{
    int *dropped = ctx;
    int rc = th_peers_prev_drop(txn, "708");
    *dropped = rc;
    return rc < 0 ? rc : 0;
}

/* A batch's records are decoded and verified on several threads before the
   ingest's own checks: each result is the one a single thread gives, and
   a forged record in a large batch is refused as in a small one. */
static void
test_ingest_verify_entries_on_threads(void **state)
{
    s_fx_t *fx = *state;
    th_identity_t cid;
    th_identity_generate(&cid);
    s_enr_t en = { "25462", cid.pk, true };
    assert_int_equal(th_store_write(fx->hub->store, s_enroll_txn, &en), 0);
    enum { N = 40 };
    th_msg_entry_t e[N];
    uint8_t *own[N] = { 0 };
    int8_t want[N];
    static const uint8_t junk[] = { 0x93, 0x01, 0x02 };
    uint8_t enr[TH_ENROLLMENT_LEN] = "THE1";
    for (int i = 0; i < N; i++) {
        size_t len = 0;
        e[i].seq = (uint64_t)i + 1;
        e[i].kind = TH_MSG_ENTRY_RECORD;
        if (i % 10 == 3) {            /* not a record: the ingest decides */
            e[i].kind = TH_MSG_ENTRY_ENROLL;
            e[i].blob = enr;
            e[i].len = sizeof enr;
            want[i] = -1;
            continue;
        }
        if (i % 10 == 7) {            /* does not decode */
            e[i].blob = junk;
            e[i].len = sizeof junk;
            want[i] = -1;
            continue;
        }
        own[i] = s_blob(&cid, "25462", (uint32_t)i + 1, i, TH_STATUS_SUBMITTED,
                        "dvcq-nam", &len);
        want[i] = 1;
        if (i % 10 == 5) {            /* signed by another key than it names */
            th_free(own[i]);
            own[i] = s_blob(&fx->other, "25462", (uint32_t)i + 1, i, TH_STATUS_SUBMITTED,
                            "dvcq-nam", &len);
            /* name the child's key instead: the signature no longer matches */
            th_record_t r;
            th_record_init(&r);
            assert_int_equal(th_codec_record_decode(own[i], len, &r, NULL, NULL), 0);
            memcpy(r.origin, cid.pk, 32);
            th_free(own[i]);
            assert_int_equal(th_codec_record_encode(&r, &own[i], &len), 0);
            th_record_clear(&r);
            want[i] = 0;
        }
        e[i].blob = own[i];
        e[i].len = len;
    }
    /* on every core, then below TH_VERIFY_MIN on this thread */
    size_t sizes[2] = { N, 3 };
    for (int k = 0; k < 2; k++) {
        th_record_t recs[N];
        int rcs[N];
        th_verify_decode_entries(e, sizes[k], recs, rcs);
        for (size_t i = 0; i < sizes[k]; i++) {
            if (want[i] == 1) {
                assert_int_equal(rcs[i], 0);
                assert_string_equal(recs[i].unit, "25462");
                assert_int_equal(recs[i].rev, (uint32_t)i + 1);
            } else if (want[i] == 0) {
                assert_int_equal(rcs[i], TH_E_SIG);
            } else {
                assert_true(rcs[i] < 0 && rcs[i] != TH_E_SIG);
            }
            if (e[i].kind != TH_MSG_ENTRY_RECORD)
                assert_int_equal(rcs[i], TH_E_INVALID);
            th_record_clear(&recs[i]);
        }
    }
    /* through the ingest: the valid ones applied, the forged ones refused */
    th_ingest_t *b = s_run(fx->hub, "25462", e, N);
    size_t nsig = 0, nvalid = 0;
    for (int i = 0; i < N; i++)
        nvalid += want[i] == 1;
    for (size_t k = 0; k < b->nrejected; k++) {
        int i = (int)b->rejected[k].seq - 1;
        assert_true(want[i] != 1);
        if (want[i] == 0) {
            assert_int_equal(b->rejected[k].code, TH_E_SIG);
            nsig++;
        }
    }
    assert_int_equal(nsig, 4);
    assert_int_equal(b->applied, nvalid);
    for (int i = 0; i < N; i++)
        th_free(own[i]);
}

/* District 708 rotates its key (`rekey`): its statement of the new key,
   signed by the old one, replaces the key here; the old one may still
   connect until the district connects with the new one. A statement
   signed by another key, about another unit, or presented as an
   enrollment is refused; a resend is held. */
static void
test_ingest_key_rotation(void **state)
{
    s_fx_t *fx = *state;
    th_office_t *hub = fx->hub;
    th_identity_t old, fresh, third;
    th_identity_generate(&old);
    th_identity_generate(&fresh);
    th_identity_generate(&third);
    s_enr_t en = { "708", old.pk, true };
    assert_int_equal(th_store_write(hub->store, s_enroll_txn, &en), 0);
    th_enrollment_t e = { .kind = TH_LOG_KIND_ROTATE,
                          .unit = "708", .parent = "708", .at = th_now_ms() };
    memcpy(e.key, fresh.pk, 32);
    uint8_t rot[TH_ENROLLMENT_LEN], forged[TH_ENROLLMENT_LEN], other[TH_ENROLLMENT_LEN],
            asenr[TH_ENROLLMENT_LEN];
    assert_int_equal(th_enrollment_sign(&e, &old, rot), 0);
    assert_int_equal(th_enrollment_sign(&e, &fx->other, forged), 0);   /* not 708's key */
    e.kind = TH_LOG_KIND_ENROLL;
    assert_int_equal(th_enrollment_sign(&e, &old, asenr), 0);
    th_enrollment_t f = { .kind = TH_LOG_KIND_ROTATE,
                          .unit = "703", .parent = "703", .at = th_now_ms() };
    memcpy(f.key, third.pk, 32);
    assert_int_equal(th_enrollment_sign(&f, &old, other), 0);   /* another district */
    /* what 708 signs after the statement is checked against the new key */
    th_enrollment_t g = { .kind = TH_LOG_KIND_ENROLL,
                          .unit = "25585", .parent = "708", .at = th_now_ms() };
    memcpy(g.key, third.pk, 32);
    uint8_t by_new[TH_ENROLLMENT_LEN], by_old[TH_ENROLLMENT_LEN];
    assert_int_equal(th_enrollment_sign(&g, &fresh, by_new), 0);
    memcpy(g.unit, "25588", 6);
    assert_int_equal(th_enrollment_sign(&g, &old, by_old), 0);
    th_msg_entry_t a[] = {
        { 1, TH_MSG_ENTRY_ROTATE, forged, sizeof forged },
        { 2, TH_MSG_ENTRY_ROTATE, asenr, sizeof asenr },
        { 3, TH_MSG_ENTRY_ROTATE, other, sizeof other },
        { 4, TH_MSG_ENTRY_ROTATE, rot, sizeof rot },
        { 5, TH_MSG_ENTRY_ROTATE, rot, sizeof rot },   /* again: held */
    };
    th_ingest_t *b = s_run(hub, "708", a, 5);
    assert_int_equal(b->applied, 1);
    assert_int_equal(b->duplicates, 1);
    assert_int_equal(b->nrejected, 3);
    assert_int_equal(b->rejected[0].code, TH_E_SIG);
    assert_int_equal(b->rejected[1].code, TH_E_PARSE);
    assert_int_equal(b->rejected[2].code, TH_E_UNIT);
    /* both keys admit 708 for now; what it signs is checked against the new one */
    s_rot_q_t q = { .pk = old.pk };
    assert_int_equal(th_store_read(hub->store, s_rot_query, &q), 0);
    assert_string_equal(q.unit, "708");
    assert_memory_equal(q.key, fresh.pk, 32);
    assert_true(q.has_prev);
    q.pk = fresh.pk;
    assert_int_equal(th_store_read(hub->store, s_rot_query, &q), 0);
    assert_string_equal(q.unit, "708");
    th_msg_entry_t c[] = {
        { 6, TH_MSG_ENTRY_ENROLL, by_new, sizeof by_new },
        { 7, TH_MSG_ENTRY_ENROLL, by_old, sizeof by_old },
    };
    b = s_run(hub, "708", c, 2);
    assert_int_equal(b->applied, 1);
    assert_int_equal(b->nrejected, 1);
    assert_int_equal(b->rejected[0].seq, 7);
    assert_int_equal(b->rejected[0].code, TH_E_SIG);
    /* 708 connected with the new key: the old one no longer admits anyone */
    int dropped = 0;
    assert_int_equal(th_store_write(hub->store, s_prev_drop, &dropped), 0);
    assert_int_equal(dropped, 1);
    q.pk = old.pk;
    assert_int_equal(th_store_read(hub->store, s_rot_query, &q), 0);
    assert_string_equal(q.unit, "");
    assert_false(q.has_prev);
    q.pk = fresh.pk;
    assert_int_equal(th_store_read(hub->store, s_rot_query, &q), 0);
    assert_string_equal(q.unit, "708");
}

/* An office restored from an older backup numbers again from there, with
   the same key: a revision it makes after the one held, at or below its
   number, is another history (floor), while its resend of a revision held
   byte for byte, or an older one, is not. */
static void
test_ingest_restored_office_diverges(void **state)
{
    s_fx_t *fx = *state;
    th_office_t *hub = fx->hub;
    th_identity_t district, commune;
    th_identity_generate(&district);
    th_identity_generate(&commune);
    s_enr_t en = { "707", district.pk, true };
    assert_int_equal(th_store_write(hub->store, s_enroll_txn, &en), 0);
    const char *c = NULL;
    /* a commune of 707 in the 2024 tree */
    const th_unit_t *d = th_units_find(hub->units, "707", 20000);
    assert_non_null(d);
    s_first_t ft = { NULL };
    th_units_each_child(hub->units, "707", 20000, s_first_child, &ft);
    assert_non_null(ft.code);
    c = ft.code;
    th_enrollment_t e = { .kind = TH_LOG_KIND_ENROLL, .parent = "707", .at = th_now_ms() };
    snprintf(e.unit, sizeof e.unit, "%s", c);
    memcpy(e.key, commune.pk, 32);
    uint8_t enr[TH_ENROLLMENT_LEN];
    assert_int_equal(th_enrollment_sign(&e, &district, enr), 0);
    size_t l1, l2, l2b, l3;
    s_submitted_at = 1730000000000LL;
    uint8_t *r1 = s_blob(&commune, c, 1, 10, TH_STATUS_SUBMITTED, "dvcq-nam", &l1);
    s_submitted_at += 60000;
    uint8_t *r2 = s_blob(&commune, c, 2, 11, TH_STATUS_SUBMITTED, "dvcq-nam", &l2);
    /* after the restore: the office is back at rev 1 and makes a new rev 2 */
    s_submitted_at += 3600000;
    uint8_t *r2b = s_blob(&commune, c, 2, 77, TH_STATUS_SUBMITTED, "dvcq-nam", &l2b);
    uint8_t *r3 = s_blob(&commune, c, 3, 77, TH_STATUS_SUBMITTED, "dvcq-nam", &l3);
    s_submitted_at = 1730000000000LL;
    th_msg_entry_t a[] = {
        { 1, TH_MSG_ENTRY_ENROLL, enr, sizeof enr },
        { 2, TH_MSG_ENTRY_RECORD, r1, l1 },
        { 3, TH_MSG_ENTRY_RECORD, r2, l2 },
        { 4, TH_MSG_ENTRY_RECORD, r1, l1 },     /* a resend of rev 1: held */
        { 5, TH_MSG_ENTRY_RECORD, r2b, l2b },   /* the restored office's rev 2 */
    };
    th_ingest_t *b = s_run(hub, "707", a, 5);
    assert_int_equal(b->applied, 3);
    assert_int_equal(b->duplicates, 1);
    assert_int_equal(b->nrejected, 1);
    assert_int_equal(b->rejected[0].seq, 5);
    assert_int_equal(b->rejected[0].code, TH_E_STALE);
    char key[TH_KEY_MAX];
    snprintf(key, sizeof key, "dvcq-nam|2024|%s", c);
    s_q_t q = { .key = key };
    assert_int_equal(th_store_read(hub->store, s_query, &q), 0);
    assert_int_equal(q.rev, 2);   /* the old figures until the office renumbers */
    s_mf_t mf = { .child = "707" };
    assert_int_equal(th_store_read(hub->store, s_meta_floor, &mf), 0);
    assert_true(mf.found);
    assert_string_equal(mf.blob, "2");
    th_msg_entry_t f[] = { { 6, TH_MSG_ENTRY_RECORD, r3, l3 } };   /* renumbered */
    b = s_run(hub, "707", f, 1);
    assert_int_equal(b->applied, 1);
    assert_int_equal(th_store_read(hub->store, s_query, &q), 0);
    assert_int_equal(q.rev, 3);
    th_free(r1); th_free(r2); th_free(r2b); th_free(r3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest_district_hub_batch),
        cmocka_unit_test(test_ingest_out_of_memory_commits_nothing),
        cmocka_unit_test(test_ingest_revocation_and_a_new_key),
        cmocka_unit_test(test_ingest_restored_office_diverges),
        cmocka_unit_test(test_ingest_key_rotation),
        cmocka_unit_test(test_ingest_verify_entries_on_threads),
    };
    return cmocka_run_group_tests_name("ingest", tests, s_setup, s_teardown);
}
