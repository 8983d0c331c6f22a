/*  openreg: the directories this process has open (see openreg.h). */
#include "openreg.h"

#include "mem.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

typedef struct s_reg {
    char *path;
    pid_t pid;
    struct s_reg *next;
} s_reg_t;

static pthread_mutex_t s_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static s_reg_t *s_reg_head;

int
th_openreg_add(const char *path)
{
    pid_t me = getpid();
    int rc = 0;
    pthread_mutex_lock(&s_reg_lock);
    for (s_reg_t *r = s_reg_head; r; r = r->next)
        if (r->pid == me && strcmp(r->path, path) == 0) {
            rc = -EBUSY;
            goto out;
        }
    s_reg_t *n = th_malloc(sizeof *n);
    if (!n || !(n->path = th_strdup(path))) {
        th_free(n);
        rc = -ENOMEM;
        goto out;
    }
    n->pid = me;
    n->next = s_reg_head;
    s_reg_head = n;
out:
    pthread_mutex_unlock(&s_reg_lock);
    return rc;
}

void
th_openreg_remove(const char *path)
{
    pid_t me = getpid();
    pthread_mutex_lock(&s_reg_lock);
    for (s_reg_t **pp = &s_reg_head; *pp; pp = &(*pp)->next) {
        s_reg_t *r = *pp;
        if (r->pid == me && strcmp(r->path, path) == 0) {
            *pp = r->next;
            th_free(r->path);
            th_free(r);
            break;
        }
    }
    pthread_mutex_unlock(&s_reg_lock);
}
