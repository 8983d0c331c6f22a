/*  Tests of httpd: when a login is required, users (argon2id hashes in the
    store), listen addresses. Pages themselves are tested in a real
    browser by tests/e2e (make test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "err.h"
#include "office.h"
#include "httpd.h"

static char s_tmp[64], s_dir[96];
static th_office_t *s_off;

static int
s_setup(void **state)
{
    (void)state;
    if (th_crypto_init() < 0)
        return -1;
    strcpy(s_tmp, "/tmp/th-web-XXXXXX");
    if (!mkdtemp(s_tmp))
        return -1;
    snprintf(s_dir, sizeof s_dir, "%s/office", s_tmp);
    char err[512];
    th_office_init_t opt = { .dir = s_dir, .unit = "25459" };
    if (th_office_init(&opt, err, sizeof err) < 0)
        return -1;
    int rc;
    s_off = th_office_open(s_dir, err, sizeof err, &rc);
    return s_off ? 0 : -1;
}

static int
s_teardown(void **state)
{
    (void)state;
    th_office_destroy(&s_off);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static void
test_httpd_login_needed_beyond_loopback(void **state)
{
    (void)state;
    assert_false(th_httpd_login_needed("127.0.0.1:8080", "auto"));
    assert_false(th_httpd_login_needed("127.3.2.1:80", "auto"));
    assert_false(th_httpd_login_needed("localhost:8080", NULL));
    assert_true(th_httpd_login_needed("127.0.0.1:8080", "required"));
    assert_true(th_httpd_login_needed("0.0.0.0:8080", "auto"));
    assert_true(th_httpd_login_needed("192.168.1.10:80", "auto"));
    assert_true(th_httpd_login_needed("10.0.0.1:80", NULL));
    assert_true(th_httpd_login_needed("128.0.0.1:80", "auto"));
    /* anything not understood asks for a login */
    assert_true(th_httpd_login_needed("myhost:80", "auto"));
    assert_true(th_httpd_login_needed("8080", "auto"));
    assert_true(th_httpd_login_needed(NULL, "auto"));
}

static void
test_httpd_users(void **state)
{
    (void)state;
    assert_int_equal(th_httpd_user_add(s_off, "canbo.xa", "mật khẩu dài"), 0);
    assert_true(th_httpd_user_check(s_off, "canbo.xa", "mật khẩu dài"));
    assert_false(th_httpd_user_check(s_off, "canbo.xa", "mật khẩu dàI"));
    assert_false(th_httpd_user_check(s_off, "canbo.xa", ""));
    assert_false(th_httpd_user_check(s_off, "khac", "mật khẩu dài"));
    assert_false(th_httpd_user_check(s_off, NULL, "x"));
    /* a new password replaces the old one */
    assert_int_equal(th_httpd_user_add(s_off, "canbo.xa", "12345678"), 0);
    assert_true(th_httpd_user_check(s_off, "canbo.xa", "12345678"));
    assert_false(th_httpd_user_check(s_off, "canbo.xa", "mật khẩu dài"));
    /* names and passwords checked */
    assert_int_equal(th_httpd_user_add(s_off, "a b", "12345678"), TH_E_INVALID);
    assert_int_equal(th_httpd_user_add(s_off, "", "12345678"), TH_E_INVALID);
    assert_int_equal(th_httpd_user_add(s_off, "<x>", "12345678"), TH_E_INVALID);
    assert_int_equal(th_httpd_user_add(s_off, "ngan", "1234567"), TH_E_INVALID);
    assert_false(th_httpd_user_check(s_off, "a b", "12345678"));
}

static void
test_httpd_listen_address(void **state)
{
    (void)state;
    int err = 0;
    th_httpd_t *w = th_httpd_new(s_off, &err);
    assert_non_null(w);
    assert_int_equal(err, 0);
    assert_int_equal(th_httpd_port(w), 0);   /* nothing listens before the service starts */
    th_httpd_destroy(&w);
    assert_null(w);
    th_httpd_destroy(&w);
    char saved[sizeof s_off->cfg.web_listen];
    memcpy(saved, s_off->cfg.web_listen, sizeof saved);
    static const char *const bad[] = { "8080", "127.0.0.1", "127.0.0.1:99999", "host:80",
                                       ":80", "127.0.0.1:8x" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(s_off->cfg.web_listen, sizeof s_off->cfg.web_listen, "%s", bad[i]);
        w = th_httpd_new(s_off, &err);
        assert_null(w);
        assert_int_equal(err, TH_E_CONFIG);
    }
    memcpy(s_off->cfg.web_listen, saved, sizeof saved);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_httpd_login_needed_beyond_loopback),
        cmocka_unit_test(test_httpd_users),
        cmocka_unit_test(test_httpd_listen_address),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
