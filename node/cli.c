/*  cli: argument parsing and output of the office commands. Modules do the
    work; this file turns their results into text, JSON and exit codes. */
#include "cli.h"
#include "codec.h"
#include "daemon.h"
#include "uplink.h"
#include "entry.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "office.h"
#include "period.h"
#include "present.h"

#include <getopt.h>
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
       O_FORMAT, O_OUT, O_DRAFT, O_HISTORY, O_JSON, O_HELP };

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
    { "draft", no_argument, NULL, O_DRAFT },
    { "history", no_argument, NULL, O_HISTORY },
    { "json", no_argument, NULL, O_JSON },
    { "help", no_argument, NULL, O_HELP },
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
    default: return NULL;
    }
}

static void
s_usage_cmd(FILE *f, const th_cli_cmd_t *c)
{
    fprintf(f, "usage: %s %s %s\n\n%s\n\n%s", s_prog, c->name, c->required, c->summary,
            c->usage);
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
                    return th_cli_fail(TH_EXIT_USAGE, "%s needs --%s (see '%s %s --help')",
                                  c->name, name, s_prog, c->name);
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

static int
s_cmd_submit(th_cli_opts_t *o, int argc, char **argv)
{
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
            printf("Đã lưu bản nháp %s kỳ %s, lần %u, lúc %s.\n", o->form, o->period,
                   res.rev, when);
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

/* ---- returned for correction ------------------------------------------ */

typedef struct {
    const char *key;
    uint32_t rev;          /* the revision it must concern */
    bool found;
    char by[TH_UNIT_MAX];
    long long at;
    char reason[512];
} s_ret_t;

/* Reads the return-for-correction notice of key (metaq "t|" record) if it
   concerns revision q->rev: a newer revision clears it. */
static int
s_returned(th_store_txn_t *txn, s_ret_t *q)
{
    char k[TH_KEY_MAX + 4], v[700];
    const void *val;
    size_t len;
    q->found = false;
    snprintf(k, sizeof k, "t|%s", q->key);
    int rc = th_store_kv_get(txn, TH_DB_RECEIPTS, k, &val, &len);
    if (rc == TH_E_NOTFOUND)
        return 0;
    if (rc < 0 || len >= sizeof v)
        return rc < 0 ? rc : 0;
    memcpy(v, val, len);
    v[len] = '\0';
    unsigned rev;
    int off = 0;
    if (sscanf(v, "%u %lld %15s %n", &rev, &q->at, q->by, &off) >= 3 && off > 0 &&
        rev == q->rev) {
        snprintf(q->reason, sizeof q->reason, "%s", v + off);
        q->found = true;
    }
    return 0;
}

static int
s_returned_read(th_store_txn_t *txn, void *ctx)
{
    return s_returned(txn, ctx);
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
            th_fmt_dec_vn(d, buf, sizeof buf);
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
        s_ret_t ret = { .key = key, .rev = s.shown_rev };
        if (th_store_read(off->store, s_returned_read, &ret) == 0 && ret.found) {
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

typedef struct {
    th_office_t *off;
    uint64_t acked, last, pending, contact;
    char link[32], error[256];
    json_t *reports;
    int json;
    th_store_txn_t *txn;
    /* receipts and rejection of the report being listed */
    json_t *rc_list;
    char rc_text[512];
    uint32_t rc_rev;
    int32_t rc_day;
} s_status_t;

/* Vietnamese word for an office that received a report: "tỉnh", "huyện"... */
static const char *
s_level_vn(const char *level)
{
    if (strcmp(level, "province") == 0)
        return "tỉnh";
    if (strcmp(level, "district") == 0)
        return "huyện";
    if (strcmp(level, "commune") == 0)
        return "xã";
    return "cấp trên";
}

static int
s_status_receipt(const char *key, const void *val, size_t len, void *ctx)
{
    s_status_t *s = ctx;
    const char *by = strrchr(key, '|');
    char v[64];
    if (!by || len >= sizeof v)
        return 0;
    by++;
    memcpy(v, val, len);
    v[len] = '\0';
    unsigned rev = 0;
    long long at = 0;
    if (sscanf(v, "%u %lld", &rev, &at) != 2)
        return 0;
    const th_unit_t *u = th_units_find(s->off->units, by, s->rc_day);
    const char *level = u ? u->level : "";
    char when[32];
    if (s->json) {
        th_time_format_iso(at, when);
        json_array_append_new(s->rc_list, json_pack("{s:s, s:s, s:s, s:I, s:s}", "by", by,
                                                    "by_name", u ? u->name : "",
                                                    "level", level, "rev", (json_int_t)rev,
                                                    "at", when));
    } else if (rev == s->rc_rev) {
        th_time_format_vn(at, when);
        size_t n = strlen(s->rc_text);
        snprintf(s->rc_text + n, sizeof s->rc_text - n, "%s%s đã nhận (%s)",
                 n ? "; " : "", s_level_vn(level), when);
    }
    return 0;
}

static void
s_state_str(th_store_txn_t *txn, const char *name, char *buf, size_t cap)
{
    const void *v;
    size_t len;
    if (th_store_kv_get(txn, TH_DB_STATE, name, &v, &len) == 0 && len < cap) {
        memcpy(buf, v, len);
        buf[len] = '\0';
    }
}

static int
s_status_report(const th_store_rev_t *r, void *ctx)
{
    s_status_t *s = ctx;
    char form[TH_FORM_ID_MAX], period[TH_PERIOD_MAX], unit[TH_UNIT_MAX];
    if (sscanf(r->key, "%31[^|]|%15[^|]|%15s", form, period, unit) != 3 ||
        strcmp(unit, s->off->cfg.unit) != 0)
        return 0;
    const char *st = r->status == TH_STATUS_SUBMITTED ? "submitted" : "draft";
    char when[32], prefix[TH_KEY_MAX + 4];
    th_time_format_iso(r->received_at, when);
    th_period_t p;
    s->rc_day = th_period_parse(period, &p) == 0 ? p.end : 0;
    s->rc_rev = r->rev;
    s->rc_text[0] = '\0';
    s->rc_list = s->json ? json_array() : NULL;
    snprintf(prefix, sizeof prefix, "r|%s|", r->key);
    int rc = th_store_kv_each(s->txn, TH_DB_RECEIPTS, prefix, s_status_receipt, s);
    /* a rejection from above, if it concerns the current revision */
    char xkey[TH_KEY_MAX + 4], rej[512] = "";
    const void *xv;
    size_t xl;
    unsigned xrev = 0;
    int xcode = 0, off = 0;
    snprintf(xkey, sizeof xkey, "x|%s", r->key);
    if (rc == 0 && th_store_kv_get(s->txn, TH_DB_RECEIPTS, xkey, &xv, &xl) == 0 &&
        xl < sizeof rej) {
        memcpy(rej, xv, xl);
        rej[xl] = '\0';
        if (sscanf(rej, "%u %d %n", &xrev, &xcode, &off) < 2 || xrev != r->rev)
            rej[0] = '\0';
    }
    s_ret_t ret = { .key = r->key, .rev = r->rev };
    if (rc == 0)
        rc = s_returned(s->txn, &ret);
    if (s->json) {
        json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:o}", "form", form,
                              "period", period, "rev", (json_int_t)r->rev, "status", st,
                              "saved_at", when, "receipts", s->rc_list);
        if (o && rej[0])
            json_object_set_new(o, "rejected", json_pack("{s:I, s:i, s:s}", "rev",
                                                         (json_int_t)xrev, "code", xcode,
                                                         "reason", rej + off));
        if (o && ret.found) {
            char rwhen[32];
            th_time_format_iso(ret.at, rwhen);
            json_object_set_new(o, "returned", json_pack("{s:I, s:s, s:s, s:s}", "rev",
                                                         (json_int_t)r->rev, "by", ret.by,
                                                         "at", rwhen, "reason", ret.reason));
        }
        json_array_append_new(s->reports, o);
    } else {
        char vn[32];
        th_time_format_vn(r->received_at, vn);
        const char *where = r->status != TH_STATUS_SUBMITTED ? "chưa gửi"
                            : ret.found ? "TRẢ LẠI ĐỂ SỬA: "
                            : rej[0] ? "BỊ TỪ CHỐI: "
                            : s->rc_text[0] ? s->rc_text
                            : s->pending ? "chờ gửi" : "đã gửi";
        printf("  %-14s %-8s lần %-3u %-9s %s — %s%s\n", form, period, r->rev,
               r->status == TH_STATUS_SUBMITTED ? "đã nộp" : "bản nháp", vn, where,
               ret.found ? ret.reason : rej[0] ? rej + off : "");
    }
    return rc;
}

static int
s_status_read(th_store_txn_t *txn, void *ctx)
{
    s_status_t *s = ctx;
    int rc = th_store_state_get_u64(txn, "uplink.acked", &s->acked);
    if (rc == 0)
        rc = th_store_log_last(txn, &s->last);
    if (rc == 0)
        rc = th_store_state_get_u64(txn, "link.last_contact", &s->contact);
    s_state_str(txn, "link.state", s->link, sizeof s->link);
    s_state_str(txn, "link.error", s->error, sizeof s->error);
    if (rc < 0)
        return rc;
    s->pending = s->last > s->acked ? s->last - s->acked : 0;
    s->txn = txn;
    if (!s->json)
        printf("Báo cáo của đơn vị:\n");
    return th_store_each_report(txn, "", s_status_report, s);
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
    bool has_parent = off->cfg.parent_endpoint[0] != '\0';
    s_status_t s = { .off = off, .json = o->json };
    snprintf(s.link, sizeof s.link, "%s", has_parent ? "never" : "none");
    if (o->json)
        s.reports = json_array();
    else
        printf("Đơn vị: %s\nCấp trên: %s\n", off->cfg.unit,
               has_parent ? off->cfg.parent_endpoint
               : th_office_is_hub(off) ? "(không có: đơn vị gốc)"
                                       : "(chưa khai báo: báo cáo chỉ lưu tại máy)");
    int rc = th_store_read(off->store, s_status_read, &s);
    if (rc < 0) {
        json_decref(s.reports);
        code = th_cli_fail(TH_EXIT_FAIL, "status: cannot read the store: %s", th_strerror(rc));
    } else if (o->json) {
        char when[32];
        th_time_format_iso((int64_t)s.contact, when);
        json_t *doc = json_pack("{s:s, s:{s:s, s:o, s:s}, s:I, s:I, s:I, s:o}",
                                "unit", off->cfg.unit, "link", "state", s.link,
                                "last_contact", s.contact ? json_string(when) : json_null(),
                                "error", s.error,
                                "pending", (json_int_t)s.pending,
                                "acked_seq", (json_int_t)s.acked,
                                "last_seq", (json_int_t)s.last, "reports", s.reports);
        code = th_cli_print_json(doc);
    } else {
        static const struct { const char *k, *v; } names[] = {
            { "up", "đang kết nối" }, { "down", "mất kết nối" },
            { "never", "chưa kết nối lần nào" }, { "refused", "bị cấp trên từ chối" },
            { "none", "không có cấp trên" } };
        const char *vn = s.link;
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            if (strcmp(names[i].k, s.link) == 0)
                vn = names[i].v;
        char when[32] = "";
        if (s.contact)
            th_time_format_vn((int64_t)s.contact, when);
        printf("Đường truyền: %s%s%s%s%s\n", vn, when[0] ? ", liên lạc lần cuối " : "", when,
               s.error[0] && strcmp(s.link, "refused") == 0 ? " — " : "",
               strcmp(s.link, "refused") == 0 ? s.error : "");
        printf("Chờ gửi lên cấp trên: %" PRIu64 " (đã xác nhận đến số %" PRIu64
               ", mới nhất %" PRIu64 ")\n", s.pending, s.acked, s.last);
    }
    th_office_destroy(&off);
    return code;
}

/* ---- report commands (hub) ------------------------------------------------ */

int
th_cli_as_of(const char *cmd, const char *text, int64_t *as_of)
{
    *as_of = INT64_MAX;
    if (text && th_time_parse_iso_end(text, as_of) < 0)
        return th_cli_fail(TH_EXIT_USAGE, "%s: invalid --as-of '%s' (write 2026-11-01 or "
                           "2026-11-01T17:00+07:00)", cmd, text);
    return 0;
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
    int code = th_cli_as_of(rep->name, o->as_of, &as_of);
    if (code != 0)
        return code;
    th_office_t *off = th_cli_open(o->dir, &code);
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

/* ---- run --------------------------------------------------------------- */

int
th_cli_run(th_cli_opts_t *o, int argc, char **argv,
           int (*add_services)(th_daemon_t *d, th_office_t *off, th_uplink_t *up,
                               void **state),
           void (*free_services)(void **state))
{
    (void)argv;
    if (argc > 0)
        return th_cli_fail(TH_EXIT_USAGE, "run: unexpected argument '%s'", argv[0]);
    int code = 0, rc = 0;
    th_office_t *off = th_cli_open(o->dir, &code);
    if (!off)
        return code;
    if (th_log_level < TH_LOG_INFO && !getenv("TONGHOP_LOG"))
        th_log_level = off->cfg.log_level > TH_LOG_INFO ? off->cfg.log_level : TH_LOG_INFO;
    th_daemon_t *d = th_daemon_new(off, &rc);
    th_uplink_t *up = NULL;
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
    if (add_services && (rc = add_services(d, off, up, &state)) < 0) {
        code = th_cli_fail(TH_EXIT_FAIL, "run: %s", th_strerror(rc));
        goto done;
    }
    if (!up && !state) {
        code = th_cli_fail(TH_EXIT_FAIL, "run: nothing to do: this office has no parent "
                           "(give --parent at init) and no children");
        goto done;
    }
    rc = th_daemon_run(d);
    if (rc < 0)
        code = th_cli_fail(TH_EXIT_FAIL, "run: %s", th_strerror(rc));
done:
    th_daemon_destroy(&d);
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
    { "submit", s_cmd_submit, "dir form period values draft author note",
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
    { "run", s_cmd_run, "dir", "--dir D",
      "Runs this office's daemon in the foreground: sends submitted reports to the\n"
      "parent whenever the link is up, resuming where it stopped. Logs go to\n"
      "stderr. SIGTERM or Ctrl-C stops it cleanly; SIGHUP re-reads the log level.",
      "Timing is set in [sync] of D/tonghop.ini (see docs/operations.md).\n"
      "Example:\n  tonghop-node run --dir /var/lib/tonghop\n" },
    { "status", s_cmd_status, "dir json", "--dir D [--json]",
      "Shows this office's reports and what waits to be sent to the parent.",
      "Example:\n  tonghop-node status --dir D --json\n" },
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
