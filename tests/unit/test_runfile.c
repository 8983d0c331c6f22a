/*  Tests for node/runfile: one daemon per data directory, and the addresses
    it publishes for status, tests and proxies. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "mem.h"
#include "runfile.h"

static char s_dir[64];

static int
s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/th-runfile.XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int
s_teardown(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/%s", s_dir, TH_RUNFILE_NAME);
    unlink(path);
    return rmdir(s_dir);
}

static bool
s_running(json_t *doc)
{
    return json_is_true(json_object_get(doc, "running"));
}

static void
test_runfile_absent_means_not_running(void **state)
{
    (void)state;
    json_t *doc = NULL;
    assert_int_equal(th_runfile_read(s_dir, &doc), 0);
    assert_non_null(doc);
    assert_false(s_running(doc));
    json_decref(doc);
}

static void
test_runfile_publishes_while_claimed(void **state)
{
    (void)state;
    th_runfile_t *rf = NULL;
    assert_int_equal(th_runfile_claim(s_dir, &rf, NULL), 0);
    json_t *doc = NULL;
    /* claimed, nothing written yet: running, no addresses */
    assert_int_equal(th_runfile_read(s_dir, &doc), 0);
    assert_true(s_running(doc));
    assert_null(json_object_get(doc, "collector"));
    json_decref(doc);

    assert_int_equal(th_runfile_set(rf, "collector", "tcp://127.0.0.1:4000"), 0);
    assert_int_equal(th_runfile_set(rf, "web", "http://127.0.0.1:8080/"), 0);
    assert_int_equal(th_runfile_set(rf, "collector", "tcp://127.0.0.1:41234"), 0);   /* replaces */
    assert_int_equal(th_runfile_write(rf), 0);
    assert_int_equal(th_runfile_read(s_dir, &doc), 0);
    assert_true(s_running(doc));
    assert_string_equal(json_string_value(json_object_get(doc, "collector")), "tcp://127.0.0.1:41234");
    assert_string_equal(json_string_value(json_object_get(doc, "web")), "http://127.0.0.1:8080/");
    assert_int_equal(json_integer_value(json_object_get(doc, "pid")), getpid());
    assert_non_null(json_string_value(json_object_get(doc, "started_at")));
    json_decref(doc);

    /* a second claim, as a second daemon on the same directory makes */
    th_runfile_t *second = NULL;
    pid_t other = 0;
    assert_int_equal(th_runfile_claim(s_dir, &second, &other), TH_E_BUSY);
    assert_null(second);
    assert_int_equal(other, getpid());

    th_runfile_release(&rf);
    assert_null(rf);
    th_runfile_release(&rf);   /* twice is safe */
    assert_int_equal(th_runfile_read(s_dir, &doc), 0);
    assert_false(s_running(doc));
    assert_null(json_object_get(doc, "collector"));
    json_decref(doc);
}

/* A daemon killed with SIGKILL leaves its addresses in the file; they are
   not taken as live, and the next daemon claims the directory at once. */
static void
test_runfile_killed_daemon_leaves_no_claim(void **state)
{
    (void)state;
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        th_runfile_t *rf = NULL;
        if (th_runfile_claim(s_dir, &rf, NULL) != 0 ||
            th_runfile_set(rf, "collector", "tcp://127.0.0.1:5555") != 0 ||
            th_runfile_write(rf) != 0)
            _exit(1);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    close(ready[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    json_t *doc = NULL;
    assert_int_equal(th_runfile_read(s_dir, &doc), 0);
    assert_true(s_running(doc));
    assert_int_equal(json_integer_value(json_object_get(doc, "pid")), pid);
    json_decref(doc);
    th_runfile_t *rf = NULL;
    pid_t other = 0;
    assert_int_equal(th_runfile_claim(s_dir, &rf, &other), TH_E_BUSY);
    assert_int_equal(other, pid);

    kill(pid, SIGKILL);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(th_runfile_read(s_dir, &doc), 0);
    assert_false(s_running(doc));
    assert_null(json_object_get(doc, "collector"));   /* stale: not shown */
    json_decref(doc);
    assert_int_equal(th_runfile_claim(s_dir, &rf, NULL), 0);
    assert_int_equal(th_runfile_write(rf), 0);
    assert_int_equal(th_runfile_read(s_dir, &doc), 0);
    assert_null(json_object_get(doc, "collector"));   /* the old address is gone */
    json_decref(doc);
    th_runfile_release(&rf);
}

static void
test_runfile_errors(void **state)
{
    (void)state;
    th_runfile_t *rf = NULL;
    assert_int_equal(th_runfile_claim("/nonexistent/th-runfile", &rf, NULL), -ENOENT);
    assert_null(rf);
    assert_int_equal(th_runfile_claim(s_dir, &rf, NULL), 0);
    char name[16];
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof name, "n%d", i);
        assert_int_equal(th_runfile_set(rf, name, "v"), 0);
    }
    assert_int_equal(th_runfile_set(rf, "one-more", "v"), TH_E_LIMIT);
    th_mem_fail_after(0);
    assert_int_equal(th_runfile_set(rf, "n0", "w"), -ENOMEM);
    th_mem_fail_after(-1);
    th_runfile_release(&rf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_runfile_absent_means_not_running, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_runfile_publishes_while_claimed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_runfile_killed_daemon_leaves_no_claim, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_runfile_errors, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
