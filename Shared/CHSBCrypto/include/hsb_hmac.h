/* HMAC-SHA256 with the key schedule computed once per secret (OpenSSL 3 EVP_MAC):
 * each message duplicates the keyed context instead of fetching and keying HMAC anew. */
#ifndef HSB_HMAC_H
#define HSB_HMAC_H

#include <stddef.h>
#include <stdint.h>

typedef struct hsb_hmac_key hsb_hmac_key;
typedef struct hsb_hmac_run hsb_hmac_run;

/* A keyed HMAC-SHA256; NULL when OpenSSL cannot provide one. Thread-safe to share once made. */
hsb_hmac_key *hsb_hmac_key_new(const uint8_t *key, size_t key_length);
void hsb_hmac_key_free(hsb_hmac_key *key);

/* One message: begin, any number of updates, then finish (which frees the run).
 * finish writes 32 bytes to out and returns 1, or returns 0 on failure. */
hsb_hmac_run *hsb_hmac_begin(const hsb_hmac_key *key);
int hsb_hmac_update(hsb_hmac_run *run, const uint8_t *data, size_t length);
int hsb_hmac_finish(hsb_hmac_run *run, uint8_t out[32]);

#endif
