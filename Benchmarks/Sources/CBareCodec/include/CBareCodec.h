#ifndef HSB_BENCH_C_BARE_CODEC_H
#define HSB_BENCH_C_BARE_CODEC_H
#include <stddef.h>
#include <stdint.h>

/// Unpacks `bytes` as an hsb.intake.v1.Referral with protobuf-c and packs it again, `iterations`
/// times, with no Swift in the loop. Returns the packed length of the last round (0 if a round failed).
size_t hsb_bench_referral_roundtrip(const uint8_t *bytes, size_t length, int iterations);

#endif
