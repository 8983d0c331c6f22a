/*  libFuzzer target: the web interface as a browser (or an attacker) meets
    it. Each input is one raw HTTP/1.1 request, written into a connected
    socket that the real server (libmicrohttpd on the daemon's libuv loop,
    pages of a commune node: report entry, drafts, history, status; pages
    of a province hub: dashboard, drill-down, return, exports) serves;
    query strings, form bodies and cookies are parsed by the same code as
    in production. A request whose first line names /hub, /export or
    /api/rollup|completeness goes to province 80, any other to commune
    25459 (2025 tree), each with its own server, loop and store.

    To reach the handlers behind the CSRF check, the literal strings
    @SESSION@ and @CSRF@ in an input are replaced by a live session id and
    its token, taken once from each server's own entry page at start (the
    offices listen on loopback, so no login is asked). Writes the
    handlers make (a submitted report, a return) are really stored; the
    store lives in a temporary directory removed at exit. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto.h"
#include "daemon.h"
#include "log.h"
#include "mem.h"
#include "office.h"
#include "httpd.h"
#include "webhub.h"
#include "webnode.h"
#include "fuzz_office.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    th_office_t *office;
    th_daemon_t *d;
    th_httpd_t *web;
    th_service_t svc;
    char session[128], csrf[128];
} s_server_t;

static s_server_t s_commune, s_province;

/* Serves request req (len bytes) on a fresh connection and collects at most
   cap-1 bytes of the answer into out (NUL-terminated); returns its length. */
static size_t
s_exchange(s_server_t *sv_, const uint8_t *req, size_t len, char *out, size_t cap)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        return 0;
    size_t got = 0, sent = 0;
    if (th_httpd_add_connection(sv_->web, sv[1]) != 0) {
        close(sv[0]);
        return 0;
    }
    uv_loop_t *loop = th_daemon_loop(sv_->d);
    int idle = 0;
    /* bounded: an incomplete request would wait for the 30 s timeout */
    for (int turn = 0; turn < 400 && idle < 20; turn++) {
        if (sent < len) {
            ssize_t n = write(sv[0], req + sent, len - sent);
            if (n > 0)
                sent += (size_t)n;
        }
        uv_run(loop, UV_RUN_NOWAIT);
        struct pollfd p = { .fd = sv[0], .events = POLLIN };
        if (poll(&p, 1, 1) <= 0) {
            idle++;
            continue;
        }
        char buf[4096];
        ssize_t n = read(sv[0], buf, sizeof buf);
        if (n == 0)
            break;   /* the server closed: the answer is complete */
        if (n < 0) {
            if (errno == EAGAIN)
                continue;
            break;
        }
        idle = 0;
        if (out && got + 1 < cap) {
            size_t k = (size_t)n < cap - 1 - got ? (size_t)n : cap - 1 - got;
            memcpy(out + got, buf, k);
            got += k;
        }
    }
    close(sv[0]);
    /* let the server notice the close and free the connection */
    for (int turn = 0; turn < 200 && th_httpd_connections(sv_->web) > 0; turn++) {
        uv_run(loop, UV_RUN_NOWAIT);
        struct pollfd p = { .fd = -1 };
        poll(&p, 0, 1);
    }
    if (out)
        out[got] = '\0';
    return got;
}

/* Copies the text after needle up to one of the stop characters. */
static void
s_grab(const char *text, const char *needle, const char *stop, char *dst, size_t cap)
{
    const char *p = strstr(text, needle);
    dst[0] = '\0';
    if (!p)
        return;
    p += strlen(needle);
    size_t n = strcspn(p, stop);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, p, n);
    dst[n] = '\0';
}

static void
s_stop(s_server_t *x)
{
    if (x->svc.stop)
        x->svc.stop(x->svc.self);
    th_httpd_destroy(&x->web);
    th_daemon_destroy(&x->d);
    th_office_destroy(&x->office);
}

static void
s_cleanup(void)
{
    s_stop(&s_commune);
    s_stop(&s_province);
}

/* An office of unit with its web server started and a session opened. */
static void
s_start(s_server_t *x, const char *name, const char *unit, const char *bind, bool hub)
{
    int rc;
    x->office = fuzz_office("http", name, unit, bind, NULL, NULL);
    snprintf(x->office->cfg.web_listen, sizeof x->office->cfg.web_listen, "127.0.0.1:0");
    /* (opening raised it to the configured level) libmicrohttpd warns that
       TCP_CORK does not apply to a socketpair, on every answer */
    th_log_level = TH_LOG_ERROR;
    if (!(x->d = th_daemon_new(x->office, &rc)) || !(x->web = th_httpd_new(x->office, &rc)) ||
        th_webnode_add(x->web) < 0 || (hub && th_webhub_add(x->web) < 0))
        abort();
    x->svc = th_httpd_service(x->web);
    if (x->svc.start(x->svc.self, x->d) != 0 || th_httpd_port(x->web) == 0)
        abort();
    static const char get[] = "GET /report?form=dvcq-nam&period=2026 HTTP/1.1\r\n"
                              "Host: 127.0.0.1\r\nConnection: close\r\n\r\n";
    static char page[256 * 1024];
    s_exchange(x, (const uint8_t *)get, sizeof get - 1, page, sizeof page);
    s_grab(page, "th_session=", ";\r\n", x->session, sizeof x->session);
    s_grab(page, "name=\"csrf\" value=\"", "\"", x->csrf, sizeof x->csrf);
    if (!x->session[0] || !x->csrf[0]) {
        fprintf(stderr, "fuzz_http: %s: no session or CSRF token from the entry page:\n%.2000s\n",
                name, page);
        abort();
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    s_start(&s_commune, "c25459", "25459", NULL, false);
    s_start(&s_province, "p80", "80", "tcp://127.0.0.1:*", true);
    atexit(s_cleanup);
    return 0;
}

/* data with every @SESSION@ and @CSRF@ replaced by the live values, then
   every @LEN@ by the length of the body (what follows the first blank
   line), so that a seed's Content-Length stays right; *len updated. A
   number the fuzzer writes in Content-Length is left as it is. */
static uint8_t *
s_substitute(const s_server_t *x, const uint8_t *data, size_t size, size_t *len)
{
    uint8_t *out = th_malloc(size * 22 + 1);   /* a token of < 128 bytes for 6 */
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < size;) {
        if (size - i >= 9 && memcmp(data + i, "@SESSION@", 9) == 0) {
            memcpy(out + o, x->session, strlen(x->session));
            o += strlen(x->session);
            i += 9;
        } else if (size - i >= 6 && memcmp(data + i, "@CSRF@", 6) == 0) {
            memcpy(out + o, x->csrf, strlen(x->csrf));
            o += strlen(x->csrf);
            i += 6;
        } else {
            out[o++] = data[i++];
        }
    }
    const uint8_t *blank = memmem(out, o, "\r\n\r\n", 4);
    uint8_t *l = blank ? memmem(out, (size_t)(blank - out), "@LEN@", 5) : NULL;
    if (l) {
        char num[8];
        size_t body = o - (size_t)(blank + 4 - out);
        int n = snprintf(num, sizeof num, "%5zu", body > 99999 ? (size_t)99999 : body);
        memcpy(l, num, (size_t)n);   /* right-aligned in the 5 bytes */
    }
    *len = o;
    return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t line = 0;
    while (line < size && data[line] != '\n')
        line++;
    s_server_t *x = &s_commune;
    static const char *hub_paths[] = { "/hub", "/export", "/api/rollup", "/api/completeness" };
    for (size_t i = 0; i < sizeof hub_paths / sizeof *hub_paths; i++)
        if (memmem(data, line, hub_paths[i], strlen(hub_paths[i])))
            x = &s_province;
    size_t len;
    uint8_t *req = s_substitute(x, data, size, &len);
    if (!req)
        return 0;
    /* FUZZ_HTTP_SHOW=1: print each answer's status line (to check seeds) */
    static char head[512];
    bool show = getenv("FUZZ_HTTP_SHOW") != NULL;
    s_exchange(x, req, len, show ? head : NULL, show ? sizeof head : 0);
    if (show)
        fprintf(stderr, "fuzz_http: %s -> %.*s\n", x == &s_province ? "province" : "commune",
                (int)strcspn(head, "\r\n"), head);
    th_free(req);
    return 0;
}
