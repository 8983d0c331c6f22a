/*  log: timestamped lines on stderr, one write per line. */
#include "log.h"
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int th_log_level = TH_LOG_WARN;

static const char *s_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

void
th_log_write(th_log_level_t lvl, const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%SZ ", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, "%s ",
                  s_names[lvl >= 0 && lvl <= TH_LOG_DEBUG ? lvl : 0]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m > 0 ? (size_t)m : 0);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    line[len] = '\0';
    fputs(line, stderr);
}

int
th_log_parse_level(const char *s, th_log_level_t *out)
{
    for (int i = 0; i <= TH_LOG_DEBUG; i++) {
        if (strcasecmp(s, s_names[i]) == 0 ||
            (i == TH_LOG_WARN && strcasecmp(s, "warning") == 0)) {
            *out = (th_log_level_t)i;
            return 0;
        }
    }
    return TH_E_INVALID;
}
