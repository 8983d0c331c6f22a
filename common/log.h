/*  log: one logging macro for the daemons and CLIs, English, to stderr.

    th_log(TH_LOG_INFO, "fmt", ...) formats only when the level is enabled.
    Lines look like: 2026-11-23T08:00:00Z INFO store: opened '/var/lib/x'
    Thread-safe (one fprintf per line). */
#ifndef TH_LOG_H
#define TH_LOG_H

typedef enum {
    TH_LOG_ERROR = 0,
    TH_LOG_WARN = 1,
    TH_LOG_INFO = 2,
    TH_LOG_DEBUG = 3
} th_log_level_t;

extern int th_log_level;   /* default TH_LOG_WARN for CLIs */

#define th_log(lvl, ...)                                                     \
    do {                                                                     \
        if ((int)(lvl) <= th_log_level)                                      \
            th_log_write((lvl), __VA_ARGS__);                                \
    } while (0)

void th_log_write(th_log_level_t lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parses "error", "warn", "info", "debug"; returns 0 or TH_E_INVALID. */
int th_log_parse_level(const char *s, th_log_level_t *out);

#endif
