/*  Unit tests for common/forms: the shipped forms as the model holds them,
    the lookups, the yes/no words, the names and the versioned set. Run
    from the repository root. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "forms.h"
#include "mem.h"
#include "model.h"

#include "forms_fixture.h"

/* ---- shipped forms -------------------------------------------------------- */

static void
test_forms_shipped_annual_parses(void **state)
{
    (void)state;
    th_form_t *f = s_load(NAM);
    assert_string_equal(f->id, "dvcq-nam");
    assert_int_equal(f->version, 2);
    assert_string_equal(f->title,
                        "Báo cáo kết quả thực hiện công tác dân vận chính quyền năm");
    assert_int_equal(f->period_type, TH_PT_YEARLY);
    /* communes, districts (their own work) and provincial departments report */
    assert_int_equal(f->nlevels, 3);
    assert_string_equal(f->levels[0], "commune");
    assert_string_equal(f->levels[1], "district");
    assert_string_equal(f->levels[2], "department");
    assert_true(th_form_reported_by(f, "commune"));
    assert_true(th_form_reported_by(f, "district"));
    assert_true(th_form_reported_by(f, "department"));
    assert_false(th_form_reported_by(f, "province"));
    const th_deadline_spec_t *d = th_form_deadline(f, "province");
    assert_non_null(d);
    assert_int_equal(d->day, 1);
    assert_int_equal(d->month, 11);
    assert_int_equal(d->years, 0);
    d = th_form_deadline(f, "district");
    assert_non_null(d);
    assert_int_equal(d->day, 25);
    assert_int_equal(d->month, 10);
    assert_null(th_form_deadline(f, "commune"));
    /* the data cut-off: 15/10 of the year before to 14/10 (docs/design.md) */
    th_period_t p2026;
    int32_t cf, ct;
    char cut[96];
    assert_int_equal(th_period_parse("2026", &p2026), 0);
    assert_true(th_form_cutoff(f, &p2026, &cf, &ct));
    assert_string_equal(th_form_cutoff_text(f, &p2026, cut, sizeof cut),
                        "Số liệu tính từ ngày 15/10/2025 đến ngày 14/10/2026");

    assert_int_equal(f->nsections, 10);
    assert_string_equal(f->sections[0].id, "I");
    assert_string_equal(f->sections[0].title,
                        "Tuyên truyền, phổ biến chủ trương, chính sách, pháp luật");
    assert_int_equal(f->nindicators, 31);
    assert_string_equal(f->indicators[0].code, "TT01");   /* file order */
    assert_string_equal(f->indicators[30].code, "ND04");

    const th_indicator_t *i = th_form_indicator(f, "TT01");
    assert_non_null(i);
    assert_string_equal(i->label, "Số buổi tuyên truyền, phổ biến chủ trương, chính sách, pháp luật");
    assert_int_equal(i->type, TH_IT_INT);
    assert_int_equal(i->agg, TH_AGG_SUM);
    assert_string_equal(i->unit, "buổi");
    assert_string_equal(i->section, "I");
    assert_true(i->required);
    assert_true(i->has_min);
    assert_true(i->min == 0);
    assert_false(i->has_max);

    i = th_form_indicator(f, "CCHC03");
    assert_non_null(i);
    assert_int_equal(i->agg, TH_AGG_RATIO);
    assert_true(i->computed);
    assert_string_equal(i->numerator, "CCHC02");
    assert_string_equal(i->denominator, "CCHC01");
    assert_true(i->scale == 100);
    assert_string_equal(i->unit, "%");
    assert_string_equal(i->section, "V");

    i = th_form_indicator(f, "LD01");
    assert_int_equal(i->type, TH_IT_BOOL);
    assert_int_equal(i->agg, TH_AGG_COUNT_TRUE);
    i = th_form_indicator(f, "ND01");
    assert_int_equal(i->type, TH_IT_TEXT);
    assert_int_equal(i->agg, TH_AGG_TEXT);   /* default for text */
    assert_true(i->required);
    i = th_form_indicator(f, "DG01");   /* options continued over two lines */
    assert_int_equal(i->type, TH_IT_ENUM);
    assert_int_equal(i->noptions, 4);
    assert_string_equal(i->options[0].code, "xs");
    assert_string_equal(i->options[0].label, "Hoàn thành xuất sắc");
    assert_string_equal(i->options[3].code, "kht");
    assert_string_equal(i->options[3].label, "Không hoàn thành");
    assert_null(th_form_indicator(f, "XX99"));

    assert_int_equal(f->nrules, 6);
    assert_string_equal(f->rules[0].id, "R01");
    assert_string_equal(f->rules[0].expr, "DVK02 <= DVK01");
    assert_non_null(f->rules[0].rule);
    assert_string_equal(f->rules[0].message, "Số mô hình \"Dân vận khéo\" được công nhận "
                        "không được lớn hơn số mô hình đã đăng ký");

    /* the source is kept byte for byte */
    size_t n;
    const char *buf = s_source(NAM, &n);
    assert_int_equal(f->source_len, n);
    assert_memory_equal(f->source, buf, n);
    assert_string_equal(f->origin, NAM);
    th_form_destroy(&f);
    assert_null(f);
    th_form_destroy(&f);
}

static void
test_forms_shipped_sixmonth_parses(void **state)
{
    (void)state;
    th_form_t *f = s_load(SAU);
    assert_string_equal(f->id, "dvcq-6thang");
    assert_int_equal(f->period_type, TH_PT_SIXMONTHLY);
    assert_string_equal(f->title,
                        "Báo cáo kết quả thực hiện công tác dân vận chính quyền 6 tháng");
    const th_deadline_spec_t *d = th_form_deadline(f, "province");
    assert_non_null(d);
    assert_int_equal(d->day, 10);
    assert_int_equal(d->month, 6);
    d = th_form_deadline(f, "district");
    assert_int_equal(d->day, 5);
    assert_int_equal(d->month, 6);
    assert_true(th_form_reported_by(f, "commune"));
    assert_int_equal(f->nindicators, 30);
    assert_null(th_form_indicator(f, "DG01"));
    assert_non_null(th_form_indicator(f, "TCD04"));
    assert_true(th_form_indicator(f, "TCD04")->computed);
    assert_int_equal(f->nrules, 6);
    /* every indicator has a label, and every count is int, sum, min 0 */
    for (size_t k = 0; k < f->nindicators; k++) {
        const th_indicator_t *i = &f->indicators[k];
        assert_true(strlen(i->label) > 5);
        assert_true(i->section[0] != '\0');
        if (i->type == TH_IT_INT) {
            assert_int_equal(i->agg, TH_AGG_SUM);
            assert_true(i->has_min && i->min == 0);
        }
    }
    th_form_destroy(&f);
}

/* ---- lookups and words ----------------------------------------------------- */

/* A form built by hand, as a maker other than the INI reader would: lookups
   search linearly until th_form_index, by binary search after. */
static void
test_forms_indicator_lookup_with_and_without_index(void **state)
{
    (void)state;
    th_indicator_t inds[3];
    memset(inds, 0, sizeof inds);
    strcpy(inds[0].code, "Z9");   /* file order is not code order */
    strcpy(inds[1].code, "A1");
    strcpy(inds[2].code, "M5");
    th_form_t f;
    memset(&f, 0, sizeof f);
    f.indicators = inds;
    f.nindicators = 3;
    assert_ptr_equal(th_form_indicator(&f, "A1"), &inds[1]);
    assert_null(th_form_indicator(&f, "B2"));
    assert_int_equal(th_form_index(&f), 0);
    assert_non_null(f.by_code);
    assert_ptr_equal(th_form_indicator(&f, "Z9"), &inds[0]);
    assert_ptr_equal(th_form_indicator(&f, "A1"), &inds[1]);
    assert_ptr_equal(th_form_indicator(&f, "M5"), &inds[2]);
    assert_null(th_form_indicator(&f, "B2"));
    assert_null(th_form_indicator(&f, NULL));
    assert_null(th_form_indicator(NULL, "A1"));
    th_mem_fail_after(0);
    int rc = th_form_index(&f);
    th_mem_fail_after(-1);
    assert_int_equal(rc, -ENOMEM);
    assert_null(f.by_code);   /* back to the linear search, still right */
    assert_ptr_equal(th_form_indicator(&f, "M5"), &inds[2]);
    assert_int_equal(th_form_index(NULL), -EINVAL);
}

static void
test_forms_yesno_words(void **state)
{
    (void)state;
    const char *yes[] = { "yes", "Yes", "TRUE", "1", "có", "Có", "CÓ", "co", "CO" };
    const char *no[] = { "no", "NO", "false", "0", "không", "Không", "KHÔNG", "khong" };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        bool b = false;
        if (th_yesno_parse(yes[i], &b) != 0 || !b)
            fail_msg("'%s' should be yes", yes[i]);
    }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        bool b = true;
        if (th_yesno_parse(no[i], &b) != 0 || b)
            fail_msg("'%s' should be no", no[i]);
    }
    const char *bad[] = { "", "x", "maybe", "2", "đúng", " yes", "yes ", "yesyesyesyesyesyes" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        bool b = true;
        if (th_yesno_parse(bad[i], &b) != TH_E_INVALID || !b)
            fail_msg("'%s' should be refused, *out untouched", bad[i]);
    }
}

/* ---- the set ----------------------------------------------------------------- */

static th_form_t *
s_mini(const char *id, int version)
{
    char text[256];
    snprintf(text, sizeof text, "[form]\nid = %s\nversion = %d\ntitle = T\n"
             "period_type = monthly\nlevels = commune\n[indicator A]\nlabel = A\ntype = int\n",
             id, version);
    return s_parse(text);
}

static void
test_forms_set_versioning(void **state)
{
    (void)state;
    th_forms_t *fs = th_forms_new();
    th_form_t *f = s_mini("b", 2);
    assert_int_equal(th_forms_add(fs, &f), 0);
    assert_null(f);
    f = s_mini("a", 1);
    assert_int_equal(th_forms_add(fs, &f), 0);
    f = s_mini("c", 1);
    assert_int_equal(th_forms_add(fs, &f), 0);
    assert_int_equal(th_forms_count(fs), 3);
    assert_string_equal(th_forms_at(fs, 0)->id, "a");
    assert_string_equal(th_forms_at(fs, 1)->id, "b");
    assert_string_equal(th_forms_at(fs, 2)->id, "c");

    f = s_mini("b", 2);   /* equal version: dropped */
    assert_int_equal(th_forms_add(fs, &f), TH_E_STALE);
    assert_null(f);
    f = s_mini("b", 1);   /* older: dropped */
    assert_int_equal(th_forms_add(fs, &f), TH_E_STALE);
    assert_null(f);
    assert_int_equal(th_forms_get(fs, "b")->version, 2);
    f = s_mini("b", 3);   /* newer: replaces */
    assert_int_equal(th_forms_add(fs, &f), 0);
    assert_int_equal(th_forms_get(fs, "b")->version, 3);
    assert_int_equal(th_forms_count(fs), 3);
    assert_null(th_forms_get(fs, "d"));
    assert_int_equal(th_forms_add(fs, NULL), -EINVAL);
    f = s_mini("e", 1);
    assert_int_equal(th_forms_add(NULL, &f), -EINVAL);
    assert_null(f);   /* ownership taken even then */
    th_forms_destroy(&fs);
}

static void
test_forms_names_round_trip(void **state)
{
    (void)state;
    for (int t = TH_IT_INT; t <= TH_IT_ENUM; t++) {
        th_itype_t back = 0;
        assert_int_equal(th_itype_parse(th_itype_name((th_itype_t)t), &back), 0);
        assert_int_equal(back, t);
    }
    for (int a = TH_AGG_SUM; a <= TH_AGG_TEXT; a++) {
        th_agg_t back = 0;
        assert_int_equal(th_agg_parse(th_agg_name((th_agg_t)a), &back), 0);
        assert_int_equal(back, a);
    }
    assert_string_equal(th_itype_name(TH_IT_DEC), "decimal");
    assert_string_equal(th_agg_name(TH_AGG_COUNT_TRUE), "count_true");
    assert_string_equal(th_itype_name((th_itype_t)0), "?");
    th_agg_t a;
    assert_int_equal(th_agg_parse("Sum", &a), TH_E_INVALID);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms_shipped_annual_parses),
        cmocka_unit_test(test_forms_shipped_sixmonth_parses),
        cmocka_unit_test(test_forms_indicator_lookup_with_and_without_index),
        cmocka_unit_test(test_forms_yesno_words),
        cmocka_unit_test(test_forms_set_versioning),
        cmocka_unit_test(test_forms_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
