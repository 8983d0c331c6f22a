/*  exportcli: the `export` command. */
#include "exportcli.h"
#include "completeness.h"
#include "err.h"
#include "export.h"
#include "export_html.h"
#include "export_xlsx.h"
#include "mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum { S_CSV, S_HTML, S_XLSX } s_fmt_t;

static int
s_write(const th_export_t *x, s_fmt_t fmt, const char *path, FILE *f)
{
    if (fmt == S_XLSX)
        return th_export_xlsx(x, path);
    int rc = fmt == S_CSV ? th_export_csv(x, f) : th_export_html(x, f);
    if (fflush(f) != 0 && rc == 0)
        rc = -EIO;
    return rc;
}

int
th_export_cmd(th_cli_opts_t *o, int argc, char **argv)
{
    if (argc > 0)
        return th_cli_fail(TH_EXIT_USAGE, "export: unexpected argument '%s'", argv[0]);
    s_fmt_t fmt;
    if (!o->format)
        return th_cli_fail(TH_EXIT_USAGE, "export: --format xlsx, csv or html is required");
    if (strcmp(o->format, "xlsx") == 0)
        fmt = S_XLSX;
    else if (strcmp(o->format, "csv") == 0)
        fmt = S_CSV;
    else if (strcmp(o->format, "html") == 0)
        fmt = S_HTML;
    else
        return th_cli_fail(TH_EXIT_USAGE, "export: --format must be xlsx, csv or html, not "
                           "'%s'", o->format);
    if (!o->out || !o->out[0])
        return th_cli_fail(TH_EXIT_USAGE, "export: --out FILE is required (- for standard "
                           "output, csv and html only)");
    bool to_stdout = strcmp(o->out, "-") == 0;
    if (to_stdout && fmt == S_XLSX)
        return th_cli_fail(TH_EXIT_USAGE, "export: an XLSX file cannot go to standard "
                           "output; give --out FILE.xlsx");
    int64_t as_of;
    int code;
    th_office_t *off = th_cli_open_as_of("export", o, &as_of, &code);
    if (!off)
        return code;
    char err[512];
    th_export_t *x = NULL;
    char *tmp = NULL;
    FILE *f = NULL;
    int rc = th_export_make_compare(off, o->form, o->period, o->compare, o->unit, as_of, &x,
                                    err, sizeof err);
    if (rc < 0) {
        code = th_cli_fail(TH_EXIT_FAIL, "export: %s", err);
        goto done;
    }
    if (to_stdout) {
        if ((rc = s_write(x, fmt, NULL, stdout)) < 0)
            code = th_cli_fail(TH_EXIT_FAIL, "export: cannot write the output: %s",
                               th_strerror(rc));
        goto done;
    }
    if (!(tmp = th_asprintf("%s.tmp-%ld", o->out, (long)getpid()))) {
        code = th_cli_fail(TH_EXIT_FAIL, "export: out of memory");
        goto done;
    }
    if (fmt != S_XLSX && !(f = fopen(tmp, "w"))) {
        code = th_cli_fail(TH_EXIT_FAIL, "export: cannot create '%s' (written first as "
                           "'%s'): %s", o->out, tmp, strerror(errno));
        goto done;
    }
    rc = s_write(x, fmt, tmp, f);
    if (f && fclose(f) != 0 && rc == 0)
        rc = -errno;
    f = NULL;
    if (rc == 0 && rename(tmp, o->out) != 0)
        rc = -errno;
    if (rc < 0) {
        unlink(tmp);
        code = th_cli_fail(TH_EXIT_FAIL, "export: cannot write '%s': %s", o->out,
                           th_strerror(rc));
        goto done;
    }
    const th_completeness_t *c = x->rollup->completeness;
    printf("Đã xuất báo cáo tổng hợp %s kỳ %s của đơn vị %s (%zu/%zu đơn vị đã "
           "báo cáo) ra tệp %s\n", x->rollup->form, x->rollup->period.id,
            x->rollup->total.unit, c->total.reported, c->total.expected, o->out);
done:
    if (f)
        fclose(f);
    th_free(tmp);
    th_export_destroy(&x);
    th_office_destroy(&off);
    return code;
}
