/*  export_html: the printable page of the consolidated report. */
#include "export_html.h"

#include <errno.h>
#include <string.h>

/* Margins of Nghị định 30/2020 (top/bottom 20-25 mm, left 30-35 mm,
   right 15-20 mm); Times New Roman where installed, else a metric twin. */
static const char s_css[] =
    "@page{size:A4 portrait;margin:20mm 15mm 20mm 30mm}\n"
    "@page wide{size:A4 landscape;margin:15mm 12mm}\n"
    "body{font-family:'Times New Roman','Liberation Serif','DejaVu Serif',serif;"
    "font-size:13pt;line-height:1.3;color:#000;margin:0}\n"
    "@media screen{body{max-width:190mm;margin:8mm auto;padding:0 6mm}}\n"
    "table.hdr{width:100%;border-collapse:collapse}\n"
    "table.hdr td{text-align:center;vertical-align:top;padding:0}\n"
    "table.hdr td.left{width:42%}\n"
    ".superior{font-size:12pt}.issuer,.qh{font-weight:bold;font-size:12pt}\n"
    ".tn{font-weight:bold;font-size:13pt}\n"
    ".line{border-top:1px solid #000;width:40%;margin:2pt auto 0}\n"
    ".date{font-style:italic;margin-top:6pt}\n"
    "h1{text-align:center;font-size:14pt;margin:18pt 0 0}\n"
    ".subtitle,.period{text-align:center;font-weight:bold;margin:0}\n"
    "dl.meta{margin:12pt 0;display:grid;grid-template-columns:auto 1fr;gap:1pt 8pt}\n"
    "dl.meta dt{font-weight:bold}dl.meta dd{margin:0}\n"
    "h2{font-size:13pt;margin:14pt 0 4pt;break-after:avoid}\n"
    "table.data{border-collapse:collapse;width:100%;font-size:11pt}\n"
    "table.data th,table.data td{border:1px solid #000;padding:1pt 3pt;vertical-align:top}\n"
    "table.data th{background:#e8e8e8}\n"
    "table.data thead{display:table-header-group}\n"
    "table.data tr{break-inside:avoid}\n"
    "td.num{text-align:right;white-space:nowrap}\n"
    "tr.heading td{font-weight:bold;background:#f3f3f3}\n"
    "tr.total td{font-weight:bold}\n"
    "section.wide{page:wide}\n"
    "section.wide table.data{font-size:7.5pt}\n"
    "section.wide th{font-size:6.5pt}\n"
    "section.wide td:nth-child(2),section.wide td:nth-child(3){white-space:nowrap}\n"
    "p.empty{font-style:italic}\n"
    "table.sign{width:100%;margin-top:18pt;border-collapse:collapse;break-inside:avoid}\n"
    "table.sign td{vertical-align:top;width:50%}\n"
    ".recv{font-size:11pt}.recv b{font-style:italic;font-size:12pt}\n"
    ".signer{text-align:center;font-weight:bold}\n"
    ".hint{text-align:center;font-style:italic;font-weight:normal}\n";

static void
s_cell(FILE *f, const th_xcell_t *c)
{
    char buf[48];
    if (c->kind == TH_XCELL_EMPTY) {
        fputs("<td>", f);
    } else if (c->kind == TH_XCELL_TEXT) {
        fputs("<td>", f);
        th_html_put(f, c->text);
    } else {
        th_export_cell_format(c, true, buf, sizeof buf);
        fputs("<td class=\"num\">", f);
        fputs(buf, f);
    }
    fputs("</td>", f);
}

static void
s_part(FILE *f, const th_export_part_t *p)
{
    fprintf(f, "<section class=\"part%s\">\n<h2>", p->wide ? " wide" : "");
    th_html_put(f, p->title);
    fputs("</h2>\n", f);
    if (p->nrows == 0) {
        fputs("<p class=\"empty\">", f);
        th_html_put(f, p->empty_note);
        fputs("</p>\n</section>\n", f);
        return;
    }
    fputs("<table class=\"data\">\n<thead><tr>", f);
    for (size_t c = 0; c < p->ncols; c++) {
        if (p->header_hint[c]) {
            fputs("<th title=\"", f);
            th_html_put(f, p->header_hint[c]);
            fputs("\">", f);
        } else {
            fputs("<th>", f);
        }
        th_html_put(f, p->header[c]);
        fputs("</th>", f);
    }
    fputs("</tr></thead>\n<tbody>\n", f);
    for (size_t r = 0; r < p->nrows; r++) {
        const th_xcell_t *row = &p->cells[r * p->ncols];
        switch (p->row_kind[r]) {
        case TH_XROW_HEADING:
            fprintf(f, "<tr class=\"heading\"><td colspan=\"%zu\">", p->ncols);
            th_html_put(f, row[0].text);
            fputs("</td></tr>\n", f);
            continue;
        case TH_XROW_TOTAL:
            fputs("<tr class=\"total\">", f);
            break;
        default:
            fputs("<tr>", f);
        }
        for (size_t c = 0; c < p->ncols; c++)
            s_cell(f, &row[c]);
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table>\n</section>\n", f);
}

int
th_export_html(const th_export_t *x, FILE *f)
{
    fputs("<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
    th_html_put(f, x->title);
    fputs(" — ", f);
    th_html_put(f, x->subtitle);
    fputs("</title>\n<style>\n", f);
    fputs(s_css, f);
    fputs("</style>\n</head>\n<body>\n<table class=\"hdr\"><tr><td class=\"left\">", f);
    if (x->superior[0]) {
        fputs("<div class=\"superior\">", f);
        th_html_put(f, x->superior);
        fputs("</div>", f);
    }
    fputs("<div class=\"issuer\">", f);
    th_html_put(f, x->issuer);
    fputs("</div><div class=\"line\"></div></td>\n<td><div class=\"qh\">CỘNG HÒA XÃ HỘI "
          "CHỦ NGHĨA VIỆT NAM</div><div class=\"tn\">Độc lập - Tự do - Hạnh phúc</div>"
          "<div class=\"line\"></div><div class=\"date\">", f);
    th_html_put(f, x->date_line);
    fputs("</div></td></tr></table>\n<h1>", f);
    th_html_put(f, x->title);
    fputs("</h1>\n<p class=\"subtitle\">", f);
    th_html_put(f, x->subtitle);
    fputs("</p>\n<p class=\"period\">", f);
    th_html_put(f, x->period_line);
    fputs("</p>\n<dl class=\"meta\">\n", f);
    for (size_t i = 0; i < x->nmeta; i++) {
        fputs("<dt>", f);
        th_html_put(f, x->meta[i][0]);
        fputs(":</dt><dd>", f);
        th_html_put(f, x->meta[i][1]);
        fputs("</dd>\n", f);
    }
    fputs("</dl>\n", f);
    for (size_t i = 0; i < x->nparts; i++)
        s_part(f, &x->parts[i]);
    fputs("<table class=\"sign\"><tr><td class=\"recv\"><b>Nơi nhận:</b><br>- Như trên;<br>"
          "- Lưu: VT.</td>\n<td><div class=\"signer\">", f);
    th_html_put(f, x->signer);
    fputs("</div><div class=\"hint\">(Ký, ghi rõ họ tên, đóng dấu)</div></td></tr></table>\n"
          "</body>\n</html>\n", f);
    return ferror(f) ? -EIO : 0;
}
