/*  runfile: flock claim on D/daemon.json and the endpoints published in it. */
#include "runfile.h"
#include "err.h"
#include "mem.h"
#include "model.h"
#include "period.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_NAMES 8

struct th_runfile {
    int fd;                         /* open, flock(LOCK_EX) held */
    int64_t started_ms;             /* wall clock at the claim */
    int n;
    char *name[S_NAMES], *value[S_NAMES];   /* owned */
};

static char *
s_path(const char *dir)
{
    return th_asprintf("%s/%s", dir, TH_RUNFILE_NAME);
}

/* The file's content parsed, NULL when empty or not JSON (being written). */
static json_t *
s_load(int fd)
{
    char buf[4096];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    json_t *doc = json_loads(buf, 0, NULL);
    if (doc && !json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
    }
    return doc;
}

int
th_runfile_claim(const char *dir, th_runfile_t **out, pid_t *other_pid)
{
    *out = NULL;
    if (other_pid)
        *other_pid = 0;
    char *path = s_path(dir);
    if (!path)
        return -ENOMEM;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    th_free(path);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e == EWOULDBLOCK && other_pid) {
            json_t *doc = s_load(fd);
            *other_pid = (pid_t)json_integer_value(json_object_get(doc, "pid"));
            json_decref(doc);
        }
        close(fd);
        return e == EWOULDBLOCK ? TH_E_BUSY : -e;
    }
    th_runfile_t *rf = th_calloc(1, sizeof *rf);
    if (!rf) {
        close(fd);
        return -ENOMEM;
    }
    /* a previous daemon killed with SIGKILL left its endpoints: gone now */
    if (ftruncate(fd, 0) != 0) {
        int e = errno;
        close(fd);
        th_free(rf);
        return -e;
    }
    rf->started_ms = th_now_ms();
    rf->fd = fd;
    *out = rf;
    return 0;
}

int
th_runfile_set(th_runfile_t *rf, const char *name, const char *value)
{
    int i;
    for (i = 0; i < rf->n; i++)
        if (strcmp(rf->name[i], name) == 0)
            break;
    if (i == S_NAMES)
        return TH_E_LIMIT;
    char *v = th_strdup(value);
    if (!v)
        return -ENOMEM;
    if (i == rf->n) {
        if (!(rf->name[i] = th_strdup(name))) {
            th_free(v);
            return -ENOMEM;
        }
        rf->n++;
    }
    th_free(rf->value[i]);
    rf->value[i] = v;
    return 0;
}

int
th_runfile_write(th_runfile_t *rf)
{
    char when[32];
    th_time_format_iso(rf->started_ms, when);
    json_t *doc = json_pack("{sIss}", "pid", (json_int_t)getpid(), "started_at", when);
    if (!doc)
        return -ENOMEM;
    for (int i = 0; i < rf->n; i++)
        if (json_object_set_new(doc, rf->name[i], json_string(rf->value[i])) != 0) {
            json_decref(doc);
            return -ENOMEM;
        }
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text)
        return -ENOMEM;
    size_t len = strlen(text);
    int rc = 0;
    /* one pwrite after the truncation: a reader sees nothing or all of it
       (it retries on an empty or unparsable file) */
    if (ftruncate(rf->fd, 0) != 0)
        rc = -errno;
    else {
        text[len] = '\n';
        ssize_t n = pwrite(rf->fd, text, len + 1, 0);
        if (n < 0)
            rc = -errno;
        else if ((size_t)n != len + 1)
            rc = -EIO;
    }
    free(text);   /* jansson's allocator */
    return rc;
}

void
th_runfile_release(th_runfile_t **self_p)
{
    th_runfile_t *rf = self_p ? *self_p : NULL;
    if (!rf)
        return;
    if (ftruncate(rf->fd, 0) != 0) {
        /* nothing to do: the lock goes with the descriptor, and readers
           ignore the content of an unlocked file */
    }
    close(rf->fd);
    for (int i = 0; i < rf->n; i++) {
        th_free(rf->name[i]);
        th_free(rf->value[i]);
    }
    th_free(rf);
    *self_p = NULL;
}

int
th_runfile_read(const char *dir, json_t **out)
{
    *out = NULL;
    char *path = s_path(dir);
    if (!path)
        return -ENOMEM;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    th_free(path);
    json_t *doc = NULL;
    if (fd < 0) {
        if (errno != ENOENT)
            return -errno;
    } else if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        flock(fd, LOCK_UN);   /* nobody holds it: no daemon */
    } else if (errno == EWOULDBLOCK) {
        doc = s_load(fd);
        if (!doc)
            doc = json_object();
        if (!doc || json_object_set_new(doc, "running", json_true()) != 0) {
            json_decref(doc);
            close(fd);
            return -ENOMEM;
        }
    } else {
        int e = errno;
        close(fd);
        return -e;
    }
    if (fd >= 0)
        close(fd);
    if (!doc && !(doc = json_pack("{sb}", "running", 0)))
        return -ENOMEM;
    *out = doc;
    return 0;
}
