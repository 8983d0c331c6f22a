/*  Unit tests for common/form_ini: loading a directory, every parse error
    with its line, the syntax conveniences, reading the file, and a clean
    failure at every allocation. Run from the repository root. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "form_ini.h"
#include "forms.h"
#include "mem.h"

#include "forms_fixture.h"

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
test_form_ini_load_dir_sorted_by_id(void **state)
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
test_form_ini_parse_errors_name_line(void **state)
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
    /* a deadline is never in the year before; a cut-off may start there */
    s_expect(HDR "deadline.province = 10/06-1\n", TH_E_PARSE,
             "t.ini:7: bad deadline '10/06-1' (expected dd/mm or dd/mm+N)");
    s_expect(HDR "cutoff.from = 15/12-1\n[indicator A]\nlabel = A\ntype = int\n", TH_E_PARSE,
             "t.ini:1: [form] has cutoff.from without cutoff.to: give both (the first and "
             "the last day the figures count)");
    s_expect(HDR "cutoff.from = 15/12\ncutoff.to = 14/12-1\n[indicator A]\nlabel = A\n"
             "type = int\n", TH_E_PARSE, "t.ini:1: [form] cutoff.from is after cutoff.to");
    s_expect(HDR "deadline.province = 10/12\ncutoff.from = 15/12-1\ncutoff.to = 14/12\n"
             "[indicator A]\nlabel = A\ntype = int\n", TH_E_PARSE,
             "t.ini:1: [form] cutoff.to is not before deadline.province: the figures must "
             "be closed before they are due");
    s_expect(HDR "cutoff.to = 14/1x\n", TH_E_PARSE,
             "t.ini:7: bad cutoff.to '14/1x' (expected dd/mm, dd/mm-N for N years before "
             "the period's year, or dd/mm+N)");
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

/* ---- line numbers of malformed text ----------------------------------------- */

/* Every kind of line counts: comments, blank lines, CRLF ends, a BOM,
   continuation lines and a last line without its newline. */
static void
test_form_ini_malformed_lines_are_counted(void **state)
{
    (void)state;
    s_expect("; comment\n\n# comment\n[form]\nid = t\nbogus line\n", TH_E_PARSE,
             "t.ini:6: expected 'key = value', '[section]' or a comment");
    s_expect("[form]\r\nid = t\r\n\r\n[x]\r\n", TH_E_PARSE,
             "t.ini:4: unknown section '[x]' (expected [form], [section ID], "
             "[indicator CODE] or [rule ID])");
    s_expect(HDR "[indicator A]\nlabel = A\n  more label\n\tstill more\nlabl = B\n", TH_E_PARSE,
             "t.ini:11: unknown key 'labl' in [indicator A]");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = int\n[rule R1", TH_E_PARSE,
             "t.ini:10: section header without ']'");
    s_expect("\xEF\xBB\xBFid = t\n", TH_E_PARSE,
             "t.ini:1: key 'id' outside any section (start with [form])");
    s_expect(HDR "[indicator A]\nlabel = A\ntype = int\nagg = sum\nagg = sum\n", TH_E_PARSE,
             "t.ini:11: duplicate key 'agg'");

    /* a bad line after the whole shipped form: its line is one past the last */
    size_t n;
    const char *src = s_source(NAM, &n);
    assert_true(n > 0 && src[n - 1] == '\n');
    int lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += src[i] == '\n';
    char *text = malloc(n + 16);
    assert_non_null(text);
    memcpy(text, src, n);
    strcpy(text + n, "oops\n");
    char eb[256], want[256];
    int err = 0;
    assert_null(th_form_parse(text, n + 5, NAM, eb, sizeof eb, &err));
    assert_int_equal(err, TH_E_PARSE);
    snprintf(want, sizeof want, NAM ":%d: expected 'key = value', '[section]' or a comment",
             lines + 1);
    assert_string_equal(eb, want);
    free(text);
}

/* A temporary file holding len bytes of text; its path in path (64 bytes). */
static void
s_temp_file(char *path, const char *text, size_t len)
{
    strcpy(path, "/tmp/th_form_ini_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* th_form_load: parse errors name the file and the line; read errors say
   that the file could not be read, and why. */
static void
test_form_ini_load_names_file_and_line(void **state)
{
    (void)state;
    char path[64], eb[256], want[256];
    int err = 0;
    const char bad[] = HDR "[indicator A]\nlabel = A\ntype = number\n";
    s_temp_file(path, bad, sizeof bad - 1);
    assert_null(th_form_load(path, eb, sizeof eb, &err));
    assert_int_equal(err, TH_E_PARSE);
    snprintf(want, sizeof want,
             "%s:9: bad type 'number' (expected int, decimal, bool, text or enum)", path);
    assert_string_equal(eb, want);
    unlink(path);

    char *big = malloc(TH_FORM_SOURCE_MAX + 1);
    assert_non_null(big);
    memset(big, '\n', TH_FORM_SOURCE_MAX + 1);
    s_temp_file(path, big, TH_FORM_SOURCE_MAX + 1);
    free(big);
    assert_null(th_form_load(path, eb, sizeof eb, &err));
    assert_int_equal(err, TH_E_LIMIT);
    snprintf(want, sizeof want, "cannot read form '%s': input exceeds a limit", path);
    assert_string_equal(eb, want);
    unlink(path);

    assert_null(th_form_load("config/forms/absent.ini", eb, sizeof eb, &err));
    assert_int_equal(err, -ENOENT);
    assert_string_equal(eb, "cannot read form 'config/forms/absent.ini': No such file or "
                        "directory");
    assert_null(th_form_load("config/forms", eb, sizeof eb, &err));
    assert_int_equal(err, -EIO);
    assert_string_equal(eb, "cannot read form 'config/forms': Input/output error");
    assert_null(th_form_load(NULL, eb, sizeof eb, &err));
    assert_int_equal(err, -EINVAL);
    assert_string_equal(eb, "cannot read form '(null)': Invalid argument");
}

static void
test_form_ini_parse_syntax_conveniences(void **state)
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
test_form_ini_parse_out_of_memory_is_clean(void **state)
{
    (void)state;
    size_t n;
    const char *buf = s_source(NAM, &n);
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_ini_load_dir_sorted_by_id),
        cmocka_unit_test(test_form_ini_parse_errors_name_line),
        cmocka_unit_test(test_form_ini_malformed_lines_are_counted),
        cmocka_unit_test(test_form_ini_load_names_file_and_line),
        cmocka_unit_test(test_form_ini_parse_syntax_conveniences),
        cmocka_unit_test(test_form_ini_parse_out_of_memory_is_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
