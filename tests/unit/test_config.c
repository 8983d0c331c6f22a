/*  Tests of config: round trip, and every bad input named with file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "log.h"

static char s_path[64];

static void
s_write(const char *text)
{
    FILE *f = fopen(s_path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int
s_setup(void **state)
{
    (void)state;
    strcpy(s_path, "/tmp/th-config-XXXXXX");
    int fd = mkstemp(s_path);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int
s_teardown(void **state)
{
    (void)state;
    unlink(s_path);
    return 0;
}

static void
test_config_round_trip(void **state)
{
    (void)state;
    th_config_t c, back;
    th_config_defaults(&c);
    strcpy(c.unit, "25459");
    strcpy(c.parent_endpoint, "tcp://127.0.0.1:5555");
    strcpy(c.parent_key, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    strcpy(c.bind, "tcp://0.0.0.0:5556");
    c.log_level = TH_LOG_INFO;
    c.heartbeat_ms = 250;
    c.limit_msgs_per_s = 30;
    c.limit_kib_per_s = 512;
    c.limit_store_mb = 7;
    strcpy(c.report_issuer, "Sở Nội vụ");
    strcpy(c.report_place, "Tây Ninh");
    assert_int_equal(th_config_write(s_path, &c), 0);
    char err[512] = "";
    assert_int_equal(th_config_load(s_path, &back, err, sizeof err), 0);
    assert_string_equal(back.unit, "25459");
    assert_string_equal(back.parent_endpoint, c.parent_endpoint);
    assert_string_equal(back.parent_key, c.parent_key);
    assert_string_equal(back.bind, c.bind);
    assert_string_equal(back.web_listen, "127.0.0.1:8080");
    assert_int_equal(back.log_level, TH_LOG_INFO);
    assert_int_equal(back.heartbeat_ms, 250);
    assert_int_equal(back.timeout_ms, 15000);
    assert_int_equal(back.limit_msgs_per_s, 30);   /* a hub's [limits] */
    assert_int_equal(back.limit_kib_per_s, 512);
    assert_int_equal(back.limit_store_mb, 7);
    assert_string_equal(back.report_issuer, "Sở Nội vụ");
    assert_string_equal(back.report_place, "Tây Ninh");
    assert_string_equal(back.report_superior, "");   /* written empty, read empty */
    assert_string_equal(back.report_signer, "");
}

static void
s_expect_error(const char *text, const char *needle)
{
    th_config_t c;
    char err[512] = "";
    s_write(text);
    assert_int_equal(th_config_load(s_path, &c, err, sizeof err), TH_E_CONFIG);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not contain '%s'", err, needle);
    assert_non_null(strstr(err, s_path));
}

static void
test_config_errors_name_file_and_line(void **state)
{
    (void)state;
    s_expect_error("[office]\nunit = 1\nfoo = 2\n", ":3: unknown key 'foo' in section [office]");
    s_expect_error("[office]\nunit = 1\n[log]\nlevel = loud\n", ":4: log level 'loud'");
    s_expect_error("[office]\nunit = 1\n[parent]\nkey = short\n", ":4: parent key must be 40");
    s_expect_error("[office]\nunit = 1 2\n", ":2: invalid unit code '1 2'");
    s_expect_error("[office]\nunit = 1\nthis is not ini\n", ":3: syntax error");
    /* the first error is the one reported, with its own line */
    s_expect_error("[office]\nunit = 1\nbad line\nfoo = 1\n", ":3: syntax error");
    s_expect_error("[office]\nunit = 1\nfoo = 1\nbad line\n", ":3: unknown key 'foo'");
    s_expect_error("[office]\nunit = 1\n[sync]\ntimeout_ms = 5s\n",
                   ":4: timeout_ms must be a whole number of milliseconds");
    s_expect_error("[web]\nlisten = 127.0.0.1:1\n", "[office] unit is missing");
    s_expect_error("[office]\nunit = 1\n[parent]\nendpoint = tcp://a:1\n",
                   "needs both endpoint and key");
    s_expect_error("[office]\nunit = 1\n[hub]\nbind = 127.0.0.1:80\n",
                   "is not tcp://IP:PORT");
    s_expect_error("[office]\nunit = 1\n[hub]\nbind = tcp://127.0.0.1:**\n",
                   "is not tcp://IP:PORT (PORT may be *");
    s_expect_error("[office]\nunit = 1\n[parent]\nendpoint = tcp://a:*\nkey = "
                   "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\n",
                   "endpoint 'tcp://a:*' is not tcp://HOST:PORT");
    s_expect_error("[office]\nunit = 1\n[limits]\nchild_store_mb = 0\n",
                   ":4: child_store_mb must be a whole number of MB from 1 to");
    s_expect_error("[office]\nunit = 1\n[limits]\nchild_msgs_per_s = 10/s\n",
                   ":4: child_msgs_per_s must be a whole number of messages a second");
    s_expect_error("[office]\nunit = 1\n[limits]\nchild_kib = 5\n",
                   ":4: unknown key 'child_kib' in section [limits]");
    s_expect_error("[office]\nunit = 1\n[report]\nissuer = S\xe1 N\n",
                   ":4: report issuer is not valid UTF-8");
    s_expect_error("[office]\nunit = 1\n[report]\nplace = x\nsigner2 = y\n",
                   ":5: unknown key 'signer2' in section [report]");
    char big[400];
    snprintf(big, sizeof big, "[office]\nunit = 1\n[report]\nsuperior = %0200d\n", 0);
    s_expect_error(big, ":4: superior is too long (at most 159 bytes)");
}

static void
test_config_missing_file(void **state)
{
    (void)state;
    th_config_t c;
    char err[512] = "";
    assert_int_equal(th_config_load("/nonexistent/tonghop.ini", &c, err, sizeof err),
                     -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/tonghop.ini"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_round_trip),
        cmocka_unit_test(test_config_errors_name_file_and_line),
        cmocka_unit_test(test_config_missing_file),
    };
    return cmocka_run_group_tests_name("config", tests, s_setup, s_teardown);
}
