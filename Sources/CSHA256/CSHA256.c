// Why libcrypto's SHA256_Init/Update/Final: HMAC with precomputed pads starts every record from a copy of
// a keyed state. A SHA256_CTX is a plain struct, so that copy is 112 bytes on the stack. swift-crypto's
// SHA256 keeps its state in a class, so each copy allocates, is zeroed and is freed (about 100 ns per hash,
// two hashes per record); EVP_MD_CTX_copy_ex allocates a provider context on every copy as well. Measured:
// HMAC-SHA-256 of a 598-byte record in 425-457 ns here against about 650 ns through swift-crypto.
// These functions are deprecated since OpenSSL 3.0 in favour of EVP, but present and maintained in 3.x;
// if a later OpenSSL drops them, EVP_MD_CTX_copy_ex is the replacement at about +0.1 us per record.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include "CSHA256.h"

_Static_assert(sizeof(jg_sha256_state) == sizeof(SHA256_CTX), "jg_sha256_state must be a SHA256_CTX");
_Static_assert(_Alignof(jg_sha256_state) >= _Alignof(SHA256_CTX), "jg_sha256_state must align as SHA256_CTX");

void jg_sha256_start(jg_sha256_state *state) {
    SHA256_Init((SHA256_CTX *)state);
}

void jg_sha256_add(jg_sha256_state *state, const void *bytes, size_t count) {
    SHA256_Update((SHA256_CTX *)state, bytes, count);
}

void jg_sha256_finish(jg_sha256_state *state, void *digest) {
    SHA256_Final(digest, (SHA256_CTX *)state);
}
