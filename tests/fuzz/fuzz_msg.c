/*  libFuzzer target: the protocol message decoder, as the collector and the
    uplink run it on every frame from the network. A decoded message must
    re-encode, and that encoding must decode again. */
#include <stdint.h>
#include <stdlib.h>

#include "mem.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    th_msg_t m;
    th_msg_init(&m, TH_MSG_PING);
    if (th_msg_decode(data, size, &m) == 0) {
        uint8_t *out;
        size_t len;
        if (th_msg_encode(&m, &out, &len) == 0) {
            th_msg_t again;
            th_msg_init(&again, TH_MSG_PING);
            if (th_msg_decode(out, len, &again) != 0 || again.type != m.type)
                abort();   /* our own encoding must be accepted */
            th_msg_clear(&again);
            th_free(out);
        }
    }
    th_msg_clear(&m);
    return 0;
}
