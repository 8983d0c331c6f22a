/*  config: tonghop.ini parsing with file:line errors, and atomic writing. */
#include "config.h"
#include "codec.h"
#include "err.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
th_config_defaults(th_config_t *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->web_listen, sizeof c->web_listen, "127.0.0.1:8080");
    snprintf(c->web_login, sizeof c->web_login, "auto");
    c->log_level = TH_LOG_WARN;
    c->heartbeat_ms = 5000;
    c->timeout_ms = 15000;
    c->retry_max_ms = 60000;
    c->poll_ms = 1000;
    c->limit_msgs_per_s = 200;
    c->limit_kib_per_s = 16384;
    c->limit_store_mb = 1024;
}


/* libinih's global options are left as Debian builds them (other modules
   parse INI too); the reader below counts lines so that the handler knows
   where it is. */
typedef struct {
    th_config_t *c;
    FILE *f;
    int line;         /* line being parsed */
    int err_line;     /* line of the first handler error, 0 if none */
    char msg[256];    /* first handler error, without file:line */
} s_ctx_t;

static char *
s_reader(char *str, int num, void *stream)
{
    s_ctx_t *x = stream;
    char *r = fgets(str, num, x->f);
    if (r)
        x->line++;
    return r;
}

/* A whole number of `what` (e.g. "milliseconds") within [lo, hi]; 0 or an
   error message in x. */
static int
s_num(s_ctx_t *x, const char *name, const char *value, const char *what, int lo, int hi,
      int *out)
{
    char *end;
    long v = strtol(value, &end, 10);
    if (end == value || *end || v < lo || v > hi) {
        snprintf(x->msg, sizeof x->msg, "%s must be a whole number of %s from %d to %d", name,
                 what, lo, hi);
        return 0;
    }
    *out = (int)v;
    return 1;
}

static int
s_ms(s_ctx_t *x, const char *name, const char *value, int lo, int hi, int *out)
{
    return s_num(x, name, value, "milliseconds", lo, hi, out);
}

static int s_handle(s_ctx_t *x, const char *section, const char *name,
                    const char *value);

static int
s_handler(void *user, const char *section, const char *name, const char *value)
{
    s_ctx_t *x = user;
    char first[sizeof x->msg];
    memcpy(first, x->msg, sizeof first);
    int ok = s_handle(x, section, name, value);
    if (!ok) {
        if (x->err_line)
            memcpy(x->msg, first, sizeof first);   /* the first error is reported */
        else
            x->err_line = x->line;
    }
    return ok;
}

static int
s_copy(s_ctx_t *x, char *dst, size_t cap, const char *value, const char *what)
{
    if (strlen(value) >= cap) {
        snprintf(x->msg, sizeof x->msg, "%s is too long (at most %zu bytes)",
                 what, cap - 1);
        return 0;
    }
    strcpy(dst, value);
    return 1;
}

static int
s_handle(s_ctx_t *x, const char *section, const char *name, const char *value)
{
    th_config_t *c = x->c;
    if (strcmp(section, "office") == 0 && strcmp(name, "unit") == 0) {
        if (!th_valid_unit_code(value)) {
            snprintf(x->msg, sizeof x->msg,
                     "invalid unit code '%s' (letters, digits, '_' or '-')", value);
            return 0;
        }
        return s_copy(x, c->unit, sizeof c->unit, value, "unit");
    }
    if (strcmp(section, "parent") == 0 && strcmp(name, "endpoint") == 0)
        return s_copy(x, c->parent_endpoint, sizeof c->parent_endpoint, value,
                      "parent endpoint");
    if (strcmp(section, "parent") == 0 && strcmp(name, "key") == 0) {
        uint8_t k[32];
        if (th_z85_decode_key(value, k) < 0) {
            snprintf(x->msg, sizeof x->msg,
                     "parent key must be 40 Z85 characters (as printed by "
                     "'tonghop-hub key' at the parent)");
            return 0;
        }
        return s_copy(x, c->parent_key, sizeof c->parent_key, value, "parent key");
    }
    if (strcmp(section, "hub") == 0 && strcmp(name, "approve") == 0) {
        if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0) {
            snprintf(x->msg, sizeof x->msg, "hub approve must be yes or no, not '%s'", value);
            return 0;
        }
        c->approve = strcmp(value, "yes") == 0;
        return 1;
    }
    if (strcmp(section, "hub") == 0 && strcmp(name, "bind") == 0)
        return s_copy(x, c->bind, sizeof c->bind, value, "bind endpoint");
    if (strcmp(section, "web") == 0 && strcmp(name, "listen") == 0)
        return s_copy(x, c->web_listen, sizeof c->web_listen, value, "web listen");
    if (strcmp(section, "web") == 0 && strcmp(name, "login") == 0) {
        if (strcmp(value, "auto") != 0 && strcmp(value, "required") != 0) {
            snprintf(x->msg, sizeof x->msg, "web login must be auto or required, not '%s'",
                     value);
            return 0;
        }
        return s_copy(x, c->web_login, sizeof c->web_login, value, "web login");
    }
    if (strcmp(section, "log") == 0 && strcmp(name, "level") == 0) {
        th_log_level_t lvl;
        if (th_log_parse_level(value, &lvl) < 0) {
            snprintf(x->msg, sizeof x->msg,
                     "log level '%s' is not one of error, warn, info, debug", value);
            return 0;
        }
        c->log_level = (int)lvl;
        return 1;
    }
    if (strcmp(section, "sync") == 0) {
        if (strcmp(name, "heartbeat_ms") == 0)
            return s_ms(x, name, value, 50, 600000, &c->heartbeat_ms);
        if (strcmp(name, "timeout_ms") == 0)
            return s_ms(x, name, value, 100, 3600000, &c->timeout_ms);
        if (strcmp(name, "retry_max_ms") == 0)
            return s_ms(x, name, value, 100, 3600000, &c->retry_max_ms);
        if (strcmp(name, "poll_ms") == 0)
            return s_ms(x, name, value, 10, 600000, &c->poll_ms);
    }
    if (strcmp(section, "limits") == 0) {
        if (strcmp(name, "child_msgs_per_s") == 0)
            return s_num(x, name, value, "messages a second", 1, 1000000, &c->limit_msgs_per_s);
        if (strcmp(name, "child_kib_per_s") == 0)
            return s_num(x, name, value, "KiB a second", 1, 4194304, &c->limit_kib_per_s);
        if (strcmp(name, "child_store_mb") == 0)
            return s_num(x, name, value, "MB", 1, 16777216, &c->limit_store_mb);
    }
    if (strcmp(section, "report") == 0) {
        static const struct { const char *key; size_t off; } keys[] = {
            { "superior", offsetof(th_config_t, report_superior) },
            { "issuer", offsetof(th_config_t, report_issuer) },
            { "place", offsetof(th_config_t, report_place) },
            { "signer", offsetof(th_config_t, report_signer) },
        };
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
            if (strcmp(name, keys[i].key) != 0)
                continue;
            if (!th_codec_utf8_valid((const uint8_t *)value, strlen(value))) {
                snprintf(x->msg, sizeof x->msg, "report %s is not valid UTF-8 (save the "
                         "file as UTF-8)", name);
                return 0;
            }
            return s_copy(x, (char *)c + keys[i].off, TH_REPORT_TEXT_MAX, value, name);
        }
    }
    snprintf(x->msg, sizeof x->msg, "unknown key '%s' in section [%s]", name,
             section);
    return 0;
}

int
th_config_load(const char *path, th_config_t *c, char *errbuf, size_t cap)
{
    th_config_defaults(c);
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = -errno;
        snprintf(errbuf, cap, "%s: %s", path, strerror(-e));
        return e;
    }
    s_ctx_t x = { .c = c, .f = f };
    int line = ini_parse_stream(s_reader, &x, s_handler, &x);
    fclose(f);
    if (line != 0) {
        if (line > 0)
            snprintf(errbuf, cap, "%s:%d: %s", path, line,
                     line == x.err_line && x.msg[0]
                         ? x.msg : "syntax error (expected [section] or key = value)");
        else
            snprintf(errbuf, cap, "%s: cannot parse (%s)", path,
                     line == -2 ? "out of memory" : "read error");
        return TH_E_CONFIG;
    }
    return th_config_check(c, path, errbuf, cap);
}

/* "tcp://HOST:PORT"; with any_port, PORT may be "*" (the kernel picks one,
   the daemon publishes it: runfile.h) */
static int
s_endpoint_ok(const char *ep, int any_port)
{
    const char *colon = strrchr(ep, ':');
    if (strncmp(ep, "tcp://", 6) != 0 || !colon || colon < ep + 7)
        return 0;
    if (any_port && strcmp(colon + 1, "*") == 0)
        return 1;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    return *end == '\0' && port >= 0 && port <= 65535 && end != colon + 1;
}

int
th_config_check(const th_config_t *c, const char *path, char *errbuf, size_t cap)
{
    if (!c->unit[0]) {
        snprintf(errbuf, cap, "%s: [office] unit is missing", path);
        return TH_E_CONFIG;
    }
    if (!c->parent_endpoint[0] != !c->parent_key[0]) {
        snprintf(errbuf, cap, "%s: [parent] needs both endpoint and key", path);
        return TH_E_CONFIG;
    }
    if (c->parent_endpoint[0] && !s_endpoint_ok(c->parent_endpoint, 0)) {
        snprintf(errbuf, cap, "%s: [parent] endpoint '%s' is not tcp://HOST:PORT",
                 path, c->parent_endpoint);
        return TH_E_CONFIG;
    }
    if (c->bind[0] && !s_endpoint_ok(c->bind, 1)) {
        snprintf(errbuf, cap, "%s: [hub] bind '%s' is not tcp://IP:PORT (PORT may be *: any free port)", path,
                 c->bind);
        return TH_E_CONFIG;
    }
    return 0;
}

int
th_config_write(const char *path, const th_config_t *c)
{
    static const char *levels[] = { "error", "warn", "info", "debug" };
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = -errno;
        close(fd);
        unlink(tmp);
        return e;
    }
    fprintf(f, "; tonghop configuration of this office (written by init).\n"
               "; Edit with care: unknown keys are errors. See docs/operations.md.\n\n"
               "[office]\n; this office's administrative unit code\nunit = %s\n\n",
            c->unit);
    if (c->parent_endpoint[0])
        fprintf(f, "[parent]\n; where reports are sent, and the parent's public key\n"
                   "endpoint = %s\nkey = %s\n\n",
                c->parent_endpoint, c->parent_key);
    else if (c->bind[0])
        fprintf(f, "; no [parent]: this office is the root of its tree\n\n");
    else
        fprintf(f, "; no [parent] yet: reports stay in this office until one is set\n"
                   "; ([parent] endpoint = tcp://HOST:PORT and key = the parent's key)\n\n");
    if (c->bind[0])
        fprintf(f, "[hub]\n; where child offices connect\nbind = %s\n"
                   "; yes: a child's report counts here and goes up only once approved\n"
                   "; (tonghop-hub approve; trả lại with return)\napprove = %s\n\n"
                   "[limits]\n; what one child office (with all below it) may cost this hub:\n"
                   "; messages and KiB a second, and MB stored here for it\n"
                   "child_msgs_per_s = %d\nchild_kib_per_s = %d\nchild_store_mb = %d\n\n",
                c->bind, c->approve ? "yes" : "no", c->limit_msgs_per_s, c->limit_kib_per_s,
                c->limit_store_mb);
    fprintf(f, "[web]\n; the web interface; beyond 127.0.0.1 a login is always required,\n"
               "; login = required asks for it on 127.0.0.1 too (users: 'user add')\n"
               "listen = %s\nlogin = %s\n\n[log]\n; error, warn, info or debug\nlevel = %s\n",
            c->web_listen, c->web_login,
            levels[c->log_level >= 0 && c->log_level <= 3 ? c->log_level : 1]);
    fprintf(f, "\n[sync]\n; link timing in milliseconds\nheartbeat_ms = %d\ntimeout_ms = %d\n"
               "retry_max_ms = %d\npoll_ms = %d\n",
            c->heartbeat_ms, c->timeout_ms, c->retry_max_ms, c->poll_ms);
    fprintf(f, "\n[report]\n; header of exported reports; empty = from the unit's name\n"
               "; e.g. superior = UBND TỈNH TÂY NINH, issuer = SỞ NỘI VỤ,\n"
               "; place = Tây Ninh, signer = GIÁM ĐỐC\n"
               "superior = %s\nissuer = %s\nplace = %s\nsigner = %s\n",
            c->report_superior, c->report_issuer, c->report_place, c->report_signer);
    int rc = 0;
    if (fflush(f) != 0 || fsync(fd) != 0)
        rc = -errno;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    return rc;
}
