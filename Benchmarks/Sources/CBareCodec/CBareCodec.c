#include "CBareCodec.h"
#include <stdlib.h>
#include "hsb/intake/v1/intake.pb-c.h"

size_t hsb_bench_referral_roundtrip(const uint8_t *bytes, size_t length, int iterations) {
    uint8_t *out = malloc(length * 2 + 64);
    size_t packed = 0;
    if (out == NULL) return 0;
    for (int i = 0; i < iterations; i++) {
        Hsb__Intake__V1__Referral *message = hsb__intake__v1__referral__unpack(NULL, length, bytes);
        if (message == NULL) { free(out); return 0; }
        packed = hsb__intake__v1__referral__pack(message, out);
        hsb__intake__v1__referral__free_unpacked(message, NULL);
    }
    free(out);
    return packed;
}
