/*  verify: a batch's signatures checked on several cores. */
#include "verify.h"
#include "codec.h"
#include "crypto.h"
#include "err.h"
#include "model.h"

#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

typedef struct {
    const th_msg_entry_t *e;
    size_t n, from, step;
    int8_t *out;
} s_share_t;

static void *
s_run(void *arg)
{
    s_share_t *s = arg;
    for (size_t i = s->from; i < s->n; i += s->step) {
        s->out[i] = -1;
        if (s->e[i].kind != TH_MSG_ENTRY_RECORD)
            continue;
        th_record_t r;
        const uint8_t *body;
        size_t bl;
        th_record_init(&r);
        if (th_codec_record_decode(s->e[i].blob, s->e[i].len, &r, &body, &bl) == 0)
            s->out[i] = th_verify(r.origin, body, bl, r.sig) == 0 ? 1 : 0;
        th_record_clear(&r);
    }
    return NULL;
}

void
th_verify_entries(const th_msg_entry_t *entries, size_t n, int8_t *out)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t k = n < TH_VERIFY_MIN || cores < 2 ? 1
             : (size_t)(cores > TH_VERIFY_THREADS ? TH_VERIFY_THREADS : cores);
    s_share_t sh[TH_VERIFY_THREADS];
    pthread_t th[TH_VERIFY_THREADS];
    bool started[TH_VERIFY_THREADS] = { false };
    for (size_t t = 0; t < k; t++)
        sh[t] = (s_share_t){ entries, n, t, k, out };
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
