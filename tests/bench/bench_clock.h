/*  bench_clock: the monotonic clock the benchmark tools read. Header-only. */
#ifndef TH_BENCH_CLOCK_H
#define TH_BENCH_CLOCK_H

#include <time.h>

/* Seconds on CLOCK_MONOTONIC. */
static inline double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
