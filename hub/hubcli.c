/*  hubcli: the hub's own commands (enroll, revoke, return, run, and the report
    commands of rollup/completeness/export). */
#include "hubcli.h"
#include "collector.h"
#include "completeness.h"
#include "daemon.h"
#include "enrollment.h"
#include "exportcli.h"
#include "metaq.h"
#include "uplink.h"
#include "webhub.h"
#include "err.h"
#include "log.h"
#include "peers.h"
#include "rekey.h"
#include "returns.h"
#include "rotation.h"
#include "rollup.h"
#include "unitlist.h"
#include "approval.h"
#include "period.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    th_office_t *off;
    th_enrollment_t e;
    uint8_t blob[TH_ENROLLMENT_LEN];
    bool replaced;   /* a new key for a known unit */
    bool promoted;   /* a unit known through a hub below becomes a direct child */
} s_enroll_t;

static int
s_enroll_txn(th_store_txn_t *txn, void *ctx)
{
    s_enroll_t *x = ctx;
    uint8_t old[32];
    bool direct = false;
    int rc = th_peers_key(txn, x->e.unit, old, &direct);
    if (rc == 0 && memcmp(old, x->e.key, 32) == 0 && direct)
        return TH_E_EXISTS;
    /* The same key, so far relayed by a hub below (a district): the office
       now connects here itself (the 2025 reform). Its cursor here starts at
       0; what it resends that is held already is acknowledged, not applied
       twice. */
    x->promoted = rc == 0 && memcmp(old, x->e.key, 32) == 0;
    x->replaced = rc == 0 && !x->promoted;
    if (rc < 0 && rc != TH_E_NOTFOUND)
        return rc;
    /* a unit whose key was revoked: the new key replaces that one */
    if (rc == TH_E_NOTFOUND && th_peers_revoked(txn, x->e.unit, NULL, NULL) == 0)
        x->replaced = true;
    if ((rc = th_peers_enroll(txn, x->e.unit, x->e.key, true)) < 0)
        return rc;
    /* A new key is a new installation: its log starts again at 1, so the
       cursor of what we hold from it must too (what it resends is already
       held and is not applied twice). */
    if ((x->replaced || x->promoted) && (rc = th_peers_seq_put(txn, x->e.unit, 0)) < 0)
        return rc;
    /* Sent up the log so that the offices above can verify the child's
       records; a root keeps it too, for the audit trail. */
    return th_enrollment_log(txn, TH_LOG_KIND_ENROLL, x->e.unit, x->blob, sizeof x->blob, NULL);
}

static int
s_cmd_enroll(th_cli_opts_t *o, int argc, char **argv)
{
    if (argc > 0)
        return th_cli_fail(TH_EXIT_USAGE, "enroll: unexpected argument '%s'", argv[0]);
    uint8_t pk[32];
    if (th_z85_decode_key(o->key, pk) < 0)
        return th_cli_fail(TH_EXIT_USAGE, "enroll: --key must be the 40-character key "
                           "printed by 'init' or 'key' at the child office");
    int code = 0;
    th_office_t *off = th_cli_open(o->dir, &code);
    if (!off)
        return code;
    s_enroll_t x = { .off = off };
    /* Codes are reused across trees: the child is looked up in the tree of
       this hub's own unit (today's, or the last day an older unit existed). */
    int32_t day = th_units_tree_day(off->units, off->cfg.unit, th_time_day_vn(th_now_ms()),
                                    NULL);
    /* A unit that has since merged away is still admitted: it may owe the
       reports of the periods before its merge, and corrections of them. */
    const th_unit_t *u;
    int32_t uday = th_units_tree_day(off->units, o->unit, day, &u);
    if (!u || strcmp(o->unit, off->cfg.unit) == 0 ||
        !th_units_in_subtree(off->units, off->cfg.unit, o->unit, uday)) {
        code = th_cli_fail(TH_EXIT_FAIL, "enroll: unit '%s' is not below unit %s in the "
                           "unit lists", o->unit, off->cfg.unit);
        goto done;
    }
    if (memcmp(pk, off->id.pk, 32) == 0) {
        code = th_cli_fail(TH_EXIT_FAIL, "enroll: that is this hub's own key; give the "
                           "key printed at the child office");
        goto done;
    }
    snprintf(x.e.unit, sizeof x.e.unit, "%s", o->unit);
    snprintf(x.e.parent, sizeof x.e.parent, "%s", off->cfg.unit);
    memcpy(x.e.key, pk, 32);
    x.e.at = th_now_ms();
    x.e.kind = TH_LOG_KIND_ENROLL;
    if (th_enrollment_sign(&x.e, &off->id, x.blob) < 0) {
        code = th_cli_fail(TH_EXIT_FAIL, "enroll: cannot sign the enrollment");
        goto done;
    }
    int rc = th_store_write(off->store, s_enroll_txn, &x);
    if (rc == TH_E_EXISTS) {
        printf("Đơn vị %s — %s đã được đăng ký với khóa này.\n", u->code, u->name);
    } else if (rc < 0) {
        code = th_cli_fail(TH_EXIT_FAIL, "enroll: cannot store the enrollment: %s",
                           th_strerror(rc));
    } else {
        printf("Đã %s đơn vị %s — %s%s.\n", x.replaced ? "thay khóa của" : "đăng ký",
               u->code, u->name, x.promoted ? " làm đơn vị gửi báo cáo trực tiếp (trước "
                                              "đây gửi qua cấp trung gian)" : "");
        if (uday < day) {
            char end[11];
            th_date_format_vn(u->valid_to, end);
            printf("Lưu ý: đơn vị này chỉ tồn tại đến hết ngày %s%s%s; chỉ nhận báo cáo "
                   "các kỳ trước đó.\n", end, u->successor[0] ? ", sáp nhập vào " : "",
                   u->successor);
        }
    }
done:
    th_office_destroy(&off);
    return code;
}

/* ---- revoke ------------------------------------------------------------ */

typedef struct {
    th_office_t *off;
    const char *unit;
    th_enrollment_t e;           /* the revocation, signed in the txn */
    uint8_t blob[TH_ENROLLMENT_LEN];
    bool direct, again;
} s_revoke_t;

static int
s_revoke_txn(th_store_txn_t *txn, void *ctx)
{
    s_revoke_t *x = ctx;
    uint8_t pk[32];
    int rc = th_peers_key(txn, x->unit, pk, &x->direct);
    x->again = false;
    if (rc == TH_E_NOTFOUND) {
        /* revoked before, and not enrolled again: nothing more to do */
        if ((rc = th_peers_revoked(txn, x->unit, NULL, NULL)) == 0)
            x->again = true;
        return rc;
    }
    if (rc < 0)
        return rc;
    snprintf(x->e.unit, sizeof x->e.unit, "%s", x->unit);
    snprintf(x->e.parent, sizeof x->e.parent, "%s", x->off->cfg.unit);
    memcpy(x->e.key, pk, 32);
    x->e.at = th_now_ms();
    x->e.kind = TH_LOG_KIND_REVOKE;
    if (th_enrollment_sign(&x->e, &x->off->id, x->blob) < 0)
        return TH_E_INVALID;
    if ((rc = th_peers_revoke(txn, x->unit, pk, x->e.at)) < 0)
        return rc;
    /* our own key rotation, if one runs, no longer waits for this child */
    char name[TH_UNIT_MAX + 16];
    snprintf(name, sizeof name, TH_ROTATION_CHILD "%s", x->unit);
    if ((rc = th_store_kv_del(txn, TH_DB_STATE, name)) < 0 && rc != TH_E_NOTFOUND)
        return rc;
    /* up the log, like the enrollment: every hub above refuses the key too */
    return th_enrollment_log(txn, TH_LOG_KIND_REVOKE, x->unit, x->blob, sizeof x->blob, NULL);
}

static int
s_cmd_revoke(th_cli_opts_t *o, int argc, char **argv)
{
    if (argc > 0)
        return th_cli_fail(TH_EXIT_USAGE, "revoke: unexpected argument '%s'", argv[0]);
    int code = 0;
    th_office_t *off = th_cli_open(o->dir, &code);
    if (!off)
        return code;
    s_revoke_t x = { .off = off, .unit = o->unit };
    int rc = th_store_write(off->store, s_revoke_txn, &x);
    if (rc == TH_E_NOTFOUND) {
        code = th_cli_fail(TH_EXIT_FAIL, "revoke: unit '%s' has no key enrolled here (see "
                           "'enroll'); nothing revoked", o->unit);
    } else if (rc < 0) {
        code = th_cli_fail(TH_EXIT_FAIL, "revoke: cannot store the revocation: %s",
                           th_strerror(rc));
    } else if (x.again) {
        printf("Khóa của đơn vị %s đã bị thu hồi trước đó; chưa có khóa mới nào được đăng "
               "ký.\n", o->unit);
    } else {
        char when[32], z[TH_Z85_KEY_LEN + 1];
        th_time_format_vn(x.e.at, when);
        th_z85_encode_key(x.e.key, z);
        printf("Đã thu hồi khóa %s của đơn vị %s lúc %s.\n", z, o->unit, when);
        printf("%sBáo cáo ký bằng khóa này từ nay bị từ chối tại đây và ở mọi cấp trên "
               "(bản thu hồi được gửi lên khi có kết nối).\n",
               x.direct ? "Máy dùng khóa này không kết nối được nữa. " : "");
        printf("Để đơn vị tiếp tục báo cáo: cài lại văn phòng (tonghop-node init), rồi đăng "
               "ký khóa mới:\n  tonghop-hub enroll --dir %s --unit %s --key KHÓA_MỚI\n",
               o->dir, o->unit);
    }
    th_office_destroy(&off);
    return code;
}

/* ---- the answers to a child's report: return for correction, approve ---- */

/* `return` (approve false) or `approve` of unit's current report. */
static int
s_answer(th_cli_opts_t *o, int argc, char **argv, bool approve)
{
    const char *cmd = approve ? "approve" : "return";
    if (argc > 0)
        return th_cli_fail(TH_EXIT_USAGE, "%s: unexpected argument '%s'", cmd, argv[0]);
    size_t rl = approve ? 1 : strlen(o->reason);
    if (rl == 0 || rl > 400)
        return th_cli_fail(TH_EXIT_USAGE, "return: --reason must say what to correct "
                           "(1 to 400 bytes)");
    int code = 0;
    th_office_t *off = th_cli_open(o->dir, &code);
    if (!off)
        return code;
    uint32_t rev = 0;
    char err[512];
    int rc = approve ? th_approval_approve(off, o->form, o->period, o->unit, &rev, err,
                                           sizeof err)
                     : th_return_report(off, o->form, o->period, o->unit, o->reason, &rev,
                                        err, sizeof err);
    if (rc < 0)
        code = th_cli_fail(rc == TH_E_PERIOD ? TH_EXIT_USAGE : TH_EXIT_FAIL, "%s: %s", cmd,
                           err);
    else if (approve)
        printf("Đã duyệt báo cáo %s kỳ %s của đơn vị %s (lần %u): báo cáo được tổng hợp%s; "
               "đơn vị được báo khi có kết nối.\n", o->form, o->period, o->unit, rev,
               off->cfg.parent_endpoint[0] ? " và gửi lên cấp trên" : "");
    else
        printf("Đã trả lại báo cáo %s kỳ %s của đơn vị %s (lần %u) để sửa; thông báo "
               "được gửi xuống khi có kết nối.\n", o->form, o->period, o->unit, rev);
    th_office_destroy(&off);
    return code;
}

static int
s_cmd_return(th_cli_opts_t *o, int argc, char **argv)
{
    return s_answer(o, argc, argv, false);
}

static int
s_cmd_approve(th_cli_opts_t *o, int argc, char **argv)
{
    return s_answer(o, argc, argv, true);
}

static int
s_add_collector(th_daemon_t *d, th_office_t *off, th_uplink_t *up, th_httpd_t *web,
                void **state)
{
    int rc = th_webhub_add(web);
    if (rc < 0)
        return rc;
    th_collector_t *c = th_collector_new(off, &rc);
    if (!c)
        return rc == TH_E_CONFIG ? 0 : rc;   /* no [hub] bind: a hub without children yet */
    if (up)
        th_collector_on_applied(c, th_uplink_wake_cb, up);
    th_service_t s = th_collector_service(c);
    if ((rc = th_daemon_add(d, &s)) < 0) {
        th_collector_destroy(&c);
        return rc;
    }
    *state = c;
    return 0;
}

static void
s_free_collector(void **state)
{
    th_collector_t *c = *state;
    th_collector_destroy(&c);
    *state = NULL;
}

static int
s_cmd_run(th_cli_opts_t *o, int argc, char **argv)
{
    return th_cli_run(o, argc, argv, s_add_collector, s_free_collector);
}

static const th_cli_cmd_t s_cmds[] = {
    { "run", s_cmd_run, "dir", "--dir D",
      "Runs this hub's daemon in the foreground: accepts the enrolled child offices\n"
      "on its --bind address, stores and checks their reports and, when it has a\n"
      "parent, sends everything on upward. SIGTERM or Ctrl-C stops it cleanly.",
      "Timing is set in [sync] of D/tonghop.ini (see docs/operations.md).\n"
      "Example:\n  tonghop-hub run --dir /var/lib/tonghop\n" },
    { "return", s_cmd_return, "dir form period unit reason",
      "--dir D --form F --period P --unit U --reason TEXT",
      "Returns a child's report for correction (trả lại): the reason travels down to\n"
      "the office that made it, whose 'status' shows it until it submits a new\n"
      "revision. Delivered by the running daemon as soon as the link is up.",
      "Options:\n"
      "  --unit U        the unit whose current report is returned (below this hub)\n"
      "  --reason TEXT   what to correct, 1 to 400 bytes, shown to the clerk\n"
      "Example:\n  tonghop-hub return --dir D --form dvcq-nam --period 2026 --unit 25459 \\\n"
      "      --reason 'Số hồ sơ giải quyết đúng hạn lớn hơn số hồ sơ tiếp nhận'\n" },
    { "approve", s_cmd_approve, "dir form period unit",
      "--dir D --form F --period P --unit U",
      "Approves (duyệt) a child's current report at a hub that approves ([hub]\n"
      "approve = yes in tonghop.ini): until then it is held but neither counted here\n"
      "nor sent up. The clerk of the office that made it sees 'đã duyệt' in 'status'.\n"
      "To refuse it, return it for correction ('return').",
      "Options:\n"
      "  --unit U        the unit whose current report is approved (below this hub)\n"
      "'completeness' lists the reports awaiting approval.\n"
      "Example:\n  tonghop-hub approve --dir D --form dvcq-nam --period 2024 --unit 25459\n" },
    { "enroll", s_cmd_enroll, "dir unit key", "--dir D --unit CODE --key Z85",
      "Admits a child office: from now on it may connect with this key and its\n"
      "reports are accepted. Takes effect at once, also while 'run' is running.\n"
      "Enrolling again with another key replaces the old key (a reinstalled office).",
      "Options:\n"
      "  --unit CODE   the child's unit code; it must lie below this hub's unit\n"
      "  --key Z85     the child's public key, printed by its 'init' or 'key'\n"
      "Example:\n"
      "  tonghop-hub enroll --dir /var/lib/tonghop --unit 25459 --key 'bOC$GVo$#V...'\n" },
    { "revoke", s_cmd_revoke, "dir unit", "--dir D --unit U",
      "Revokes the key of office U (a stolen or retired PC): if U connects here, its\n"
      "key can no longer connect (at once, also while 'run' is running); what that\n"
      "key signs is refused here, and the revocation travels up, signed by this hub,\n"
      "so that every office above refuses it too. The reports U sent before stay.\n"
      "To let U report again, enroll the key of its reinstalled office: its history\n"
      "continues (the new office numbers its reports after what is held).",
      "Options:\n"
      "  --unit U   a unit whose key is enrolled here\n"
      "Example:\n  tonghop-hub revoke --dir /var/lib/tonghop --unit 25459\n" },
    { "rekey", th_rekey_cmd, "dir", "--dir D",
      "Replaces this hub's own key (a periodic change, or a key that may have been\n"
      "seen) without touching its parent or its children: the new key is announced,\n"
      "signed by the old one, to the parent (and every hub above) and to each child\n"
      "office; the links keep the old key until the other side has the new one, then\n"
      "go over to it by themselves and the old key is deleted. Stop the daemon first.",
      "Prints the new public key as the last line. 'status' shows what the rotation\n"
      "still waits for; a second rekey is refused until it is over.\n"
      "Example:\n  systemctl stop tonghop-hub\n  tonghop-hub rekey --dir /var/lib/tonghop\n"
      "  systemctl start tonghop-hub\n" },
    { "submit", th_cli_submit,
      "dir form period values draft author note for document",
      "--dir D --form F --period P [--for UNIT [--document TEXT]] [--draft] "
      "[--author NAME] [--note TEXT] (--values FILE.csv | CODE=VALUE ...)",
      "Enters a revision of this hub's own report for form F and period P or, with\n"
      "--for, of a child office that has no node yet (nhập thay), from its paper or\n"
      "e-mailed report. Values not given keep their current value; CODE= removes one.\n"
      "The form's checks run first: if any fails, each problem is listed and nothing\n"
      "is stored. An entry on behalf of an office is marked so, signed by this hub and\n"
      "counted like any report; when the office's own node reports later, its report\n"
      "replaces the entry (the node numbers its revision after the entry's).",
      "Options:\n"
      "  --for UNIT         a direct child of this hub's unit without its own report\n"
      "  --document TEXT    the document it came from: số/ký hiệu văn bản, ngày\n"
      "  --form F, --period P, --draft, --values FILE.csv, --author NAME, --note TEXT\n"
      "                     as for an office's own report\n"
      "Example:\n"
      "  tonghop-hub submit --dir D --for 25459 --form dvcq-nam --period 2026 \\\n"
      "      --document 'Báo cáo số 45/BC-UBND ngày 20/10/2026' TT01=12 TT02=1.500\n" },
    { "units", th_unitlist_cmd, "dir code name level parent json format",
      "(add --code CODE --name NAME --level department [--parent CODE] | list [--json] "
      "[--format csv]) --dir D",
      "units add: adds a reporting unit outside the administrative tree to this hub's\n"
      "unit list: a provincial department or agency (sở, ban, ngành) with a code of\n"
      "your choice, below this hub's unit (or --parent, a unit below it). It may then\n"
      "be enrolled, report the forms that name the level 'department', and it is\n"
      "counted in completeness and rollups (group 'Khối sở, ngành'). A running daemon\n"
      "takes it up within a few seconds.\n"
      "units list: the tree in force today below this hub, departments included;\n"
      "with --format csv, a unit list for 'tonghop-node init --units FILE.csv' of an\n"
      "office whose unit is not in the official lists (a department's node).",
      "Options:\n"
      "  --code CODE    1 to 15 of A-Z a-z 0-9 - _, used by no other unit (e.g. 80-SNV)\n"
      "  --name NAME    the unit's name in Vietnamese\n"
      "  --level L      department\n"
      "  --parent CODE  the unit it reports to (default: this hub's unit)\n"
      "  --json         (list) one JSON document\n"
      "  --format csv   (list) code,name,level,parent_code rows (UTF-8)\n"
      "Examples:\n"
      "  tonghop-hub units add --dir D --code 80-SNV --name 'Sở Nội vụ' --level department\n"
      "  tonghop-hub units list --dir D --json\n" },
    { "rollup", th_rollup_cmd, "dir form period unit as-of format compare",
      "--dir D --form F --period P [--unit U] [--compare P2] [--as-of ISO8601] "
      "[--format table|csv|json]",
      "Consolidates a form for a period over every unit below U (default: this hub's\n"
      "unit): each indicator summed, counted, averaged or divided as the form says,\n"
      "from the latest submitted report of each unit held here, with the breakdown\n"
      "by direct child, rule violations and texts quoted per unit.",
      "Options:\n"
      "  --unit U        a unit at or below this hub's unit (default: this hub's)\n"
      "  --as-of T       only what this hub held at T (ISO 8601; a bare date means the\n"
      "                  end of that day, Vietnam time), e.g. the deadline snapshot\n"
      "  --compare P2    P2's figures beside P's, both in P's unit tree: across the\n"
      "                  2025 reform each old unit is counted under its successor\n"
      "  --format F      table (default, Vietnamese), csv (UTF-8 with BOM) or json\n"
      "Example:\n"
      "  tonghop-hub rollup --dir /var/lib/tonghop --form dvcq-nam --period 2026 --format json\n" },
    { "completeness", th_completeness_cmd, "dir form period unit as-of format",
      "--dir D --form F --period P [--unit U] [--as-of ISO8601] [--format table|csv|json]",
      "Shows which units below U had to report a form for a period, which did, on time\n"
      "or late (days), and which are missing, overall and per direct child, with rates.",
      "Options:\n"
      "  --unit U        a unit at or below this hub's unit (default: this hub's)\n"
      "  --as-of T       as held at T (ISO 8601; a bare date means the end of that\n"
      "                  day, Vietnam time; default: now)\n"
      "  --format F      table (default, Vietnamese), csv (UTF-8 with BOM, one row per\n"
      "                  unit) or json\n"
      "Example:\n"
      "  tonghop-hub completeness --dir /var/lib/tonghop --form dvcq-6thang --period 2026S1\n" },
    { "export", th_export_cmd, "dir form period unit as-of format out compare",
      "--dir D --form F --period P [--unit U] [--compare P2] [--as-of ISO8601] "
      "--format xlsx|csv|html --out FILE",
      "Writes the consolidated report for the People's Committee: the administrative\n"
      "header, totals per indicator by section, the breakdown by direct child unit,\n"
      "reporting status with late and missing units named, rule violations, and the\n"
      "text answers quoted per unit. The file appears complete or not at all.",
      "Options:\n"
      "  --unit U        a unit at or below this hub's unit (default: this hub's)\n"
      "  --as-of T       as held at T, e.g. the deadline (a bare date = end of that day)\n"
      "  --compare P2    totals of P2 beside P's, with the difference, in P's unit tree\n"
      "  --format F      xlsx (one sheet per part), csv (UTF-8 with BOM) or html\n"
      "                  (printable on A4)\n"
      "  --out FILE      the file to write; - writes csv or html to standard output\n"
      "The header (issuing office, place, signer) comes from [report] in tonghop.ini.\n"
      "Example:\n"
      "  tonghop-hub export --dir /var/lib/tonghop --form dvcq-nam --period 2026 \\\n"
      "      --as-of 2026-11-01 --format xlsx --out bao-cao-2026.xlsx\n" },
};

const th_cli_cmd_t *
th_hubcli_commands(size_t *n)
{
    *n = sizeof s_cmds / sizeof *s_cmds;
    return s_cmds;
}
