/*  mem: the one allocation path of the project.

    All project code allocates through these functions so that tests can make
    the Nth allocation fail (th_mem_fail_after) and check that every error
    path returns -ENOMEM cleanly and leaks nothing. Policy on out-of-memory:
    the allocation returns NULL and the caller returns -ENOMEM up the stack;
    nothing aborts. Libraries (LMDB, msgpack-c, libsodium) keep their own
    allocators. Thread-safe except th_mem_fail_after, which tests call
    before starting any thread. */
#ifndef TH_MEM_H
#define TH_MEM_H

#include <stdarg.h>
#include <stddef.h>

void *th_malloc(size_t size);
void *th_calloc(size_t n, size_t size);   /* NULL also when n*size overflows */
void *th_realloc(void *p, size_t size);   /* on NULL return, p is untouched */
char *th_strdup(const char *s);           /* NULL s gives NULL */
char *th_strndup(const char *s, size_t n);
/* A new string formatted as printf would; NULL on allocation failure or
   a format error. Free with th_free. */
char *th_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *th_vasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
void *th_memdup(const void *p, size_t n);
void  th_free(void *p);

/* Test hook: the allocation after the next n successful ones fails, and
   every one after it too until reset. n < 0 disables failure injection. */
void th_mem_fail_after(long n);

/* Number of allocations done through this path since start (for tests). */
unsigned long th_mem_count(void);

#endif
