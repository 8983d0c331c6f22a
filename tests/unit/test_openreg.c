/*  Tests of openreg: one open per directory per process, a forked child
    may open what its parent holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "openreg.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

static void
test_openreg_second_add_is_busy(void **state)
{
    (void)state;
    assert_int_equal(th_openreg_add("/tmp/a"), 0);
    assert_int_equal(th_openreg_add("/tmp/b"), 0);
    assert_int_equal(th_openreg_add("/tmp/a"), -EBUSY);
    th_openreg_remove("/tmp/a");
    assert_int_equal(th_openreg_add("/tmp/a"), 0);   /* free again */
    assert_int_equal(th_openreg_add("/tmp/b"), -EBUSY);
    th_openreg_remove("/tmp/a");
    th_openreg_remove("/tmp/b");
    th_openreg_remove("/tmp/never");   /* nothing happens */
}

static void
test_openreg_forked_child_may_open(void **state)
{
    (void)state;
    assert_int_equal(th_openreg_add("/tmp/c"), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(th_openreg_add("/tmp/c") == 0 && th_openreg_add("/tmp/c") == -EBUSY ? 0 : 1);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(th_openreg_add("/tmp/c"), -EBUSY);   /* still the parent's */
    th_openreg_remove("/tmp/c");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openreg_second_add_is_busy),
        cmocka_unit_test(test_openreg_forked_child_may_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
