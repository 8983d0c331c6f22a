/*  mem: malloc wrappers with a failure-injection hook for tests. */
#include "mem.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static atomic_long s_fail_after = -1;
static atomic_ulong s_count = 0;

static int
s_should_fail(void)
{
    atomic_fetch_add(&s_count, 1);
    long n = atomic_load(&s_fail_after);
    if (n < 0)
        return 0;
    if (n == 0)
        return 1;
    atomic_store(&s_fail_after, n - 1);
    return 0;
}

void *
th_malloc(size_t size)
{
    if (s_should_fail())
        return NULL;
    return malloc(size ? size : 1);
}

void *
th_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    if (s_should_fail())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *
th_realloc(void *p, size_t size)
{
    if (s_should_fail())
        return NULL;
    return realloc(p, size ? size : 1);
}

void *
th_memdup(const void *p, size_t n)
{
    void *q = th_malloc(n);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

char *
th_vasprintf(const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *s = n >= 0 ? th_malloc((size_t)n + 1) : NULL;
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, again);
    va_end(again);
    return s;
}

char *
th_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = th_vasprintf(fmt, ap);
    va_end(ap);
    return s;
}

char *
th_strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    size_t len = strnlen(s, n);
    char *q = th_malloc(len + 1);
    if (!q)
        return NULL;
    memcpy(q, s, len);
    q[len] = '\0';
    return q;
}

char *
th_strdup(const char *s)
{
    return s ? th_strndup(s, strlen(s)) : NULL;
}

void
th_free(void *p)
{
    free(p);
}

void
th_mem_fail_after(long n)
{
    atomic_store(&s_fail_after, n);
}

unsigned long
th_mem_count(void)
{
    return atomic_load(&s_count);
}
