/*  libFuzzer target: the strict record decoder (codec), as every office runs
    it on a blob from the store or from a child. A decoded record must
    encode back to exactly the input (one byte representation per record). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    th_record_t r;
    th_record_init(&r);
    const uint8_t *body;
    size_t body_len;
    if (th_codec_record_decode(data, size, &r, &body, &body_len) == 0) {
        if (body < data || body + body_len > data + size)
            abort();   /* the body must lie inside the input */
        uint8_t *again;
        size_t len;
        if (th_codec_record_encode(&r, &again, &len) == 0) {
            if (len != size || memcmp(again, data, size) != 0)
                abort();   /* accepted, yet not canonical */
            th_free(again);
        }
    }
    th_record_clear(&r);
    return 0;
}
