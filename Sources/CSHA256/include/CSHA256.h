#ifndef JUSTGATE_CSHA256_H
#define JUSTGATE_CSHA256_H

#include <stddef.h>
#include <stdint.h>

/// SHA-256 from the system's libcrypto (OpenSSL), for every hash justgate computes; the audit chain's HMAC
/// per record on the writer thread is the one that counts. The state is a plain value (libcrypto's SHA256_CTX, 112 bytes) that Swift holds and copies on
/// the stack; see CSHA256.c for why this and not swift-crypto or EVP.
typedef struct {
    uint32_t words[28];
} jg_sha256_state;

void jg_sha256_start(jg_sha256_state *state);
void jg_sha256_add(jg_sha256_state *state, const void *bytes, size_t count);
/// Writes the 32-byte digest; the state is spent afterwards.
void jg_sha256_finish(jg_sha256_state *state, void *digest);

#endif
