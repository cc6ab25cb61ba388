// SPDX-License-Identifier: MIT
#include "tls/context.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls/ticket_keys.hpp"

namespace wharf::detail {
namespace {

// Mozilla's "intermediate" TLS 1.2 list without finite-field DH: forward secrecy and AEAD only.
constexpr const char* default_ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                        "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                        "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* default_groups = "X25519:P-256:P-384";
constexpr unsigned char session_id_context[] = "wharf";

/// OpenSSL's reason for the last failure, and a clean error queue.
std::string openssl_reason() {
    const unsigned long e = ERR_peek_last_error();
    std::string reason =
        e ? ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "unknown" : "unknown error";
    ERR_clear_error();
    return reason;
}

tls_error fail(std::errc code, std::string message) {
    return {std::make_error_code(code), std::move(message)};
}

/// A file that cannot be opened is named with the system's reason.
tls_error check_readable(const std::string& path, const char* what) {
    if (path.empty()) return fail(std::errc::invalid_argument, std::string("no ") + what + " file");
    std::FILE* f = std::fopen(path.c_str(), "r");
    if (f == nullptr) {
        const int err = errno;
        return {std::error_code(err, std::system_category()),
                path + ": cannot read " + what + ": " + std::strerror(err)};
    }
    std::fclose(f);
    return {};
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::vector<std::string> dns_names(X509* cert) {
    std::vector<std::string> names;
    auto* sans =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (sans == nullptr) return names;
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
        const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
        if (n->type != GEN_DNS) continue;
        const ASN1_STRING* s = n->d.dNSName;
        names.push_back(lower({reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                               static_cast<std::size_t>(ASN1_STRING_length(s))}));
    }
    GENERAL_NAMES_free(sans);
    return names;
}

int accept_any_certificate(int, X509_STORE_CTX*) {
    return 1; // client_verify::optional: the result is kept for the handler
}

tls_error configure(SSL_CTX* ctx, const tls_config& cfg, const tls_certificate& cert) {
    if (auto e = check_readable(cert.certificate_file, "certificate")) return e;
    if (auto e = check_readable(cert.key_file, "private key")) return e;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert.certificate_file.c_str()) != 1)
        return fail(std::errc::invalid_argument, cert.certificate_file +
                                                     ": not a PEM certificate chain (" +
                                                     openssl_reason() + ")");
    if (SSL_CTX_use_PrivateKey_file(ctx, cert.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
        if (!mismatch)
            return fail(std::errc::invalid_argument,
                        cert.key_file + ": not a PEM private key (" + openssl_reason() + ")");
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        return fail(std::errc::invalid_argument,
                    cert.key_file + ": the key does not match " + cert.certificate_file);
    }

    const int min = cfg.min_version == tls_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
    SSL_CTX_set_min_proto_version(ctx, min);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                 (cfg.ktls && kernel_tls_available() ? SSL_OP_ENABLE_KTLS : 0));
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    const std::string ciphers = cfg.ciphers.empty() ? default_ciphers : cfg.ciphers;
    if (SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1)
        return fail(std::errc::invalid_argument, "ciphers '" + ciphers + "': " + openssl_reason());
    if (!cfg.ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx, cfg.ciphersuites.c_str()) != 1)
        return fail(std::errc::invalid_argument,
                    "ciphersuites '" + cfg.ciphersuites + "': " + openssl_reason());
    const std::string groups = cfg.groups.empty() ? default_groups : cfg.groups;
    if (SSL_CTX_set1_groups_list(ctx, groups.c_str()) != 1)
        return fail(std::errc::invalid_argument, "groups '" + groups + "': " + openssl_reason());

    SSL_CTX_set_session_id_context(ctx, session_id_context, sizeof session_id_context - 1);
    SSL_CTX_set_session_cache_mode(ctx, cfg.session_cache_size ? SSL_SESS_CACHE_SERVER
                                                               : SSL_SESS_CACHE_OFF);
    SSL_CTX_sess_set_cache_size(ctx, static_cast<long>(cfg.session_cache_size));
    SSL_CTX_set_timeout(ctx, static_cast<long>(cfg.ticket_key_lifetime.count()));
    SSL_CTX_set_num_tickets(ctx, 1);
    SSL_CTX_set_read_ahead(ctx, 1); // fewer reads: a whole socket buffer per call

    if (cfg.verify_client != client_verify::none) {
        if (auto e = check_readable(cfg.client_ca_file, "client CA")) return e;
        if (SSL_CTX_load_verify_locations(ctx, cfg.client_ca_file.c_str(), nullptr) != 1)
            return fail(std::errc::invalid_argument, cfg.client_ca_file +
                                                         ": not a PEM CA certificate (" +
                                                         openssl_reason() + ")");
        STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(cfg.client_ca_file.c_str());
        if (names == nullptr)
            return fail(std::errc::invalid_argument,
                        cfg.client_ca_file + ": no CA names (" + openssl_reason() + ")");
        SSL_CTX_set_client_CA_list(ctx, names);
        if (!cfg.client_crl_file.empty()) {
            if (auto e = check_readable(cfg.client_crl_file, "CRL")) return e;
            X509_STORE* store = SSL_CTX_get_cert_store(ctx);
            X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
            if (lookup == nullptr ||
                X509_load_crl_file(lookup, cfg.client_crl_file.c_str(), X509_FILETYPE_PEM) <= 0)
                return fail(std::errc::invalid_argument,
                            cfg.client_crl_file + ": not a PEM CRL (" + openssl_reason() + ")");
            X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
        }
        if (cfg.verify_client == client_verify::required)
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
        else
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_certificate);
        SSL_CTX_set_verify_depth(ctx, 8);
    }
    return {};
}

} // namespace

bool dns_name_matches(std::string_view pattern, std::string_view host) noexcept {
    if (pattern == host) return !host.empty();
    // "*.example.com" covers exactly one more label: "a.example.com", not "a.b.example.com"
    // nor "example.com".
    if (pattern.size() < 3 || pattern.substr(0, 2) != "*.") return false;
    const std::size_t dot = host.find('.');
    return dot != 0 && dot != std::string_view::npos && host.substr(dot) == pattern.substr(1);
}

std::shared_ptr<const tls_context> tls_context::build(const tls_config& config,
                                                      std::vector<std::string> alpn,
                                                      std::shared_ptr<ticket_keys> keys,
                                                      tls_error& error) {
    error = {};
    if (config.certificates.empty()) {
        error = fail(std::errc::invalid_argument, "no certificate for the TLS listener");
        return nullptr;
    }
    std::shared_ptr<tls_context> c(new tls_context);
    c->keys_ = std::move(keys);
    c->handshake_timeout_ms_ = config.handshake_timeout.count();
    for (const std::string& p : alpn) {
        c->alpn_wire_.push_back(static_cast<char>(p.size()));
        c->alpn_wire_ += p;
    }
    for (const tls_certificate& cert : config.certificates) {
        SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
        if (ctx == nullptr) {
            error = fail(std::errc::not_enough_memory, "cannot create a TLS context");
            return nullptr;
        }
        c->certificates_.push_back({ctx, {}});
        if ((error = configure(ctx, config, cert))) return nullptr;
        c->certificates_.back().names = dns_names(SSL_CTX_get0_certificate(ctx));
        c->keys_->attach(ctx);
        // The macro SSL_CTX_set_tlsext_servername_callback, without its C cast.
        SSL_CTX_callback_ctrl(ctx, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                              reinterpret_cast<void (*)()>(&tls_context::on_server_name));
        SSL_CTX_set_tlsext_servername_arg(ctx, c.get());
        SSL_CTX_set_alpn_select_cb(ctx, &tls_context::on_alpn, c.get());
    }
    return c;
}

tls_context::~tls_context() {
    for (certificate& c : certificates_)
        SSL_CTX_free(c.ctx);
}

SSL* tls_context::new_ssl() const noexcept {
    SSL* ssl = SSL_new(certificates_.front().ctx);
    if (ssl) SSL_set_accept_state(ssl);
    return ssl;
}

std::size_t tls_context::pick(std::string_view name) const noexcept {
    std::string host = lower(name);
    if (!host.empty() && host.back() == '.') host.pop_back();
    for (std::size_t i = 0; i < certificates_.size(); ++i)
        for (const std::string& pattern : certificates_[i].names)
            if (dns_name_matches(pattern, host)) return i;
    return 0;
}

int tls_context::on_server_name(SSL* ssl, int*, void* self) {
    const auto* c = static_cast<const tls_context*>(self);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (name == nullptr || c->certificates_.size() == 1) return SSL_TLSEXT_ERR_OK;
    const std::size_t i = c->pick(name);
    if (i != 0) SSL_set_SSL_CTX(ssl, c->certificates_[i].ctx);
    return SSL_TLSEXT_ERR_OK;
}

int tls_context::on_alpn(SSL*, const unsigned char** out, unsigned char* out_length,
                         const unsigned char* in, unsigned int in_length, void* self) {
    const auto* c = static_cast<const tls_context*>(self);
    // The server's order of preference: the first of our protocols the client offers.
    const auto* ours = reinterpret_cast<const unsigned char*>(c->alpn_wire_.data());
    const std::size_t ours_length = c->alpn_wire_.size();
    for (std::size_t i = 0; i < ours_length; i += 1u + ours[i]) {
        for (unsigned int j = 0; j < in_length; j += 1u + in[j]) {
            if (j + 1u + in[j] > in_length) break; // malformed list: OpenSSL checked, be safe
            if (in[j] == ours[i] && std::memcmp(in + j + 1, ours + i + 1, ours[i]) == 0) {
                *out = ours + i + 1;
                *out_length = ours[i];
                return SSL_TLSEXT_ERR_OK;
            }
        }
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL; // no_application_protocol
}

} // namespace wharf::detail
