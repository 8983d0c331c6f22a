/*  export_xlsx: the consolidated report as a workbook, with libxlsxwriter. */
#include "export_xlsx.h"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <xlsxwriter.h>

typedef struct {
    lxw_format *title, *bold_center, *center, *italic_center, *meta_label, *note;
    lxw_format *head, *hint, *text, *num_int, *num_dec, *group;
    lxw_format *total_text, *total_int, *total_dec;
} s_fmts_t;

static lxw_format *
s_format(lxw_workbook *wb, bool bold, bool border, const char *num)
{
    lxw_format *f = workbook_add_format(wb);
    if (!f)
        return NULL;
    format_set_font_name(f, "Times New Roman");
    format_set_font_size(f, 12);
    if (bold)
        format_set_bold(f);
    if (border) {
        format_set_border(f, LXW_BORDER_THIN);
        format_set_align(f, LXW_ALIGN_VERTICAL_TOP);
        format_set_text_wrap(f);
    }
    if (num)
        format_set_num_format(f, num);
    return f;
}

static bool
s_formats(lxw_workbook *wb, s_fmts_t *F)
{
    F->title = s_format(wb, true, false, NULL);
    F->bold_center = s_format(wb, true, false, NULL);
    F->center = s_format(wb, false, false, NULL);
    F->italic_center = s_format(wb, false, false, NULL);
    F->meta_label = s_format(wb, true, false, NULL);
    F->note = s_format(wb, false, false, NULL);
    F->head = s_format(wb, true, true, NULL);
    F->hint = s_format(wb, false, true, NULL);
    F->text = s_format(wb, false, true, NULL);
    F->num_int = s_format(wb, false, true, "#,##0");
    F->num_dec = s_format(wb, false, true, "#,##0.00");
    F->group = s_format(wb, true, true, NULL);
    F->total_text = s_format(wb, true, true, NULL);
    F->total_int = s_format(wb, true, true, "#,##0");
    F->total_dec = s_format(wb, true, true, "#,##0.00");
    lxw_format *all[] = { F->title, F->bold_center, F->center, F->italic_center,
                          F->meta_label, F->note, F->head, F->hint, F->text, F->num_int,
                          F->num_dec, F->group, F->total_text, F->total_int, F->total_dec };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (!all[i])
            return false;
    format_set_font_size(F->title, 14);
    lxw_format *centered[] = { F->title, F->bold_center, F->center, F->italic_center,
                               F->head, F->hint };
    for (size_t i = 0; i < sizeof centered / sizeof *centered; i++)
        format_set_align(centered[i], LXW_ALIGN_CENTER);
    format_set_italic(F->italic_center);
    format_set_italic(F->note);
    format_set_align(F->head, LXW_ALIGN_VERTICAL_CENTER);
    format_set_bg_color(F->head, 0xD9D9D9);
    format_set_font_size(F->hint, 9);
    format_set_italic(F->hint);
    format_set_bg_color(F->hint, 0xF2F2F2);
    format_set_bg_color(F->group, 0xF2F2F2);
    return true;
}

/* Keeps the first error of a sequence of calls. */
static void
s_keep(lxw_error *e, lxw_error v)
{
    if (*e == LXW_NO_ERROR)
        *e = v;
}

/* A line of text across columns [0, last] (merged when last > 0). */
static lxw_error
s_line(lxw_worksheet *ws, lxw_row_t row, lxw_col_t first, lxw_col_t last, const char *s,
       lxw_format *f)
{
    if (last > first)
        return worksheet_merge_range(ws, row, first, row, last, s, f);
    return worksheet_write_string(ws, row, first, s, f);
}

/* The administrative header and title lines of the first sheet; returns
   the next free row. */
static lxw_row_t
s_header(lxw_worksheet *ws, const th_export_t *x, const s_fmts_t *F, lxw_col_t last,
         lxw_error *err)
{
    lxw_col_t mid = last >= 3 ? 2 : 1;
    lxw_row_t r = 0;
    lxw_error e = LXW_NO_ERROR;
    if (x->superior[0])
        s_keep(&e, s_line(ws, r, 0, mid - 1, x->superior, F->center));
    s_keep(&e, s_line(ws, r, mid, last, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", F->bold_center));
    r++;
    s_keep(&e, s_line(ws, r, 0, mid - 1, x->issuer, F->bold_center));
    s_keep(&e, s_line(ws, r, mid, last, "Độc lập - Tự do - Hạnh phúc", F->bold_center));
    r++;
    s_keep(&e, s_line(ws, r, mid, last, x->date_line, F->italic_center));
    r += 2;
    s_keep(&e, s_line(ws, r++, 0, last, x->title, F->title));
    s_keep(&e, s_line(ws, r++, 0, last, x->subtitle, F->bold_center));
    s_keep(&e, s_line(ws, r++, 0, last, x->period_line, F->center));
    r++;
    for (size_t i = 0; i < x->nmeta; i++, r++) {
        s_keep(&e, s_line(ws, r, 0, mid - 1, x->meta[i][0], F->meta_label));
        s_keep(&e, s_line(ws, r, mid, last, x->meta[i][1], NULL));
    }
    s_keep(err, e);
    return r + 1;
}

static lxw_error
s_cell(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const th_xcell_t *cell, bool total,
       const s_fmts_t *F)
{
    lxw_format *ft = total ? F->total_text : F->text;
    switch (cell->kind) {
    case TH_XCELL_TEXT:
        return worksheet_write_string(ws, r, c, cell->text, ft);
    case TH_XCELL_INT:
        return worksheet_write_number(ws, r, c, (double)cell->i,
                                      total ? F->total_int : F->num_int);
    case TH_XCELL_DEC:
        return worksheet_write_number(ws, r, c, cell->d, total ? F->total_dec : F->num_dec);
    default:
        return worksheet_write_blank(ws, r, c, ft);
    }
}

static lxw_error
s_sheet(lxw_workbook *wb, const th_export_t *x, const th_export_part_t *p, bool first,
        const s_fmts_t *F)
{
    lxw_worksheet *ws = workbook_add_worksheet(wb, p->sheet);
    if (!ws)
        return LXW_ERROR_MEMORY_MALLOC_FAILED;
    lxw_error e = LXW_NO_ERROR;
    lxw_col_t last = (lxw_col_t)(p->ncols - 1);
    worksheet_set_paper(ws, 9);   /* A4 */
    worksheet_fit_to_pages(ws, 1, 0);
    if (p->wide)
        worksheet_set_landscape(ws);
    for (size_t c = 0; c < p->ncols; c++)
        s_keep(&e, worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, p->widths[c], NULL));
    lxw_row_t r = 0;
    if (first) {
        r = s_header(ws, x, F, last, &e);
    } else {
        s_keep(&e, s_line(ws, r++, 0, last, x->subtitle, F->bold_center));
        s_keep(&e, s_line(ws, r++, 0, last, x->period_line, F->center));
        r++;
    }
    s_keep(&e, s_line(ws, r++, 0, last, p->title, F->meta_label));
    lxw_row_t head = r;
    bool hints = false;
    for (size_t c = 0; c < p->ncols; c++) {
        s_keep(&e, worksheet_write_string(ws, r, (lxw_col_t)c, p->header[c], F->head));
        hints |= p->header_hint[c] != NULL;
    }
    r++;
    if (hints) {
        for (size_t c = 0; c < p->ncols; c++)
            s_keep(&e, worksheet_write_string(ws, r, (lxw_col_t)c,
                                        p->header_hint[c] ? p->header_hint[c] : "", F->hint));
        s_keep(&e, worksheet_set_row(ws, r, 60, NULL));
        r++;
    }
    s_keep(&e, worksheet_repeat_rows(ws, head, r - 1));
    worksheet_freeze_panes(ws, r, p->wide ? 2 : 0);
    if (p->nrows == 0)
        s_keep(&e, worksheet_write_string(ws, r, 0, p->empty_note, F->note));
    for (size_t i = 0; i < p->nrows; i++, r++) {
        const th_xcell_t *row = &p->cells[i * p->ncols];
        if (p->row_kind[i] == TH_XROW_HEADING) {
            s_keep(&e, s_line(ws, r, 0, last, row[0].text, F->group));
            continue;
        }
        for (size_t c = 0; c < p->ncols; c++)
            s_keep(&e, s_cell(ws, r, (lxw_col_t)c, &row[c], p->row_kind[i] == TH_XROW_TOTAL, F));
    }
    return e;
}

int
th_export_xlsx(const th_export_t *x, const char *path)
{
    lxw_workbook *wb = workbook_new(path);
    if (!wb) {
        th_log(TH_LOG_ERROR, "xlsx: cannot start a workbook for %s", path);
        return -ENOMEM;
    }
    s_fmts_t F;
    lxw_error e = s_formats(wb, &F) ? LXW_NO_ERROR : LXW_ERROR_MEMORY_MALLOC_FAILED;
    lxw_doc_properties props = { .title = x->title, .subject = x->subtitle,
                                 .author = x->issuer, .company = x->issuer,
                                 .comments = "tonghop" };
    if (e == LXW_NO_ERROR)
        e = workbook_set_properties(wb, &props);
    for (size_t i = 0; i < x->nparts && e == LXW_NO_ERROR; i++)
        e = s_sheet(wb, x, &x->parts[i], i == 0, &F);
    lxw_error ce = workbook_close(wb);   /* frees wb in every case */
    if (e == LXW_NO_ERROR)
        e = ce;
    if (e != LXW_NO_ERROR) {
        th_log(TH_LOG_ERROR, "xlsx: cannot write %s: %s", path,
               ce != LXW_NO_ERROR ? lxw_strerror(ce) : "a cell or sheet was refused");
        return e == LXW_ERROR_MEMORY_MALLOC_FAILED ? -ENOMEM : -EIO;
    }
    return 0;
}
