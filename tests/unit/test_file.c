/*  Unit tests for common/file: reading a whole file, its limit and its
    errors, and a clean failure when memory runs out. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "file.h"
#include "mem.h"

/* A temporary file of len bytes of text; its path in path (64 bytes). */
static void
s_temp(char *path, const char *text, size_t len)
{
    strcpy(path, "/tmp/th_file_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    if (len)
        assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

static void
test_file_read_whole_file(void **state)
{
    (void)state;
    char path[64];
    const char text[] = "một\0hai\nba";   /* NUL bytes are data */
    s_temp(path, text, sizeof text - 1);
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(th_file_read(path, 1024, &buf, &len), 0);
    assert_int_equal(len, sizeof text - 1);
    assert_memory_equal(buf, text, len);
    assert_int_equal(buf[len], '\0');
    th_free(buf);

    /* larger than the first allocation: grows */
    size_t big = 100000;
    char *data = malloc(big);
    assert_non_null(data);
    for (size_t i = 0; i < big; i++)
        data[i] = (char)('a' + i % 26);
    unlink(path);
    s_temp(path, data, big);
    assert_int_equal(th_file_read(path, big, &buf, &len), 0);   /* exactly max */
    assert_int_equal(len, big);
    assert_memory_equal(buf, data, big);
    th_free(buf);
    free(data);
    unlink(path);
}

static void
test_file_read_empty_file(void **state)
{
    (void)state;
    char path[64];
    s_temp(path, "", 0);
    char *buf = NULL;
    size_t len = 99;
    assert_int_equal(th_file_read(path, 0, &buf, &len), 0);
    assert_non_null(buf);
    assert_int_equal(len, 0);
    assert_string_equal(buf, "");
    th_free(buf);
    unlink(path);
}

static void
test_file_read_errors(void **state)
{
    (void)state;
    char *buf = (char *)"untouched";
    size_t len = 7;
    assert_int_equal(th_file_read("/tmp/th_file_absent/none", 10, &buf, &len), -ENOENT);
    assert_null(buf);
    assert_int_equal(len, 0);

    char path[64];
    s_temp(path, "12345678901", 11);
    buf = (char *)"untouched";
    assert_int_equal(th_file_read(path, 10, &buf, &len), TH_E_LIMIT);   /* one over */
    assert_null(buf);
    assert_int_equal(len, 0);
    assert_int_equal(th_file_read(path, 0, &buf, &len), TH_E_LIMIT);
    assert_int_equal(th_file_read(path, 11, &buf, &len), 0);
    assert_int_equal(len, 11);
    th_free(buf);
    unlink(path);

    assert_int_equal(th_file_read("/tmp", 10, &buf, &len), -EIO);   /* a directory */
    assert_null(buf);
    assert_int_equal(th_file_read(NULL, 10, &buf, &len), -EINVAL);
    assert_int_equal(th_file_read("/tmp", 10, NULL, &len), -EINVAL);
    assert_int_equal(th_file_read("/tmp", 10, &buf, NULL), -EINVAL);
    assert_int_equal(th_file_read("/tmp", SIZE_MAX, &buf, &len), -EINVAL);
}

/* Every allocation may fail: -ENOMEM, nothing returned, nothing leaked
   (ASan checks the last part). */
static void
test_file_read_out_of_memory_is_clean(void **state)
{
    (void)state;
    char path[64];
    char data[20000];
    memset(data, 'x', sizeof data);
    s_temp(path, data, sizeof data);
    int failures = 0;
    for (long k = 0; k < 100; k++) {
        char *buf = NULL;
        size_t len = 0;
        th_mem_fail_after(k);
        int rc = th_file_read(path, sizeof data, &buf, &len);
        th_mem_fail_after(-1);
        if (rc == 0) {
            assert_int_equal(len, sizeof data);
            th_free(buf);
            break;
        }
        assert_int_equal(rc, -ENOMEM);
        assert_null(buf);
        failures++;
    }
    assert_true(failures >= 2);   /* the first allocation and a growth */
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_read_whole_file),
        cmocka_unit_test(test_file_read_empty_file),
        cmocka_unit_test(test_file_read_errors),
        cmocka_unit_test(test_file_read_out_of_memory_is_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
