// SPDX-License-Identifier: MIT
// Session-ticket keys shared by every worker (and every TLS listener group) of a server, so a
// ticket issued by one worker resumes on any other. A key issues tickets for its lifetime; the
// one before it is still accepted (and its tickets renewed) for as long again.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

#include <openssl/ssl.h>

namespace wharf::detail {

class ticket_keys {
  public:
    explicit ticket_keys(std::chrono::seconds lifetime) noexcept : lifetime_(lifetime) {}

    /// Installs the keys' callback on `ctx`.
    void attach(SSL_CTX* ctx);

  private:
    struct key {
        unsigned char name[16];
        unsigned char aes[32];
        unsigned char hmac[32];
        std::int64_t created = 0; // steady seconds; 0: no key yet
    };
    static int callback(SSL* ssl, unsigned char name[16], unsigned char* iv, EVP_CIPHER_CTX* cipher,
                        EVP_MAC_CTX* mac, int encrypt);
    /// 1: use `k` (0 when the name is unknown, 2 when a fresh ticket should replace it).
    int select(const unsigned char* name, bool encrypt, key& k);
    void rotate_if_due(std::int64_t now);

    std::chrono::seconds lifetime_;
    std::mutex mutex_;
    key current_{};
    key previous_{};
};

} // namespace wharf::detail
