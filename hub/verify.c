/*  verify: signatures checked on several cores. */
#include "verify.h"
#include "codec.h"
#include "entry.h"
#include "err.h"
#include "mem.h"
#include "model.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

/* One thread's share of a call: blobs from, from + step, ... */
typedef struct {
    const uint8_t *const *blobs;
    const size_t *lens;
    const bool *sealed;       /* NULL: none */
    size_t n, from, step;
    th_record_t *recs;
    int *rcs;
} s_share_t;

static void *
s_run(void *arg)
{
    s_share_t *s = arg;
    for (size_t i = s->from; i < s->n; i += s->step) {
        th_record_init(&s->recs[i]);
        int8_t how = s->sealed && s->sealed[i] ? TH_VERIFY_SEALED : -1;
        s->rcs[i] = s->blobs[i] ? th_verify_decode(s->blobs[i], s->lens[i], how, &s->recs[i])
                                : TH_E_INVALID;
    }
    return NULL;
}

static void
s_share(s_share_t job)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t k = job.n < TH_VERIFY_MIN || cores < 2 ? 1
             : (size_t)(cores > TH_VERIFY_THREADS ? TH_VERIFY_THREADS : cores);
    s_share_t sh[TH_VERIFY_THREADS];
    pthread_t th[TH_VERIFY_THREADS];
    bool started[TH_VERIFY_THREADS] = { false };
    for (size_t t = 0; t < k; t++) {
        sh[t] = job;
        sh[t].from = t;
        sh[t].step = k;
    }
    for (size_t t = 1; t < k; t++)
        started[t] = pthread_create(&th[t], NULL, s_run, &sh[t]) == 0;
    s_run(&sh[0]);
    for (size_t t = 1; t < k; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            s_run(&sh[t]);   /* no thread: this share here */
    }
}

void
th_verify_decode_all(const uint8_t *const *blobs, const size_t *lens, const bool *sealed,
                     size_t n, th_record_t *recs, int *rcs)
{
    s_share((s_share_t){ .blobs = blobs, .lens = lens, .sealed = sealed, .n = n,
                         .recs = recs, .rcs = rcs });
}

void
th_verify_decode_entries(const th_msg_entry_t *entries, size_t n, th_record_t *recs, int *rcs)
{
    const uint8_t *blobs[TH_MSG_ENTRIES_MAX];
    size_t lens[TH_MSG_ENTRIES_MAX];
    for (size_t done = 0; done < n; done += TH_MSG_ENTRIES_MAX) {
        size_t m = n - done < TH_MSG_ENTRIES_MAX ? n - done : TH_MSG_ENTRIES_MAX;
        for (size_t i = 0; i < m; i++) {
            const th_msg_entry_t *e = &entries[done + i];
            blobs[i] = e->kind == TH_MSG_ENTRY_RECORD ? e->blob : NULL;
            lens[i] = e->len;
        }
        th_verify_decode_all(blobs, lens, NULL, m, recs + done, rcs + done);
    }
}

int
th_verify_decode(const uint8_t *blob, size_t len, int8_t verdict, th_record_t *out)
{
    if (verdict == TH_VERIFY_SEALED)
        return th_codec_record_decode_sealed(blob, len, out);
    return th_entry_decode_verified(blob, len, out);
}
