/*  th_putrec: puts one signed, submitted report straight into an office's
    store, for the integration tests of what no sync path carries.

    The reports of the 2024 tree's offices reached the hubs of that tree;
    after the 2025 reform a new province's hub (new Tây Ninh 80) must hold
    them to compare periods across the reform, and nothing yet moves them
    there: only a commune that moved to it resends its own history, and a
    merged-away commune of old Tây Ninh (72) cannot be enrolled at 80. So a
    test writes them into the store as a hub holds a relayed report: the
    record is signed by a fresh key (the office's own, as far as the reader
    can tell: it is verified against the key it names), stored unsealed
    (read back strictly and verified), with the given receive time, the way
    tests/unit/hub_fixture.h does it.

        th_putrec DIR FORM PERIOD UNIT RECEIVED_ISO CODE=VALUE...

    Values are typed by the form held in DIR (int, decimal, bool 0/1, text).
    The record is revision 1, submitted at RECEIVED_ISO. Exit status: 0
    stored, 1 failure, 2 usage; one line on stderr when not 0. */
#include "codec.h"
#include "crypto.h"
#include "err.h"
#include "forms.h"
#include "mem.h"
#include "model.h"
#include "office.h"
#include "period.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s_put(th_store_txn_t *txn, void *ctx)
{
    return th_store_put_revision(txn, ctx, false, NULL);
}

static int
s_fail(int code, const char *what, const char *detail)
{
    fprintf(stderr, "th_putrec: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return code;
}

int
main(int argc, char **argv)
{
    if (argc < 6)
        return s_fail(2, "usage: th_putrec DIR FORM PERIOD UNIT RECEIVED_ISO CODE=VALUE...",
                      NULL);
    if (th_crypto_init() < 0)
        return s_fail(1, "cannot start libsodium", NULL);
    char err[512] = "";
    int e = 0;
    th_office_t *o = th_office_open(argv[1], err, sizeof err, &e);
    if (!o)
        return s_fail(1, "cannot open the office", err);
    int code = 1;
    th_record_t r;
    th_record_init(&r);
    uint8_t *body = NULL, *blob = NULL;
    const th_form_t *f = th_office_form(o, argv[2]);
    int64_t at = 0;
    if (!f) {
        code = s_fail(2, "unknown form", argv[2]);
        goto out;
    }
    if (th_time_parse_iso(argv[5], &at) < 0) {
        code = s_fail(2, "bad receive time", argv[5]);
        goto out;
    }
    snprintf(r.form, sizeof r.form, "%s", f->id);
    snprintf(r.period, sizeof r.period, "%s", argv[3]);
    snprintf(r.unit, sizeof r.unit, "%s", argv[4]);
    r.rev = 1;
    r.form_version = f->version;
    r.status = TH_STATUS_SUBMITTED;
    r.submitted_at = at;
    for (int i = 6; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            code = s_fail(2, "expected CODE=VALUE", argv[i]);
            goto out;
        }
        *eq = '\0';
        const th_indicator_t *ind = th_form_indicator(f, argv[i]);
        if (!ind) {
            code = s_fail(2, "no such indicator", argv[i]);
            goto out;
        }
        th_value_t v;
        memset(&v, 0, sizeof v);
        snprintf(v.code, sizeof v.code, "%s", argv[i]);
        switch (ind->type) {
        case TH_IT_INT: v.kind = TH_V_INT; v.u.i = strtoll(eq + 1, NULL, 10); break;
        case TH_IT_DEC: v.kind = TH_V_DEC; v.u.d = strtod(eq + 1, NULL); break;
        case TH_IT_BOOL: v.kind = TH_V_BOOL; v.u.b = eq[1] == '1'; break;
        default: v.kind = TH_V_TEXT; v.u.s = eq + 1; break;
        }
        if (th_record_set(&r, &v) < 0) {
            code = s_fail(1, "bad value", argv[i]);
            goto out;
        }
    }
    th_identity_t id;
    th_identity_generate(&id);
    memcpy(r.origin, id.pk, sizeof r.origin);
    size_t bl, len;
    if (th_codec_record_body(&r, &body, &bl) < 0) {
        code = s_fail(1, "cannot encode the record", NULL);
        goto out;
    }
    th_sign(&id, body, bl, r.sig);
    th_identity_wipe(&id);
    char key[TH_KEY_MAX];
    int rc = th_codec_record_encode(&r, &blob, &len);
    if (rc == 0 && (rc = th_record_key(&r, key, sizeof key)) > 0)
        rc = 0;
    th_store_rev_t sr = { .key = key, .rev = r.rev, .status = TH_STATUS_SUBMITTED,
                          .received_at = at, .blob = blob, .len = len };
    if (rc == 0)
        rc = th_store_write(o->store, s_put, &sr);
    if (rc < 0) {
        code = s_fail(1, "cannot store the record", th_strerror(rc));
        goto out;
    }
    code = 0;
out:
    th_free(body);
    th_free(blob);
    th_record_clear(&r);
    th_office_destroy(&o);
    return code;
}
