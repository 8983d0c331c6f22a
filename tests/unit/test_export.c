/*  Tests of export: the document's header and six parts built from the
    shared hub fixture, the CSV, HTML and XLSX writers, escaping, errors
    and allocation failures. */
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
#include "export.h"
#include "export_html.h"
#include "export_xlsx.h"
#include "mem.h"
#include "peers.h"

#include "hub_fixture.h"

static th_export_t *
s_make(const char *unit, int64_t as_of)
{
    th_export_t *x = NULL;
    char err[256];
    if (th_export_make(s_hub, "thu", "2024", unit, as_of, &x, err, sizeof err) < 0)
        fail_msg("export: %s", err);
    return x;
}

static const th_export_part_t *
s_part(const th_export_t *x, const char *title_prefix)
{
    for (size_t i = 0; i < x->nparts; i++)
        if (strncmp(x->parts[i].title, title_prefix, strlen(title_prefix)) == 0)
            return &x->parts[i];
    fail_msg("no part %s", title_prefix);
    return NULL;
}

/* The row whose first cell is the text key (data or total rows). */
static const th_xcell_t *
s_row(const th_export_part_t *p, const char *key, th_xrow_kind_t *kind)
{
    for (size_t r = 0; r < p->nrows; r++) {
        const th_xcell_t *row = &p->cells[r * p->ncols];
        if (p->row_kind[r] != TH_XROW_HEADING && row[0].kind == TH_XCELL_TEXT &&
            strcmp(row[0].text, key) == 0) {
            if (kind)
                *kind = p->row_kind[r];
            return row;
        }
    }
    fail_msg("no row %s in %s", key, p->title);
    return NULL;
}

static void
s_assert_int(const th_xcell_t *c, int64_t v)
{
    assert_int_equal(c->kind, TH_XCELL_INT);
    assert_int_equal(c->i, v);
}

static void
s_assert_text(const th_xcell_t *c, const char *s)
{
    assert_int_equal(c->kind, TH_XCELL_TEXT);
    assert_string_equal(c->text, s);
}

static char *
s_render(int (*fn)(const th_export_t *, FILE *), const th_export_t *x)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(fn(x, f), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void
test_export_header_derived_from_unit(void **state)
{
    (void)state;
    th_export_t *x = s_make(NULL, INT64_MAX);
    assert_string_equal(x->superior, "");
    assert_string_equal(x->issuer, "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM");
    assert_string_equal(x->place, "Thử Nghiệm");
    assert_string_equal(x->signer, "THỦ TRƯỞNG CƠ QUAN");
    assert_memory_equal(x->date_line, "Thử Nghiệm, ngày ", strlen("Thử Nghiệm, ngày "));
    assert_string_equal(x->title, "BÁO CÁO TỔNG HỢP");
    assert_string_equal(x->subtitle, "Biểu thử nghiệm tổng hợp");
    assert_string_equal(x->period_line, "Kỳ báo cáo: Năm 2024");
    assert_int_equal(x->nmeta, 6);
    assert_string_equal(x->meta[2][1], "91 — Tỉnh Thử Nghiệm");
    assert_string_equal(x->meta[4][1], "3/4 đơn vị đã báo cáo; 2 đúng hạn, 1 trễ hạn, "
                                       "1 chưa báo cáo");
    th_export_destroy(&x);
    assert_null(x);
    th_export_destroy(&x);
}

static void
test_export_header_from_config(void **state)
{
    (void)state;
    th_config_t saved = s_hub->cfg;
    snprintf(s_hub->cfg.report_superior, TH_REPORT_TEXT_MAX, "Ủy ban nhân dân tỉnh Thử Nghiệm");
    snprintf(s_hub->cfg.report_issuer, TH_REPORT_TEXT_MAX, "Sở Nội vụ");
    snprintf(s_hub->cfg.report_place, TH_REPORT_TEXT_MAX, "Thành Phố Mới");
    snprintf(s_hub->cfg.report_signer, TH_REPORT_TEXT_MAX, "Giám đốc");
    th_export_t *x = s_make(NULL, INT64_MAX);
    s_hub->cfg = saved;
    assert_string_equal(x->superior, "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM");
    assert_string_equal(x->issuer, "SỞ NỘI VỤ");
    assert_string_equal(x->signer, "GIÁM ĐỐC");
    assert_memory_equal(x->date_line, "Thành Phố Mới, ngày ", strlen("Thành Phố Mới, ngày "));
    th_export_destroy(&x);
}

static void
test_export_totals_by_section(void **state)
{
    (void)state;
    th_export_t *x = s_make(NULL, INT64_MAX);
    /* at a province with children: all six parts */
    assert_int_equal(x->nparts, 6);
    const th_export_part_t *p = s_part(x, "I.");
    assert_int_equal(p->ncols, 6);
    assert_int_equal(p->row_kind[0], TH_XROW_HEADING);
    s_assert_text(&p->cells[0], "I. Số liệu");
    const th_xcell_t *a = s_row(p, "A", NULL);
    s_assert_text(&a[1], "Số buổi");
    s_assert_text(&a[3], "Tổng");
    s_assert_int(&a[4], 37);       /* 12 + 20 + 5, as the rollup tests work out */
    s_assert_int(&a[5], 3);
    const th_xcell_t *r = s_row(p, "R", NULL);
    s_assert_text(&r[3], "Tỷ lệ");
    assert_int_equal(r[4].kind, TH_XCELL_DEC);
    assert_float_equal(r[4].d, 100.0 * (1 + 99 + 5) / (2 + 100 + 3), 1e-9);
    const th_xcell_t *f = s_row(p, "F", NULL);
    s_assert_text(&f[3], "Số đơn vị có");
    s_assert_int(&f[4], 2);
    const th_xcell_t *t = s_row(p, "T", NULL);
    s_assert_text(&t[4], "Xem mục VI");
    s_assert_int(&t[5], 2);
    th_export_destroy(&x);
}

static void
test_export_breakdown_and_reporting(void **state)
{
    (void)state;
    th_export_t *x = s_make(NULL, INT64_MAX);
    const th_export_part_t *p = s_part(x, "II.");
    assert_true(p->wide);
    /* Mã, Đơn vị, Đã báo cáo + the 9 numeric indicators (T is text) */
    assert_int_equal(p->ncols, 12);
    assert_string_equal(p->header[3], "A");
    assert_string_equal(p->header_hint[3], "Số buổi");
    assert_null(p->header_hint[0]);
    th_xrow_kind_t kind;
    const th_xcell_t *d1 = s_row(p, "901", &kind);
    assert_int_equal(kind, TH_XROW_DATA);
    s_assert_text(&d1[1], "Huyện Một");
    s_assert_text(&d1[2], "2/3");
    s_assert_int(&d1[3], 32);
    const th_xcell_t *tot = s_row(p, "91", &kind);
    assert_int_equal(kind, TH_XROW_TOTAL);
    s_assert_text(&tot[1], "Tổng cộng");
    s_assert_int(&tot[3], 37);

    p = s_part(x, "III.");
    const th_xcell_t *c = s_row(p, "91", &kind);
    assert_int_equal(kind, TH_XROW_TOTAL);
    s_assert_int(&c[2], 4);
    s_assert_int(&c[3], 3);
    s_assert_int(&c[4], 2);
    s_assert_int(&c[5], 1);
    s_assert_int(&c[6], 1);
    assert_float_equal(c[7].d, 75.0, 1e-9);
    assert_float_equal(c[8].d, 50.0, 1e-9);
    th_export_destroy(&x);
}

static void
test_export_late_missing_violations_texts(void **state)
{
    (void)state;
    th_export_t *x = s_make(NULL, INT64_MAX);
    const th_export_part_t *p = s_part(x, "IV.");
    assert_int_equal(p->nrows, 2);
    /* late first, then missing */
    const th_xcell_t *l = &p->cells[0];
    s_assert_text(&l[0], "90102");
    s_assert_text(&l[2], "Huyện Một");
    s_assert_text(&l[3], "Trễ hạn");
    s_assert_text(&l[4], "17/01/2025 10:00");
    s_assert_text(&l[5], "15/01/2025");
    s_assert_int(&l[6], 2);
    /* its district's clock was 20 minutes off at HELLO */
    assert_int_equal(l[7].kind, TH_XCELL_TEXT);
    assert_non_null(strstr(l[7].text, "lệch 20 phút"));
    const th_xcell_t *m = &p->cells[p->ncols];
    s_assert_text(&m[0], "90103");
    s_assert_text(&m[3], "Chưa báo cáo");
    assert_int_equal(m[4].kind, TH_XCELL_EMPTY);

    p = s_part(x, "V.");
    assert_int_equal(p->nrows, 1);
    s_assert_text(&p->cells[0], "90201");
    s_assert_text(&p->cells[2], "R01");
    s_assert_text(&p->cells[3], "Số đúng hạn không được lớn hơn số tiếp nhận");

    p = s_part(x, "VI.");
    assert_int_equal(p->nrows, 3);   /* heading + two units */
    assert_int_equal(p->row_kind[0], TH_XROW_HEADING);
    s_assert_text(&p->cells[0], "T. Nội dung");
    s_assert_text(&s_row(p, "90101", NULL)[2], "văn bản A");
    s_assert_text(&s_row(p, "90102", NULL)[2], "Nội dung B");
    th_export_destroy(&x);
}

static void
test_export_as_of_and_leaf_unit(void **state)
{
    (void)state;
    /* before 90101's correction and 90102's late report */
    th_export_t *x = s_make(NULL, s_ms("2025-01-12"));
    s_assert_int(&s_row(s_part(x, "I."), "A", NULL)[4], 15);   /* 10 + 5 */
    th_export_destroy(&x);
    /* a commune: no children, so no breakdown part; its own status row */
    x = s_make("90102", INT64_MAX);
    assert_int_equal(x->nparts, 5);
    for (size_t i = 0; i < x->nparts; i++)
        assert_false(x->parts[i].wide);
    const th_xcell_t *c = s_row(s_part(x, "III."), "90102", NULL);
    s_assert_text(&c[1], "Xã Một Hai");
    s_assert_int(&c[5], 1);
    assert_int_equal(s_part(x, "V.")->nrows, 0);
    assert_string_equal(s_part(x, "V.")->empty_note,
                        "Không có báo cáo nào vi phạm quy tắc kiểm tra số liệu.");
    th_export_destroy(&x);
}

static void
test_export_csv(void **state)
{
    (void)state;
    th_export_t *x = s_make(NULL, INT64_MAX);
    char *csv = s_render(th_export_csv, x);
    assert_memory_equal(csv, "\xEF\xBB\xBF", 3);
    assert_non_null(strstr(csv, "\r\nI. SỐ LIỆU TỔNG HỢP\r\n"
                                "Mã,Chỉ tiêu,Đơn vị tính,Cách tổng hợp,Số liệu tổng hợp,"
                                "Số đơn vị có số liệu\r\nI. Số liệu\r\nA,Số buổi,,Tổng,37,3\r\n"));
    assert_non_null(strstr(csv, "\r\nR,Tỷ lệ đúng hạn,,Tỷ lệ,100.00,3\r\n"));
    assert_non_null(strstr(csv, "\r\n901,Huyện Một,2/3,32,"));
    assert_non_null(strstr(csv, "\r\n90103,Xã Một Ba,Huyện Một,Chưa báo cáo,,15/01/2025,,"
                                "Đồng hồ máy gửi lệch 20 phút; cần kiểm tra\r\n"));
    /* an empty part says so */
    th_export_t *leaf = s_make("90102", INT64_MAX);
    char *csv2 = s_render(th_export_csv, leaf);
    assert_non_null(strstr(csv2, "Nội dung\r\nKhông có báo cáo nào vi phạm quy tắc kiểm tra "
                                 "số liệu.\r\n"));
    free(csv2);
    free(csv);
    th_export_destroy(&leaf);
    th_export_destroy(&x);
}

static void
test_export_html(void **state)
{
    (void)state;
    th_config_t saved = s_hub->cfg;
    snprintf(s_hub->cfg.report_issuer, TH_REPORT_TEXT_MAX, "Sở <b>Nội vụ</b> & \"x\" 'y'");
    th_export_t *x = s_make(NULL, INT64_MAX);
    s_hub->cfg = saved;
    char *html = s_render(th_export_html, x);
    assert_memory_equal(html, "<!DOCTYPE html>", 15);
    assert_non_null(strstr(html, "<html lang=\"vi\">"));
    assert_non_null(strstr(html, "@page{size:A4 portrait"));
    assert_non_null(strstr(html, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"));
    assert_non_null(strstr(html, "Độc lập - Tự do - Hạnh phúc"));
    /* every value escaped */
    assert_non_null(strstr(html, "SỞ &lt;B&gt;NỘI VỤ&lt;/B&gt; &amp; &quot;X&quot; &#39;Y&#39;"));
    assert_null(strstr(html, "<B>"));
    /* numbers in the Vietnamese format, text rows and headings */
    assert_non_null(strstr(html, "<td>A</td><td>Số buổi</td><td></td><td>Tổng</td>"
                                 "<td class=\"num\">37</td>"));
    assert_non_null(strstr(html, "<td class=\"num\">75</td><td class=\"num\">50</td>"));
    assert_non_null(strstr(html, "<th title=\"Số buổi\">A</th>"));
    assert_non_null(strstr(html, "<section class=\"part wide\">"));
    assert_non_null(strstr(html, "<tr class=\"heading\"><td colspan=\"6\">I. Số liệu</td>"));
    assert_non_null(strstr(html, "(Ký, ghi rõ họ tên, đóng dấu)"));
    free(html);
    th_export_destroy(&x);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    th_html_put(f, "<script>alert('x')</script>&amp;");
    th_html_put(f, NULL);
    fclose(f);
    assert_string_equal(buf, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;amp;");
    free(buf);
}

static void
test_export_xlsx_file(void **state)
{
    (void)state;
    th_export_t *x = s_make(NULL, INT64_MAX);
    char path[160];
    snprintf(path, sizeof path, "%s/out.xlsx", s_tmp);
    assert_int_equal(th_export_xlsx(x, path), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char magic[4];
    assert_int_equal(fread(magic, 1, 4, f), 4);
    fclose(f);
    assert_memory_equal(magic, "PK\x03\x04", 4);   /* a zip package */
    /* the cells themselves are read back by tests/tools/xlsx_cells.py in
       the integration test */
    snprintf(path, sizeof path, "%s/no-such-dir/out.xlsx", s_tmp);
    assert_int_equal(th_export_xlsx(x, path), -EIO);
    th_export_destroy(&x);
}

static void
test_export_errors(void **state)
{
    (void)state;
    th_export_t *x = NULL;
    char err[256];
    assert_int_equal(th_export_make(s_hub, "nope", "2024", NULL, INT64_MAX, &x, err,
                                    sizeof err), TH_E_FORM);
    assert_null(x);
    assert_int_equal(th_export_make(s_hub, "thu", "2024", "00004", INT64_MAX, &x, err,
                                    sizeof err), TH_E_UNIT);
    assert_null(x);
    assert_int_equal(th_export_make(s_hub, "thu", "2024S1", NULL, INT64_MAX, &x, err,
                                    sizeof err), TH_E_PERIOD);
    assert_int_equal(th_export_make(s_hub, "thu", "2024", NULL, INT64_MAX, NULL, err,
                                    sizeof err), TH_E_INVALID);
}

static void
test_export_out_of_memory(void **state)
{
    (void)state;
    /* every allocation failure gives -ENOMEM and leaks nothing (ASan) */
    for (long n = 0; n < 2000; n++) {
        th_export_t *x = NULL;
        th_mem_fail_after(n);
        int rc = th_export_make(s_hub, "thu", "2024", NULL, INT64_MAX, &x, NULL, 0);
        th_mem_fail_after(-1);
        if (rc == 0) {
            assert_non_null(x);
            th_export_destroy(&x);
            return;
        }
        assert_int_equal(rc, -ENOMEM);
        assert_null(x);
    }
    fail_msg("export still failing after 2000 allocations");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_header_derived_from_unit),
        cmocka_unit_test(test_export_header_from_config),
        cmocka_unit_test(test_export_totals_by_section),
        cmocka_unit_test(test_export_breakdown_and_reporting),
        cmocka_unit_test(test_export_late_missing_violations_texts),
        cmocka_unit_test(test_export_as_of_and_leaf_unit),
        cmocka_unit_test(test_export_csv),
        cmocka_unit_test(test_export_html),
        cmocka_unit_test(test_export_xlsx_file),
        cmocka_unit_test(test_export_errors),
        cmocka_unit_test(test_export_out_of_memory),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
