// SPDX-License-Identifier: MIT
// TLS: how a listener is configured, and what a request learns about its connection's TLS
// session and the client's certificate (S7).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace wharf {

/// A certificate chain (leaf first) and its private key, both PEM files.
struct tls_certificate {
    std::string certificate_file;
    std::string key_file;
};

/// Whether the server asks for a client certificate.
enum class client_verify {
    none,     ///< never asks
    optional, ///< asks; the handshake succeeds without one or with a bad one (the handler decides)
    required, ///< asks; no certificate or one that does not verify fails the handshake
};

enum class tls_version { tls1_2, tls1_3 };

/// One group of TLS listeners sharing certificates and settings.
struct tls_config {
    /// Addresses served with TLS, as server_config::listen spells them.
    std::vector<std::string> listen;
    /// Chains to choose from by SNI, against each certificate's DNS names (exact, or `*.`
    /// wildcards of one label, case-insensitive); the first is used when none matches or the
    /// client sends no name.
    std::vector<tls_certificate> certificates;
    tls_version min_version = tls_version::tls1_2;
    /// TLS 1.2 cipher list in OpenSSL syntax; empty: ECDHE with AES-GCM or ChaCha20 only.
    std::string ciphers;
    /// TLS 1.3 cipher suites; empty: OpenSSL's (AES-GCM and ChaCha20-Poly1305).
    std::string ciphersuites;
    /// Key-exchange groups; empty: X25519, P-256, P-384.
    std::string groups;
    client_verify verify_client = client_verify::none;
    std::string client_ca_file;  ///< CAs that client certificates must chain to (PEM)
    std::string client_crl_file; ///< optional revocation list (PEM); checked for the leaf
    /// From accept to the end of the handshake; a client that sends nothing is closed after it.
    std::chrono::milliseconds handshake_timeout{10'000};
    /// How long a session-ticket key issues tickets; tickets of the previous key are still
    /// accepted for as long again.
    std::chrono::seconds ticket_key_lifetime{3600};
    /// Sessions kept for TLS 1.2 session-ID resumption, per listener group; 0 turns it off.
    std::size_t session_cache_size = 20'000;
    /// Use kernel TLS (so files go out with sendfile) where the kernel and OpenSSL offer it.
    bool ktls = true;
};

/// The client's certificate, when it sent one.
struct peer_certificate {
    bool verified = false; ///< chains to client_ca_file (and is not revoked or expired)
    std::string error;     ///< why it did not verify ("" when it did)
    std::string subject_cn;
    std::string subject; ///< RFC 4514 string, e.g. "CN=alice,O=Example"
    std::string issuer;  ///< the same for the issuer
    std::vector<std::string> dns;
    std::vector<std::string> email;
    std::string serial; ///< hexadecimal, upper case
    std::chrono::system_clock::time_point not_before, not_after;
    std::string sha256; ///< fingerprint of the DER certificate, lower-case hexadecimal
};

/// A connection's TLS session, as a request sees it.
struct tls_info {
    std::string_view version; ///< "TLSv1.2" or "TLSv1.3"
    std::string_view cipher;  ///< IANA-style OpenSSL name, e.g. "TLS_AES_256_GCM_SHA384"
    std::string alpn;         ///< the protocol chosen by ALPN; "" when the client offered none
    std::string sni;          ///< the server name the client asked for; "" when none
    bool resumed = false;     ///< an abbreviated handshake (ticket or session ID)
    bool ktls_send = false;   ///< the kernel encrypts what is sent (sendfile works)
    std::unique_ptr<peer_certificate> client; ///< null when the client sent no certificate
};

/// What a TLS configuration error was about: the file (or setting) and why.
struct tls_error {
    std::error_code code;
    std::string message; ///< e.g. "key.pem: the key does not match cert.pem"
    explicit operator bool() const noexcept { return static_cast<bool>(code); }
};

/// True when this kernel offers kernel TLS (the `tls` TCP upper layer), so TLS listeners
/// with tls_config::ktls send files with sendfile.
bool kernel_tls_available() noexcept;

} // namespace wharf
