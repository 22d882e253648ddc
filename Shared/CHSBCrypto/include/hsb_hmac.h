/* HMAC-SHA256 (RFC 2104) with the key schedule computed once per secret: the SHA-256 states
 * after the inner and outer padded keys are kept, and each message starts from a copy of the
 * inner one held in the caller's own storage, so a message allocates nothing. */
#ifndef HSB_HMAC_H
#define HSB_HMAC_H

#include <stddef.h>
#include <stdint.h>

typedef struct hsb_hmac_key hsb_hmac_key;

/* One message's state, kept by the caller (on its stack). Opaque; large enough for a SHA-256
 * state and the key it belongs to (checked when the library is compiled). */
typedef struct hsb_hmac_run {
    _Alignas(16) unsigned char opaque[160];
} hsb_hmac_run;

/* A keyed HMAC-SHA256, or NULL when out of memory. Thread-safe to share once made. */
hsb_hmac_key *hsb_hmac_key_new(const uint8_t *key, size_t key_length);
/* Wipes the key schedule and frees it. */
void hsb_hmac_key_free(hsb_hmac_key *key);

/* One message: begin, any number of updates, then finish, which writes the 32-byte MAC to out
 * and wipes the run. Each returns 1, or 0 on failure. */
int hsb_hmac_begin(const hsb_hmac_key *key, hsb_hmac_run *run);
int hsb_hmac_update(hsb_hmac_run *run, const uint8_t *data, size_t length);
int hsb_hmac_finish(hsb_hmac_run *run, uint8_t out[32]);

#endif
