/*  unitlist: departments added to a hub's unit tree; `units add|list`. */
#include "unitlist.h"

#include "codec.h"
#include "csv.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "period.h"
#include "table.h"
#include "units.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define S_LEVEL_DEPARTMENT "department"

typedef struct {
    th_office_t *o;
    const char *code, *name, *parent;
    char *errbuf;
    size_t cap;
} s_add_t;

/* Fields of the header line of a stored list (at least the 4 required). */
static int
s_header_fields(const char *text, size_t len, size_t *n)
{
    th_csv_t *c = th_csv_new(text, len);
    if (!c)
        return -ENOMEM;
    char **fields;
    int rc = th_csv_next(c, &fields, n);
    th_csv_destroy(&c);
    if (rc < 0)
        return rc;
    return rc == 1 && *n >= 4 ? 0 : TH_E_CORRUPT;
}

/* text + one row code,name,department,parent (and empty optional columns),
   in a new buffer. */
static int
s_append_row(const char *text, size_t len, size_t nfields, const s_add_t *a, char **out,
             size_t *out_len)
{
    char *buf = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&buf, &blen);
    if (!f)
        return -ENOMEM;
    fwrite(text, 1, len, f);
    if (len > 0 && text[len - 1] != '\n')
        fputc('\n', f);
    th_csv_write_cell(f, a->code, false);
    th_csv_write_cell(f, a->name, false);
    th_csv_write_cell(f, S_LEVEL_DEPARTMENT, false);
    th_csv_write_cell(f, a->parent, nfields == 4);
    for (size_t i = 4; i < nfields; i++)
        th_csv_write_cell(f, "", i + 1 == nfields);
    if (fclose(f) != 0) {
        free(buf);
        return -ENOMEM;
    }
    /* th_csv_write_cell ends a row with CRLF; the official lists use LF:
       both read the same */
    *out = th_memdup(buf, blen);
    *out_len = blen;
    free(buf);
    return *out ? 0 : -ENOMEM;
}

/* Adds the row to the stored list named set. */
static int
s_add_to_set(th_store_txn_t *txn, s_add_t *a, const char *set)
{
    int32_t from, to;
    const char *text;
    size_t len, nfields = 0;
    int rc = th_office_units_set_get(txn, set, &from, &to, &text, &len);
    if (rc == 0)
        rc = s_header_fields(text, len, &nfields);
    if (rc < 0)
        return th_errbuf(a->errbuf, a->cap, rc == -ENOMEM ? rc : TH_E_CORRUPT,
                         "danh mục đơn vị '%s' trong kho dữ liệu không đọc được (%s)", set,
                         th_strerror(rc));
    char *next = NULL;
    size_t next_len = 0;
    if ((rc = s_append_row(text, len, nfields, a, &next, &next_len)) < 0)
        return rc;
    /* the whole list read again with the new row: every rule of a unit list
       holds before anything is stored */
    th_units_t *check = th_units_new();
    char why[256] = "";
    rc = check ? th_units_load_csv(check, set, set, next, next_len, from, to, why, sizeof why)
               : -ENOMEM;
    th_units_destroy(&check);
    if (rc < 0) {
        th_free(next);
        return th_errbuf(a->errbuf, a->cap, rc == -ENOMEM ? rc : TH_E_USAGE,
                         "không thêm được đơn vị %s: %s", a->code, why);
    }
    rc = th_office_units_set_put(txn, set, from, to, next, next_len, 0);
    th_free(next);
    return rc;
}

typedef struct {
    char (*names)[64];
    size_t n;
} s_sets_t;

static int
s_set_name(const char *key, const void *val, size_t len, void *ctx)
{
    (void)val;
    (void)len;
    s_sets_t *s = ctx;
    char (*nn)[64] = th_realloc(s->names, (s->n + 1) * sizeof *nn);
    if (!nn)
        return -ENOMEM;
    s->names = nn;
    snprintf(nn[s->n++], sizeof *nn, "%s", key);
    return 0;
}

/* The department goes into the list that has its parent today (or last)
   and into every other list in which its parent is the same unit: same
   code, same name. A unit the reform merged away keeps its old departments out
   of the new one, and a province that stayed as it was (Thanh Hóa, 38)
   gets the department for its reports of the periods before 1/7/2025 too. */
static int
s_add_txn(th_store_txn_t *txn, void *ctx)
{
    s_add_t *a = ctx;
    th_office_t *o = a->o;
    /* the parent in the tree in force today or, for a hub of an older tree
       (old Tây Ninh, 72, consolidating the periods before 1/7/2025), in the
       latest tree that has it */
    const th_unit_t *par = NULL;
    int32_t day = th_units_tree_day(o->units, a->parent, th_time_day_vn(th_now_ms()), &par);
    if (!par || !th_units_in_subtree(o->units, o->cfg.unit, a->parent, day))
        return th_errbuf(a->errbuf, a->cap, TH_E_UNIT,
                         "đơn vị cấp trên '%s' không có trong cây đơn vị hiện hành của %s; "
                         "bỏ --parent để đặt đơn vị mới trực thuộc %s, hoặc xem "
                         "'tonghop-hub units list'", a->parent, o->cfg.unit, o->cfg.unit);
    s_sets_t sets = { 0 };
    int rc = th_store_kv_each(txn, TH_DB_UNITS, "", s_set_name, &sets);
    for (size_t i = 0; rc == 0 && i < sets.n; i++) {
        const th_unit_t *p = th_units_find_in_set(o->units, sets.names[i], a->parent);
        if (p == par || (p && strcmp(p->name, par->name) == 0))
            rc = s_add_to_set(txn, a, sets.names[i]);
    }
    th_free(sets.names);
    return rc;
}

int
th_unitlist_add(th_office_t *o, const char *code, const char *name, const char *level,
                const char *parent, char *errbuf, size_t cap)
{
    if (!code || !th_valid_unit_code(code))
        return th_errbuf(errbuf, cap, TH_E_USAGE,
                         "mã đơn vị '%s' không hợp lệ: 1 đến 15 chữ cái không dấu, chữ số, "
                         "'-' hoặc '_' (ví dụ 80-SNV)", code ? code : "");
    size_t nl = name ? strlen(name) : 0;
    bool ctl = false;
    for (size_t i = 0; i < nl; i++)
        ctl |= (unsigned char)name[i] < 0x20 || name[i] == 0x7f;
    if (nl == 0 || nl >= 256 || ctl || !th_codec_utf8_valid((const uint8_t *)name, nl))
        return th_errbuf(errbuf, cap, TH_E_USAGE,
                         "tên đơn vị phải có từ 1 đến 255 byte chữ UTF-8, không có ký tự "
                         "điều khiển (ví dụ --name 'Sở Nội vụ')");
    if (!level || strcmp(level, S_LEVEL_DEPARTMENT) != 0)
        return th_errbuf(errbuf, cap, TH_E_USAGE,
                         "chỉ thêm được đơn vị cấp '%s' (sở, ban, ngành và cơ quan tương "
                         "đương); tỉnh, huyện, xã lấy từ danh mục đơn vị hành chính chính "
                         "thức", S_LEVEL_DEPARTMENT);
    const th_unit_t *held = th_units_find_latest(o->units, code);
    if (held)
        return th_errbuf(errbuf, cap, TH_E_EXISTS,
                         "mã %s đã dùng cho '%s' (danh mục %s); hãy chọn mã khác", code,
                         held->name, held->set);
    s_add_t a = { o, code, name, parent ? parent : o->cfg.unit, errbuf, cap };
    errbuf[0] = '\0';
    int rc = th_store_write(o->store, s_add_txn, &a);
    if (rc < 0 && !errbuf[0])
        th_errbuf(errbuf, cap, rc, "không lưu được danh mục đơn vị: %s", th_strerror(rc));
    if (rc == 0)
        th_log(TH_LOG_INFO, "units: %s (%s) added below %s", code, name, a.parent);
    return rc;
}

/* ---- the command ------------------------------------------------------- */

typedef struct {
    json_t *list;
    th_table_t *table;
    bool csv;                 /* rows for `init --units` */
    const char *root;         /* the hub's unit: no parent in the CSV */
} s_list_t;

static int
s_list_one(const th_unit_t *u, void *ctx)
{
    s_list_t *l = ctx;
    if (l->csv) {
        bool root = strcmp(u->code, l->root) == 0;
        th_csv_write_cell(stdout, u->code, false);
        th_csv_write_cell(stdout, u->name, false);
        th_csv_write_cell(stdout, u->level, false);
        return th_csv_write_cell(stdout, root ? "" : u->parent, true);
    }
    if (l->list)
        return json_array_append_new(l->list,
                                     json_pack("{s:s, s:s, s:s, s:s}", "code", u->code,
                                               "name", u->name, "level", u->level,
                                               "parent", u->parent)) == 0 ? 0 : -ENOMEM;
    const char *row[] = { u->code, u->name, u->level, u->parent };
    return th_table_add_row(l->table, row);
}

static int
s_cmd_list(th_office_t *off, const th_cli_opts_t *o)
{
    int32_t today = th_time_day_vn(th_now_ms());
    s_list_t l = { .csv = o->format != NULL, .root = off->cfg.unit };
    static const char *const hdr[] = { "Mã", "Tên đơn vị", "Cấp", "Trực thuộc" };
    if (o->json)
        l.list = json_array();
    else if (!l.csv)
        l.table = th_table_new(4, hdr);
    if (!l.csv && !l.list && !l.table)
        return th_cli_fail(TH_EXIT_FAIL, "out of memory");
    if (l.csv)
        fputs("code,name,level,parent_code\r\n", stdout);
    int rc = th_units_each_in_subtree(off->units, off->cfg.unit, today, NULL, s_list_one, &l);
    int code = TH_EXIT_OK;
    if (rc == TH_E_UNIT)
        code = th_cli_fail(TH_EXIT_FAIL, "units list: đơn vị %s không có trong danh mục "
                           "đơn vị hiện hành", off->cfg.unit);
    else if (rc < 0)
        code = th_cli_fail(TH_EXIT_FAIL, "units list: %s", th_strerror(rc));
    else if (l.list) {
        char day[11];
        th_date_format_iso(today, day);
        code = th_cli_print_json(json_pack("{s:s, s:s, s:o}", "unit", off->cfg.unit, "day",
                                           day, "units", l.list));
        l.list = NULL;
    } else if (l.table && th_table_print(l.table, stdout) < 0) {
        code = th_cli_fail(TH_EXIT_FAIL, "units list: cannot write the table");
    }
    json_decref(l.list);
    th_table_destroy(&l.table);
    return code;
}

int
th_unitlist_cmd(th_cli_opts_t *o, int argc, char **argv)
{
    const char *action = argc > 0 ? argv[0] : "";
    bool add = strcmp(action, "add") == 0, list = strcmp(action, "list") == 0;
    if (argc != 1 || (!add && !list))
        return th_cli_fail(TH_EXIT_USAGE, "units: write 'units add --dir D --code CODE --name "
                           "NAME --level department [--parent CODE]' or 'units list --dir D "
                           "[--json]'");
    if (add && (!o->code || !o->name || !o->level))
        return th_cli_fail(TH_EXIT_USAGE, "units add: --code, --name and --level are "
                           "required");
    if (list && (o->code || o->name || o->level || o->parent))
        return th_cli_fail(TH_EXIT_USAGE, "units list takes only --dir, --json and "
                           "--format csv");
    if (o->format && (!list || strcmp(o->format, "csv") != 0 || o->json))
        return th_cli_fail(TH_EXIT_USAGE, "units: --format csv goes with list, without --json "
                           "(the list for 'tonghop-node init --units FILE.csv')");
    if (add && o->json)
        return th_cli_fail(TH_EXIT_USAGE, "units add does not take --json");
    int code = TH_EXIT_OK;
    th_office_t *off = th_cli_open(o->dir, &code);
    if (!off)
        return code;
    if (list) {
        code = s_cmd_list(off, o);
    } else {
        char err[1024];
        int rc = th_unitlist_add(off, o->code, o->name, o->level, o->parent, err, sizeof err);
        if (rc < 0)
            code = th_cli_fail(rc == TH_E_USAGE ? TH_EXIT_USAGE : TH_EXIT_FAIL,
                               "units add: %s", err);
        else
            printf("Đã thêm đơn vị %s — %s (khối sở, ngành), trực thuộc %s.\n", o->code,
                   o->name, o->parent ? o->parent : off->cfg.unit);
    }
    th_office_destroy(&off);
    return code;
}
