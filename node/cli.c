/*  cli: argument parsing and output of the office commands. Modules do the
    work; this file turns their results into text, JSON and exit codes. */
#include "cli.h"
#include "codec.h"
#include "daemon.h"
#include "doctor.h"
#include "uplink.h"
#include "entry.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "office.h"
#include "period.h"
#include "present.h"
#include "validate.h"
#include "vnnum.h"
#include "status.h"
#include "httpd.h"
#include "webnode.h"

#include <getopt.h>
#include <pwd.h>
#include <sodium.h>
#include <stdbool.h>
#include <termios.h>
#include <unistd.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_prog = "tonghop";
static th_cli_kind_t s_kind;

int
th_cli_fail(int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "tonghop: error: %s\n", msg);
    return code;
}

/* ---- options shared by the commands ------------------------------------ */


enum { O_DIR = 256, O_UNIT, O_PARENT, O_PARENT_KEY, O_BIND, O_UNITS, O_FORMS,
       O_FORM, O_PERIOD, O_VALUES, O_AUTHOR, O_NOTE, O_KEY, O_REASON, O_AS_OF,
       O_FORMAT, O_OUT, O_NAME, O_CODE, O_LEVEL, O_FOR, O_DOCUMENT, O_DRAFT, O_HISTORY,
       O_JSON, O_HELP, O_COMPARE };

static const struct option s_all_opts[] = {
    { "dir", required_argument, NULL, O_DIR },
    { "unit", required_argument, NULL, O_UNIT },
    { "parent", required_argument, NULL, O_PARENT },
    { "parent-key", required_argument, NULL, O_PARENT_KEY },
    { "bind", required_argument, NULL, O_BIND },
    { "units", required_argument, NULL, O_UNITS },
    { "forms", required_argument, NULL, O_FORMS },
    { "form", required_argument, NULL, O_FORM },
    { "period", required_argument, NULL, O_PERIOD },
    { "values", required_argument, NULL, O_VALUES },
    { "author", required_argument, NULL, O_AUTHOR },
    { "note", required_argument, NULL, O_NOTE },
    { "key", required_argument, NULL, O_KEY },
    { "reason", required_argument, NULL, O_REASON },
    { "as-of", required_argument, NULL, O_AS_OF },
    { "format", required_argument, NULL, O_FORMAT },
    { "out", required_argument, NULL, O_OUT },
    { "name", required_argument, NULL, O_NAME },
    { "code", required_argument, NULL, O_CODE },
    { "level", required_argument, NULL, O_LEVEL },
    { "for", required_argument, NULL, O_FOR },
    { "document", required_argument, NULL, O_DOCUMENT },
    { "draft", no_argument, NULL, O_DRAFT },
    { "history", no_argument, NULL, O_HISTORY },
    { "json", no_argument, NULL, O_JSON },
    { "help", no_argument, NULL, O_HELP },
    { "compare", required_argument, NULL, O_COMPARE },
    { NULL, 0, NULL, 0 },
};


static bool
s_listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        while (*p == ' ')
            p++;
        const char *e = strchr(p, ' ');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && strncmp(p, name, n) == 0)
            return true;
        p += l;
    }
    return false;
}

static const char **
s_opt_slot(th_cli_opts_t *o, int id)
{
    switch (id) {
    case O_DIR: return &o->dir;
    case O_UNIT: return &o->unit;
    case O_PARENT: return &o->parent;
    case O_PARENT_KEY: return &o->parent_key;
    case O_BIND: return &o->bind;
    case O_UNITS: return &o->units;
    case O_FORMS: return &o->forms_dir;
    case O_FORM: return &o->form;
    case O_PERIOD: return &o->period;
    case O_VALUES: return &o->values;
    case O_AUTHOR: return &o->author;
    case O_NOTE: return &o->note;
    case O_KEY: return &o->key;
    case O_REASON: return &o->reason;
    case O_AS_OF: return &o->as_of;
    case O_FORMAT: return &o->format;
    case O_OUT: return &o->out;
    case O_NAME: return &o->name;
    case O_CODE: return &o->code;
    case O_LEVEL: return &o->level;
    case O_FOR: return &o->for_unit;
    case O_DOCUMENT: return &o->document;
    case O_COMPARE: return &o->compare;
    default: return NULL;
    }
}

/* Writes text with the program names of its examples set to this
   program's: most commands are shared by tonghop-node and tonghop-hub. */
static void
s_put_examples(FILE *f, const char *text)
{
    static const char *const names[] = { "tonghop-node ", "tonghop-hub " };
    while (*text) {
        size_t k = 0;
        while (k < 2 && strncmp(text, names[k], strlen(names[k])) != 0)
            k++;
        if (k < 2) {
            fprintf(f, "%s ", s_prog);
            text += strlen(names[k]);
        } else {
            fputc(*text++, f);
        }
    }
}

static void
s_usage_cmd(FILE *f, const th_cli_cmd_t *c)
{
    fprintf(f, "usage: %s %s %s\n\n%s\n\n", s_prog, c->name, c->required, c->summary);
    s_put_examples(f, c->usage);
    fprintf(f, "\nExit status: 0 success, 1 failure, 2 usage error%s.\n",
            strcmp(c->name, "submit") == 0 ? ", 3 report rejected by the form's checks" : "");
}

/* Parses argv (argv[0] is the command name). Returns 0, or an exit code. */
static int
s_parse(const th_cli_cmd_t *c, th_cli_opts_t *o, int *argc, char ***argv)
{
    memset(o, 0, sizeof *o);
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(*argc, *argv, "h", s_all_opts, NULL)) != -1) {
        const char *name = NULL;
        for (const struct option *so = s_all_opts; so->name; so++)
            if (so->val == ch)
                name = so->name;
        if (ch == 'h' || ch == O_HELP) {
            o->help = 1;
            continue;
        }
        if (ch == '?' || ch == ':' || !name) {
            const char *bad = (*argv)[optind - 1];
            return th_cli_fail(TH_EXIT_USAGE, "%s: unknown option or missing value: '%s' "
                          "(see '%s %s --help')", c->name, bad, s_prog, c->name);
        }
        if (!s_listed(c->allowed, name))
            return th_cli_fail(TH_EXIT_USAGE, "%s does not take --%s (see '%s %s --help')",
                          c->name, name, s_prog, c->name);
        switch (ch) {
        case O_DRAFT: o->draft = 1; break;
        case O_HISTORY: o->history = 1; break;
        case O_JSON: o->json = 1; break;
        default: *s_opt_slot(o, ch) = optarg; break;
        }
    }
    if (o->help) {
        s_usage_cmd(stdout, c);
        return -1;
    }
    if (!o->dir && s_listed(c->allowed, "dir"))
        o->dir = th_cli_default_dir();
    /* required options: words starting with -- in c->required, not in [] */
    int depth = 0;
    for (const char *p = c->required; *p; p++) {
        if (*p == '[' || *p == '(')
            depth++;
        else if (*p == ']' || *p == ')')
            depth--;
        else if (depth == 0 && p[0] == '-' && p[1] == '-') {
            char name[32];
            size_t l = strcspn(p + 2, " =]");
            snprintf(name, sizeof name, "%.*s", (int)l, p + 2);
            for (const struct option *so = s_all_opts; so->name; so++) {
                if (strcmp(so->name, name) == 0 && so->has_arg &&
                    !*s_opt_slot(o, so->val))
                    return th_cli_fail(TH_EXIT_USAGE, "%s needs --%s%s (see '%s %s --help')",
                                  c->name, name, strcmp(name, "dir") == 0
                                  ? " (or TONGHOP_DIR; run as the user " TH_CLI_SERVICE_USER
                                    ", the default is " TH_CLI_SERVICE_DIR ")" : "",
                                  s_prog, c->name);
            }
            p += l + 1;
            if (!*p)
                break;
        }
    }
    *argc -= optind;
    *argv += optind;
    return 0;
}

const char *
th_cli_default_dir(void)
{
    const char *env = getenv("TONGHOP_DIR");
    if (env && *env)
        return env;
    /* a service install: the package's user and data directory */
    struct passwd *pw = getpwuid(geteuid());
    return pw && strcmp(pw->pw_name, TH_CLI_SERVICE_USER) == 0 ? TH_CLI_SERVICE_DIR : NULL;
}

th_office_t *
th_cli_open(const char *dir, int *code)
{
    char err[1024];
    int rc;
    th_office_t *o = th_office_open(dir, err, sizeof err, &rc);
    if (!o)
        *code = th_cli_fail(TH_EXIT_FAIL, "%s", err);
    return o;
}

int
th_cli_print_json(json_t *j)
{
    if (!j)
        return th_cli_fail(TH_EXIT_FAIL, "out of memory");
    char *s = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    if (!s)
        return th_cli_fail(TH_EXIT_FAIL, "out of memory");
    puts(s);
    free(s);
    return TH_EXIT_OK;
}

/* ---- init, key ------------------------------------------------------- */

/* The office's public key alone on a line: what operators copy to the
   parent, and what scripts take as the last line of init. */
static void
s_print_key(const th_office_t *off)
{
    char z85[TH_Z85_KEY_LEN + 1];
    th_z85_encode_key(off->id.pk, z85);
    printf("%s\n", z85);
}

static int
s_cmd_init(th_cli_opts_t *o, int argc, char **argv)
{
    (void)argv;
    if (argc > 0)
        return th_cli_fail(TH_EXIT_USAGE, "init: unexpected argument '%s'", argv[0]);
    if (s_kind == TH_CLI_HUB && !o->bind)
        return th_cli_fail(TH_EXIT_USAGE, "init: a hub needs --bind tcp://IP:PORT");
    if (!o->parent != !o->parent_key)
        return th_cli_fail(TH_EXIT_USAGE, "init: --parent and --parent-key go together");
    th_office_init_t opt = {
        .dir = o->dir, .unit = o->unit, .parent_endpoint = o->parent,
        .parent_key = o->parent_key, .bind = o->bind, .units_csv = o->units,
        .forms_dir = o->forms_dir,
    };
    char err[1024];
    int rc = th_office_init(&opt, err, sizeof err);
    if (rc < 0)
        return th_cli_fail(TH_EXIT_FAIL, "init: %s", err);
    int code = 0;
    th_office_t *off = th_cli_open(o->dir, &code);
    if (!off)
        return code;
    const th_unit_t *u = th_units_find(off->units, off->cfg.unit,
                                       th_time_day_vn(th_now_ms()));
    printf("Đã tạo dữ liệu của đơn vị %s%s%s tại %s\n", off->cfg.unit,
           u ? " — " : "", u ? u->name : "", o->dir);
    if (!o->parent && s_kind == TH_CLI_NODE)
        printf("Chưa khai báo đơn vị cấp trên (--parent, --parent-key): "
               "báo cáo được lưu tại máy, chưa gửi đi.\n");
    printf("Khóa công khai của đơn vị (gửi cho cấp trên để đăng ký):\n");
    s_print_key(off);
    th_office_destroy(&off);
    return TH_EXIT_OK;
}

static int
s_cmd_key(th_cli_opts_t *o, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int code = 0;
    th_office_t *off = th_cli_open(o->dir, &code);
    if (!off)
        return code;
    s_print_key(off);
    th_office_destroy(&off);
    return TH_EXIT_OK;
}

/* ---- submit ------------------------------------------------------------ */

int
th_cli_submit(th_cli_opts_t *o, int argc, char **argv)
{
    if (o->document && !o->for_unit)
        return th_cli_fail(TH_EXIT_USAGE, "submit: --document goes with --for UNIT (an "
                           "entry on behalf of a child office)");
    if (!o->values && argc == 0)
        return th_cli_fail(TH_EXIT_USAGE, "submit: give values as CODE=VALUE or --values FILE.csv");
    if (o->values && argc > 0)
        return th_cli_fail(TH_EXIT_USAGE, "submit: give either --values FILE.csv or "
                                     "CODE=VALUE arguments, not both");
    th_entry_value_t *vals = NULL;
    size_t nvals = 0;
    char err[1024] = "";
    int code = TH_EXIT_OK;
    if (o->values) {
        if (th_entry_values_from_csv(o->values, &vals, &nvals, err, sizeof err) < 0)
            return th_cli_fail(TH_EXIT_FAIL, "submit: %s", err);
    } else {
        vals = th_calloc((size_t)argc, sizeof *vals);
        if (!vals)
            return th_cli_fail(TH_EXIT_FAIL, "out of memory");
        for (int i = 0; i < argc; i++) {
            char *eq = strchr(argv[i], '=');
            if (!eq || eq == argv[i]) {
                th_entry_values_free(vals, nvals);
                return th_cli_fail(TH_EXIT_USAGE, "submit: '%s' is not CODE=VALUE", argv[i]);
            }
            vals[nvals].code = th_strndup(argv[i], (size_t)(eq - argv[i]));
            vals[nvals].text = th_strdup(eq + 1);
            nvals++;
            if (!vals[nvals - 1].code || !vals[nvals - 1].text) {
                th_entry_values_free(vals, nvals);
                return th_cli_fail(TH_EXIT_FAIL, "out of memory");
            }
        }
    }
    th_office_t *off = th_cli_open(o->dir, &code);
    if (!off) {
        th_entry_values_free(vals, nvals);
        return code;
    }
    th_entry_req_t req = {
        .form = o->form, .period = o->period, .draft = o->draft != 0,
        .author = o->author, .note = o->note, .values = vals, .nvalues = nvals,
        .for_unit = o->for_unit, .document = o->document,
    };
    th_problems_t pr = { 0 };
    th_entry_result_t res;
    int rc = th_entry_submit(off, &req, &pr, &res, err, sizeof err);
    if (rc == TH_E_REJECTED) {
        fprintf(stderr, "Báo cáo chưa được lưu. Cần sửa %zu lỗi:\n", pr.n);
        for (size_t i = 0; i < pr.n; i++)
            fprintf(stderr, "  %s%s%s%s: %s\n", pr.items[i].code,
                    pr.items[i].label ? " (" : "", pr.items[i].label ? pr.items[i].label : "",
                    pr.items[i].label ? ")" : "", pr.items[i].message);
        code = th_cli_fail(TH_EXIT_REJECTED, "submit: report rejected: %zu problem(s), nothing stored",
                      pr.n);
    } else if (rc < 0) {
        code = th_cli_fail(TH_EXIT_FAIL, "submit: %s", err[0] ? err : th_strerror(rc));
    } else {
        char when[32];
        th_time_format_vn(res.submitted_at, when);
        if (res.unchanged)
            printf("Không có thay đổi so với lần %u: không lưu thêm.\n", res.rev);
        else if (o->draft)
            printf("Đã lưu bản nháp %s kỳ %s%s%s, lần %u, lúc %s.\n", o->form, o->period,
                   o->for_unit ? " của đơn vị " : "", o->for_unit ? o->for_unit : "",
                   res.rev, when);
        else if (o->for_unit)
            printf("Đã nhập thay báo cáo %s kỳ %s của đơn vị %s, lần %u, lúc %s%s%s.\n",
                   o->form, o->period, o->for_unit, res.rev, when,
                   o->document ? ", theo văn bản " : "", o->document ? o->document : "");
        else
            printf("Đã nộp báo cáo %s kỳ %s, lần %u, lúc %s.\n", o->form, o->period,
                   res.rev, when);
        if (res.late && !res.unchanged) {
            char d[11];
            th_date_format_vn(res.deadline, d);
            printf("Lưu ý: đã quá hạn nộp %s.\n", d);
        }
    }
    th_problems_clear(&pr);
    th_office_destroy(&off);
    th_entry_values_free(vals, nvals);
    return code;
}

/* ---- show -------------------------------------------------------------- */

typedef struct {
    th_office_t *off;
    const th_form_t *form;
    int json;
    json_t *list;        /* --json --history */
    int count;
    int bad;             /* records that failed to decode or verify */
    uint32_t shown_rev;  /* the last revision shown */
} s_show_t;

static void
s_show_text(const s_show_t *s, const th_record_t *r, bool sig_ok, int64_t received_at)
{
    const th_form_t *f = s->form;
    char when[32], recv[32];
    th_time_format_vn(r->submitted_at, when);
    th_time_format_vn(received_at, recv);
    printf("Lần %u — %s — %s%s%s — chữ ký %s\n", r->rev,
           r->status == TH_STATUS_SUBMITTED ? "đã nộp" : "bản nháp", when,
           r->author ? " — người nhập: " : "", r->author ? r->author : "",
           sig_ok ? "hợp lệ" : "KHÔNG hợp lệ");
    if (r->proxy)
        printf("  Nhập thay bởi đơn vị %s%s%s\n", r->by, r->doc ? ", theo văn bản: " : "",
               r->doc ? r->doc : "");
    if (r->note)
        printf("  Ghi chú: %s\n", r->note);
    const char *section = NULL;
    for (size_t i = 0; i < f->nindicators; i++) {
        const th_indicator_t *ind = &f->indicators[i];
        if (ind->section[0] && (!section || strcmp(section, ind->section) != 0)) {
            section = ind->section;
            const th_form_section_t *sec = th_form_section(f, section);
            if (sec)
                printf("  %s. %s\n", sec->id, sec->title);
        }
        char buf[TH_TEXT_MAX + 64];
        const th_value_t *v = th_record_get(r, ind->code);
        double d;
        if (v)
            th_fmt_value_vn(ind, v, buf, sizeof buf);
        else if (ind->computed && th_form_computed(f, ind, r, &d) == 0)
            th_vnnum_format_dec(d, buf, sizeof buf);
        else
            snprintf(buf, sizeof buf, "(chưa nhập)");
        printf("    %-8s %s: %s%s%s\n", ind->code, ind->label, buf,
               (v || ind->computed) && ind->unit && *ind->unit ? " " : "",
               (v || ind->computed) && ind->unit ? ind->unit : "");
    }
}

static int
s_show_one(const th_store_rev_t *sr, void *ctx)
{
    s_show_t *s = ctx;
    th_record_t r;
    th_record_init(&r);
    int rc = th_entry_decode_verified(sr->blob, sr->len, &r);
    bool sig_ok = rc == 0;
    if (rc == TH_E_SIG) {
        /* decode again without trusting it, to show what is there */
        rc = th_codec_record_decode(sr->blob, sr->len, &r, NULL, NULL);
    }
    if (rc < 0) {
        th_log(TH_LOG_ERROR, "show: revision %u of %s cannot be decoded: %s", sr->rev,
               sr->key, th_strerror(rc));
        s->bad++;
        return 0;
    }
    if (!sig_ok)
        s->bad++;
    s->count++;
    s->shown_rev = r.rev;
    if (s->json) {
        json_t *j = th_present_record_json(s->form, &r, sig_ok);
        char recv[32];
        th_time_format_iso(sr->received_at, recv);
        if (j)
            json_object_set_new(j, "received_at", json_string(recv));
        if (s->list)
            json_array_append_new(s->list, j);
        else
            s->list = j;
    } else {
        s_show_text(s, &r, sig_ok, sr->received_at);
    }
    th_record_clear(&r);
    return 0;
}

typedef struct {
    s_show_t *s;
    const char *key;
    int history;
} s_show_q_t;

static int
s_show_read(th_store_txn_t *txn, void *ctx)
{
    s_show_q_t *q = ctx;
    if (q->history)
        return th_store_each_revision(txn, q->key, s_show_one, q->s);
    th_store_rev_t r;
    int rc = th_store_get_current(txn, q->key, &r);
    return rc < 0 ? rc : s_show_one(&r, q->s);
}

static int
s_cmd_show(th_cli_opts_t *o, int argc, char **argv)
{
    if (argc > 0)
        return th_cli_fail(TH_EXIT_USAGE, "show: unexpected argument '%s'", argv[0]);
    int code = 0;
    th_office_t *off = th_cli_open(o->dir, &code);
    if (!off)
        return code;
    const char *unit = o->unit ? o->unit : off->cfg.unit;
    const th_form_t *f = th_office_form(off, o->form);
    th_period_t p;
    char key[TH_KEY_MAX];
    if (!f) {
        code = th_cli_fail(TH_EXIT_FAIL, "show: form '%s' is not known here (see 'forms')",
                      o->form);
        goto done;
    }
    if (th_period_parse(o->period, &p) < 0) {
        code = th_cli_fail(TH_EXIT_USAGE, "show: invalid period '%s' (write 2026, 2026S1, "
                      "2026Q3 or 202605)", o->period);
        goto done;
    }
    if (th_key_make(key, sizeof key, f->id, p.id, unit) < 0 || !th_valid_unit_code(unit)) {
        code = th_cli_fail(TH_EXIT_USAGE, "show: invalid unit '%s'", unit);
        goto done;
    }
    s_show_t s = { .off = off, .form = f, .json = o->json };
    if (o->json && o->history)
        s.list = json_array();
    if (!o->json) {
        char label[64], d[11];
        th_period_label_vn(&p, label, sizeof label);
        const th_unit_t *u = th_units_find(off->units, unit, p.end);
        printf("%s\nKỳ báo cáo: %s (%s)\nĐơn vị: %s%s%s\n", f->title, label, p.id, unit,
               u ? " — " : "", u ? u->name : "");
        int32_t dl = th_entry_deadline(off, f, &p, unit);
        if (dl != INT32_MIN) {
            th_date_format_vn(dl, d);
            printf("Hạn nộp: %s\n", d);
        }
        char cut[96];
        if (*th_form_cutoff_text(f, &p, cut, sizeof cut))
            printf("%s\n", cut);
        printf("\n");
    }
    s_show_q_t q = { &s, key, o->history };
    int rc = th_store_read(off->store, s_show_read, &q);
    if (rc == TH_E_NOTFOUND || (rc == 0 && s.count == 0 && !s.bad)) {
        json_decref(s.list);
        code = th_cli_fail(TH_EXIT_FAIL, "show: no report of unit %s for %s %s yet", unit,
                      f->id, p.id);
        goto done;
    }
    if (rc < 0) {
        json_decref(s.list);
        code = th_cli_fail(TH_EXIT_FAIL, "show: cannot read the store: %s", th_strerror(rc));
        goto done;
    }
    if (!o->json && !o->history && s.count == 1) {
        th_status_returned_t ret;
        if (th_status_returned(off, key, s.shown_rev, &ret) == 0) {
            char when[32];
            th_time_format_vn(ret.at, when);
            printf("\nĐơn vị %s trả lại báo cáo này để sửa (%s): %s\n", ret.by, when,
                   ret.reason);
        }
    }
    if (o->json) {
        if (o->history) {
            json_t *doc = json_pack("{s:s, s:s, s:s, s:o}", "form", f->id, "period", p.id,
                                    "unit", unit, "revisions", s.list);
            code = th_cli_print_json(doc);
        } else {
            code = th_cli_print_json(s.list);
        }
    }
    if (s.bad)
        code = th_cli_fail(TH_EXIT_FAIL, "show: %d revision(s) failed the signature or "
                      "decoding check; the store may have been tampered with", s.bad);
done:
    th_office_destroy(&off);
    return code;
}

/* ---- forms -------------------------------------------------------------- */

static int
s_cmd_forms(th_cli_opts_t *o, int argc, char **argv)
{
    if (argc > 0)
        return th_cli_fail(TH_EXIT_USAGE, "forms: unexpected argument '%s'", argv[0]);
    int code = 0;
    th_office_t *off = th_cli_open(o->dir, &code);
    if (!off)
        return code;
    if (o->json) {
        code = th_cli_print_json(th_present_forms_json(off->forms));
    } else {
        for (size_t i = 0; i < th_forms_count(off->forms); i++) {
            const th_form_t *f = th_forms_at(off->forms, i);
            printf("%s (phiên bản %u, %s, %zu chỉ tiêu): %s\n", f->id, f->version,
                   th_period_type_name(f->period_type), f->nindicators, f->title);
        }
    }
    th_office_destroy(&off);
    return code;
}

/* ---- status ------------------------------------------------------------- */

/* The text of `status`, rendered from the document of th_status_json (the
   same one --json prints); only the parent's address comes from the config. */
static void
s_status_text(const th_office_t *off, const json_t *doc)
{
    bool has_parent = off->cfg.parent_endpoint[0] != '\0';
    const char *unit = json_string_value(json_object_get(doc, "unit"));
    printf("Đơn vị: %s\nCấp trên: %s\n", unit ? unit : "",
           has_parent ? off->cfg.parent_endpoint
           : th_office_is_hub(off) ? "(không có: đơn vị gốc)"
                                   : "(chưa khai báo: báo cáo chỉ lưu tại máy)");
    uint64_t pending = (uint64_t)json_integer_value(json_object_get(doc, "pending"));
    uint64_t acked = (uint64_t)json_integer_value(json_object_get(doc, "acked_seq"));
    uint64_t last = (uint64_t)json_integer_value(json_object_get(doc, "last_seq"));
    printf("Báo cáo của đơn vị:\n");
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(doc, "reports"), i, r) {
        const char *st = json_string_value(json_object_get(r, "status"));
        bool submitted = st && strcmp(st, "submitted") == 0;
        const char *form = json_string_value(json_object_get(r, "form"));
        const char *period = json_string_value(json_object_get(r, "period"));
        char vn[32], where[TH_STATUS_PHRASE_MAX];
        th_status_time_vn(json_string_value(json_object_get(r, "saved_at")), vn);
        th_status_progress_vn(r, pending, where, sizeof where);
        printf("  %-14s %-8s lần %-3u %-9s %s — %s\n", form ? form : "",
               period ? period : "",
               (unsigned)json_integer_value(json_object_get(r, "rev")),
               submitted ? "đã nộp" : "bản nháp", vn, where);
    }
    const json_t *link = json_object_get(doc, "link");
    const char *state = json_string_value(json_object_get(link, "state"));
    const char *error = json_string_value(json_object_get(link, "error"));
    const char *contact = json_string_value(json_object_get(link, "last_contact"));
    bool refused = state && strcmp(state, "refused") == 0;
    char when[32] = "";
    if (contact)
        th_status_time_vn(contact, when);
    printf("Đường truyền: %s%s%s%s%s\n", th_status_link_vn(state),
           when[0] ? ", liên lạc lần cuối " : "", when,
           error && error[0] && refused ? " — " : "", refused && error ? error : "");
    printf("Chờ gửi lên cấp trên: %" PRIu64 " (đã xác nhận đến số %" PRIu64
           ", mới nhất %" PRIu64 ")\n", pending, acked, last);
    const char *unotice = json_string_value(json_object_get(doc, "units_notice"));
    if (unotice)
        printf("LƯU Ý: %s\n", unotice);
    const json_t *rot = json_object_get(doc, "rotation");
    if (rot) {
        const char *par = json_string_value(json_object_get(rot, "parent"));
        const json_t *wait = json_object_get(rot, "waiting");
        printf("Đổi khóa của văn phòng: đang thực hiện — cấp trên: %s%s%s; đơn vị cấp dưới "
               "chưa nhận khóa mới: %lld/%lld",
               !par || !strcmp(par, "waiting") ? "chưa xác nhận" :
               !strcmp(par, "done") ? "đã nhận" : "từ chối",
               par && !strcmp(par, "refused") ? " — " : "",
               par && !strcmp(par, "refused")
                   ? json_string_value(json_object_get(rot, "refused")) : "",
               (long long)json_integer_value(json_object_get(rot, "children_waiting")),
               (long long)json_integer_value(json_object_get(rot, "children")));
        for (size_t k = 0; k < json_array_size(wait); k++)
            printf("%s%s", k ? ", " : " (", json_string_value(json_array_get(wait, k)));
        printf("%s\n", json_array_size(wait) ? ")" : "");
    }
    const json_t *run = json_object_get(doc, "daemon");
    if (!json_is_true(json_object_get(run, "running"))) {
        printf("Dịch vụ (run): không chạy\n");
        return;
    }
    const char *coll = json_string_value(json_object_get(run, "collector"));
    const char *web = json_string_value(json_object_get(run, "web"));
    printf("Dịch vụ (run): đang chạy, pid %lld%s%s%s%s\n",
           (long long)json_integer_value(json_object_get(run, "pid")),
           coll ? "; nhận kết nối tại " : "", coll ? coll : "",
           web ? "; giao diện web " : "", web ? web : "");
}

static int
s_cmd_status(th_cli_opts_t *o, int argc, char **argv)
{
    if (argc > 0)
        return th_cli_fail(TH_EXIT_USAGE, "status: unexpected argument '%s'", argv[0]);
    int code = 0;
    th_office_t *off = th_cli_open(o->dir, &code);
    if (!off)
        return code;
    json_t *doc = NULL;
    char err[512];
    if (th_status_json(off, &doc, err, sizeof err) < 0) {
        code = th_cli_fail(TH_EXIT_FAIL, "status: %s", err);
    } else if (o->json) {
        code = th_cli_print_json(doc);
    } else {
        s_status_text(off, doc);
        json_decref(doc);
    }
    th_office_destroy(&off);
    return code;
}

/* ---- report commands (hub) ------------------------------------------------ */

th_office_t *
th_cli_open_as_of(const char *cmd, const th_cli_opts_t *o, int64_t *as_of, int *code)
{
    *as_of = INT64_MAX;
    *code = TH_EXIT_OK;
    if (o->as_of && th_time_parse_iso_end(o->as_of, as_of) < 0) {
        *code = th_cli_fail(TH_EXIT_USAGE, "%s: invalid --as-of '%s' (write 2026-11-01 or "
                            "2026-11-01T17:00+07:00)", cmd, o->as_of);
        return NULL;
    }
    return th_cli_open(o->dir, code);
}

int
th_cli_report(const th_cli_report_t *rep, th_cli_opts_t *o, int argc, char **argv)
{
    if (argc > 0)
        return th_cli_fail(TH_EXIT_USAGE, "%s: unexpected argument '%s'", rep->name, argv[0]);
    const char *fmt = o->format ? o->format : "table";
    if (strcmp(fmt, "table") != 0 && strcmp(fmt, "csv") != 0 && strcmp(fmt, "json") != 0)
        return th_cli_fail(TH_EXIT_USAGE, "%s: --format must be table, csv or json, not '%s'",
                           rep->name, fmt);
    int64_t as_of;
    int code;
    th_office_t *off = th_cli_open_as_of(rep->name, o, &as_of, &code);
    if (!off)
        return code;
    char err[512];
    void *res = NULL;
    int rc = rep->compute(off, o, as_of, &res, err, sizeof err);
    if (rc < 0) {
        code = th_cli_fail(TH_EXIT_FAIL, "%s: %s", rep->name, err);
    } else if (strcmp(fmt, "json") == 0) {
        code = th_cli_print_json(rep->json(res));
    } else if (strcmp(fmt, "csv") == 0) {
        rep->csv(res, th_office_form(off, o->form));
    } else if ((rc = rep->table(res, th_office_form(off, o->form))) < 0) {
        code = th_cli_fail(TH_EXIT_FAIL, "%s: %s", rep->name, th_strerror(rc));
    }
    if (fflush(stdout) != 0 && code == 0)
        code = th_cli_fail(TH_EXIT_FAIL, "%s: cannot write the output", rep->name);
    rep->destroy(&res);
    th_office_destroy(&off);
    return code;
}

/* ---- user ------------------------------------------------------------- */

/* One line of standard input without its newline; with echo off and a
   prompt when it is a terminal. Returns 0 or -1 (nothing read). */
static int
s_read_secret(const char *prompt, char *buf, size_t cap)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fprintf(stderr, "%s", prompt);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *r = fgets(buf, (int)cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!r)
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

static int
s_cmd_user(th_cli_opts_t *o, int argc, char **argv)
{
    if (argc != 1 || strcmp(argv[0], "add") != 0)
        return th_cli_fail(TH_EXIT_USAGE, "user: say 'user add --dir D --name NAME'");
    char pw[1100], again[1100];
    if (s_read_secret("Mật khẩu (ít nhất 8 ký tự): ", pw, sizeof pw) < 0)
        return th_cli_fail(TH_EXIT_USAGE, "user add: no password on standard input");
    if (isatty(STDIN_FILENO) &&
        (s_read_secret("Nhập lại mật khẩu: ", again, sizeof again) < 0 || strcmp(pw, again)))
        return th_cli_fail(TH_EXIT_USAGE, "user add: the two passwords differ");
    size_t pl = strlen(pw);
    if (pl < 8 || pl > 1024)
        return th_cli_fail(TH_EXIT_USAGE, "user add: the password must have 8 to 1024 bytes");
    int code = 0;
    th_office_t *off = th_cli_open(o->dir, &code);
    if (!off)
        return code;
    int rc = th_httpd_user_add(off, o->name, pw);
    sodium_memzero(pw, sizeof pw);
    sodium_memzero(again, sizeof again);
    if (rc == TH_E_INVALID)
        code = th_cli_fail(TH_EXIT_USAGE, "user add: --name must be 1 to 63 letters, digits, "
                           "'.', '_', '@' or '-'");
    else if (rc < 0)
        code = th_cli_fail(TH_EXIT_FAIL, "user add: cannot store the user: %s",
                           th_strerror(rc));
    else
        printf("Đã lưu người dùng %s; đăng nhập giao diện web bằng tên và mật khẩu này.\n",
               o->name);
    th_office_destroy(&off);
    return code;
}

/* ---- run --------------------------------------------------------------- */

int
th_cli_run(th_cli_opts_t *o, int argc, char **argv,
           int (*add_services)(th_daemon_t *d, th_office_t *off, th_uplink_t *up,
                               th_httpd_t *web, void **state),
           void (*free_services)(void **state))
{
    (void)argv;
    if (argc > 0)
        return th_cli_fail(TH_EXIT_USAGE, "run: unexpected argument '%s'", argv[0]);
    int code = 0, rc = 0;
    th_office_t *off = th_cli_open(o->dir, &code);
    if (!off)
        return code;
    th_log_level = th_daemon_log_level(off->cfg.log_level);
    th_daemon_t *d = th_daemon_new(off, &rc);
    th_uplink_t *up = NULL;
    th_httpd_t *web = NULL;
    void *state = NULL;
    if (!d) {
        code = th_cli_fail(TH_EXIT_FAIL, "run: cannot start: %s", th_strerror(rc));
        goto done;
    }
    if (off->cfg.parent_endpoint[0]) {
        if (!(up = th_uplink_new(off, &rc))) {
            code = th_cli_fail(TH_EXIT_FAIL, "run: cannot set up the link to the parent: %s",
                               th_strerror(rc));
            goto done;
        }
        th_service_t s = th_uplink_service(up);
        th_daemon_add(d, &s);
    }
    /* the web interface: data entry works with no parent at all */
    if (!(web = th_httpd_new(off, &rc)) || (rc = th_webnode_add(web)) < 0) {
        if (rc == TH_E_CONFIG)
            code = th_cli_fail(TH_EXIT_FAIL, "run: [web] listen = %s in %s/tonghop.ini is not "
                               "an IPv4 ADDRESS:PORT (e.g. 127.0.0.1:8080)",
                               off->cfg.web_listen, o->dir);
        else
            code = th_cli_fail(TH_EXIT_FAIL, "run: cannot set up the web interface: %s",
                               th_strerror(rc));
        goto done;
    }
    if (up)
        th_httpd_on_saved(web, th_uplink_wake_cb, up);
    if (add_services && (rc = add_services(d, off, up, web, &state)) < 0) {
        code = th_cli_fail(TH_EXIT_FAIL, "run: %s", th_strerror(rc));
        goto done;
    }
    th_service_t ws = th_httpd_service(web);
    if ((rc = th_daemon_add(d, &ws)) < 0) {
        code = th_cli_fail(TH_EXIT_FAIL, "run: %s", th_strerror(rc));
        goto done;
    }
    rc = th_daemon_run(d);
    if (rc < 0)
        code = th_cli_fail(TH_EXIT_FAIL, "run: %s", th_strerror(rc));
done:
    th_daemon_destroy(&d);
    th_httpd_destroy(&web);
    if (free_services)
        free_services(&state);
    th_uplink_destroy(&up);
    th_office_destroy(&off);
    return code;
}

static int
s_cmd_run(th_cli_opts_t *o, int argc, char **argv)
{
    return th_cli_run(o, argc, argv, NULL, NULL);
}

/* ---- dispatch ---------------------------------------------------------- */

static const th_cli_cmd_t s_cmds[] = {
    { "init", s_cmd_init, "dir unit parent parent-key bind units forms",
      "--dir D --unit CODE [--parent tcp://HOST:PORT --parent-key Z85] [--bind tcp://IP:PORT] "
      "[--units units.csv] [--forms DIR]",
      "Creates the data directory D of this office: configuration (D/tonghop.ini),\n"
      "identity key (D/identity.key, mode 0600) and store (D/store). Prints the\n"
      "office's public key (40 Z85 characters) as the last line.",
      "Options:\n"
      "  --dir D              new or empty directory\n"
      "  --unit CODE          this office's unit code (e.g. 25459)\n"
      "  --parent tcp://H:P   the parent office's address (with --parent-key)\n"
      "  --parent-key Z85     the parent office's public key ('key' at the parent)\n"
      "  --bind tcp://IP:P    (hub) where child offices connect\n"
      "  --units FILE.csv     unit list code,name,level,parent_code instead of the\n"
      "                       built-in official lists (2024 three tiers, 2025 two tiers)\n"
      "  --forms DIR          form files (*.ini) to use besides the built-in ones\n"
      "Example:\n"
      "  tonghop-node init --dir /var/lib/tonghop --unit 25459 \\\n"
      "      --parent tcp://10.0.0.1:7001 --parent-key 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7'\n" },
    { "key", s_cmd_key, "dir", "--dir D",
      "Prints this office's public key (Z85), to give to the parent office.",
      "Example:\n  tonghop-node key --dir /var/lib/tonghop\n" },
    { "submit", th_cli_submit, "dir form period values draft author note",
      "--dir D --form F --period P [--draft] [--author NAME] [--note TEXT] "
      "(--values FILE.csv | CODE=VALUE ...)",
      "Enters a revision of this office's report for form F and period P. Values not\n"
      "given keep their current value (a correction names only what changes);\n"
      "CODE= (empty) removes a value. The form's checks run first: if any fails,\n"
      "each problem is listed and nothing is stored. A draft is kept here only;\n"
      "a submitted revision is signed and queued for the parent office.",
      "Options:\n"
      "  --form F           form id (see 'forms')\n"
      "  --period P         2026 (year), 2026S1/2026S2 (6 months), 2026Q3, 202605\n"
      "  --draft            save without the completeness checks, do not send\n"
      "  --values FILE.csv  rows code,value (UTF-8; header optional)\n"
      "  --author NAME, --note TEXT\n"
      "Numbers may be written 1.234 or 1234; decimals 12,5; yes/no as có/không.\n"
      "Example:\n"
      "  tonghop-node submit --dir D --form dvcq-nam --period 2026 TT01=12 TT02=1.500\n" },
    { "show", s_cmd_show, "dir form period unit history json",
      "--dir D --form F --period P [--unit U] [--history] [--json]",
      "Shows the current revision of a report (every revision with --history),\n"
      "checking each signature.",
      "Options:\n"
      "  --unit U     another unit (hubs: a child's report); default this office\n"
      "  --history    every revision, oldest first\n"
      "  --json       one JSON document\n"
      "Example:\n  tonghop-node show --dir D --form dvcq-nam --period 2026 --history\n" },
    { "forms", s_cmd_forms, "dir json", "--dir D [--json]",
      "Lists the forms known here: id, version, period type, indicators.",
      "Example:\n  tonghop-node forms --dir D --json\n" },
    { "doctor", th_doctor_cmd, "dir json", "--dir D [--json]",
      "Checks what is often wrong in an office's installation, and says what to do:\n"
      "permissions and owner of the data directory and the keys, the configuration,\n"
      "the parent reachable, the clock against the parent's, free disk space, and\n"
      "the web interface exposed without users or over plain HTTP. Changes nothing.",
      "Exit status 1 when a check failed ([LỖI]); warnings ([CẢNH BÁO]) do not.\n"
      "Example:\n  sudo -u tonghop tonghop-hub doctor --dir /var/lib/tonghop\n" },
    { "run", s_cmd_run, "dir", "--dir D",
      "Runs this office's daemon in the foreground: sends submitted reports to the\n"
      "parent whenever the link is up, resuming where it stopped. Logs go to\n"
      "stderr. SIGTERM or Ctrl-C stops it cleanly; SIGHUP re-reads the log level.",
      "Timing is set in [sync] of D/tonghop.ini (see docs/operations.md).\n"
      "Example:\n  tonghop-node run --dir /var/lib/tonghop\n" },
    { "status", s_cmd_status, "dir json", "--dir D [--json]",
      "Shows this office's reports and what waits to be sent to the parent.",
      "Example:\n  tonghop-node status --dir D --json\n" },
    { "user", s_cmd_user, "dir name", "add --dir D --name NAME",
      "Adds a user of the web interface, or sets a new password for one. The password\n"
      "is read from standard input (asked twice, without echo, on a terminal) and kept\n"
      "only as an argon2id hash. A login is required when [web] listen is not a\n"
      "loopback address, or when [web] login = required.",
      "Options:\n"
      "  --name NAME   1 to 63 letters, digits, '.', '_', '@' or '-'\n"
      "The password has 8 to 1024 bytes.\n"
      "Examples:\n  tonghop-hub user add --dir /var/lib/tonghop --name nguyenvana\n"
      "  printf '%s\\n' \"$MAT_KHAU\" | tonghop-hub user add --dir D --name nguyenvana\n" },
};

static const th_cli_cmd_t *s_extra;
static size_t s_nextra;

static const th_cli_cmd_t *
s_find(const char *name)
{
    for (size_t i = 0; i < s_nextra; i++)
        if (strcmp(s_extra[i].name, name) == 0)
            return &s_extra[i];
    for (size_t i = 0; i < sizeof s_cmds / sizeof *s_cmds; i++)
        if (strcmp(s_cmds[i].name, name) == 0)
            return &s_cmds[i];
    return NULL;
}

static void
s_usage(FILE *f)
{
    fprintf(f, "usage: %s <command> [options]   (%s <command> --help for details)\n\n"
               "Commands:\n", s_prog, s_prog);
    for (size_t i = 0; i < sizeof s_cmds / sizeof *s_cmds; i++)
        if (s_find(s_cmds[i].name) == &s_cmds[i])
            fprintf(f, "  %-13s %s\n", s_cmds[i].name, s_cmds[i].required);
    for (size_t i = 0; i < s_nextra; i++)
        fprintf(f, "  %-13s %s\n", s_extra[i].name, s_extra[i].required);
    fprintf(f, "\nExit status: 0 success, 1 failure, 2 usage error, 3 report rejected.\n");
}

int
th_cli_main(int argc, char **argv, th_cli_kind_t kind, const th_cli_cmd_t *extra,
            size_t nextra)
{
    s_kind = kind;
    s_extra = extra;
    s_nextra = nextra;
    s_prog = kind == TH_CLI_HUB ? "tonghop-hub" : "tonghop-node";
    const char *lvl = getenv("TONGHOP_LOG");
    th_log_level_t l;
    if (lvl && th_log_parse_level(lvl, &l) == 0)
        th_log_level = (int)l;
    if (th_crypto_init() < 0)
        return th_cli_fail(TH_EXIT_FAIL, "cannot initialise libsodium");
    if (argc < 2) {
        s_usage(stderr);
        return TH_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        s_usage(stdout);
        return TH_EXIT_OK;
    }
    const th_cli_cmd_t *c = s_find(argv[1]);
    if (c) {
        th_cli_opts_t o;
        int sub_argc = argc - 1;
        char **sub_argv = argv + 1;
        int rc = s_parse(c, &o, &sub_argc, &sub_argv);
        if (rc == -1)
            return TH_EXIT_OK;
        if (rc != 0)
            return rc;
        if (kind == TH_CLI_NODE && o.bind)
            return th_cli_fail(TH_EXIT_USAGE, "init: --bind is for tonghop-hub; a node has "
                                         "no children");
        return c->fn(&o, sub_argc, sub_argv);
    }
    s_usage(stderr);
    return th_cli_fail(TH_EXIT_USAGE, "unknown command '%s'", argv[1]);
}
