/*  doctor: what an operator gets wrong when installing an office (see
    doctor.h). Reads only: nothing in the directory is changed. */
#include "doctor.h"
#include "err.h"
#include "httpd.h"
#include "mem.h"
#include "office.h"
#include "runfile.h"
#include "uplink.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

typedef struct {
    th_doctor_finding_t *v;
    size_t n, cap;
    bool oom;
} s_list_t;

/* Adds a finding; vi and en are both "what, and what to do". */
static void s_add(s_list_t *l, const char *check, th_doctor_level_t level, const char *en,
                  const char *vi, ...) __attribute__((format(printf, 5, 6)));

static void
s_add(s_list_t *l, const char *check, th_doctor_level_t level, const char *en, const char *vi,
      ...)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        th_doctor_finding_t *nv = th_realloc(l->v, cap * sizeof *nv);
        if (!nv) {
            l->oom = true;
            return;
        }
        l->v = nv;
        l->cap = cap;
    }
    th_doctor_finding_t *f = &l->v[l->n++];
    f->check = check;
    f->level = level;
    va_list ap;
    va_start(ap, vi);
    vsnprintf(f->vi, sizeof f->vi, vi, ap);
    va_end(ap);
    snprintf(f->en, sizeof f->en, "%s", en);
}

/* The key file at path: readable by its owner only, owned by us. */
static void
s_key_file(s_list_t *l, const char *path, const char *what_vi, bool required)
{
    struct stat st;
    char en[512];
    if (stat(path, &st) != 0) {
        if (!required)
            return;
        snprintf(en, sizeof en, "%s is missing (%s): restore it from the backup, or this "
                 "office must be enrolled again with a new key", path, strerror(errno));
        s_add(l, "key", TH_DOCTOR_FAIL, en, "Không có tệp %s (%s): khôi phục từ bản sao lưu, "
              "nếu không thì phải đăng ký lại văn phòng với khóa mới", what_vi, path);
        return;
    }
    if (st.st_mode & 077) {
        snprintf(en, sizeof en, "%s can be read by others (mode %03o): run chmod 600 '%s'",
                 path, (unsigned)(st.st_mode & 0777), path);
        s_add(l, "key", TH_DOCTOR_FAIL, en, "Tệp %s (%s) để người khác đọc được (quyền %03o): "
              "chạy chmod 600 '%s'", what_vi, path, (unsigned)(st.st_mode & 0777), path);
    } else if (st.st_uid != geteuid()) {
        snprintf(en, sizeof en, "%s belongs to uid %u, not to the user running this (%u): "
                 "run as the service user (sudo -u tonghop), or chown it", path,
                 (unsigned)st.st_uid, (unsigned)geteuid());
        s_add(l, "key", TH_DOCTOR_WARN, en, "Tệp %s (%s) thuộc người dùng khác (uid %u): chạy "
              "bằng người dùng của dịch vụ (sudo -u tonghop) hoặc đổi chủ sở hữu", what_vi, path,
              (unsigned)st.st_uid);
    } else {
        snprintf(en, sizeof en, "%s: mode %03o, owned by this user", path,
                 (unsigned)(st.st_mode & 0777));
        s_add(l, "key", TH_DOCTOR_OK, en, "Tệp %s: chỉ chủ sở hữu đọc được", what_vi);
    }
}

static void
s_dir(s_list_t *l, const char *dir)
{
    struct stat st;
    char en[512];
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(en, sizeof en, "%s is not a directory: create the office with init", dir);
        s_add(l, "dir", TH_DOCTOR_FAIL, en, "%s không phải thư mục dữ liệu: tạo văn phòng bằng "
              "lệnh init", dir);
        return;
    }
    if (st.st_mode & 007) {
        snprintf(en, sizeof en, "%s is open to every user of the machine (mode %03o): run "
                 "chmod 750 '%s'", dir, (unsigned)(st.st_mode & 0777), dir);
        s_add(l, "dir", TH_DOCTOR_WARN, en, "Thư mục dữ liệu %s mở cho mọi người dùng trên máy "
              "(quyền %03o): chạy chmod 750 '%s'", dir, (unsigned)(st.st_mode & 0777), dir);
    } else {
        snprintf(en, sizeof en, "%s: mode %03o", dir, (unsigned)(st.st_mode & 0777));
        s_add(l, "dir", TH_DOCTOR_OK, en, "Thư mục dữ liệu %s: quyền truy cập phù hợp", dir);
    }
}

/* tcp://HOST:PORT reachable by TCP within 3 s: 0, or an errno. */
static int
s_connect(const char *endpoint, char *host, size_t hcap, char *port, size_t pcap)
{
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return EINVAL;
    const char *h = endpoint + 6, *c = strrchr(h, ':');
    if (!c || c == h || !c[1])
        return EINVAL;
    snprintf(host, hcap, "%.*s", (int)(c - h), h);
    snprintf(port, pcap, "%s", c + 1);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
        return EHOSTUNREACH;
    int err = ECONNREFUSED;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int rc = connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            rc = poll(&p, 1, 3000);
            int e = 0;
            socklen_t el = sizeof e;
            if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0)
                rc = 0;
            else
                errno = rc == 0 ? ETIMEDOUT : (e ? e : ECONNREFUSED), rc = -1;
        }
        err = rc == 0 ? 0 : errno;
        close(fd);
        if (err == 0)
            break;
    }
    freeaddrinfo(ai);
    return err;
}

static void
s_parent(s_list_t *l, th_office_t *o)
{
    char en[512], host[256], port[32];
    if (!o->cfg.parent_endpoint[0]) {
        if (th_office_is_hub(o))
            s_add(l, "parent", TH_DOCTOR_OK, "no parent: this hub is the root of its tree",
                  "Không có cấp trên: văn phòng này là gốc của cây đơn vị");
        else
            s_add(l, "parent", TH_DOCTOR_WARN, "no parent set: reports stay in this office; "
                  "set [parent] endpoint and key in tonghop.ini",
                  "Chưa đặt cấp trên: báo cáo chỉ lưu tại văn phòng này; ghi [parent] endpoint "
                  "và key trong tonghop.ini");
        return;
    }
    int e = s_connect(o->cfg.parent_endpoint, host, sizeof host, port, sizeof port);
    if (e == 0) {
        snprintf(en, sizeof en, "the parent %s answers on TCP", o->cfg.parent_endpoint);
        s_add(l, "parent", TH_DOCTOR_OK, en, "Cấp trên %s trả lời kết nối TCP",
              o->cfg.parent_endpoint);
        return;
    }
    snprintf(en, sizeof en, "cannot reach the parent %s (%s): check the network, the "
             "firewall (TCP port %s open at the parent) and [parent] endpoint in tonghop.ini",
             o->cfg.parent_endpoint, strerror(e), port);
    s_add(l, "parent", TH_DOCTOR_FAIL, en, "Không kết nối được tới cấp trên %s (%s): kiểm tra "
          "mạng, tường lửa (cổng TCP %s phải mở tại cấp trên) và [parent] endpoint trong "
          "tonghop.ini", o->cfg.parent_endpoint, strerror(e), port);
}

typedef struct {
    uint64_t offset, users;
    bool has_offset;
} s_state_t;

static int
s_count_user(const char *key, const void *val, size_t len, void *ctx)
{
    (void)key;
    (void)val;
    (void)len;
    ((s_state_t *)ctx)->users++;
    return 0;
}

static int
s_state_txn(th_store_txn_t *txn, void *ctx)
{
    s_state_t *x = ctx;
    const void *v;
    size_t len;
    int rc = th_store_kv_get(txn, TH_DB_STATE, TH_UPLINK_CLOCK_OFFSET, &v, &len);
    x->has_offset = rc == 0;
    if (rc == 0 && (rc = th_store_state_get_u64(txn, TH_UPLINK_CLOCK_OFFSET, &x->offset)) < 0)
        return rc;
    if (rc < 0 && rc != TH_E_NOTFOUND)
        return rc;
    return th_store_kv_each(txn, TH_DB_META, TH_HTTPD_USER_PREFIX, s_count_user, x);
}

static void
s_clock(s_list_t *l, th_office_t *o, const s_state_t *x)
{
    char en[512];
    if (!o->cfg.parent_endpoint[0]) {
        s_add(l, "clock", TH_DOCTOR_OK, "no parent to compare the clock with; keep NTP on "
              "(timedatectl): deadlines are judged on the offices' clocks",
              "Không có cấp trên để so giờ; hãy bật đồng bộ giờ (timedatectl): hạn nộp được "
              "tính theo giờ của máy các văn phòng");
        return;
    }
    if (!x->has_offset) {
        s_add(l, "clock", TH_DOCTOR_WARN, "the clock was never compared with the parent's "
              "(never connected): check that NTP is on (timedatectl)",
              "Chưa so được giờ với cấp trên (chưa kết nối lần nào): kiểm tra đồng bộ giờ "
              "(timedatectl)");
        return;
    }
    int64_t off = (int64_t)x->offset, a = off < 0 ? -off : off;
    snprintf(en, sizeof en, "this clock is %" PRId64 " s %s the parent's at the last "
             "connection%s", a / 1000, off > 0 ? "behind" : "ahead of",
             a > TH_DOCTOR_CLOCK_MS ? ": set the time right (timedatectl set-ntp true); "
             "reports are stamped with it" : "");
    if (a > TH_DOCTOR_CLOCK_MS)
        s_add(l, "clock", TH_DOCTOR_FAIL, en, "Đồng hồ máy này %s giờ cấp trên %" PRId64 " giây "
              "(lần kết nối gần nhất): hãy chỉnh giờ (timedatectl set-ntp true), vì báo cáo "
              "được ghi giờ theo máy này", off > 0 ? "chậm hơn" : "nhanh hơn", a / 1000);
    else
        s_add(l, "clock", TH_DOCTOR_OK, en, "Đồng hồ máy này lệch %" PRId64 " giây so với cấp "
              "trên (lần kết nối gần nhất)", a / 1000);
}

static void
s_disk(s_list_t *l, th_office_t *o)
{
    char path[PATH_MAX], en[512];
    snprintf(path, sizeof path, "%s/store", o->dir);
    struct statvfs vs;
    if (statvfs(path, &vs) != 0) {
        snprintf(en, sizeof en, "cannot read the free space of %.300s: %s", path, strerror(errno));
        s_add(l, "disk", TH_DOCTOR_WARN, en, "Không đọc được dung lượng trống của %s", path);
        return;
    }
    uint64_t free_mb = (uint64_t)vs.f_bavail * vs.f_frsize / (1024 * 1024);
    uint64_t map_mb = th_store_map_size(o->store) / (1024 * 1024);
    struct stat st;
    snprintf(path, sizeof path, "%s/store/data.mdb", o->dir);
    uint64_t used_mb = stat(path, &st) == 0 ? (uint64_t)st.st_size / (1024 * 1024) : 0;
    th_doctor_level_t lv = free_mb < TH_DOCTOR_DISK_FAIL_MB   ? TH_DOCTOR_FAIL
                           : free_mb < TH_DOCTOR_DISK_WARN_MB ? TH_DOCTOR_WARN
                                                              : TH_DOCTOR_OK;
    snprintf(en, sizeof en, "%" PRIu64 " MB free on the store's disk; the store uses %" PRIu64
             " MB (map %" PRIu64 " MB, it grows as needed)%s", free_mb, used_mb, map_mb,
             lv == TH_DOCTOR_OK ? "" : ": free some space (below 100 MB new reports are "
             "refused); what is stored stays");
    s_add(l, "disk", lv, en, "Còn trống %" PRIu64 " MB trên ổ chứa dữ liệu; kho dữ liệu dùng %"
          PRIu64 " MB%s", free_mb, used_mb, lv == TH_DOCTOR_OK ? "" : ": hãy giải phóng dung "
          "lượng (khi ổ đầy, báo cáo mới không lưu được; dữ liệu đã lưu vẫn nguyên vẹn)");
}

static void
s_web(s_list_t *l, th_office_t *o, const s_state_t *x)
{
    char en[512];
    const char *listen = o->cfg.web_listen;
    bool login = th_httpd_login_needed(listen, o->cfg.web_login);
    bool local = strncmp(listen, "127.", 4) == 0;
    if (login && x->users == 0) {
        snprintf(en, sizeof en, "the web interface (%s) asks for a login but has no user: "
                 "add one with 'user add --dir %s --name NAME'", listen, o->dir);
        s_add(l, "web", TH_DOCTOR_WARN, en, "Giao diện web (%s) yêu cầu đăng nhập nhưng chưa có "
              "người dùng: thêm bằng lệnh 'user add --dir %s --name TÊN'", listen, o->dir);
    }
    if (!local) {
        snprintf(en, sizeof en, "the web interface listens on %s in plain HTTP: passwords and "
                 "figures cross the network unencrypted; put it behind an HTTPS reverse proxy "
                 "and listen on 127.0.0.1", listen);
        s_add(l, "web", TH_DOCTOR_WARN, en, "Giao diện web nghe tại %s bằng HTTP không mã hóa: "
              "mật khẩu và số liệu đi qua mạng không được bảo vệ; hãy đặt sau reverse proxy "
              "HTTPS và chỉ nghe tại 127.0.0.1", listen);
    } else if (!(login && x->users == 0)) {
        snprintf(en, sizeof en, "the web interface listens on %s (this machine only)%s",
                 listen, login ? ", with login" : "");
        s_add(l, "web", TH_DOCTOR_OK, en, "Giao diện web chỉ mở trên máy này (%s)", listen);
    }
}

static void
s_daemon(s_list_t *l, const char *dir, bool hub)
{
    json_t *run = NULL;
    if (th_runfile_read(dir, &run) < 0 || !run)
        return;
    bool running = json_is_true(json_object_get(run, "running"));
    json_decref(run);
    if (running)
        s_add(l, "daemon", TH_DOCTOR_OK, "the daemon runs on this directory",
              "Tiến trình dịch vụ đang chạy trên thư mục này");
    else if (hub)
        s_add(l, "daemon", TH_DOCTOR_WARN, "no daemon runs on this directory: start it "
              "(systemctl start tonghop-hub, or tonghop-hub run)",
              "Tiến trình dịch vụ chưa chạy: khởi động (systemctl start tonghop-hub hoặc "
              "tonghop-hub run)");
    else
        s_add(l, "daemon", TH_DOCTOR_WARN, "no daemon runs on this directory: start it "
              "(systemctl start tonghop-node, or tonghop-node run)",
              "Tiến trình dịch vụ chưa chạy: khởi động (systemctl start tonghop-node hoặc "
              "tonghop-node run)");
}

int
th_doctor_run(const char *dir, th_doctor_finding_t **out, size_t *n)
{
    s_list_t l = { 0 };
    char path[PATH_MAX];
    *out = NULL;
    *n = 0;
    s_dir(&l, dir);
    snprintf(path, sizeof path, "%s/identity.key", dir);
    s_key_file(&l, path, "khóa định danh của văn phòng", true);
    snprintf(path, sizeof path, "%s/store/seal.key", dir);
    s_key_file(&l, path, "khóa niêm phong kho dữ liệu", false);
    char err[1024] = "";
    int rc = 0;
    th_office_t *o = l.v && l.v[0].level == TH_DOCTOR_FAIL ? NULL
                                                           : th_office_open(dir, err, sizeof err,
                                                                            &rc);
    if (!o && l.v && l.v[0].level != TH_DOCTOR_FAIL) {
        char en[512];
        snprintf(en, sizeof en, "the office does not open: %.480s", err);
        s_add(&l, "config", TH_DOCTOR_FAIL, en, "Không mở được văn phòng: %s", err);
    }
    if (o) {
        s_add(&l, "config", TH_DOCTOR_OK, "tonghop.ini and the store open",
              "Cấu hình tonghop.ini và kho dữ liệu đọc được");
        s_state_t x = { 0 };
        if (th_store_read(o->store, s_state_txn, &x) < 0)
            s_add(&l, "store", TH_DOCTOR_FAIL, "the store cannot be read",
                  "Không đọc được kho dữ liệu");
        s_parent(&l, o);
        s_clock(&l, o, &x);
        s_disk(&l, o);
        s_web(&l, o, &x);
        s_daemon(&l, dir, th_office_is_hub(o));
        th_office_destroy(&o);
    }
    if (l.oom) {
        th_free(l.v);
        return -ENOMEM;
    }
    *out = l.v;
    *n = l.n;
    return 0;
}

int
th_doctor_cmd(th_cli_opts_t *o, int argc, char **argv)
{
    if (argc > 0)
        return th_cli_fail(TH_EXIT_USAGE, "doctor: unexpected argument '%s'", argv[0]);
    th_doctor_finding_t *f;
    size_t n;
    if (th_doctor_run(o->dir, &f, &n) < 0)
        return th_cli_fail(TH_EXIT_FAIL, "out of memory");
    static const char *const names[] = { "ok", "warn", "fail" };
    static const char *const tags[] = { "[ỔN]       ", "[CẢNH BÁO] ", "[LỖI]      " };
    bool failed = false;
    json_t *list = o->json ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        failed |= f[i].level == TH_DOCTOR_FAIL;
        if (list)
            json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "check", f[i].check,
                                                  "level", names[f[i].level], "vi", f[i].vi,
                                                  "en", f[i].en));
        else
            printf("%s%s\n            %s\n", tags[f[i].level], f[i].vi, f[i].en);
    }
    th_free(f);
    int code = failed ? TH_EXIT_FAIL : TH_EXIT_OK;
    if (list) {
        int jc = th_cli_print_json(json_pack("{s:b, s:o}", "ok", !failed, "findings", list));
        return jc != TH_EXIT_OK ? jc : code;
    }
    printf("%s\n", failed ? "Có lỗi cần sửa (xem [LỖI] ở trên). / There are problems to fix."
                          : "Không có lỗi. / No problem found.");
    return code;
}
