/*  Tests of rollup: every aggregation at two levels, ratio of sums, as-of,
    texts per unit, rule violations, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codec.h"
#include "completeness.h"
#include "crypto.h"
#include "err.h"
#include "mem.h"
#include "peers.h"
#include "rollup.h"

/* A province 91 with districts 901 (communes 90101, 90102, 90103) and 902
   (90201, and 90202 which merged into 90201 on 30/06/2024), one test form
   with every aggregation, and a hub office at 91 holding the communes'
   signed records with chosen received_at times. */
static char s_tmp[64];
static th_office_t *s_hub;
static th_identity_t s_signer;

static const char s_form[] =
    "[form]\nid = thu\nversion = 1\ntitle = Biểu thử nghiệm tổng hợp\n"
    "period_type = yearly\nlevels = commune\ndeadline.district = 15/01+1\n"
    "deadline.province = 20/01+1\n\n[section I]\ntitle = Số liệu\n\n"
    "[indicator A]\nlabel = Số buổi\ntype = int\n\n"
    "[indicator B]\nlabel = Kinh phí\ntype = decimal\n\n"
    "[indicator F]\nlabel = Có quy chế\ntype = bool\n\n"
    "[indicator MN]\nlabel = Nhỏ nhất\ntype = int\nagg = min\n\n"
    "[indicator MX]\nlabel = Lớn nhất\ntype = int\nagg = max\n\n"
    "[indicator ME]\nlabel = Trung bình\ntype = decimal\nagg = mean\n\n"
    "[indicator N]\nlabel = Số đúng hạn\ntype = int\n\n"
    "[indicator D]\nlabel = Số tiếp nhận\ntype = int\n\n"
    "[indicator R]\nlabel = Tỷ lệ đúng hạn\ntype = decimal\nagg = ratio\n"
    "numerator = N\ndenominator = D\nscale = 100\n\n"
    "[indicator T]\nlabel = Nội dung\ntype = text\n\n"
    "[rule R01]\nexpr = N <= D\nmessage = Số đúng hạn không được lớn hơn số tiếp nhận\n";

static const char s_units[] =
    "code,name,level,parent_code,valid_from,valid_to,successor\n"
    "91,Tỉnh Thử Nghiệm,province,,,,\n"
    "901,Huyện Một,district,91,,,\n"
    "902,Huyện Hai,district,91,,,\n"
    "90101,Xã Một Một,commune,901,,,\n"
    "90102,Xã Một Hai,commune,901,,,\n"
    "90103,Xã Một Ba,commune,901,,,\n"
    "90201,Xã Hai Một,commune,902,,,\n"
    "90202,Xã Hai Hai,commune,902,,30/06/2024,90201\n";

static int64_t
s_ms(const char *iso)
{
    int64_t ms = 0;
    assert_int_equal(th_time_parse_iso(iso, &ms), 0);
    return ms;
}

static void
s_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

typedef struct {
    const th_store_rev_t *rev;
} s_put_t;

static int
s_put_txn(th_store_txn_t *txn, void *ctx)
{
    s_put_t *p = ctx;
    return th_store_put_revision(txn, p->rev, false, NULL);
}

/* Values as "CODE=VALUE" words: i: int, d: decimal, b: bool, s: text, e.g.
   "iA=10 dB=1.5 bF=1 sT=văn_bản" (underscores in texts become spaces). */
static void
s_store(const char *unit, const char *period, uint32_t rev, th_status_t st,
        const char *submitted, const char *received, const char *vals, bool tamper)
{
    th_record_t r;
    th_record_init(&r);
    snprintf(r.form, sizeof r.form, "thu");
    snprintf(r.period, sizeof r.period, "%s", period);
    snprintf(r.unit, sizeof r.unit, "%s", unit);
    r.rev = rev;
    r.form_version = 1;
    r.status = st;
    r.submitted_at = s_ms(submitted);
    memcpy(r.origin, s_signer.pk, 32);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", vals);
    for (char *w = strtok(buf, " "); w; w = strtok(NULL, " ")) {
        char *eq = strchr(w, '=');
        assert_non_null(eq);
        *eq = '\0';
        th_value_t v;
        memset(&v, 0, sizeof v);
        snprintf(v.code, sizeof v.code, "%s", w + 1);
        switch (w[0]) {
        case 'i': v.kind = TH_V_INT; v.u.i = strtoll(eq + 1, NULL, 10); break;
        case 'd': v.kind = TH_V_DEC; v.u.d = strtod(eq + 1, NULL); break;
        case 'b': v.kind = TH_V_BOOL; v.u.b = eq[1] == '1'; break;
        default:
            v.kind = TH_V_TEXT;
            v.u.s = eq + 1;
            for (char *c = v.u.s; *c; c++)
                if (*c == '_')
                    *c = ' ';
        }
        assert_int_equal(th_record_set(&r, &v), 0);
    }
    uint8_t *body, *blob;
    size_t bl, len;
    assert_int_equal(th_codec_record_body(&r, &body, &bl), 0);
    th_sign(&s_signer, body, bl, r.sig);
    th_free(body);
    if (tamper)
        r.sig[5] ^= 0x40;
    assert_int_equal(th_codec_record_encode(&r, &blob, &len), 0);
    char key[TH_KEY_MAX];
    th_record_key(&r, key, sizeof key);
    th_store_rev_t sr = { .key = key, .rev = rev, .status = (uint8_t)st,
                          .received_at = s_ms(received), .blob = blob, .len = len };
    s_put_t p = { &sr };
    assert_int_equal(th_store_write(s_hub->store, s_put_txn, &p), 0);
    th_free(blob);
    th_record_clear(&r);
}

typedef struct {
    const char *unit;
    int64_t offset;
} s_seen_t;

static int
s_seen_txn(th_store_txn_t *txn, void *ctx)
{
    s_seen_t *s = ctx;
    return th_peers_seen_put(txn, s->unit, th_now_ms(), s->offset);
}

static int
s_setup(void **state)
{
    (void)state;
    if (th_crypto_init() < 0)
        return -1;
    strcpy(s_tmp, "/tmp/th-consol-XXXXXX");
    if (!mkdtemp(s_tmp))
        return -1;
    char forms[128], units[128], dir[128], err[512];
    snprintf(forms, sizeof forms, "%s/forms", s_tmp);
    snprintf(units, sizeof units, "%s/units.csv", s_tmp);
    snprintf(dir, sizeof dir, "%s/p91", s_tmp);
    char path[160];
    if (mkdir(forms, 0700) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/thu.ini", forms);
    s_write_file(path, s_form);
    s_write_file(units, s_units);
    th_office_init_t opt = { .dir = dir, .unit = "91", .bind = "tcp://127.0.0.1:1",
                             .units_csv = units, .forms_dir = forms };
    if (th_office_init(&opt, err, sizeof err) < 0) {
        fprintf(stderr, "init: %s\n", err);
        return -1;
    }
    int rc;
    s_hub = th_office_open(dir, err, sizeof err, &rc);
    if (!s_hub) {
        fprintf(stderr, "open: %s\n", err);
        return -1;
    }
    th_identity_generate(&s_signer);
    /* 90101: on time, corrected later (rev 2 received 01/02/2025) */
    s_store("90101", "2024", 1, TH_STATUS_SUBMITTED, "2025-01-10T09:00", "2025-01-10T10:00",
            "iA=10 dB=1.5 bF=1 iMN=5 iMX=5 dME=2 iN=1 iD=2 sT=văn_bản_A", false);
    s_store("90101", "2024", 2, TH_STATUS_SUBMITTED, "2025-02-01T09:00", "2025-02-01T10:00",
            "iA=12 dB=1.5 bF=1 iMN=5 iMX=5 dME=2 iN=1 iD=2 sT=văn_bản_A", false);
    /* 90102: submitted late, 17/01/2025 10:00 (deadline 15/01: 2 days) */
    s_store("90102", "2024", 1, TH_STATUS_SUBMITTED, "2025-01-17T10:00", "2025-01-17T11:00",
            "iA=20 dB=2.25 bF=0 iMN=3 iMX=9 dME=4 iN=99 iD=100 sT=Nội_dung_B", false);
    /* 90103: its only report has a broken signature */
    s_store("90103", "2024", 1, TH_STATUS_SUBMITTED, "2025-01-05T09:00", "2025-01-05T10:00",
            "iA=700", true);
    /* 90201: on time, breaks rule R01 (N > D); a later draft is never counted */
    s_store("90201", "2024", 1, TH_STATUS_SUBMITTED, "2025-01-08T09:00", "2025-01-08T10:00",
            "iA=5 bF=1 iMN=7 iMX=1 dME=6 iN=5 iD=3", false);
    s_store("90201", "2024", 2, TH_STATUS_DRAFT, "2025-01-09T09:00", "2025-01-09T10:00",
            "iA=500", false);
    /* 90202 merged away on 30/06/2024: not in the tree of period 2024 */
    s_store("90202", "2024", 1, TH_STATUS_SUBMITTED, "2025-01-08T09:00", "2025-01-08T10:00",
            "iA=1000", false);
    s_seen_t seen1 = { "901", 20 * 60 * 1000 }, seen2 = { "902", 60 * 1000 };
    if (th_store_write(s_hub->store, s_seen_txn, &seen1) < 0 ||
        th_store_write(s_hub->store, s_seen_txn, &seen2) < 0)
        return -1;
    return 0;
}

static int
s_teardown(void **state)
{
    (void)state;
    th_office_destroy(&s_hub);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static th_rollup_t *
s_rollup(const char *unit, int64_t as_of)
{
    th_rollup_t *r = NULL;
    char err[256];
    int rc = th_rollup_compute(s_hub, "thu", "2024", unit, as_of, &r, err, sizeof err);
    if (rc < 0)
        fail_msg("rollup: %s", err);
    return r;
}

static const th_rollup_part_t *
s_child(const th_rollup_t *r, const char *code)
{
    for (size_t i = 0; i < r->nchildren; i++)
        if (strcmp(r->children[i].unit, code) == 0)
            return &r->children[i];
    fail_msg("no child %s", code);
    return NULL;
}

static void
test_rollup_aggregations_at_province(void **state)
{
    (void)state;
    th_rollup_t *r = s_rollup(NULL, INT64_MAX);
    const th_rollup_part_t *t = &r->total;
    assert_string_equal(t->unit, "91");
    /* 12 (rev 2 of 90101) + 20 + 5; not the draft 500, not the broken 700,
       not the merged unit's 1000 */
    const th_rollup_value_t *v = th_rollup_value(t, "A");
    assert_true(v->present && v->is_int);
    assert_int_equal(v->i, 37);
    v = th_rollup_value(t, "B");
    assert_true(v->present && !v->is_int);
    assert_float_equal(v->d, 3.75, 1e-12);
    assert_int_equal(v->n, 2);
    v = th_rollup_value(t, "F");
    assert_true(v->is_int);
    assert_int_equal(v->i, 2);
    assert_int_equal(th_rollup_value(t, "MN")->i, 3);
    assert_int_equal(th_rollup_value(t, "MX")->i, 9);
    assert_float_equal(th_rollup_value(t, "ME")->d, 4.0, 1e-12);
    /* 100 * (1 + 99 + 5) / (2 + 100 + 3) */
    v = th_rollup_value(t, "R");
    assert_true(v->present);
    assert_float_equal(v->d, 100.0, 1e-9);
    assert_float_equal(v->num, 105, 0);
    assert_float_equal(v->den, 105, 0);
    assert_int_equal(t->counted, 3);
    assert_int_equal(t->expected, 4);
    assert_int_equal(t->reported, 3);
    assert_int_equal(t->on_time, 2);
    assert_int_equal(r->nchildren, 2);
    th_rollup_destroy(&r);
    assert_null(r);
    th_rollup_destroy(&r);
}

static void
test_rollup_ratio_of_sums_not_mean_of_ratios(void **state)
{
    (void)state;
    th_rollup_t *r = s_rollup("901", INT64_MAX);
    /* 90101: 1/2, 90102: 99/100 -> 100 * 100/102 = 98.04, not (50 + 99) / 2 */
    const th_rollup_value_t *v = th_rollup_value(&r->total, "R");
    assert_true(v->present);
    assert_float_equal(v->d, 100.0 * 100.0 / 102.0, 1e-9);
    assert_true(v->d - 74.5 > 20);
    assert_int_equal(th_rollup_value(&r->total, "A")->i, 32);
    assert_int_equal(th_rollup_value(&r->total, "F")->i, 1);
    assert_int_equal(th_rollup_value(&r->total, "MN")->i, 3);
    assert_int_equal(th_rollup_value(&r->total, "MX")->i, 9);
    assert_float_equal(th_rollup_value(&r->total, "ME")->d, 3.0, 1e-12);
    assert_int_equal(r->nchildren, 3);   /* the three communes */
    assert_int_equal(r->total.expected, 3);
    th_rollup_destroy(&r);
}

static void
test_rollup_breakdown_per_child(void **state)
{
    (void)state;
    th_rollup_t *r = s_rollup(NULL, INT64_MAX);
    const th_rollup_part_t *d1 = s_child(r, "901"), *d2 = s_child(r, "902");
    assert_string_equal(d1->name, "Huyện Một");
    assert_int_equal(th_rollup_value(d1, "A")->i, 32);
    assert_float_equal(th_rollup_value(d1, "R")->d, 100.0 * 100.0 / 102.0, 1e-9);
    assert_int_equal(d1->expected, 3);
    assert_int_equal(d1->reported, 2);
    assert_int_equal(th_rollup_value(d2, "A")->i, 5);
    assert_false(th_rollup_value(d2, "B")->present);   /* nobody reported B */
    assert_int_equal(th_rollup_value(d2, "MN")->i, 7);
    assert_int_equal(th_rollup_value(d2, "MX")->i, 1);
    assert_float_equal(th_rollup_value(d2, "ME")->d, 6.0, 1e-12);
    assert_float_equal(th_rollup_value(d2, "R")->d, 500.0 / 3.0, 1e-9);
    assert_int_equal(d2->expected, 1);
    th_rollup_destroy(&r);
}

static void
test_rollup_as_of_takes_older_revision(void **state)
{
    (void)state;
    /* before the correction of 90101 arrived (01/02/2025): rev 1, A = 10 */
    th_rollup_t *r = s_rollup(NULL, s_ms("2025-01-20"));
    assert_int_equal(th_rollup_value(&r->total, "A")->i, 35);
    th_rollup_destroy(&r);
    /* before 90102 arrived (17/01 11:00): only 90101 rev 1 and 90201 */
    r = s_rollup(NULL, s_ms("2025-01-12"));
    assert_int_equal(th_rollup_value(&r->total, "A")->i, 15);
    assert_int_equal(r->total.reported, 2);
    assert_int_equal(r->total.counted, 2);
    th_rollup_destroy(&r);
    /* before anything arrived: every aggregate null */
    r = s_rollup(NULL, s_ms("2024-12-31"));
    assert_false(th_rollup_value(&r->total, "A")->present);
    assert_false(th_rollup_value(&r->total, "R")->present);
    assert_int_equal(r->total.reported, 0);
    th_rollup_destroy(&r);
}

static void
test_rollup_texts_kept_per_unit(void **state)
{
    (void)state;
    th_rollup_t *r = s_rollup(NULL, INT64_MAX);
    assert_int_equal(r->ntexts, 2);
    assert_string_equal(r->texts[0].code, "T");
    assert_string_equal(r->texts[0].unit, "90101");
    assert_string_equal(r->texts[0].name, "Xã Một Một");
    assert_string_equal(r->texts[0].text, "văn bản A");
    assert_string_equal(r->texts[1].unit, "90102");
    assert_string_equal(r->texts[1].text, "Nội dung B");
    assert_false(th_rollup_value(&r->total, "T")->present);
    th_rollup_destroy(&r);
}

static void
test_rollup_violations(void **state)
{
    (void)state;
    th_rollup_t *r = s_rollup(NULL, INT64_MAX);
    assert_int_equal(r->nviolations, 1);
    assert_string_equal(r->violations[0].unit, "90201");
    assert_string_equal(r->violations[0].name, "Xã Hai Một");
    assert_string_equal(r->violations[0].rule, "R01");
    assert_string_equal(r->violations[0].message, "Số đúng hạn không được lớn hơn số tiếp nhận");
    th_rollup_destroy(&r);
}

static void
test_rollup_json_shape(void **state)
{
    (void)state;
    th_rollup_t *r = s_rollup(NULL, s_ms("2025-01-20"));
    json_t *j = th_rollup_json(r);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "form")), "thu");
    assert_string_equal(json_string_value(json_object_get(j, "period")), "2024");
    assert_string_equal(json_string_value(json_object_get(j, "unit")), "91");
    assert_string_equal(json_string_value(json_object_get(j, "as_of")), "2025-01-19T17:00:00Z");
    json_t *vals = json_object_get(j, "values");
    assert_int_equal(json_integer_value(json_object_get(vals, "A")), 35);
    assert_true(json_is_real(json_object_get(vals, "R")));
    assert_null(json_object_get(vals, "T"));
    json_t *rep = json_object_get(j, "reporting");
    assert_int_equal(json_integer_value(json_object_get(rep, "expected")), 4);
    assert_int_equal(json_integer_value(json_object_get(rep, "reported")), 3);
    assert_int_equal(json_integer_value(json_object_get(rep, "on_time")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "children")), 2);
    json_t *t = json_object_get(json_object_get(j, "texts"), "T");
    assert_int_equal(json_array_size(t), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(t, 1), "text")),
                        "Nội dung B");
    assert_int_equal(json_array_size(json_object_get(j, "violations")), 1);
    json_decref(j);
    th_rollup_destroy(&r);
}

static void
test_rollup_errors(void **state)
{
    (void)state;
    th_rollup_t *r = NULL;
    char err[256] = "";
    assert_int_equal(th_rollup_compute(s_hub, "nope", "2024", NULL, INT64_MAX, &r, err,
                                       sizeof err), TH_E_FORM);
    assert_non_null(strstr(err, "nope"));
    assert_int_equal(th_rollup_compute(s_hub, "thu", "2024S1", NULL, INT64_MAX, &r, err,
                                       sizeof err), TH_E_PERIOD);
    assert_int_equal(th_rollup_compute(s_hub, "thu", "20x4", NULL, INT64_MAX, &r, err,
                                       sizeof err), TH_E_PERIOD);
    assert_int_equal(th_rollup_compute(s_hub, "thu", "2024", "99999", INT64_MAX, &r, err,
                                       sizeof err), TH_E_UNIT);
    /* 90202 no longer exists at the end of 2024 */
    assert_int_equal(th_rollup_compute(s_hub, "thu", "2024", "90202", INT64_MAX, &r, err,
                                       sizeof err), TH_E_UNIT);
    assert_int_equal(th_rollup_compute(s_hub, "thu", "2024", "bad code!", INT64_MAX, &r, err,
                                       sizeof err), TH_E_UNIT);
    assert_null(r);
    assert_int_equal(th_rollup_compute(NULL, "thu", "2024", NULL, 0, &r, NULL, 0),
                     TH_E_INVALID);
}

static void
test_rollup_out_of_memory(void **state)
{
    (void)state;
    /* every allocation failure gives -ENOMEM and leaks nothing (ASan) */
    for (long n = 0; n < 400; n++) {
        th_rollup_t *r = NULL;
        th_mem_fail_after(n);
        int rc = th_rollup_compute(s_hub, "thu", "2024", NULL, INT64_MAX, &r, NULL, 0);
        th_mem_fail_after(-1);
        if (rc == 0) {
            assert_non_null(r);
            th_rollup_destroy(&r);
            return;
        }
        assert_int_equal(rc, -ENOMEM);
        assert_null(r);
    }
    fail_msg("rollup still failing after 400 allocations");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rollup_aggregations_at_province),
        cmocka_unit_test(test_rollup_ratio_of_sums_not_mean_of_ratios),
        cmocka_unit_test(test_rollup_breakdown_per_child),
        cmocka_unit_test(test_rollup_as_of_takes_older_revision),
        cmocka_unit_test(test_rollup_texts_kept_per_unit),
        cmocka_unit_test(test_rollup_violations),
        cmocka_unit_test(test_rollup_json_shape),
        cmocka_unit_test(test_rollup_errors),
        cmocka_unit_test(test_rollup_out_of_memory),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
