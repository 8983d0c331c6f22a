/*  Tests of enrollment: one encoding, signature over every byte, strict
    parsing of the fixed layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "enrollment.h"
#include "err.h"

static void
test_enrollment_round_trip_and_tamper(void **state)
{
    (void)state;
    assert_int_equal(th_crypto_init(), 0);
    th_identity_t hub, child, other;
    th_identity_generate(&hub);
    th_identity_generate(&child);
    th_identity_generate(&other);
    th_enrollment_t e = { .kind = TH_LOG_KIND_ENROLL,
                          .unit = "25459", .parent = "703", .at = 1750000000123LL };
    memcpy(e.key, child.pk, 32);
    uint8_t blob[TH_ENROLLMENT_LEN];
    assert_int_equal(th_enrollment_sign(&e, &hub, blob), 0);
    assert_memory_equal(blob, "THE1", 4);
    th_enrollment_t back;
    assert_int_equal(th_enrollment_parse(blob, sizeof blob, &back), 0);
    assert_string_equal(back.unit, "25459");
    assert_string_equal(back.parent, "703");
    assert_memory_equal(back.key, child.pk, 32);
    assert_int_equal(back.at, 1750000000123LL);
    assert_int_equal(th_enrollment_verify(blob, sizeof blob, hub.pk), 0);
    assert_int_equal(th_enrollment_verify(blob, sizeof blob, other.pk), TH_E_SIG);
    /* every byte counts: each change is refused by the layout or the signature */
    for (size_t i = 0; i < sizeof blob; i++) {
        blob[i] ^= 0x01;
        assert_true(th_enrollment_verify(blob, sizeof blob, hub.pk) < 0);
        blob[i] ^= 0x01;
    }
    assert_int_equal(th_enrollment_parse(blob, sizeof blob - 1, &back), TH_E_PARSE);
    /* junk after the NUL of a code is not a second encoding of the same statement */
    blob[4 + 10] = 'x';
    assert_int_equal(th_enrollment_parse(blob, sizeof blob, &back), TH_E_PARSE);
}

/* A revocation is the same layout under its own signed magic: neither
   statement can pass for the other. */
static void
test_enrollment_revocation_is_its_own_statement(void **state)
{
    (void)state;
    th_identity_t hub, child;
    th_identity_generate(&hub);
    th_identity_generate(&child);
    th_enrollment_t e = { .kind = TH_LOG_KIND_REVOKE, .unit = "25459", .parent = "703",
                          .at = 1750000000123LL };
    memcpy(e.key, child.pk, 32);
    uint8_t blob[TH_ENROLLMENT_LEN];
    assert_int_equal(th_enrollment_sign(&e, &hub, blob), 0);
    assert_memory_equal(blob, "THR1", 4);
    th_enrollment_t back;
    assert_int_equal(th_enrollment_parse(blob, sizeof blob, &back), 0);
    assert_int_equal(back.kind, TH_LOG_KIND_REVOKE);
    assert_int_equal(th_enrollment_verify(blob, sizeof blob, hub.pk), 0);
    blob[2] = 'E';   /* the same bytes presented as an enrollment */
    assert_int_equal(th_enrollment_parse(blob, sizeof blob, &back), 0);
    assert_int_equal(back.kind, TH_LOG_KIND_ENROLL);
    assert_int_equal(th_enrollment_verify(blob, sizeof blob, hub.pk), TH_E_SIG);
    e.kind = TH_LOG_KIND_ENROLL;
    assert_int_equal(th_enrollment_sign(&e, &hub, blob), 0);
    assert_int_equal(th_enrollment_parse(blob, sizeof blob, &back), 0);
    assert_int_equal(back.kind, TH_LOG_KIND_ENROLL);
}

/* A key rotation is its own statement too. */
static void
test_enrollment_rotation_is_its_own_statement(void **state)
{
    (void)state;
    th_identity_t old, fresh;
    th_identity_generate(&old);
    th_identity_generate(&fresh);
    th_enrollment_t e = { .kind = TH_LOG_KIND_ROTATE, .unit = "703", .parent = "703",
                          .at = 1750000000123LL };
    memcpy(e.key, fresh.pk, 32);
    uint8_t blob[TH_ENROLLMENT_LEN];
    assert_int_equal(th_enrollment_sign(&e, &old, blob), 0);
    assert_memory_equal(blob, "THK1", 4);
    th_enrollment_t back;
    assert_int_equal(th_enrollment_parse(blob, sizeof blob, &back), 0);
    assert_int_equal(back.kind, TH_LOG_KIND_ROTATE);
    assert_memory_equal(back.key, fresh.pk, 32);
    assert_int_equal(th_enrollment_verify(blob, sizeof blob, old.pk), 0);
    assert_int_equal(th_enrollment_verify(blob, sizeof blob, fresh.pk), TH_E_SIG);
    blob[2] = 'E';   /* presented as an enrollment */
    assert_int_equal(th_enrollment_verify(blob, sizeof blob, old.pk), TH_E_SIG);
    blob[2] = 'X';
    assert_int_equal(th_enrollment_parse(blob, sizeof blob, &back), TH_E_PARSE);
    e.kind = 0;   /* no kind: refused */
    assert_int_equal(th_enrollment_sign(&e, &old, blob), TH_E_INVALID);
}

static void
test_enrollment_refuses_bad_codes(void **state)
{
    (void)state;
    th_identity_t hub;
    th_identity_generate(&hub);
    th_enrollment_t e = { .kind = TH_LOG_KIND_ENROLL, .unit = "25 459", .parent = "703" };
    uint8_t blob[TH_ENROLLMENT_LEN];
    assert_int_equal(th_enrollment_sign(&e, &hub, blob), TH_E_INVALID);
    th_enrollment_t f = { .kind = TH_LOG_KIND_ENROLL, .unit = "25459", .parent = "" };
    assert_int_equal(th_enrollment_sign(&f, &hub, blob), TH_E_INVALID);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enrollment_round_trip_and_tamper),
        cmocka_unit_test(test_enrollment_revocation_is_its_own_statement),
        cmocka_unit_test(test_enrollment_rotation_is_its_own_statement),
        cmocka_unit_test(test_enrollment_refuses_bad_codes),
    };
    return cmocka_run_group_tests_name("enrollment", tests, NULL, NULL);
}
