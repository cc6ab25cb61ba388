// SPDX-License-Identifier: MIT
#include "tls/ticket_keys.hpp"

#include <cstring>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace wharf::detail {
namespace {

int ex_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

std::int64_t steady_seconds() noexcept {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

} // namespace

void ticket_keys::attach(SSL_CTX* ctx) {
    SSL_CTX_set_ex_data(ctx, ex_index(), this);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &ticket_keys::callback);
}

void ticket_keys::rotate_if_due(std::int64_t now) {
    if (current_.created != 0 && now - current_.created < lifetime_.count()) return;
    key fresh{};
    if (RAND_bytes(fresh.name, sizeof fresh.name) != 1 ||
        RAND_bytes(fresh.aes, sizeof fresh.aes) != 1 ||
        RAND_bytes(fresh.hmac, sizeof fresh.hmac) != 1)
        return; // keep the old key rather than issue tickets under a weak one
    fresh.created = now;
    previous_ = current_;
    current_ = fresh;
}

int ticket_keys::select(const unsigned char* name, bool encrypt, key& k) {
    std::lock_guard lock(mutex_);
    rotate_if_due(steady_seconds());
    if (current_.created == 0) return encrypt ? -1 : 0;
    if (encrypt || std::memcmp(name, current_.name, sizeof current_.name) == 0) {
        k = current_;
        return 1;
    }
    if (previous_.created != 0 && std::memcmp(name, previous_.name, sizeof previous_.name) == 0 &&
        steady_seconds() - previous_.created < 2 * lifetime_.count()) {
        k = previous_;
        return 2; // valid, but the client should get a ticket under the current key
    }
    return 0;
}

int ticket_keys::callback(SSL* ssl, unsigned char name[16], unsigned char* iv,
                          EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int encrypt) {
    // Tickets are handled by the context the handshake started on (SNI may switch later).
    auto* self = static_cast<ticket_keys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_index()));
    if (self == nullptr) return -1;
    key k;
    const int use = self->select(name, encrypt != 0, k);
    if (use <= 0) return use;
    if (encrypt) {
        std::memcpy(name, k.name, sizeof k.name);
        if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) != 1) return -1;
        if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, k.aes, iv) != 1) return -1;
    } else if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, k.aes, iv) != 1) {
        return -1;
    }
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k.hmac, sizeof k.hmac),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
    return use;
}

} // namespace wharf::detail
