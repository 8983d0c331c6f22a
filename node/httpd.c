/*  httpd: libmicrohttpd on the daemon's loop, sessions, CSRF, login, users,
    and the page frame. */
#include "httpd.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "period.h"
#include "present.h"
#include "store.h"
#include "units.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_MAX_ROUTES 48
#define S_MAX_NAV 8
#define S_MAX_SESSIONS 256
#define S_SESSION_IDLE_MS (8LL * 3600 * 1000)
#define S_MAX_FIELDS 256
#define S_TOKEN_HEX 65            /* 32 random bytes in hex, NUL */
/* Login throttling: a password check costs 64 MiB and a good part of a
   second (argon2id), and names can be guessed: after S_LOGIN_FAILS failed
   logins for one name within S_LOGIN_WINDOW_MS that name is refused until
   the window ends, and beyond S_LOGIN_FAILS_ALL failures of any names in a
   minute every login waits for the next minute. Failures are counted per
   name, not per address (behind a reverse proxy every client is 127.0.0.1). */
#define S_LOGIN_FAILS 5
#define S_LOGIN_WINDOW_MS (15LL * 60 * 1000)
#define S_LOGIN_FAILS_ALL 30
#define S_LOGIN_NAMES 64

typedef struct {
    char method[8];
    char path[64];
    th_httpd_fn fn;
    void *arg;
} s_route_t;

typedef struct {
    char id[S_TOKEN_HEX];        /* cookie value; "" = free slot */
    char csrf[S_TOKEN_HEX];
    char user[TH_HTTPD_USER_MAX];  /* "" = not logged in */
    int64_t used;                /* last request, Unix ms */
} s_session_t;

typedef struct {
    char name[TH_HTTPD_USER_MAX];  /* as typed ("" = slot free) */
    int fails;
    int64_t since;               /* first failure of the window, ms */
} s_fail_t;

struct th_web {
    th_office_t *office;
    struct sockaddr_in addr;
    bool login;                  /* a login is required */
    struct MHD_Daemon *mhd;
    uv_poll_t poll;
    uv_timer_t timer;
    bool handles;                /* poll and timer initialised */
    s_route_t routes[S_MAX_ROUTES];
    size_t nroutes;
    char nav[S_MAX_NAV][2][64];  /* href, label */
    size_t nnav;
    void (*saved_fn)(void *);
    void *saved_arg;
    void (*destroy_fn)(void *);
    void *destroy_arg;
    s_session_t sessions[S_MAX_SESSIONS];
    unsigned port;
    s_fail_t fails[S_LOGIN_NAMES];
    int fails_minute;            /* failures of any name since fails_minute_at */
    int64_t fails_minute_at;
};

typedef struct {
    char *key;
    char *val;
    size_t len;
} s_field_t;

struct th_httpd_req {
    th_httpd_t *w;
    struct MHD_Connection *con;
    const char *path;
    bool post, api;
    struct MHD_PostProcessor *pp;
    size_t body;                 /* bytes of body received */
    bool too_big, bad_field;
    s_field_t fields[S_MAX_FIELDS];
    size_t nfields;
    s_session_t *session;
    bool new_cookie;             /* send Set-Cookie with the reply */
    bool replied;
    FILE *page;                  /* th_httpd_page */
    char *page_buf;
    size_t page_len;
};

/* ---- login decision ---------------------------------------------------------- */

bool
th_httpd_login_needed(const char *listen, const char *mode)
{
    if (mode && strcmp(mode, "required") == 0)
        return true;
    if (!listen)
        return true;
    if (strncmp(listen, "localhost:", 10) == 0)
        return false;
    struct in_addr a;
    char host[64];
    const char *colon = strrchr(listen, ':');
    size_t n = colon ? (size_t)(colon - listen) : 0;
    if (n == 0 || n >= sizeof host)
        return true;
    memcpy(host, listen, n);
    host[n] = '\0';
    if (inet_pton(AF_INET, host, &a) != 1)
        return true;
    return (ntohl(a.s_addr) >> 24) != 127;
}

static int
s_parse_listen(const char *listen, struct sockaddr_in *sa)
{
    const char *colon = strrchr(listen, ':');
    if (!colon)
        return TH_E_CONFIG;
    char host[64], *end;
    size_t n = (size_t)(colon - listen);
    if (n == 0 || n >= sizeof host)
        return TH_E_CONFIG;
    memcpy(host, listen, n);
    host[n] = '\0';
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return TH_E_CONFIG;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return TH_E_CONFIG;
    return 0;
}

th_httpd_t *
th_httpd_new(th_office_t *o, int *err)
{
    int e = 0;
    th_httpd_t *w = th_calloc(1, sizeof *w);
    if (!w) {
        e = -ENOMEM;
        goto fail;
    }
    w->office = o;
    if ((e = s_parse_listen(o->cfg.web_listen, &w->addr)) < 0) {
        th_log(TH_LOG_ERROR, "web: [web] listen '%s' is not IPv4 ADDRESS:PORT",
               o->cfg.web_listen);
        goto fail;
    }
    w->login = th_httpd_login_needed(o->cfg.web_listen, o->cfg.web_login);
    if (err)
        *err = 0;
    return w;
fail:
    th_free(w);
    if (err)
        *err = e;
    return NULL;
}

int
th_httpd_route(th_httpd_t *w, const char *method, const char *path, th_httpd_fn fn, void *arg)
{
    size_t i = 0;
    while (i < w->nroutes && (strcmp(w->routes[i].method, method) != 0 ||
                              strcmp(w->routes[i].path, path) != 0))
        i++;
    if (i == w->nroutes) {
        if (w->nroutes == S_MAX_ROUTES || strlen(method) >= 8 || strlen(path) >= 64)
            return TH_E_LIMIT;
        w->nroutes++;
    }
    snprintf(w->routes[i].method, sizeof w->routes[i].method, "%s", method);
    snprintf(w->routes[i].path, sizeof w->routes[i].path, "%s", path);
    w->routes[i].fn = fn;
    w->routes[i].arg = arg;
    return 0;
}

int
th_httpd_routes(th_httpd_t *w, const th_httpd_route_t *routes, size_t n, void *arg)
{
    for (size_t i = 0; i < n; i++) {
        int rc = th_httpd_route(w, routes[i].method, routes[i].path, routes[i].fn, arg);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int
th_httpd_nav(th_httpd_t *w, const char *href, const char *label)
{
    if (w->nnav == S_MAX_NAV || strlen(href) >= 64 || strlen(label) >= 64)
        return TH_E_LIMIT;
    snprintf(w->nav[w->nnav][0], 64, "%s", href);
    snprintf(w->nav[w->nnav][1], 64, "%s", label);
    w->nnav++;
    return 0;
}

void
th_httpd_on_destroy(th_httpd_t *w, void (*fn)(void *arg), void *arg)
{
    w->destroy_fn = fn;
    w->destroy_arg = arg;
}

void
th_httpd_on_saved(th_httpd_t *w, void (*fn)(void *arg), void *arg)
{
    w->saved_fn = fn;
    w->saved_arg = arg;
}

unsigned
th_httpd_port(const th_httpd_t *w)
{
    return w ? w->port : 0;
}

/* ---- sessions ------------------------------------------------------------------ */

static void
s_token(char out[S_TOKEN_HEX])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, S_TOKEN_HEX, raw, sizeof raw);
}

static s_session_t *
s_session_find(th_httpd_t *w, const char *id)
{
    if (!id || strlen(id) != S_TOKEN_HEX - 1)
        return NULL;
    int64_t now = th_now_ms();
    for (size_t i = 0; i < S_MAX_SESSIONS; i++) {
        s_session_t *s = &w->sessions[i];
        if (s->id[0] && sodium_memcmp(s->id, id, S_TOKEN_HEX - 1) == 0) {
            if (now - s->used > S_SESSION_IDLE_MS) {
                memset(s, 0, sizeof *s);
                return NULL;
            }
            s->used = now;
            return s;
        }
    }
    return NULL;
}

/* A new session in a free slot, or in the least recently used one. */
static s_session_t *
s_session_new(th_httpd_t *w)
{
    s_session_t *best = &w->sessions[0];
    for (size_t i = 0; i < S_MAX_SESSIONS; i++) {
        s_session_t *s = &w->sessions[i];
        if (!s->id[0]) {
            best = s;
            break;
        }
        if (s->used < best->used)
            best = s;
    }
    memset(best, 0, sizeof *best);
    s_token(best->id);
    s_token(best->csrf);
    best->used = th_now_ms();
    return best;
}

/* ---- users ------------------------------------------------------------------------ */

static bool
s_user_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= TH_HTTPD_USER_MAX)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("._@-", *p)))
            return false;
    return true;
}

typedef struct {
    const char *key;
    const char *hash;
    char out[crypto_pwhash_STRBYTES];
    bool found;
} s_user_t;

static int
s_user_put(th_store_txn_t *txn, void *ctx)
{
    s_user_t *u = ctx;
    return th_store_kv_put(txn, TH_DB_META, u->key, u->hash, strlen(u->hash) + 1);
}

static int
s_user_get(th_store_txn_t *txn, void *ctx)
{
    s_user_t *u = ctx;
    const void *v;
    size_t len;
    int rc = th_store_kv_get(txn, TH_DB_META, u->key, &v, &len);
    if (rc == TH_E_NOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    if (len == 0 || len > sizeof u->out || ((const char *)v)[len - 1] != '\0')
        return TH_E_CORRUPT;
    memcpy(u->out, v, len);
    u->found = true;
    return 0;
}

int
th_httpd_user_add(th_office_t *o, const char *name, const char *password)
{
    size_t pl = password ? strlen(password) : 0;
    if (!name || !s_user_name_ok(name) || pl < 8 || pl > 1024)
        return TH_E_INVALID;
    char hash[crypto_pwhash_STRBYTES], key[TH_HTTPD_USER_MAX + 8];
    if (crypto_pwhash_str(hash, password, pl, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return -ENOMEM;
    snprintf(key, sizeof key, TH_HTTPD_USER_PREFIX "%s", name);
    s_user_t u = { .key = key, .hash = hash };
    return th_store_write(o->store, s_user_put, &u);
}

bool
th_httpd_user_check(th_office_t *o, const char *name, const char *password)
{
    if (!name || !password || !s_user_name_ok(name))
        return false;
    char key[TH_HTTPD_USER_MAX + 8];
    snprintf(key, sizeof key, TH_HTTPD_USER_PREFIX "%s", name);
    s_user_t u = { .key = key };
    if (th_store_read(o->store, s_user_get, &u) < 0 || !u.found)
        return false;
    return crypto_pwhash_str_verify(u.out, password, strlen(password)) == 0;
}

/* ---- replies ------------------------------------------------------------------------ */

static const char s_csp[] = "default-src 'none'; style-src 'self'; img-src 'self'; "
                            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/* Adds the session cookie when it is new, queues r and releases it. */
static int
s_queue(th_httpd_req_t *rq, unsigned status, struct MHD_Response *r)
{
    if (rq->new_cookie && rq->session) {
        char c[160];
        snprintf(c, sizeof c, "th_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d",
                 rq->session->id, (int)(S_SESSION_IDLE_MS / 1000));
        MHD_add_response_header(r, "Set-Cookie", c);
    }
    enum MHD_Result ok = MHD_queue_response(rq->con, status, r);
    MHD_destroy_response(r);
    rq->replied = true;
    return ok == MHD_YES ? 0 : -EIO;
}

int
th_httpd_send(th_httpd_req_t *rq, unsigned status, const char *ctype, const void *data,
            size_t len, const char *filename, const char *csp)
{
    if (rq->replied)
        return 0;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return -ENOMEM;
    MHD_add_response_header(r, "Content-Type", ctype);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Content-Security-Policy", csp ? csp : s_csp);
    if (filename) {
        char cd[256];
        snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", filename);
        MHD_add_response_header(r, "Content-Disposition", cd);
    }
    return s_queue(rq, status, r);
}

int
th_httpd_send_json(th_httpd_req_t *rq, unsigned status, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!s)
        return th_httpd_fail(rq, 500, "Lỗi máy chủ: thiếu bộ nhớ");
    int rc = th_httpd_send(rq, status, "application/json; charset=utf-8", s, strlen(s), NULL, NULL);
    free(s);
    return rc;
}

int
th_httpd_redirect(th_httpd_req_t *rq, const char *location)
{
    if (rq->replied)
        return 0;
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"",
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r)
        return -ENOMEM;
    MHD_add_response_header(r, "Location", location);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    return s_queue(rq, MHD_HTTP_SEE_OTHER, r);
}

static const char s_css[] =
    "*{box-sizing:border-box}body{font:15px/1.45 'DejaVu Sans',Arial,sans-serif;margin:0;"
    "color:#1d232a;background:#f4f6f8}\n"
    "header{background:#8b1a1a;color:#fff;padding:.5em 1em;display:flex;flex-wrap:wrap;"
    "gap:.5em 1.5em;align-items:center}\n"
    "header .brand{font-weight:bold}header a{color:#fff;margin-right:1em}\n"
    "header form{display:inline;margin:0}header button{font-size:.9em}\n"
    "main{max-width:1100px;margin:1em auto;background:#fff;padding:1em 1.5em;"
    "border:1px solid #d8dde3}\n"
    "h1{font-size:1.4em;margin:.2em 0 .6em}h2{font-size:1.15em;margin:1.2em 0 .4em}\n"
    "table{border-collapse:collapse;width:100%;margin:.4em 0 1em}\n"
    "th,td{border:1px solid #c9d0d7;padding:.3em .5em;text-align:left;vertical-align:top}\n"
    "th{background:#eef1f4}td.value,td.num{text-align:right;white-space:nowrap}\n"
    "td.value.text{text-align:left;white-space:pre-wrap}\n"
    "tr.on_time td.state{color:#11672b}tr.late td.state{color:#a15c00}"
    "tr.missing td.state{color:#b00020}\n"
    "fieldset{border:1px solid #d8dde3;margin:0 0 1em;padding:.5em 1em}"
    "legend{font-weight:bold}\n"
    ".field{margin:.5em 0}.field label{display:block;font-weight:600}"
    ".field .help{color:#5a6570;font-size:.9em}\n"
    ".field input,.field select{padding:.3em;min-width:12em;font-size:1em}"
    ".field textarea{width:100%;min-height:4em;font-size:1em}\n"
    ".field.bad input,.field.bad select,.field.bad textarea{border:2px solid #b00020}\n"
    ".field-error{color:#b00020;margin:.2em 0}.req{color:#b00020}\n"
    ".problems{border:2px solid #b00020;background:#fdecee;padding:.5em 1em;margin:1em 0}\n"
    ".notice{padding:.5em 1em;margin:1em 0;border:1px solid}"
    ".notice.ok{background:#e7f5ea;border-color:#11672b}"
    ".notice.warn{background:#fff4e0;border-color:#a15c00}\n"
    ".actions button{font-size:1em;padding:.4em 1.2em;margin-right:.6em}\n"
    "progress{width:100%;max-width:30em;height:1.2em}\n"
    "footer{text-align:center;color:#6b7680;font-size:.85em;margin:1em}\n"
    "@media print{header,footer,.actions,form{display:none}main{border:0}}\n";

static void
s_nav(th_httpd_req_t *rq, FILE *f)
{
    th_httpd_t *w = rq->w;
    th_office_t *o = w->office;
    int32_t today = th_time_day_vn(th_now_ms());
    const th_unit_t *u = th_units_find(o->units, o->cfg.unit, today);
    if (!u)
        u = th_units_find_latest(o->units, o->cfg.unit);
    fputs("<header><span class=\"brand\">", f);
    th_html_put(f, o->cfg.unit);
    fputs(" — ", f);
    th_html_put(f, u ? u->name : "");
    fputs("</span><nav><a href=\"/\">Báo cáo</a><a href=\"/status\">Đồng bộ</a>", f);
    for (size_t i = 0; i < w->nnav; i++) {
        fputs("<a href=\"", f);
        th_html_put(f, w->nav[i][0]);
        fputs("\">", f);
        th_html_put(f, w->nav[i][1]);
        fputs("</a>", f);
    }
    fputs("</nav>", f);
    if (rq->session && rq->session->user[0]) {
        fputs("<form method=\"post\" action=\"/logout\">", f);
        th_httpd_csrf_field(rq, f);
        fputs("<span>", f);
        th_html_put(f, rq->session->user);
        fputs("</span> <button>Đăng xuất</button></form>", f);
    }
    fputs("</header>\n", f);
}

FILE *
th_httpd_page(th_httpd_req_t *rq, const char *title)
{
    if (rq->page)
        return rq->page;
    rq->page = open_memstream(&rq->page_buf, &rq->page_len);
    if (!rq->page)
        return NULL;
    FILE *f = rq->page;
    fputs("<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          f);
    th_html_put(f, title);
    fputs(" — tonghop</title>\n<link rel=\"stylesheet\" href=\"/style.css\">\n</head>\n<body>\n",
          f);
    s_nav(rq, f);
    fputs("<main>\n<h1>", f);
    th_html_put(f, title);
    fputs("</h1>\n", f);
    return f;
}

int
th_httpd_page_send(th_httpd_req_t *rq, unsigned status)
{
    if (!rq->page)
        return th_httpd_fail(rq, 500, "Lỗi máy chủ");
    char when[32];
    th_time_format_vn(th_now_ms(), when);
    fprintf(rq->page, "</main>\n<footer>tonghop — %s</footer>\n</body>\n</html>\n", when);
    bool err = ferror(rq->page) != 0;
    fclose(rq->page);
    rq->page = NULL;
    int rc = err ? -ENOMEM
                 : th_httpd_send(rq, status, "text/html; charset=utf-8", rq->page_buf,
                               rq->page_len, NULL, NULL);
    free(rq->page_buf);
    rq->page_buf = NULL;
    return rc;
}

int
th_httpd_fail(th_httpd_req_t *rq, unsigned status, const char *msg)
{
    if (rq->page) {   /* a page begun by the handler is dropped */
        fclose(rq->page);
        rq->page = NULL;
        free(rq->page_buf);
        rq->page_buf = NULL;
    }
    if (rq->api)
        return th_httpd_send_json(rq, status, json_pack("{s:s}", "error", msg));
    FILE *f = th_httpd_page(rq, status == 404 ? "Không tìm thấy" : "Không thực hiện được");
    if (!f)
        return th_httpd_send(rq, status, "text/plain; charset=utf-8", msg, strlen(msg), NULL,
                           NULL);
    fputs("<div class=\"problems\"><p>", f);
    th_html_put(f, msg);
    fputs("</p></div>\n<p><a href=\"/\">Về trang chính</a></p>\n", f);
    return th_httpd_page_send(rq, status);
}

/* ---- request accessors -------------------------------------------------------------- */

th_office_t *
th_httpd_office(th_httpd_req_t *rq)
{
    return rq->w->office;
}

const char *
th_httpd_arg(th_httpd_req_t *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->con, MHD_GET_ARGUMENT_KIND, name);
}

const char *
th_httpd_field(th_httpd_req_t *rq, const char *name)
{
    for (size_t i = 0; i < rq->nfields; i++)
        if (strcmp(rq->fields[i].key, name) == 0)
            return rq->fields[i].val ? rq->fields[i].val : "";
    return NULL;
}

const char *
th_httpd_user(th_httpd_req_t *rq)
{
    return rq->session && rq->session->user[0] ? rq->session->user : NULL;
}

void
th_httpd_csrf_field(th_httpd_req_t *rq, FILE *f)
{
    fprintf(f, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">",
            rq->session ? rq->session->csrf : "");
}

void
th_httpd_saved(th_httpd_req_t *rq)
{
    if (rq->w->saved_fn)
        rq->w->saved_fn(rq->w->saved_arg);
}

/* ---- built-in pages: style, login, logout ------------------------------------------ */

static int
s_style(th_httpd_req_t *rq, void *arg)
{
    (void)arg;
    return th_httpd_send(rq, 200, "text/css; charset=utf-8", s_css, sizeof s_css - 1, NULL, NULL);
}

/* The path to go back to after login: a local path only. */
static const char *
s_next(const char *next)
{
    if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strchr(next, '\r') ||
        strchr(next, '\n') || strlen(next) > 512)
        return "/";
    return next;
}

static int
s_login_page(th_httpd_req_t *rq, unsigned status, const char *problem)
{
    FILE *f = th_httpd_page(rq, "Đăng nhập");
    if (!f)
        return -ENOMEM;
    if (problem) {
        fputs("<div class=\"problems\"><p>", f);
        th_html_put(f, problem);
        fputs("</p></div>\n", f);
    }
    const char *next = th_httpd_field(rq, "next");
    if (!next)
        next = th_httpd_arg(rq, "next");
    fputs("<form id=\"login\" method=\"post\" action=\"/login\">", f);
    th_httpd_csrf_field(rq, f);
    fputs("<input type=\"hidden\" name=\"next\" value=\"", f);
    th_html_put(f, s_next(next));
    fputs("\"><div class=\"field\"><label for=\"user\">Tên đăng nhập</label>"
          "<input id=\"user\" name=\"user\" autocomplete=\"username\" required></div>"
          "<div class=\"field\"><label for=\"password\">Mật khẩu</label>"
          "<input id=\"password\" name=\"password\" type=\"password\" "
          "autocomplete=\"current-password\" required></div>"
          "<div class=\"actions\"><button>Đăng nhập</button></div></form>\n", f);
    return th_httpd_page_send(rq, status);
}

static int
s_login_get(th_httpd_req_t *rq, void *arg)
{
    (void)arg;
    return s_login_page(rq, 200, NULL);
}

/* The failure slot of name (made when make; the oldest reused), NULL. */
static s_fail_t *
s_fail_slot(th_httpd_t *w, const char *name, bool make, int64_t now)
{
    s_fail_t *free_slot = NULL, *oldest = &w->fails[0];
    for (size_t i = 0; i < S_LOGIN_NAMES; i++) {
        s_fail_t *f = &w->fails[i];
        if (f->name[0] && now - f->since >= S_LOGIN_WINDOW_MS)
            memset(f, 0, sizeof *f);   /* its window is over */
        if (f->name[0] && strcmp(f->name, name) == 0)
            return f;
        if (!f->name[0] && !free_slot)
            free_slot = f;
        if (f->since < oldest->since)
            oldest = f;
    }
    if (!make)
        return NULL;
    s_fail_t *f = free_slot ? free_slot : oldest;
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    f->since = now;
    return f;
}

/* Minutes until name may try again (0: now). */
static int
s_login_wait(th_httpd_t *w, const char *name, int64_t now)
{
    if (now - w->fails_minute_at >= 60000) {
        w->fails_minute = 0;
        w->fails_minute_at = now;
    }
    if (w->fails_minute >= S_LOGIN_FAILS_ALL)
        return 1;
    const s_fail_t *f = s_fail_slot(w, name, false, now);
    if (!f || f->fails < S_LOGIN_FAILS)
        return 0;
    return (int)((f->since + S_LOGIN_WINDOW_MS - now + 59999) / 60000);
}

static int
s_login_post(th_httpd_req_t *rq, void *arg)
{
    (void)arg;
    const char *user = th_httpd_field(rq, "user"), *pw = th_httpd_field(rq, "password");
    int64_t now = th_now_ms();
    const char *name = user ? user : "";
    int wait = s_login_wait(rq->w, name, now);
    if (wait > 0) {
        th_log(TH_LOG_WARN, "web: login for '%s' refused: too many failed logins",
               user && s_user_name_ok(user) ? user : "?");
        char msg[200];
        snprintf(msg, sizeof msg, "Đăng nhập sai quá nhiều lần. Hãy thử lại sau %d phút.",
                 wait);
        return s_login_page(rq, 429, msg);
    }
    if (!th_httpd_user_check(rq->w->office, user, pw)) {
        th_log(TH_LOG_WARN, "web: failed login for '%s'", user && s_user_name_ok(user) ? user
                                                                                      : "?");
        s_fail_t *f = s_fail_slot(rq->w, name, true, now);
        f->fails++;
        rq->w->fails_minute++;
        return s_login_page(rq, 401, "Tên đăng nhập hoặc mật khẩu không đúng.");
    }
    s_fail_t *f = s_fail_slot(rq->w, name, false, now);
    if (f)
        memset(f, 0, sizeof *f);   /* the right password clears the count */
    /* a new session id at login: an id known before it is worth nothing */
    s_session_t *old = rq->session, *s = s_session_new(rq->w);
    if (old != s)
        memset(old, 0, sizeof *old);
    snprintf(s->user, sizeof s->user, "%s", user);
    rq->session = s;
    rq->new_cookie = true;
    th_log(TH_LOG_INFO, "web: %s logged in", user);
    return th_httpd_redirect(rq, s_next(th_httpd_field(rq, "next")));
}

static int
s_logout(th_httpd_req_t *rq, void *arg)
{
    (void)arg;
    if (rq->session)
        memset(rq->session, 0, sizeof *rq->session);
    rq->session = s_session_new(rq->w);
    rq->new_cookie = true;
    return th_httpd_redirect(rq, "/");
}

/* ---- dispatch --------------------------------------------------------------------------- */

static enum MHD_Result
s_post_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
             const char *content_type, const char *transfer_encoding, const char *data,
             uint64_t off, size_t size)
{
    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    th_httpd_req_t *rq = cls;
    if (filename) {   /* forms here never upload files */
        rq->bad_field = true;
        return MHD_NO;
    }
    s_field_t *fl = NULL;
    if (off > 0 && rq->nfields > 0 && strcmp(rq->fields[rq->nfields - 1].key, key) == 0)
        fl = &rq->fields[rq->nfields - 1];
    if (!fl) {
        if (rq->nfields == S_MAX_FIELDS) {
            rq->bad_field = true;
            return MHD_NO;
        }
        fl = &rq->fields[rq->nfields];
        if (!(fl->key = th_strdup(key))) {
            rq->bad_field = true;
            return MHD_NO;
        }
        rq->nfields++;
    }
    char *nv = th_realloc(fl->val, fl->len + size + 1);
    if (!nv) {
        rq->bad_field = true;
        return MHD_NO;
    }
    memcpy(nv + fl->len, data, size);
    fl->len += size;
    nv[fl->len] = '\0';
    fl->val = nv;
    return MHD_YES;
}

static void
s_req_free(th_httpd_req_t *rq)
{
    if (!rq)
        return;
    if (rq->pp)
        MHD_destroy_post_processor(rq->pp);
    for (size_t i = 0; i < rq->nfields; i++) {
        th_free(rq->fields[i].key);
        th_free(rq->fields[i].val);
    }
    if (rq->page)
        fclose(rq->page);
    free(rq->page_buf);
    th_free(rq);
}

static void
s_completed(void *cls, struct MHD_Connection *con, void **con_cls,
            enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con;
    (void)toe;
    s_req_free(*con_cls);
    *con_cls = NULL;
}

static int
s_dispatch(th_httpd_req_t *rq, const char *method)
{
    th_httpd_t *w = rq->w;
    const char *sid = MHD_lookup_connection_value(rq->con, MHD_COOKIE_KIND, "th_session");
    rq->session = s_session_find(w, sid);
    if (rq->post) {
        const char *tok = th_httpd_field(rq, "csrf");
        if (!rq->session || !tok || strlen(tok) != S_TOKEN_HEX - 1 ||
            sodium_memcmp(tok, rq->session->csrf, S_TOKEN_HEX - 1) != 0) {
            th_log(TH_LOG_WARN, "web: POST %s refused: missing or wrong CSRF token", rq->path);
            return th_httpd_fail(rq, 403, "Yêu cầu bị từ chối: phiên làm việc không hợp lệ "
                               "hoặc đã hết hạn. Hãy tải lại trang rồi thử lại.");
        }
    } else if (!rq->session && !rq->api) {
        rq->session = s_session_new(w);
        rq->new_cookie = true;
    }
    bool open = strcmp(rq->path, "/login") == 0 || strcmp(rq->path, "/style.css") == 0;
    if (w->login && !open && !th_httpd_user(rq)) {
        if (rq->api)
            return th_httpd_fail(rq, 401, "Cần đăng nhập");
        char loc[600];
        snprintf(loc, sizeof loc, "/login?next=%s", rq->post ? "/" : s_next(rq->path));
        return th_httpd_redirect(rq, loc);
    }
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
    for (size_t i = 0; i < w->nroutes; i++) {
        if (strcmp(w->routes[i].method, m) == 0 && strcmp(w->routes[i].path, rq->path) == 0) {
            int rc = w->routes[i].fn(rq, w->routes[i].arg);
            if (rc < 0) {
                th_log(TH_LOG_ERROR, "web: %s %s failed: %s", method, rq->path, th_strerror(rc));
                return th_httpd_fail(rq, 500, "Lỗi máy chủ; xem nhật ký của dịch vụ.");
            }
            if (!rq->replied)
                return th_httpd_fail(rq, 500, "Lỗi máy chủ: không có trả lời.");
            return 0;
        }
    }
    for (size_t i = 0; i < w->nroutes; i++)
        if (strcmp(w->routes[i].path, rq->path) == 0)
            return th_httpd_fail(rq, 405, "Phương thức không được hỗ trợ.");
    return th_httpd_fail(rq, 404, "Không có trang này.");
}

static enum MHD_Result
s_access(void *cls, struct MHD_Connection *con, const char *url, const char *method,
         const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    th_httpd_t *w = cls;
    th_httpd_req_t *rq = *con_cls;
    if (!rq) {
        bool post = strcmp(method, "POST") == 0;
        if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            return MHD_NO;   /* closes the connection */
        if (!(rq = th_calloc(1, sizeof *rq)))
            return MHD_NO;
        *con_cls = rq;
        rq->w = w;
        rq->con = con;
        rq->path = url;
        rq->post = post;
        rq->api = strncmp(url, "/api/", 5) == 0;
        if (post) {
            const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
                                                         MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (cl && strtoull(cl, NULL, 10) > TH_HTTPD_BODY_MAX)
                rq->too_big = true;
            else if (!(rq->pp = MHD_create_post_processor(con, 4096, s_post_field, rq)))
                rq->bad_field = true;   /* not a form encoding */
        }
        return MHD_YES;
    }
    if (*upload_size > 0) {
        rq->body += *upload_size;
        if (rq->body > TH_HTTPD_BODY_MAX)
            rq->too_big = true;
        if (!rq->too_big && !rq->bad_field && rq->pp &&
            MHD_post_process(rq->pp, upload, *upload_size) != MHD_YES)
            rq->bad_field = true;
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->replied)
        return MHD_YES;
    int rc;
    if (rq->too_big)
        rc = th_httpd_fail(rq, 413, "Dữ liệu gửi lên quá lớn.");
    else if (rq->post && rq->bad_field)
        rc = th_httpd_fail(rq, 400, "Dữ liệu gửi lên không đúng dạng biểu mẫu.");
    else
        rc = s_dispatch(rq, method);
    return rc == 0 ? MHD_YES : MHD_NO;
}

/* ---- the loop -------------------------------------------------------------------------- */

static void s_run(th_httpd_t *w);

static void
s_on_timer(uv_timer_t *t)
{
    s_run(t->data);
}

static void
s_on_poll(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    s_run(p->data);
}

/* Lets libmicrohttpd do what is ready, then arms the timer for what it
   waits on next (0 when it has buffered work: edge-triggered epoll will
   not tell us again). */
static void
s_run(th_httpd_t *w)
{
    if (!w->mhd)
        return;
    MHD_run(w->mhd);
    MHD_UNSIGNED_LONG_LONG ms = 0;
    uint64_t wait = MHD_get_timeout(w->mhd, &ms) == MHD_YES ? (uint64_t)ms : 1000;
    if (wait > 1000)
        wait = 1000;
    uv_timer_start(&w->timer, s_on_timer, wait, 0);
}

/* libmicrohttpd's logger: fmt is its own format string */
static void __attribute__((format(printf, 2, 0)))
s_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[256];
    vsnprintf(buf, sizeof buf, fmt, ap);
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    th_log(TH_LOG_WARN, "web: %s", buf);
}

static int
s_start(void *self, th_daemon_t *d)
{
    th_httpd_t *w = self;
    static const th_httpd_route_t builtin[] = {
        { "GET", "/style.css", s_style },
        { "GET", "/login", s_login_get },
        { "POST", "/login", s_login_post },
        { "POST", "/logout", s_logout },
    };
    int rc = th_httpd_routes(w, builtin, sizeof builtin / sizeof *builtin, NULL);
    if (rc < 0)
        return rc;
    w->mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_USE_ERROR_LOG, ntohs(w->addr.sin_port), NULL, NULL, s_access, w,
        MHD_OPTION_EXTERNAL_LOGGER, s_log, w,   /* first, or MHD warns */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&w->addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)64,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, w,
        MHD_OPTION_END);
    if (!w->mhd) {
        /* the reports must still flow: sync goes on without the pages */
        th_log(TH_LOG_ERROR, "web: cannot listen on %s (address in use, or not an address "
               "of this machine?); the web interface is OFF, sync goes on. Set [web] listen "
               "in tonghop.ini and restart", w->office->cfg.web_listen);
        return 0;
    }
    const union MHD_DaemonInfo *ep = MHD_get_daemon_info(w->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    const union MHD_DaemonInfo *pi = MHD_get_daemon_info(w->mhd, MHD_DAEMON_INFO_BIND_PORT);
    w->port = pi ? pi->port : ntohs(w->addr.sin_port);
    uv_loop_t *loop = th_daemon_loop(d);
    if (!ep || uv_poll_init(loop, &w->poll, ep->epoll_fd) < 0) {
        th_log(TH_LOG_ERROR, "web: cannot watch the HTTP server; the web interface is OFF");
        MHD_stop_daemon(w->mhd);
        w->mhd = NULL;
        return 0;
    }
    uv_timer_init(loop, &w->timer);
    w->poll.data = w->timer.data = w;
    w->handles = true;
    uv_poll_start(&w->poll, UV_READABLE, s_on_poll);
    s_run(w);
    char host[TH_ENDPOINT_MAX];
    inet_ntop(AF_INET, &w->addr.sin_addr, host, sizeof host);
    char url[TH_ENDPOINT_MAX + 32];
    snprintf(url, sizeof url, "http://%s:%u/", host, w->port);
    if ((rc = th_daemon_publish(d, "web", url)) < 0)
        return rc;
    th_log(TH_LOG_INFO, "web: listening on %s%s", url, w->login ? " (login required)" : "");
    return 0;
}

static void
s_stop(void *self)
{
    th_httpd_t *w = self;
    if (w->handles) {
        uv_poll_stop(&w->poll);
        uv_close((uv_handle_t *)&w->poll, NULL);
        uv_timer_stop(&w->timer);
        uv_close((uv_handle_t *)&w->timer, NULL);
        w->handles = false;
    }
}

int
th_httpd_add_connection(th_httpd_t *w, int fd)
{
    if (!w->mhd) {
        close(fd);
        return TH_E_USAGE;
    }
    struct sockaddr_in from = { .sin_family = AF_INET,
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    /* libmicrohttpd closes fd itself when it refuses it */
    if (MHD_add_connection(w->mhd, fd, (struct sockaddr *)&from, sizeof from) != MHD_YES)
        return -EIO;
    s_run(w);
    return 0;
}

unsigned
th_httpd_connections(const th_httpd_t *w)
{
    if (!w->mhd)
        return 0;
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(w->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return i ? i->num_connections : 0;
}

th_service_t
th_httpd_service(th_httpd_t *w)
{
    th_service_t s = { .name = "web", .start = s_start, .stop = s_stop, .self = w };
    return s;
}

void
th_httpd_destroy(th_httpd_t **pp)
{
    if (!pp || !*pp)
        return;
    th_httpd_t *w = *pp;
    if (w->mhd)
        MHD_stop_daemon(w->mhd);
    if (w->destroy_fn)
        w->destroy_fn(w->destroy_arg);
    th_free(w);
    *pp = NULL;
}
