#include "hsb_hmac.h"
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdlib.h>

struct hsb_hmac_key {
    EVP_MAC *mac;
    EVP_MAC_CTX *keyed;
};

hsb_hmac_key *hsb_hmac_key_new(const uint8_t *key, size_t key_length) {
    hsb_hmac_key *result = calloc(1, sizeof(*result));
    if (result == NULL) return NULL;
    result->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (result->mac == NULL) goto fail;
    result->keyed = EVP_MAC_CTX_new(result->mac);
    if (result->keyed == NULL) goto fail;
    char digest[] = "SHA256";
    OSSL_PARAM params[2] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(result->keyed, key, key_length, params) != 1) goto fail;
    return result;
fail:
    hsb_hmac_key_free(result);
    return NULL;
}

void hsb_hmac_key_free(hsb_hmac_key *key) {
    if (key == NULL) return;
    EVP_MAC_CTX_free(key->keyed);
    EVP_MAC_free(key->mac);
    free(key);
}

hsb_hmac_run *hsb_hmac_begin(const hsb_hmac_key *key) {
    return (hsb_hmac_run *)EVP_MAC_CTX_dup(key->keyed);
}

int hsb_hmac_update(hsb_hmac_run *run, const uint8_t *data, size_t length) {
    if (length == 0) return 1;
    return EVP_MAC_update((EVP_MAC_CTX *)run, data, length);
}

int hsb_hmac_finish(hsb_hmac_run *run, uint8_t out[32]) {
    size_t written = 0;
    int ok = EVP_MAC_final((EVP_MAC_CTX *)run, out, &written, 32) == 1 && written == 32;
    EVP_MAC_CTX_free((EVP_MAC_CTX *)run);
    return ok;
}
