/*  libFuzzer target: the unit list CSV reader (codes, parents, levels,
    validity and successors), as init --units and a list from above run it. */
#include <stdint.h>
#include <stdlib.h>

#include "units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    th_units_t *u = th_units_new();
    if (!u)
        return 0;
    char err[512];
    if (th_units_load_csv(u, "fuzz", "fuzz.csv", (const char *)data, size, INT32_MIN,
                          INT32_MAX, err, sizeof err) == 0) {
        (void)th_units_find(u, "80", 20000);
        (void)th_units_find_latest(u, "25459");
    }
    th_units_destroy(&u);
    return 0;
}
