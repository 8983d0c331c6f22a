/*  libFuzzer target: the enrollment statement parser (fixed layout, signed),
    as a hub runs it on a statement relayed from below. */
#include <stdint.h>
#include <string.h>

#include "enrollment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    th_enrollment_t e;
    memset(&e, 0, sizeof e);
    (void)th_enrollment_parse(data, size, &e);
    uint8_t pk[TH_PUBKEY_LEN] = { 0 };
    if (size >= TH_PUBKEY_LEN)
        memcpy(pk, data, TH_PUBKEY_LEN);
    (void)th_enrollment_verify(data, size, pk);
    return 0;
}
