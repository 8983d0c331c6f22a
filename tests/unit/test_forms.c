/*  Unit tests for common/forms: the shipped forms, every parse error with
    its line, typed-value parsing (Vietnamese formats), record validation,
    computed ratios and the versioned set. Run from the repository root. */
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

#define NAM   "config/forms/dvcq-nam.ini"
#define SAU   "config/forms/dvcq-6thang.ini"

/* Six lines of a valid [form] section; case texts continue at line 7. */
#define HDR "[form]\nid = t\nversion = 1\ntitle = Thử\nperiod_type = yearly\nlevels = commune\n"

static th_form_t *
s_parse(const char *text)
{
    char eb[256];
    int err = 1;
    th_form_t *f = th_form_parse(text, strlen(text), "t.ini", eb, sizeof eb, &err);
    if (!f)
        fail_msg("parse failed: %s", eb);
    assert_int_equal(err, 0);
    return f;
}

static th_form_t *
s_load(const char *path)
{
    char eb[256];
    int err = 1;
    th_form_t *f = th_form_load(path, eb, sizeof eb, &err);
    if (!f)
        fail_msg("load %s failed: %s", path, eb);
    return f;
}

/* Parsing text must fail with exactly this message. */
static void
s_expect(const char *text, int want_err, const char *want_msg)
{
    char eb[256];
    int err = 0;
    th_form_t *f = th_form_parse(text, strlen(text), "t.ini", eb, sizeof eb, &err);
    if (f) {
        th_form_destroy(&f);
        fail_msg("parsed but expected: %s", want_msg);
    }
    assert_int_equal(err, want_err);
    assert_string_equal(eb, want_msg);
}

static void
s_set_int(th_record_t *r, const char *code, int64_t i)
{
    th_value_t v = { .kind = TH_V_INT, .u.i = i };
    snprintf(v.code, sizeof v.code, "%s", code);
    assert_int_equal(th_record_set(r, &v), 0);
}

static void
s_set_dec(th_record_t *r, const char *code, double d)
{
    th_value_t v = { .kind = TH_V_DEC, .u.d = d };
    snprintf(v.code, sizeof v.code, "%s", code);
    assert_int_equal(th_record_set(r, &v), 0);
}

static void
s_set_bool(th_record_t *r, const char *code, bool b)
{
    th_value_t v = { .kind = TH_V_BOOL, .u.b = b };
    snprintf(v.code, sizeof v.code, "%s", code);
    assert_int_equal(th_record_set(r, &v), 0);
}

static void
s_set_text(th_record_t *r, const char *code, const char *s)
{
    th_value_t v = { .kind = TH_V_TEXT, .u.s = (char *)s };
    snprintf(v.code, sizeof v.code, "%s", code);
    assert_int_equal(th_record_set(r, &v), 0);
}

/* A complete, valid annual report for the shipped form. */
static void
s_fill_valid(th_record_t *r)
{
    s_set_int(r, "TT01", 12);
    s_set_int(r, "TT02", 1530);
    s_set_bool(r, "LD01", true);
    s_set_int(r, "DVK01", 3);
    s_set_int(r, "DVK02", 2);
    s_set_int(r, "CCHC01", 1200);
    s_set_int(r, "CCHC02", 1188);
    s_set_int(r, "TCD01", 40);
    s_set_int(r, "TCD02", 15);
    s_set_int(r, "TCD03", 14);
    s_set_bool(r, "DC01", true);
    s_set_text(r, "DG01", "tot");
    s_set_text(r, "ND01", "Hoàn thành 2 mô hình \"Dân vận khéo\" cấp xã.");
}

static const th_problem_t *
s_find_problem(const th_problems_t *p, const char *code)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].code, code) == 0)
            return &p->items[i];
    return NULL;
}

/* ---- shipped forms -------------------------------------------------------- */

static void
test_forms_shipped_annual_parses(void **state)
{
    (void)state;
    th_form_t *f = s_load(NAM);
    assert_string_equal(f->id, "dvcq-nam");
    assert_int_equal(f->version, 1);
    assert_string_equal(f->title,
                        "Báo cáo kết quả thực hiện công tác dân vận chính quyền năm");
    assert_int_equal(f->period_type, TH_PT_YEARLY);
    assert_int_equal(f->nlevels, 1);
    assert_string_equal(f->levels[0], "commune");
    assert_true(th_form_reported_by(f, "commune"));
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
    FILE *fp = fopen(NAM, "rb");
    assert_non_null(fp);
    static char buf[TH_FORM_SOURCE_MAX];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
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

static void
test_forms_load_dir_sorted_by_id(void **state)
{
    (void)state;
    th_forms_t *fs = th_forms_new();
    assert_non_null(fs);
    char eb[256];
    assert_int_equal(th_forms_load_dir(fs, "config/forms", eb, sizeof eb), 0);
    assert_int_equal(th_forms_count(fs), 2);
    assert_string_equal(th_forms_at(fs, 0)->id, "dvcq-6thang");
    assert_string_equal(th_forms_at(fs, 1)->id, "dvcq-nam");
    assert_null(th_forms_at(fs, 2));
    assert_non_null(th_forms_get(fs, "dvcq-nam"));
    assert_int_equal(th_forms_load_dir(fs, "config/no-such-dir", eb, sizeof eb), -ENOENT);
    th_forms_destroy(&fs);
    assert_null(fs);
    th_forms_destroy(&fs);
}

/* ---- parse errors ------------------------------------------------------------ */

static void
test_forms_parse_errors_name_line(void **state)
{
    (void)state;
    s_expect(HDR "[indicatr X]\n", TH_E_PARSE,
             "t.ini:7: unknown section '[indicatr X]' (expected [form], [section ID], "
             "[indicator CODE] or [rule ID])");
    s_expect(HDR "colour = red\n", TH_E_PARSE, "t.ini:7: unknown key 'colour' in [form]");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = int\nlabl = B\n", TH_E_PARSE,
             "t.ini:10: unknown key 'labl' in [indicator A]");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = int\n[indicator A]\nlabel = B\ntype = int\n",
             TH_E_PARSE, "t.ini:10: duplicate indicator A (first at line 7)");
    s_expect(HDR "[indicator A]\nlabel = A\nlabel = B\n", TH_E_PARSE,
             "t.ini:9: duplicate key 'label'");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = integer\n", TH_E_PARSE,
             "t.ini:9: bad type 'integer' (expected int, decimal, bool, text or enum)");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = int\nagg = total\n", TH_E_PARSE,
             "t.ini:10: bad agg 'total' (expected sum, count_true, min, max, mean, ratio or text)");
    s_expect(HDR "[indicator A]\ntype = int\n[indicator B]\n", TH_E_PARSE,
             "t.ini:7: indicator A has no label");
    s_expect(HDR "[indicator A]\nlabel = A\n", TH_E_PARSE, "t.ini:7: indicator A has no type");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = int\nagg = count_true\n", TH_E_PARSE,
             "t.ini:10: indicator A: agg = count_true needs type bool, not int");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = text\nagg = sum\n", TH_E_PARSE,
             "t.ini:10: indicator A: agg = sum needs type int or decimal, not text");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = bool\nagg = mean\n", TH_E_PARSE,
             "t.ini:10: indicator A: agg = mean needs type int or decimal, not bool");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = int\nagg = text\n", TH_E_PARSE,
             "t.ini:10: indicator A: agg = text needs type text or enum, not int");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = decimal\nagg = ratio\nnumerator = B\n",
             TH_E_PARSE, "t.ini:10: indicator A: agg = ratio needs numerator and denominator");
    s_expect(HDR "[indicator B]\nlabel = B\ntype = int\n"
             "[indicator A]\nlabel = A\ntype = decimal\nagg = ratio\nnumerator = B\n"
             "denominator = C\n", TH_E_PARSE,
             "t.ini:10: indicator A: denominator 'C' is not an indicator of this form");
    s_expect(HDR "[indicator B]\nlabel = B\ntype = text\n[indicator C]\nlabel = C\ntype = int\n"
             "[indicator A]\nlabel = A\ntype = decimal\nagg = ratio\nnumerator = B\n"
             "denominator = C\n", TH_E_PARSE,
             "t.ini:13: indicator A: numerator 'B' must be an entered int or decimal indicator");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = int\nscale = 100\n", TH_E_PARSE,
             "t.ini:10: indicator A: scale applies only to agg = ratio");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = int\n[rule R1]\nexpr = A <= \n"
             "message = Sai\n", TH_E_PARSE,
             "t.ini:11: rule R1: column 5: expected an operand but found end of expression");
    s_expect(HDR "[rule R1]\nexpr = A <= B\nmessage = Sai\n[indicator A]\nlabel = A\n"
             "type = int\n", TH_E_PARSE, "t.ini:8: rule R1 names unknown indicator 'B'");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = text\n[rule R1]\nexpr = A > 0\n"
             "message = Sai\n", TH_E_PARSE, "t.ini:11: rule R1: indicator 'A' is text, not a number");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = int\n[rule R1]\nexpr = A > 0\n", TH_E_PARSE,
             "t.ini:10: rule R1 has no message");
    s_expect(HDR "deadline.province = 31/13\n", TH_E_PARSE,
             "t.ini:7: bad deadline '31/13' (expected dd/mm or dd/mm+N)");
    s_expect(HDR "deadline.Province = 01/11\n", TH_E_PARSE,
             "t.ini:7: bad level 'Province' in 'deadline.Province'");
    s_expect(HDR "[indicator A]\nsection = II\nlabel = A\ntype = int\n", TH_E_PARSE,
             "t.ini:7: indicator A: unknown section 'II'");
    s_expect("[form]\nid = t\nversion = 1\ntitle = T\nperiod_type = weekly\n", TH_E_PARSE,
             "t.ini:5: bad period_type 'weekly' (expected yearly, sixmonthly, quarterly or monthly)");
    s_expect("[form]\nid = T!\n", TH_E_PARSE,
             "t.ini:2: bad form id 'T!' (expected 1 to 31 of a-z 0-9 . _ -)");
    s_expect("[form]\nid = t\nversion = 0\n", TH_E_PARSE,
             "t.ini:3: bad version '0' (expected a whole number from 1)");
    s_expect("[form]\nid = t\nversion = 1\nperiod_type = yearly\nlevels = commune\n"
             "[indicator A]\nlabel = A\ntype = int\n", TH_E_PARSE, "t.ini:1: [form] has no title");
    s_expect("; nothing\n[indicator A]\nlabel = A\ntype = int\n", TH_E_PARSE,
             "t.ini:1: no [form] section");
    s_expect(HDR, TH_E_PARSE, "t.ini:1: the form has no [indicator] section");
    s_expect("id = t\n", TH_E_PARSE, "t.ini:1: key 'id' outside any section (start with [form])");
    s_expect(HDR "[section I]\n[indicator A]\nlabel = A\ntype = int\n", TH_E_PARSE,
             "t.ini:7: section I has no title");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = enum\n", TH_E_PARSE,
             "t.ini:7: indicator A: type enum needs options");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = int\noptions = a: A\n", TH_E_PARSE,
             "t.ini:10: indicator A: options apply only to type enum");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = enum\noptions = a: A | a: B\n", TH_E_PARSE,
             "t.ini:10: indicator A: duplicate option 'a'");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = enum\noptions = a A\n", TH_E_PARSE,
             "t.ini:10: indicator A: option 'a A' is not 'code: label'");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = int\nmin = 5\nmax = 1\n", TH_E_PARSE,
             "t.ini:11: indicator A: max is smaller than min");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = int\nmin = zero\n", TH_E_PARSE,
             "t.ini:10: bad min 'zero' (expected a number such as 0 or 12.5)");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = bool\nmin = 0\n", TH_E_PARSE,
             "t.ini:10: indicator A: min/max apply only to type int or decimal");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = int\nrequired = maybe\n", TH_E_PARSE,
             "t.ini:10: bad required 'maybe' (expected yes or no)");
    s_expect(HDR "[indicator A]\ntype = int\n  label = A\n", TH_E_PARSE,
             "t.ini:9: indented line continues 'type', which cannot span lines (keys must "
             "start at the beginning of the line)");
    s_expect(HDR "[indicator A]\nlabel A\n", TH_E_PARSE,
             "t.ini:8: expected 'key = value', '[section]' or a comment");
    s_expect(HDR "[indicator A\n", TH_E_PARSE, "t.ini:7: section header without ']'");
    s_expect(HDR "[indicator 1A]\n", TH_E_PARSE,
             "t.ini:7: bad indicator code '1A' (a letter or '_' first, then letters, digits, "
             "'_', '.'; not and/or/not)");
    s_expect(HDR "[indicator A]\nlabel = \xc3\x28\n", TH_E_PARSE, "t.ini:8: invalid UTF-8");
    s_expect("[form]\nlevels = commune, ,district\n", TH_E_PARSE,
             "t.ini:2: bad level list 'commune, ,district'");
    s_expect("[form]\n[form]\n", TH_E_PARSE, "t.ini:2: second [form] section (first at line 1)");

    /* a line longer than libinih's buffer is an error, never truncated */
    char big[512];
    int n = snprintf(big, sizeof big, HDR "[indicator A]\nlabel = ");
    memset(big + n, 'a', 190);
    strcpy(big + n + 190, "\ntype = int\n");
    s_expect(big, TH_E_PARSE, "t.ini:8: line longer than 197 bytes: continue a long text on "
             "the next line, indented");

    char withnul[] = HDR "[indicator A]\nlabel = A\0B\ntype = int\n";
    char eb[256];
    int err = 0;
    assert_null(th_form_parse(withnul, sizeof withnul - 1, "t.ini", eb, sizeof eb, &err));
    assert_int_equal(err, TH_E_PARSE);
    assert_string_equal(eb, "t.ini:8: NUL byte in the text");

    /* sizes and arguments */
    assert_null(th_form_parse("x", TH_FORM_SOURCE_MAX + 1, "t.ini", eb, sizeof eb, &err));
    assert_int_equal(err, TH_E_LIMIT);
    assert_null(th_form_parse(NULL, 0, NULL, eb, sizeof eb, &err));
    assert_int_equal(err, -EINVAL);
    assert_null(th_form_load("config/forms/absent.ini", eb, sizeof eb, &err));
    assert_int_equal(err, -ENOENT);
    assert_null(th_form_parse("[form]\n", 7, NULL, NULL, 0, NULL));   /* optional out args */
}

static void
test_forms_parse_syntax_conveniences(void **state)
{
    (void)state;
    /* BOM, CRLF, '#' comments, inline comments, continued label, default
       section from the last [section] above, default aggregations */
    const char *text =
        "\xEF\xBB\xBF# biểu mẫu thử\r\n"
        "[form]\r\n"
        "id = t.x_1-2 ; inline comment\r\n"
        "version = 7\r\n"
        "title = Biểu mẫu thử\r\n"
        "period_type = quarterly\r\n"
        "levels = commune, district\r\n"
        "deadline.district = 15/04+1\r\n"
        "[section II]\r\n"
        "title = Phần hai\r\n"
        "[indicator A.1]\r\n"
        "label = Số lượt người\r\n"
        "   tham dự ; ghi chú\r\n"
        "\r\n"
        "\tcả trực tuyến\r\n"
        "type = decimal\r\n"
        "max = 12.5\r\n"
        "[indicator B]\r\n"
        "label = Có hay không\r\n"
        "type = bool\r\n"
        "required = có\r\n"
        "[ indicator C ]\r\n"
        "label = Ghi chú\r\n"
        "type = text\r\n";
    th_form_t *f = s_parse(text);
    assert_string_equal(f->id, "t.x_1-2");
    assert_int_equal(f->version, 7);
    assert_int_equal(f->period_type, TH_PT_QUARTERLY);
    assert_int_equal(f->nlevels, 2);
    assert_string_equal(f->levels[1], "district");
    assert_true(th_form_reported_by(f, "district"));
    assert_int_equal(th_form_deadline(f, "district")->years, 1);
    const th_indicator_t *a = th_form_indicator(f, "A.1");
    assert_non_null(a);
    assert_string_equal(a->label, "Số lượt người tham dự cả trực tuyến");
    assert_string_equal(a->section, "II");
    assert_int_equal(a->agg, TH_AGG_SUM);
    assert_true(a->has_max && a->max == 12.5);
    assert_string_equal(a->unit, "");
    assert_string_equal(a->help, "");
    const th_indicator_t *b = th_form_indicator(f, "B");
    assert_int_equal(b->agg, TH_AGG_COUNT_TRUE);
    assert_true(b->required);
    assert_int_equal(th_form_indicator(f, "C")->agg, TH_AGG_TEXT);
    assert_non_null(th_form_section(f, "II"));
    assert_null(th_form_section(f, "I"));
    th_form_destroy(&f);
}

static void
test_forms_parse_out_of_memory_is_clean(void **state)
{
    (void)state;
    FILE *fp = fopen(NAM, "rb");
    assert_non_null(fp);
    static char buf[TH_FORM_SOURCE_MAX];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    int failures = 0;
    for (long k = 0; k < 5000; k++) {
        th_mem_fail_after(k);
        int err = 0;
        th_form_t *f = th_form_parse(buf, n, NAM, NULL, 0, &err);
        th_mem_fail_after(-1);
        if (f) {
            assert_int_equal(f->nindicators, 31);
            th_form_destroy(&f);
            break;
        }
        assert_int_equal(err, -ENOMEM);
        failures++;
    }
    assert_true(failures > 50);
}

/* ---- typed values -------------------------------------------------------------- */

static th_indicator_t
s_ind(th_itype_t t)
{
    th_indicator_t i;
    memset(&i, 0, sizeof i);
    strcpy(i.code, "X1");
    i.type = t;
    return i;
}

static void
s_int_ok(const char *text, int64_t want)
{
    th_indicator_t ind = s_ind(TH_IT_INT);
    th_value_t v;
    const char *msg = "unset";
    int rc = th_form_parse_value(&ind, text, &v, &msg);
    if (rc)
        fail_msg("'%s' rejected: %s", text, msg ? msg : "");
    assert_int_equal(v.kind, TH_V_INT);
    assert_string_equal(v.code, "X1");
    assert_true(v.u.i == want);
}

static void
s_dec_ok(const char *text, double want)
{
    th_indicator_t ind = s_ind(TH_IT_DEC);
    th_value_t v;
    const char *msg = NULL;
    int rc = th_form_parse_value(&ind, text, &v, &msg);
    if (rc)
        fail_msg("'%s' rejected: %s", text, msg ? msg : "");
    assert_int_equal(v.kind, TH_V_DEC);
    if (v.u.d != want)
        fail_msg("'%s' gave %.17g, want %.17g", text, v.u.d, want);
}

static void
s_bad_value(th_itype_t t, const char *text, const char *want_msg)
{
    th_indicator_t ind = s_ind(t);
    th_value_t v;
    const char *msg = NULL;
    assert_int_equal(th_form_parse_value(&ind, text, &v, &msg), TH_E_INVALID);
    if (!msg || strcmp(msg, want_msg) != 0)
        fail_msg("'%s': message '%s', want '%s'", text, msg ? msg : "(null)", want_msg);
}

static void
test_forms_parse_value_int_vietnamese_formats(void **state)
{
    (void)state;
    s_int_ok("0", 0);
    s_int_ok("1234567", 1234567);
    s_int_ok("1.234.567", 1234567);
    s_int_ok("1 234", 1234);
    s_int_ok("1\xc2\xa0" "234\xc2\xa0" "567", 1234567);   /* no-break spaces */
    s_int_ok("  -12  ", -12);
    s_int_ok("1.234", 1234);
    s_int_ok("9223372036854775807", INT64_MAX);
    s_int_ok("-9.223.372.036.854.775.808", INT64_MIN);
    s_bad_value(TH_IT_INT, "12,5", "Phải là số nguyên");
    s_bad_value(TH_IT_INT, "12.5", "Phải là số nguyên");
    s_bad_value(TH_IT_INT, "1.23.456", "Phải là số nguyên");
    s_bad_value(TH_IT_INT, "1234.567", "Phải là số nguyên");
    s_bad_value(TH_IT_INT, ".123", "Phải là số nguyên");
    s_bad_value(TH_IT_INT, "12a", "Phải là số nguyên");
    s_bad_value(TH_IT_INT, "1..234", "Phải là số nguyên");
    s_bad_value(TH_IT_INT, "-", "Phải là số nguyên");
    s_bad_value(TH_IT_INT, "", "Chưa nhập giá trị");
    s_bad_value(TH_IT_INT, "9223372036854775808", "Số quá lớn");
    s_bad_value(TH_IT_INT, "99999999999999999999999", "Số quá lớn");
}

static void
test_forms_parse_value_decimal_vietnamese_formats(void **state)
{
    (void)state;
    s_dec_ok("12,5", 12.5);
    s_dec_ok("12.5", 12.5);             /* one dot, no comma: decimal point */
    s_dec_ok("1.234.567,25", 1234567.25);
    s_dec_ok("1 234,5", 1234.5);
    s_dec_ok("0,1", 0.1);
    s_dec_ok("-3,75", -3.75);
    s_dec_ok("98", 98);
    s_dec_ok("1.234.567", 1234567);     /* several dots: thousands */
    s_bad_value(TH_IT_DEC, "12,5,1", "Phải là số (ví dụ: 12,5 hoặc 1.234)");
    s_bad_value(TH_IT_DEC, "12,", "Phải là số (ví dụ: 12,5 hoặc 1.234)");
    s_bad_value(TH_IT_DEC, "1,2a", "Phải là số (ví dụ: 12,5 hoặc 1.234)");
    s_bad_value(TH_IT_DEC, "abc", "Phải là số (ví dụ: 12,5 hoặc 1.234)");
    s_bad_value(TH_IT_DEC, "1.23.4,5", "Phải là số (ví dụ: 12,5 hoặc 1.234)");
}

static void
test_forms_parse_value_bool_enum_text(void **state)
{
    (void)state;
    th_indicator_t b = s_ind(TH_IT_BOOL);
    const char *yes[] = { "có", "Có", "CÓ", "co", "x", "X", "1", "true", "yes", "Yes" };
    const char *no[] = { "không", "Không", "KHÔNG", "khong", "", "  ", "0", "false", "no" };
    th_value_t v;
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        assert_int_equal(th_form_parse_value(&b, yes[i], &v, NULL), 0);
        assert_int_equal(v.kind, TH_V_BOOL);
        if (!v.u.b)
            fail_msg("'%s' should be true", yes[i]);
    }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        assert_int_equal(th_form_parse_value(&b, no[i], &v, NULL), 0);
        if (v.u.b)
            fail_msg("'%s' should be false", no[i]);
    }
    s_bad_value(TH_IT_BOOL, "đúng", "Phải là Có hoặc Không");
    s_bad_value(TH_IT_BOOL, "2", "Phải là Có hoặc Không");

    th_indicator_t e = s_ind(TH_IT_ENUM);
    th_form_option_t opts[2] = { { "tot", (char *)"Tốt" }, { "tb", (char *)"Trung bình" } };
    e.options = opts;
    e.noptions = 2;
    assert_int_equal(th_form_parse_value(&e, "tb", &v, NULL), 0);
    assert_int_equal(v.kind, TH_V_TEXT);
    assert_string_equal(v.u.s, "tb");
    th_value_clear(&v);
    assert_int_equal(th_form_parse_value(&e, " Trung bình ", &v, NULL), 0);
    assert_string_equal(v.u.s, "tb");
    th_value_clear(&v);
    assert_int_equal(th_form_parse_value(&e, "TOT", &v, NULL), 0);
    assert_string_equal(v.u.s, "tot");
    th_value_clear(&v);
    const char *msg = NULL;
    assert_int_equal(th_form_parse_value(&e, "Khá", &v, &msg), TH_E_INVALID);
    assert_string_equal(msg, "Không có trong danh sách lựa chọn");

    th_indicator_t t = s_ind(TH_IT_TEXT);
    assert_int_equal(th_form_parse_value(&t, "  Kết quả nổi bật: tốt.\n", &v, NULL), 0);
    assert_int_equal(v.kind, TH_V_TEXT);
    assert_string_equal(v.u.s, "Kết quả nổi bật: tốt.");
    th_value_clear(&v);
    assert_int_equal(th_form_parse_value(&t, "", &v, NULL), 0);
    assert_string_equal(v.u.s, "");
    th_value_clear(&v);
    s_bad_value(TH_IT_TEXT, "bad \xff byte", "Văn bản chứa ký tự không hợp lệ (không phải UTF-8)");
    s_bad_value(TH_IT_TEXT, "\xed\xa0\x80", "Văn bản chứa ký tự không hợp lệ (không phải UTF-8)");
    char *big = malloc(TH_TEXT_MAX + 1);
    assert_non_null(big);
    memset(big, 'a', TH_TEXT_MAX);
    big[TH_TEXT_MAX] = '\0';
    s_bad_value(TH_IT_TEXT, big, "Văn bản quá dài");
    big[TH_TEXT_MAX - 1] = '\0';
    assert_int_equal(th_form_parse_value(&t, big, &v, NULL), 0);
    th_value_clear(&v);
    free(big);

    th_indicator_t c = s_ind(TH_IT_DEC);
    c.computed = true;
    c.agg = TH_AGG_RATIO;
    assert_int_equal(th_form_parse_value(&c, "12", &v, &msg), TH_E_INVALID);
    assert_string_equal(msg, "Chỉ tiêu này được tính tự động, không nhập");
    assert_int_equal(th_form_parse_value(NULL, "1", &v, &msg), -EINVAL);
}

/* ---- validation ---------------------------------------------------------------- */

static void
test_forms_validate_valid_record_is_clean(void **state)
{
    (void)state;
    th_form_t *f = s_load(NAM);
    th_record_t r;
    th_record_init(&r);
    s_fill_valid(&r);
    th_problems_t p = { 0 };
    assert_int_equal(th_form_validate(f, &r, true, &p), 0);
    assert_int_equal(p.n, 0);
    th_record_clear(&r);
    th_form_destroy(&f);
}

static void
test_forms_validate_value_problems(void **state)
{
    (void)state;
    th_form_t *f = s_load(NAM);
    th_record_t r;
    th_record_init(&r);
    s_fill_valid(&r);
    s_set_int(&r, "ZZ01", 5);            /* unknown */
    s_set_text(&r, "TT03", "năm");       /* wrong kind */
    s_set_int(&r, "TT04", -1);           /* negative count */
    s_set_text(&r, "DG01", "gioi");      /* not an option */
    s_set_dec(&r, "CCHC03", 99.0);       /* computed, entered */
    s_set_int(&r, "LD01", 1);            /* bool given as int */
    th_problems_t p = { 0 };
    assert_int_equal(th_form_validate(f, &r, false, &p), TH_E_REJECTED);
    assert_int_equal(p.n, 6);
    const th_problem_t *q = s_find_problem(&p, "ZZ01");
    assert_non_null(q);
    assert_null(q->label);
    assert_string_equal(q->message, "Chỉ tiêu ZZ01 không có trong biểu mẫu");
    q = s_find_problem(&p, "TT03");
    assert_string_equal(q->message, "Phải là số nguyên");
    assert_string_equal(q->label, th_form_indicator(f, "TT03")->label);
    q = s_find_problem(&p, "TT04");
    assert_string_equal(q->message, "Không được nhỏ hơn 0");
    q = s_find_problem(&p, "DG01");
    assert_string_equal(q->message, "Giá trị \"gioi\" không có trong danh sách lựa chọn");
    q = s_find_problem(&p, "CCHC03");
    assert_string_equal(q->message, "Chỉ tiêu này được tính tự động, không nhập");
    q = s_find_problem(&p, "LD01");
    assert_string_equal(q->message, "Phải là Có hoặc Không");
    th_problems_clear(&p);
    assert_int_equal(p.n, 0);
    assert_null(p.items);
    th_problems_clear(&p);
    th_record_clear(&r);
    th_form_destroy(&f);
}

static void
test_forms_validate_bounds_are_written_vietnamese(void **state)
{
    (void)state;
    th_form_t *f = s_parse(HDR "[indicator A]\nlabel = A\ntype = decimal\nmin = -2.5\n"
                           "max = 1234567\n");
    th_record_t r;
    th_record_init(&r);
    th_problems_t p = { 0 };
    s_set_dec(&r, "A", 2e6);
    assert_int_equal(th_form_validate(f, &r, true, &p), TH_E_REJECTED);
    assert_string_equal(p.items[0].message, "Không được lớn hơn 1.234.567");
    s_set_int(&r, "A", -3);   /* an int value is fine for a decimal indicator */
    assert_int_equal(th_form_validate(f, &r, true, &p), TH_E_REJECTED);
    assert_int_equal(p.n, 1);  /* previous content was cleared */
    assert_string_equal(p.items[0].message, "Không được nhỏ hơn -2,5");
    s_set_int(&r, "A", 7);
    assert_int_equal(th_form_validate(f, &r, true, &p), 0);
    assert_int_equal(p.n, 0);
    th_problems_clear(&p);
    th_record_clear(&r);
    th_form_destroy(&f);
}

static void
test_forms_validate_required_only_when_submitting(void **state)
{
    (void)state;
    th_form_t *f = s_load(NAM);
    th_record_t r;
    th_record_init(&r);
    s_fill_valid(&r);
    assert_int_equal(th_record_unset(&r, "TT01"), 1);
    s_set_text(&r, "ND01", "   ");   /* blank text counts as missing */
    th_problems_t p = { 0 };
    assert_int_equal(th_form_validate(f, &r, false, &p), 0);   /* a draft may be partial */
    assert_int_equal(th_form_validate(f, &r, true, &p), TH_E_REJECTED);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.items[0].code, "TT01");
    assert_string_equal(p.items[0].message, "Bắt buộc phải nhập");
    assert_string_equal(p.items[0].label, th_form_indicator(f, "TT01")->label);
    assert_string_equal(p.items[1].code, "ND01");
    th_problems_clear(&p);
    th_record_clear(&r);
    th_form_destroy(&f);
}

static void
test_forms_validate_rule_violation_message(void **state)
{
    (void)state;
    th_form_t *f = s_load(NAM);
    th_record_t r;
    th_record_init(&r);
    s_fill_valid(&r);
    s_set_int(&r, "DVK02", 4);   /* recognised > registered (3) */
    th_problems_t p = { 0 };
    assert_int_equal(th_form_validate(f, &r, false, &p), 0);   /* rules wait for submit */
    assert_int_equal(th_form_validate(f, &r, true, &p), TH_E_REJECTED);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.items[0].code, "DVK02");
    assert_string_equal(p.items[0].label, "Số mô hình \"Dân vận khéo\" được công nhận");
    assert_string_equal(p.items[0].message, "Số mô hình \"Dân vận khéo\" được công nhận không "
                        "được lớn hơn số mô hình đã đăng ký (quy tắc R01)");
    /* equal is allowed */
    s_set_int(&r, "DVK02", 3);
    assert_int_equal(th_form_validate(f, &r, true, &p), 0);
    th_problems_clear(&p);
    th_record_clear(&r);
    th_form_destroy(&f);
}

static void
test_forms_validate_skip_rule_passes(void **state)
{
    (void)state;
    th_form_t *f = s_load(NAM);
    th_record_t r;
    th_record_init(&r);
    s_fill_valid(&r);
    /* GS02/GS03 are optional: R04 (GS03 <= GS02) does not apply without GS02 */
    s_set_int(&r, "GS03", 9);
    th_problems_t p = { 0 };
    assert_int_equal(th_form_validate(f, &r, true, &p), 0);
    s_set_int(&r, "GS02", 8);
    assert_int_equal(th_form_validate(f, &r, true, &p), TH_E_REJECTED);
    assert_string_equal(p.items[0].code, "GS03");
    th_problems_clear(&p);
    th_record_clear(&r);
    th_form_destroy(&f);
}

static void
test_forms_validate_rule_on_computed_ratio(void **state)
{
    (void)state;
    th_form_t *f = s_parse(HDR "[indicator N]\nlabel = N\ntype = int\n"
                           "[indicator D]\nlabel = D\ntype = int\n"
                           "[indicator P]\nlabel = P\ntype = decimal\nagg = ratio\n"
                           "numerator = N\ndenominator = D\nscale = 100\n"
                           "[rule R1]\nexpr = P >= 50\nmessage = Tỷ lệ phải từ 50% trở lên\n");
    th_record_t r;
    th_record_init(&r);
    s_set_int(&r, "N", 1);
    s_set_int(&r, "D", 4);
    th_problems_t p = { 0 };
    assert_int_equal(th_form_validate(f, &r, true, &p), TH_E_REJECTED);
    assert_string_equal(p.items[0].code, "P");
    assert_string_equal(p.items[0].message, "Tỷ lệ phải từ 50% trở lên (quy tắc R1)");
    s_set_int(&r, "D", 0);   /* ratio undefined: the rule does not apply */
    assert_int_equal(th_form_validate(f, &r, true, &p), 0);
    th_problems_clear(&p);
    th_record_clear(&r);
    th_form_destroy(&f);
}

static void
test_forms_computed_ratio(void **state)
{
    (void)state;
    th_form_t *f = s_load(NAM);
    const th_indicator_t *rate = th_form_indicator(f, "CCHC03");
    th_record_t r;
    th_record_init(&r);
    double v = -1;
    assert_int_equal(th_form_computed(f, rate, &r, &v), TH_E_NOTFOUND);
    s_set_int(&r, "CCHC01", 1200);
    assert_int_equal(th_form_computed(f, rate, &r, &v), TH_E_NOTFOUND);
    s_set_int(&r, "CCHC02", 1188);
    assert_int_equal(th_form_computed(f, rate, &r, &v), 0);
    assert_float_equal(v, 99.0, 1e-9);
    s_set_int(&r, "CCHC01", 0);
    v = -1;
    assert_int_equal(th_form_computed(f, rate, &r, &v), TH_E_NOTFOUND);
    assert_true(v == -1);
    assert_int_equal(th_form_computed(f, th_form_indicator(f, "TT01"), &r, &v), TH_E_INVALID);
    th_record_clear(&r);
    th_form_destroy(&f);
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
        cmocka_unit_test(test_forms_load_dir_sorted_by_id),
        cmocka_unit_test(test_forms_parse_errors_name_line),
        cmocka_unit_test(test_forms_parse_syntax_conveniences),
        cmocka_unit_test(test_forms_parse_out_of_memory_is_clean),
        cmocka_unit_test(test_forms_parse_value_int_vietnamese_formats),
        cmocka_unit_test(test_forms_parse_value_decimal_vietnamese_formats),
        cmocka_unit_test(test_forms_parse_value_bool_enum_text),
        cmocka_unit_test(test_forms_validate_valid_record_is_clean),
        cmocka_unit_test(test_forms_validate_value_problems),
        cmocka_unit_test(test_forms_validate_bounds_are_written_vietnamese),
        cmocka_unit_test(test_forms_validate_required_only_when_submitting),
        cmocka_unit_test(test_forms_validate_rule_violation_message),
        cmocka_unit_test(test_forms_validate_skip_rule_passes),
        cmocka_unit_test(test_forms_validate_rule_on_computed_ratio),
        cmocka_unit_test(test_forms_computed_ratio),
        cmocka_unit_test(test_forms_set_versioning),
        cmocka_unit_test(test_forms_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
