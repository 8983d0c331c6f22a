/*  Tests of completeness: expected units in the period tree, on time,
    late (days), missing, per child, clock-suspect flags, as-of. */
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

static th_completeness_t *
s_compl(const char *unit, const char *period, int64_t as_of)
{
    th_completeness_t *c = NULL;
    char err[256];
    if (th_completeness_compute(s_hub, "thu", period, unit, as_of, &c, err, sizeof err) < 0)
        fail_msg("completeness: %s", err);
    return c;
}

static const th_compl_unit_t *
s_unit(const th_completeness_t *c, const char *code)
{
    for (size_t i = 0; i < c->nunits; i++)
        if (strcmp(c->units[i].unit, code) == 0)
            return &c->units[i];
    return NULL;
}

static void
test_completeness_counts_and_states(void **state)
{
    (void)state;
    th_completeness_t *c = s_compl(NULL, "2024", INT64_MAX);
    assert_int_equal(c->total.expected, 4);   /* 90202 merged away: not expected */
    assert_null(s_unit(c, "90202"));
    assert_null(s_unit(c, "901"));            /* districts do not report the form */
    assert_int_equal(c->total.reported, 3);
    assert_int_equal(c->total.on_time, 2);
    assert_int_equal(c->total.late, 1);
    assert_int_equal(c->total.missing, 1);
    assert_float_equal(c->total.reported_rate, 75.0, 1e-9);
    assert_float_equal(c->total.on_time_rate, 50.0, 1e-9);
    /* on time although its correction came after the deadline */
    assert_int_equal(s_unit(c, "90101")->state, TH_COMPL_ON_TIME);
    assert_int_equal(s_unit(c, "90101")->rev, 2);
    /* 17/01 10:00 against the end of 15/01: 1 day 10 hours, rounded up */
    const th_compl_unit_t *x = s_unit(c, "90102");
    assert_int_equal(x->state, TH_COMPL_LATE);
    assert_int_equal(x->days_late, 2);
    char d[11];
    th_date_format_iso(x->deadline, d);
    assert_string_equal(d, "2025-01-15");
    /* its only report has a broken signature */
    assert_int_equal(s_unit(c, "90103")->state, TH_COMPL_MISSING);
    assert_int_equal(s_unit(c, "90201")->state, TH_COMPL_ON_TIME);
    th_completeness_destroy(&c);
    assert_null(c);
    th_completeness_destroy(&c);
}

static void
test_completeness_per_child(void **state)
{
    (void)state;
    th_completeness_t *c = s_compl(NULL, "2024", INT64_MAX);
    assert_int_equal(c->nchildren, 2);
    const th_compl_count_t *d1 = &c->children[0], *d2 = &c->children[1];
    assert_string_equal(d1->unit, "901");
    assert_string_equal(d1->name, "Huyện Một");
    assert_int_equal(d1->expected, 3);
    assert_int_equal(d1->reported, 2);
    assert_int_equal(d1->on_time, 1);
    assert_int_equal(d1->late, 1);
    assert_int_equal(d1->missing, 1);
    assert_float_equal(d1->reported_rate, 200.0 / 3.0, 1e-9);
    assert_string_equal(d2->unit, "902");
    assert_int_equal(d2->expected, 1);
    assert_int_equal(d2->on_time, 1);
    assert_float_equal(d2->on_time_rate, 100.0, 1e-9);
    assert_string_equal(s_unit(c, "90102")->child, "901");
    th_completeness_destroy(&c);
    /* at a district: its communes are the children */
    c = s_compl("901", "2024", INT64_MAX);
    assert_int_equal(c->total.expected, 3);
    assert_int_equal(c->nchildren, 3);
    assert_int_equal(c->children[1].late, 1);
    th_completeness_destroy(&c);
}

static void
test_completeness_clock_suspect(void **state)
{
    (void)state;
    th_completeness_t *c = s_compl(NULL, "2024", INT64_MAX);
    /* district 901 measured 20 minutes ahead, 902 one minute */
    assert_true(s_unit(c, "90102")->clock_suspect);
    assert_true(s_unit(c, "90102")->has_offset);
    assert_int_equal(s_unit(c, "90102")->clock_offset_ms, 20 * 60 * 1000);
    assert_false(s_unit(c, "90201")->clock_suspect);
    assert_true(s_unit(c, "90201")->has_offset);
    assert_int_equal(c->total.clock_suspect, 3);
    th_completeness_destroy(&c);
}

static void
test_completeness_merged_unit_expected_while_in_force(void **state)
{
    (void)state;
    th_completeness_t *c = s_compl(NULL, "2023", INT64_MAX);
    assert_int_equal(c->total.expected, 5);
    assert_non_null(s_unit(c, "90202"));
    assert_int_equal(c->total.missing, 5);
    th_completeness_destroy(&c);
}

static void
test_completeness_as_of(void **state)
{
    (void)state;
    th_completeness_t *c = s_compl(NULL, "2024", s_ms("2025-01-12"));
    assert_int_equal(c->total.reported, 2);
    assert_int_equal(c->total.missing, 2);
    assert_int_equal(s_unit(c, "90102")->state, TH_COMPL_MISSING);
    assert_int_equal(s_unit(c, "90101")->rev, 1);
    th_completeness_destroy(&c);
}

static void
test_completeness_json(void **state)
{
    (void)state;
    th_completeness_t *c = s_compl(NULL, "2024", INT64_MAX);
    json_t *j = th_completeness_json(c);
    assert_non_null(j);
    json_t *t = json_object_get(j, "totals");
    assert_int_equal(json_integer_value(json_object_get(t, "expected")), 4);
    assert_float_equal(json_real_value(json_object_get(t, "reported_rate")), 75.0, 1e-9);
    json_t *late = json_object_get(j, "late");
    assert_int_equal(json_array_size(late), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(late, 0), "unit")),
                        "90102");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(late, 0),
                                                        "days_late")), 2);
    json_t *miss = json_object_get(j, "missing");
    assert_int_equal(json_array_size(miss), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(miss, 0), "name")),
                        "Xã Một Ba");
    assert_int_equal(json_array_size(json_object_get(j, "children")), 2);
    json_decref(j);
    th_completeness_destroy(&c);
}

static void
test_completeness_errors(void **state)
{
    (void)state;
    th_completeness_t *c = NULL;
    char err[256] = "";
    assert_int_equal(th_completeness_compute(s_hub, "nope", "2024", NULL, INT64_MAX, &c, err,
                                             sizeof err), TH_E_FORM);
    assert_int_equal(th_completeness_compute(s_hub, "thu", "2024Q1", NULL, INT64_MAX, &c,
                                             err, sizeof err), TH_E_PERIOD);
    assert_int_equal(th_completeness_compute(s_hub, "thu", "2024", "12345", INT64_MAX, &c,
                                             err, sizeof err), TH_E_UNIT);
    assert_non_null(strstr(err, "12345"));
    assert_null(c);
}

static void
test_completeness_out_of_memory(void **state)
{
    (void)state;
    for (long n = 0; n < 200; n++) {
        th_completeness_t *c = NULL;
        th_mem_fail_after(n);
        int rc = th_completeness_compute(s_hub, "thu", "2024", NULL, INT64_MAX, &c, NULL, 0);
        th_mem_fail_after(-1);
        if (rc == 0) {
            th_completeness_destroy(&c);
            return;
        }
        assert_int_equal(rc, -ENOMEM);
        assert_null(c);
    }
    fail_msg("still failing after 200 allocations");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_completeness_counts_and_states),
        cmocka_unit_test(test_completeness_per_child),
        cmocka_unit_test(test_completeness_clock_suspect),
        cmocka_unit_test(test_completeness_merged_unit_expected_while_in_force),
        cmocka_unit_test(test_completeness_as_of),
        cmocka_unit_test(test_completeness_json),
        cmocka_unit_test(test_completeness_errors),
        cmocka_unit_test(test_completeness_out_of_memory),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
