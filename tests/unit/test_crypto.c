/*  Tests of crypto: identities, Z85, signatures that fail on any change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "err.h"

static char s_dir[64];

static int
s_setup(void **state)
{
    (void)state;
    assert_int_equal(th_crypto_init(), 0);
    strcpy(s_dir, "/tmp/th-crypto-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    return 0;
}

static int
s_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void
test_crypto_signature_fails_on_any_changed_byte(void **state)
{
    (void)state;
    th_identity_t id;
    th_identity_generate(&id);
    uint8_t msg[200];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    uint8_t sig[64];
    th_sign(&id, msg, sizeof msg, sig);
    assert_int_equal(th_verify(id.pk, msg, sizeof msg, sig), 0);
    for (size_t i = 0; i < sizeof msg; i++) {
        for (int bit = 0; bit < 8; bit++) {
            msg[i] ^= (uint8_t)(1u << bit);
            assert_int_equal(th_verify(id.pk, msg, sizeof msg, sig), TH_E_SIG);
            msg[i] ^= (uint8_t)(1u << bit);
        }
    }
    for (size_t i = 0; i < sizeof sig; i++) {
        sig[i] ^= 0x01;
        assert_int_equal(th_verify(id.pk, msg, sizeof msg, sig), TH_E_SIG);
        sig[i] ^= 0x01;
    }
    /* a shorter or longer message is a different message */
    assert_int_equal(th_verify(id.pk, msg, sizeof msg - 1, sig), TH_E_SIG);
    /* another key does not verify it */
    th_identity_t other;
    th_identity_generate(&other);
    assert_int_equal(th_verify(other.pk, msg, sizeof msg, sig), TH_E_SIG);
    assert_int_equal(th_verify(id.pk, msg, sizeof msg, sig), 0);
}

static void
test_crypto_z85_round_trip_and_rejects(void **state)
{
    (void)state;
    uint8_t key[32], back[32];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(255 - i * 5);
    char z[TH_Z85_KEY_LEN + 1];
    th_z85_encode_key(key, z);
    assert_int_equal(strlen(z), TH_Z85_KEY_LEN);
    assert_int_equal(th_z85_decode_key(z, back), 0);
    assert_memory_equal(key, back, 32);
    assert_int_equal(th_z85_decode_key("short", back), TH_E_KEY);
    assert_int_equal(th_z85_decode_key(NULL, back), TH_E_KEY);
    char bad[TH_Z85_KEY_LEN + 1];
    memcpy(bad, z, sizeof bad);
    bad[5] = '"';   /* not in the Z85 alphabet */
    assert_int_equal(th_z85_decode_key(bad, back), TH_E_KEY);
    bad[5] = ' ';
    assert_int_equal(th_z85_decode_key(bad, back), TH_E_KEY);
}

static void
test_crypto_identity_save_load_and_mode(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/identity.key", s_dir);
    th_identity_t id, back;
    th_identity_generate(&id);
    assert_int_equal(th_identity_save(&id, path), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* never overwrites an existing identity */
    assert_int_equal(th_identity_save(&id, path), -EEXIST);
    assert_int_equal(th_identity_load(path, &back), 0);
    assert_memory_equal(id.pk, back.pk, 32);
    assert_memory_equal(id.sk, back.sk, 64);
    /* a key readable by others is refused */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(th_identity_load(path, &back), -EACCES);
    assert_int_equal(chmod(path, 0600), 0);
    /* garbage is refused */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# comment\nnot a key\n", f);
    fclose(f);
    assert_int_equal(th_identity_load(path, &back), TH_E_KEY);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none.key", s_dir);
    assert_int_equal(th_identity_load(missing, &back), -ENOENT);
    th_identity_wipe(&id);
    uint8_t zero[64] = { 0 };
    assert_memory_equal(id.sk, zero, 64);
}

static void
test_crypto_curve_keys_agree(void **state)
{
    (void)state;
    th_identity_t id;
    th_identity_generate(&id);
    uint8_t cpk[32], csk[32], cpk2[32];
    assert_int_equal(th_identity_curve(&id, cpk, csk), 0);
    assert_int_equal(th_pubkey_curve(id.pk, cpk2), 0);
    /* a peer who knows only our Ed25519 public key derives our CURVE key */
    assert_memory_equal(cpk, cpk2, 32);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crypto_signature_fails_on_any_changed_byte),
        cmocka_unit_test(test_crypto_z85_round_trip_and_rejects),
        cmocka_unit_test(test_crypto_identity_save_load_and_mode),
        cmocka_unit_test(test_crypto_curve_keys_agree),
    };
    return cmocka_run_group_tests_name("crypto", tests, s_setup, s_teardown);
}
