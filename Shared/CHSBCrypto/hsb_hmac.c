/* The one-shot SHA-256 functions are marked deprecated in OpenSSL 3 in favour of EVP, whose
 * per-message context duplication costs more than the hash of a small request; they remain
 * supported and use the same assembly. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "hsb_hmac.h"
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

struct hsb_hmac_key {
    SHA256_CTX inner; /* after SHA256_Update(key ^ ipad) */
    SHA256_CTX outer; /* after SHA256_Update(key ^ opad) */
};

struct run_state {
    SHA256_CTX context;
    const hsb_hmac_key *key;
};

_Static_assert(sizeof(struct run_state) <= sizeof(hsb_hmac_run), "hsb_hmac_run is too small for a SHA-256 state");
_Static_assert(_Alignof(struct run_state) <= _Alignof(hsb_hmac_run), "hsb_hmac_run is not aligned enough");

hsb_hmac_key *hsb_hmac_key_new(const uint8_t *key, size_t key_length) {
    hsb_hmac_key *result = calloc(1, sizeof(*result));
    if (result == NULL) return NULL;
    unsigned char block[SHA256_CBLOCK];
    unsigned char pad[SHA256_CBLOCK];
    memset(block, 0, sizeof(block));
    if (key_length > SHA256_CBLOCK) {
        SHA256(key, key_length, block); /* a key longer than a block is hashed first */
    } else if (key_length > 0) {
        memcpy(block, key, key_length);
    }
    int ok = 1;
    for (size_t i = 0; i < SHA256_CBLOCK; i++) pad[i] = block[i] ^ 0x36;
    ok &= SHA256_Init(&result->inner) && SHA256_Update(&result->inner, pad, SHA256_CBLOCK);
    for (size_t i = 0; i < SHA256_CBLOCK; i++) pad[i] = block[i] ^ 0x5c;
    ok &= SHA256_Init(&result->outer) && SHA256_Update(&result->outer, pad, SHA256_CBLOCK);
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(pad, sizeof(pad));
    if (!ok) {
        hsb_hmac_key_free(result);
        return NULL;
    }
    return result;
}

void hsb_hmac_key_free(hsb_hmac_key *key) {
    if (key == NULL) return;
    OPENSSL_cleanse(key, sizeof(*key));
    free(key);
}

int hsb_hmac_begin(const hsb_hmac_key *key, hsb_hmac_run *run) {
    struct run_state *state = (struct run_state *)run;
    state->context = key->inner;
    state->key = key;
    return 1;
}

int hsb_hmac_update(hsb_hmac_run *run, const uint8_t *data, size_t length) {
    if (length == 0) return 1;
    return SHA256_Update(&((struct run_state *)run)->context, data, length);
}

int hsb_hmac_finish(hsb_hmac_run *run, uint8_t out[32]) {
    struct run_state *state = (struct run_state *)run;
    unsigned char inner[SHA256_DIGEST_LENGTH];
    int ok = SHA256_Final(inner, &state->context);
    SHA256_CTX outer = state->key->outer;
    ok = ok && SHA256_Update(&outer, inner, sizeof(inner)) && SHA256_Final(out, &outer);
    OPENSSL_cleanse(inner, sizeof(inner));
    OPENSSL_cleanse(&outer, sizeof(outer));
    OPENSSL_cleanse(run, sizeof(*run));
    return ok;
}
