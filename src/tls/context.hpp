// SPDX-License-Identifier: MIT
// The OpenSSL state of one TLS listener group, built from its files in one go: a context per
// certificate (SNI picks one by its DNS names), ALPN, client verification, the session cache
// and the shared ticket keys. Immutable once built and shared by every worker; a reload builds
// a new one and swaps it in (tls_slot), so connections keep the context they started on.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/ssl.h>

#include "wharf/tls.hpp"

namespace wharf::detail {

class ticket_keys;

class tls_context {
  public:
    /// Loads every file of `config`; on failure returns null and says which file and why.
    /// `alpn` lists the protocols the server speaks, in its order of preference.
    static std::shared_ptr<const tls_context> build(const tls_config& config,
                                                    std::vector<std::string> alpn,
                                                    std::shared_ptr<ticket_keys> keys,
                                                    tls_error& error);
    ~tls_context();
    tls_context(const tls_context&) = delete;
    tls_context& operator=(const tls_context&) = delete;

    /// A server-side SSL for a new connection (null when OpenSSL is out of memory).
    SSL* new_ssl() const noexcept;
    std::int64_t handshake_timeout_ms() const noexcept { return handshake_timeout_ms_; }
    /// The certificate index SNI picks for `name` (0, the default, when none matches).
    std::size_t pick(std::string_view name) const noexcept;

  private:
    tls_context() = default;
    static int on_server_name(SSL* ssl, int* alert, void* self);
    static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_length,
                       const unsigned char* in, unsigned int in_length, void* self);

    struct certificate {
        SSL_CTX* ctx = nullptr;
        std::vector<std::string> names; // DNS SANs, lower case
    };
    std::vector<certificate> certificates_;
    std::string alpn_wire_; // length-prefixed, as ALPN spells it
    std::shared_ptr<ticket_keys> keys_;
    std::int64_t handshake_timeout_ms_ = 0;
};

/// Where workers find a listener group's current context; reload swaps it.
class tls_slot {
  public:
    std::shared_ptr<const tls_context> current() const {
        std::lock_guard lock(mutex_);
        return context_;
    }
    void set(std::shared_ptr<const tls_context> c) {
        std::lock_guard lock(mutex_);
        context_ = std::move(c);
    }

  private:
    mutable std::mutex mutex_;
    std::shared_ptr<const tls_context> context_;
};

/// True when a DNS name from a certificate (`pattern`, lower case, maybe "*.x.y") covers the
/// host name `host` (lower case, no trailing dot).
bool dns_name_matches(std::string_view pattern, std::string_view host) noexcept;

} // namespace wharf::detail
