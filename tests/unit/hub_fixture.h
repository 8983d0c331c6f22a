/*  hub_fixture: the hub shared by test_rollup.c and test_completeness.c.
    Header-only, included once by each of those test binaries. */
#ifndef TH_TEST_HUB_FIXTURE_H
#define TH_TEST_HUB_FIXTURE_H

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


#endif
