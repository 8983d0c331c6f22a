/*  rekey: a hub replaces its own key. */
#include "rekey.h"
#include "enrollment.h"
#include "err.h"
#include "metaq.h"
#include "peers.h"
#include "rotation.h"
#include "runfile.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    th_office_t *off;
    const th_identity_t *fresh;
    th_store_txn_t *txn;
    size_t children;
} s_rekey_t;

static int
s_tell_child(const char *unit, void *ctx)
{
    s_rekey_t *x = ctx;
    uint64_t seq;
    char name[TH_UNIT_MAX + 16];
    int rc = th_metaq_push(x->txn, unit, TH_MSG_META_KEY, "parent-key", x->fresh->pk, 32,
                           &seq);
    if (rc < 0)
        return rc;
    snprintf(name, sizeof name, TH_ROTATION_CHILD "%s", unit);
    x->children++;
    return th_store_state_put_u64(x->txn, name, seq);
}

static int
s_rekey_txn(th_store_txn_t *txn, void *ctx, const th_identity_t *fresh)
{
    s_rekey_t *x = ctx;
    x->fresh = fresh;
    x->txn = txn;
    int rc;
    if (x->off->cfg.parent_endpoint[0]) {
        th_enrollment_t e = { .kind = TH_LOG_KIND_ROTATE, .at = th_now_ms() };
        snprintf(e.unit, sizeof e.unit, "%s", x->off->cfg.unit);
        snprintf(e.parent, sizeof e.parent, "%s", x->off->cfg.unit);
        memcpy(e.key, fresh->pk, 32);
        uint8_t blob[TH_ENROLLMENT_LEN];
        uint64_t seq;
        if (th_enrollment_sign(&e, &x->off->id, blob) < 0)   /* by the old key */
            return TH_E_INVALID;
        if ((rc = th_enrollment_log(txn, TH_LOG_KIND_ROTATE, e.unit, blob, sizeof blob,
                                    &seq)) < 0 ||
            (rc = th_store_state_put_u64(txn, TH_ROTATION_SEQ, seq)) < 0)
            return rc;
    }
    return th_peers_each_direct(txn, s_tell_child, x);
}

static int
s_progress_read(th_store_txn_t *txn, void *ctx)
{
    return th_rotation_progress(txn, ctx);
}

int
th_rekey_cmd(th_cli_opts_t *o, int argc, char **argv)
{
    if (argc > 0)
        return th_cli_fail(TH_EXIT_USAGE, "rekey: unexpected argument '%s'", argv[0]);
    json_t *run = NULL;
    if (th_runfile_read(o->dir, &run) == 0 && json_is_true(json_object_get(run, "running"))) {
        long long pid = json_integer_value(json_object_get(run, "pid"));
        json_decref(run);
        return th_cli_fail(TH_EXIT_FAIL, "rekey: the daemon runs on %s (pid %lld): stop it "
                           "first (systemctl stop tonghop-hub), run rekey, then start it "
                           "again", o->dir, pid);
    }
    json_decref(run);
    int code = 0;
    th_office_t *off = th_cli_open(o->dir, &code);
    if (!off)
        return code;
    th_rotation_progress_t p;
    if (off->has_prev) {
        if (th_store_read(off->store, s_progress_read, &p) < 0)
            memset(&p, 0, sizeof p);
        char up[320] = "", down[96] = "";
        if (p.refused[0])
            snprintf(up, sizeof up, "the parent refused the new key (\"%s\"): ask its "
                     "operator; ", p.refused);
        else if (!p.parent_has)
            snprintf(up, sizeof up, "the parent has not acknowledged it yet; ");
        if (p.npending)
            snprintf(down, sizeof down, "%zu of %zu children have not got it yet (first %s); ",
                     p.npending, p.nchildren, p.pending[0]);
        code = th_cli_fail(TH_EXIT_FAIL, "rekey: the last key rotation is still in progress: "
                           "%s%sit ends by itself once they have the new key (see 'status')",
                           up, down);
        th_office_destroy(&off);
        return code;
    }
    s_rekey_t x = { .off = off };
    char err[512] = "";
    int rc = th_rotation_begin(off->dir, off->store, &off->id, &off->prev, &off->has_prev,
                               s_rekey_txn, &x, err, sizeof err);
    if (rc < 0) {
        code = th_cli_fail(TH_EXIT_FAIL, "rekey: %s", err);
    } else {
        char z[TH_Z85_KEY_LEN + 1];
        th_z85_encode_key(off->id.pk, z);
        printf("Đã tạo khóa mới cho đơn vị %s.\n", off->cfg.unit);
        char who[96];
        bool up = off->cfg.parent_endpoint[0] != '\0';
        snprintf(who, sizeof who, "%s%s%zu đơn vị cấp dưới", up ? "cấp trên" : "",
                 up && x.children ? " và " : "", x.children);
        if (!up && !x.children)
            printf("Khóa mới có hiệu lực khi dịch vụ khởi động lại.\n");
        else
            printf("Khóa cũ vẫn được dùng cho đường truyền đến khi %s nhận được khóa mới "
                   "(khi có kết nối); sau đó tự chuyển sang khóa mới và xóa khóa cũ. Không "
                   "cần sửa gì ở cấp trên hay ở các đơn vị cấp dưới.\n",
                   up && !x.children ? "cấp trên" : who);
        printf("Khởi động lại dịch vụ: systemctl start tonghop-hub\n");
        printf("Khóa công khai mới:\n%s\n", z);
    }
    th_office_destroy(&off);
    return code;
}
