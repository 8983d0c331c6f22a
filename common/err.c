/*  err: one table of project error codes turned into messages and names. */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *
th_strerror(int err)
{
    switch (err) {
#define TH_X_CASE(name, value, msg) case name: return msg;
    TH_ERROR_TABLE(TH_X_CASE)
#undef TH_X_CASE
    case 0: return "success";
    default: break;
    }
    if (err < 0 && err > -4096)
        return strerror(-err);
    return "unknown error";
}

const char *
th_err_name(int err)
{
    switch (err) {
#define TH_X_NAME(name, value, msg) case name: return #name;
    TH_ERROR_TABLE(TH_X_NAME)
#undef TH_X_NAME
    case 0: return "OK";
    case -ENOMEM: return "ENOMEM";
    case -ENOENT: return "ENOENT";
    case -EEXIST: return "EEXIST";
    case -EACCES: return "EACCES";
    case -EINVAL: return "EINVAL";
    case -EIO: return "EIO";
    case -ENOSPC: return "ENOSPC";
    default: return "E?";
    }
}

int
th_errbuf(char *errbuf, size_t cap, int rc, const char *fmt, ...)
{
    if (errbuf && cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, cap, fmt, ap);
        va_end(ap);
    }
    return rc;
}
