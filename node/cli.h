/*  cli: the subcommands of tonghop-node and tonghop-hub (DESIGN §2).

    git-style: `tonghop-node <command> [options]`. Exit codes: 0 success,
    1 failure (message "tonghop: error: ..." on stderr), 2 usage error,
    3 report rejected by the form's checks (each problem listed). */
#ifndef TH_CLI_H
#define TH_CLI_H

typedef enum { TH_CLI_NODE = 1, TH_CLI_HUB = 2 } th_cli_kind_t;

enum { TH_EXIT_OK = 0, TH_EXIT_FAIL = 1, TH_EXIT_USAGE = 2, TH_EXIT_REJECTED = 3 };

#include <jansson.h>
#include <stdint.h>

#include "office.h"

/* Every option any command takes; a command lists those it accepts. */
typedef struct {
    const char *dir, *unit, *parent, *parent_key, *bind, *units, *forms_dir;
    const char *form, *period, *values, *author, *note, *key, *reason, *as_of;
    const char *format, *out, *name;
    const char *code, *level, *for_unit, *document;
    const char *compare;    /* rollup, export: the period to put beside --period */
    int draft, history, json, help;
} th_cli_opts_t;

typedef struct {
    const char *name;
    int (*fn)(th_cli_opts_t *o, int argc, char **argv);   /* returns an exit code */
    const char *allowed;    /* space-separated long options this command takes */
    const char *required;   /* synopsis; options outside [] are required */
    const char *summary;
    const char *usage;      /* options, an example, for --help */
} th_cli_cmd_t;

/* Runs the command named by argv[1]; extra commands (the hub's) are looked
   up first, so they may replace an office command of the same name. */
int th_cli_main(int argc, char **argv, th_cli_kind_t kind, const th_cli_cmd_t *extra,
                size_t nextra);

/* Prints "tonghop: error: <msg>" on stderr and returns code. */
int th_cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The submit command; the hub's own (with --for, --document) calls it too. */
int th_cli_submit(th_cli_opts_t *o, int argc, char **argv);

/* The data directory when --dir is not given: $TONGHOP_DIR, else
   TH_CLI_SERVICE_DIR when run as the service user TH_CLI_SERVICE_USER (the
   Debian package's), else NULL (then --dir is required). */
#define TH_CLI_SERVICE_USER "tonghop"
#define TH_CLI_SERVICE_DIR "/var/lib/tonghop"
const char *th_cli_default_dir(void);

/* Opens the office or prints why not (*code set to the exit code). */
th_office_t *th_cli_open(const char *dir, int *code);
struct th_daemon;
struct th_uplink;
struct th_web;
/* The run command: opens the office, adds the uplink when it has a parent,
   the web interface with the office pages, and whatever add_services adds
   (the hub's collector, which wakes the uplink `up`, NULL at a root, when
   children's entries arrive, and the hub's pages on `web`; it sets *state
   to what free_services must free), runs until SIGTERM. */
int th_cli_run(th_cli_opts_t *o, int argc, char **argv,
               int (*add_services)(struct th_daemon *d, th_office_t *off,
                                   struct th_uplink *up, struct th_web *web, void **state),
               void (*free_services)(void **state));

/* A command that computes a report and prints it as a table, CSV or JSON
   (the hub's rollup and completeness): the driver checks --format and
   --as-of, opens the office, calls compute and the printer asked for, and
   turns every failure into the one error line. res is the module's result. */
typedef struct {
    const char *name;
    int (*compute)(th_office_t *o, const th_cli_opts_t *opt, int64_t as_of, void **res,
                   char *err, size_t cap);
    json_t *(*json)(const void *res);
    void (*csv)(const void *res, const th_form_t *f);
    int (*table)(const void *res, const th_form_t *f);
    void (*destroy)(void **res);
} th_cli_report_t;
/* For the commands that read the store as of a time (rollup, completeness,
   export): *as_of from o->as_of (INT64_MAX, now, when not given; else the
   instant it names, th_time_parse_iso_end), then the office of o->dir.
   Returns the office with *code TH_EXIT_OK, or NULL with *code set after
   printing why (an invalid --as-of of command cmd: TH_EXIT_USAGE). */
th_office_t *th_cli_open_as_of(const char *cmd, const th_cli_opts_t *o, int64_t *as_of,
                               int *code);

int th_cli_report(const th_cli_report_t *rep, th_cli_opts_t *o, int argc, char **argv);

/* Prints j (taking the reference) as indented JSON. Returns an exit code. */
int th_cli_print_json(json_t *j);

#endif
