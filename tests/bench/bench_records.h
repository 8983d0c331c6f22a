/*  bench_records: the signed reports the benchmark tools make, with values
    of the right type for every indicator of a form. Header-only. */
#ifndef TH_BENCH_RECORDS_H
#define TH_BENCH_RECORDS_H

#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "crypto.h"
#include "forms.h"
#include "mem.h"
#include "model.h"

static inline void
s_values(th_record_t *r, const th_form_t *f, unsigned salt)
{
    for (size_t i = 0; i < f->nindicators; i++) {
        const th_indicator_t *ind = &f->indicators[i];
        if (ind->computed)
            continue;
        th_value_t v = { 0 };
        snprintf(v.code, sizeof v.code, "%s", ind->code);
        switch (ind->type) {
        case TH_IT_INT:
            v.kind = TH_V_INT;
            v.u.i = (int64_t)((salt + i * 7) % 40);
            break;
        case TH_IT_DEC:
            v.kind = TH_V_DEC;
            v.u.d = (double)((salt + i) % 100) / 4.0;
            break;
        case TH_IT_BOOL:
            v.kind = TH_V_BOOL;
            v.u.b = (salt + i) % 3 != 0;
            break;
        case TH_IT_ENUM:
            v.kind = TH_V_TEXT;
            v.u.s = (char *)ind->options[(salt + i) % ind->noptions].code;
            break;
        default:
            v.kind = TH_V_TEXT;
            v.u.s = "Tổ chức tốt các buổi đối thoại trực tiếp với Nhân dân.";
            break;
        }
        th_record_set(r, &v);
    }
}

/* A submitted rev-1 report of unit for form and period, signed by id, into
   *r (initialised here; the caller clears it) and encoded into *blob
   (th_malloc'd, *len bytes). Returns 0 or codec errors. */
static inline int
th_bench_record(th_record_t *r, const th_form_t *form, const char *period, const char *unit,
                const th_identity_t *id, unsigned salt, uint8_t **blob, size_t *len)
{
    th_record_init(r);
    snprintf(r->form, sizeof r->form, "%s", form->id);
    snprintf(r->period, sizeof r->period, "%s", period);
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    r->rev = 1;
    r->status = TH_STATUS_SUBMITTED;
    r->form_version = form->version;
    r->submitted_at = th_now_ms();
    memcpy(r->origin, id->pk, 32);
    s_values(r, form, salt);
    uint8_t *body;
    size_t bl;
    int rc = th_codec_record_body(r, &body, &bl);
    if (rc < 0)
        return rc;
    th_sign(id, body, bl, r->sig);
    th_free(body);
    return th_codec_record_encode(r, blob, len);
}

#endif
