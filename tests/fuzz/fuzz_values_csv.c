/*  libFuzzer target: the values CSV reader of `submit --values FILE`. The
    reader takes a path: the input is served from a memfd. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("values.csv", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        char path[64], err[512];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        th_entry_value_t *v = NULL;
        size_t n = 0;
        if (th_entry_values_from_csv(path, &v, &n, err, sizeof err) == 0)
            th_entry_values_free(v, n);
    }
    close(fd);
    return 0;
}
