/*  httpd: the generic HTTP server both daemons use (libmicrohttpd on the
    libuv loop): sessions, CSRF tokens, logins, routing, page scaffolding.
    It has no pages of its own beyond /login, /logout and /style.css: the
    node's pages are in webnode.c, the hub's in webhub.c.

    The server runs without threads of its own: libmicrohttpd is started
    with MHD_USE_EPOLL and its epoll descriptor is watched by a uv_poll on
    the daemon's loop, with a uv_timer for its timeouts, so every handler
    runs on the loop thread, like the uplink and the collector, and may use
    the office's store directly (convention 8; no locking). A handler that
    stores a report calls th_httpd_saved(), which wakes the uplink at once.

    Pages are server-rendered HTML that work without JavaScript, with one
    small stylesheet at /style.css, all compiled in; a Content-Security-
    Policy forbids scripts altogether. The same data is under /api/ as JSON.

    Security: listening on a loopback address (127.0.0.0/8, "localhost";
    IPv4 only), no login is asked unless [web] login = required; on any
    other address a login is always required. Users are kept in the store
    (th_httpd_user_add, argon2id via libsodium's crypto_pwhash_str). Sessions
    live in memory (256 at most, 8 hours idle), in a cookie th_session
    with HttpOnly and SameSite=Strict; every POST must carry the session's
    CSRF token in the field "csrf" (403 otherwise); requests are limited
    (256 connections, 64 per address, 256 KiB of body, 30 s idle, form
    fields only). Every value written into HTML goes through th_html_put
    (present.h). */
#ifndef TH_HTTPD_H
#define TH_HTTPD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "daemon.h"
#include "office.h"

#define TH_HTTPD_BODY_MAX (256 * 1024)   /* bytes of a request body */
#define TH_HTTPD_USER_MAX 64             /* bytes of a user name, incl. NUL */

typedef struct th_web th_httpd_t;
typedef struct th_httpd_req th_httpd_req_t;

/* A page or endpoint: replies through the th_httpd_send* functions below and
   returns 0; a negative return sends a 500 page (the error is logged). */
typedef int (*th_httpd_fn)(th_httpd_req_t *rq, void *arg);

/* True when a server listening on `listen` ("IP:PORT") must ask for a
   login: always beyond loopback; on loopback only when mode is
   "required". Pure. */
bool th_httpd_login_needed(const char *listen, const char *mode);

/* The web users are the keys "user|<name>" of the store's meta table. */
#define TH_HTTPD_USER_PREFIX "user|"

/* A server for o (borrowed; must outlive it) on o->cfg.web_listen. Nothing
   listens until the service starts. NULL with *err = TH_E_CONFIG (listen
   address not IPv4 "A.B.C.D:PORT" or "localhost:PORT") or -ENOMEM. */
th_httpd_t *th_httpd_new(th_office_t *o, int *err);

/* Stops listening if started; frees w; NULLs *w; safe with NULL / twice. */
void th_httpd_destroy(th_httpd_t **w);

/* Adds a route: method "GET" (also serves HEAD) or "POST", exact path
   ("/report"). At most 48 routes; returns 0 or TH_E_LIMIT. A later route
   for the same method and path replaces the earlier one. */
int th_httpd_route(th_httpd_t *w, const char *method, const char *path, th_httpd_fn fn, void *arg);

/* Adds n routes at once, each called with arg, stopping at the first error. */
typedef struct {
    const char *method, *path;
    th_httpd_fn fn;
} th_httpd_route_t;
int th_httpd_routes(th_httpd_t *w, const th_httpd_route_t *routes, size_t n, void *arg);

/* Adds a link to the navigation bar of every page (copied; at most 8). */
int th_httpd_nav(th_httpd_t *w, const char *href, const char *label);

/* fn(arg) is called by th_httpd_destroy, before w goes: what a set of pages
   keeps (their arg) lives as long as the server. At most one. */
void th_httpd_on_destroy(th_httpd_t *w, void (*fn)(void *arg), void *arg);

/* fn(arg) is called (on the loop thread) after a handler stored a report. */
void th_httpd_on_saved(th_httpd_t *w, void (*fn)(void *arg), void *arg);

/* The daemon service: listens on start, closes on stop. Port 0 in the
   listen address takes a free port (logged). When the address cannot be
   listened on (taken, not local), the error is logged and the daemon runs
   on without its web interface: reports must flow whatever the pages do. */
th_service_t th_httpd_service(th_httpd_t *w);

/* The port actually listened on (after start), 0 before. */
unsigned th_httpd_port(const th_httpd_t *w);

/* Serves a stream socket that is already connected (socket activation, or
   a test or fuzzer holding the other end), as if it came from 127.0.0.1;
   the server owns fd from then on, also on failure. The service must have
   started. Returns 0, TH_E_USAGE (not started) or -EIO (libmicrohttpd
   refused it: connection limit, out of memory). */
int th_httpd_add_connection(th_httpd_t *w, int fd);

/* Connections the server holds now (0 before start). */
unsigned th_httpd_connections(const th_httpd_t *w);

/* ---- users (argon2id hashes in the store) --------------------------------- */

/* Adds or replaces user name (1..63 bytes of [A-Za-z0-9._@-]) with a
   password of 8..1024 bytes. Returns 0, TH_E_INVALID (bad name or
   password length), -ENOMEM (hashing needs 64 MiB), store errors. */
int th_httpd_user_add(th_office_t *o, const char *name, const char *password);

/* True when name exists and password is its password. */
bool th_httpd_user_check(th_office_t *o, const char *name, const char *password);

/* ---- inside a handler ------------------------------------------------------------ */

th_office_t *th_httpd_office(th_httpd_req_t *rq);
/* Query-string argument or NULL. Borrowed until the reply is sent. */
const char *th_httpd_arg(th_httpd_req_t *rq, const char *name);
/* Posted form field or NULL. Borrowed until the handler returns. */
const char *th_httpd_field(th_httpd_req_t *rq, const char *name);
/* The logged-in user, or NULL. */
const char *th_httpd_user(th_httpd_req_t *rq);
/* Writes the hidden CSRF field every form must carry. */
void th_httpd_csrf_field(th_httpd_req_t *rq, FILE *f);
/* Tells the daemon that a report was stored (wakes the uplink). */
void th_httpd_saved(th_httpd_req_t *rq);

/* Starts an HTML page (header, navigation, <h1>title</h1>) and returns
   the stream to write the body to (escape values with th_html_put), or
   NULL on allocation failure. Finish with th_httpd_page_send. */
FILE *th_httpd_page(th_httpd_req_t *rq, const char *title);
/* Closes the page begun by th_httpd_page and sends it with status. */
int th_httpd_page_send(th_httpd_req_t *rq, unsigned status);

/* Sends data[0..len) (copied) with the content type; filename non-NULL
   makes it a download (Content-Disposition: attachment). csp non-NULL
   replaces the default Content-Security-Policy. */
int th_httpd_send(th_httpd_req_t *rq, unsigned status, const char *ctype, const void *data,
                size_t len, const char *filename, const char *csp);
/* Sends j (reference taken; NULL = 500) as application/json. */
int th_httpd_send_json(th_httpd_req_t *rq, unsigned status, json_t *j);
/* 303 See Other to location (a path on this server). */
int th_httpd_redirect(th_httpd_req_t *rq, const char *location);
/* An error: a page with the Vietnamese message, or {"error": msg} under
   /api/. */
int th_httpd_fail(th_httpd_req_t *rq, unsigned status, const char *msg);

#endif
