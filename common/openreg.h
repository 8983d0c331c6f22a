/*  openreg: the process-wide registry of open store directories.

    LMDB breaks its fcntl locks when one process opens an environment twice
    (and closing either handle drops the other's locks), so the store
    refuses a second open of a directory in one process. Entries carry the
    pid so that a forked child, which never uses its parent's handle, may
    open the directory for itself. Thread-safe. */
#ifndef TH_OPENREG_H
#define TH_OPENREG_H

/* Registers path (a realpath) as open by this process. Errors: -EBUSY when
   this process already registered it, -ENOMEM. */
int th_openreg_add(const char *path);

/* Unregisters path for this process; nothing when it is not registered. */
void th_openreg_remove(const char *path);

#endif
