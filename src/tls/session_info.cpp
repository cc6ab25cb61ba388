// SPDX-License-Identifier: MIT
// What a request learns about its TLS session and the client's certificate (S7).
#include <ctime>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls/tls_transport.hpp"

namespace wharf::detail {
namespace {

std::string to_string(const ASN1_STRING* s) {
    unsigned char* utf8 = nullptr;
    const int n = ASN1_STRING_to_UTF8(&utf8, s);
    if (n < 0) return {};
    std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(n));
    OPENSSL_free(utf8);
    return out;
}

/// RFC 4514 (LDAP) form: most specific first, "CN=alice,O=Example".
std::string distinguished_name(const X509_NAME* name) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (bio == nullptr) return {};
    std::string out;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char* data = nullptr;
        const long n = BIO_get_mem_data(bio, &data);
        if (n > 0) out.assign(data, static_cast<std::size_t>(n));
    }
    BIO_free(bio);
    return out;
}

std::string common_name(const X509_NAME* name) {
    const int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (i < 0) return {};
    return to_string(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
}

std::chrono::system_clock::time_point time_of(const ASN1_TIME* t) {
    std::tm tm{};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return {};
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string hex(const unsigned char* p, std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(digits[p[i] >> 4]);
        out.push_back(digits[p[i] & 15]);
    }
    return out;
}

std::unique_ptr<peer_certificate> describe_certificate(SSL* ssl, X509* cert) {
    auto c = std::make_unique<peer_certificate>();
    const long result = SSL_get_verify_result(ssl);
    c->verified = result == X509_V_OK;
    if (!c->verified) c->error = X509_verify_cert_error_string(result);
    const X509_NAME* subject = X509_get_subject_name(cert);
    c->subject_cn = common_name(subject);
    c->subject = distinguished_name(subject);
    c->issuer = distinguished_name(X509_get_issuer_name(cert));
    if (auto* sans = static_cast<GENERAL_NAMES*>(
            X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
        for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
            const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
            if (n->type == GEN_DNS) c->dns.push_back(to_string(n->d.dNSName));
            if (n->type == GEN_EMAIL) c->email.push_back(to_string(n->d.rfc822Name));
        }
        GENERAL_NAMES_free(sans);
    }
    if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
        if (char* h = BN_bn2hex(bn)) {
            c->serial = h;
            OPENSSL_free(h);
        }
        BN_free(bn);
    }
    c->not_before = time_of(X509_get0_notBefore(cert));
    c->not_after = time_of(X509_get0_notAfter(cert));
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_length = 0;
    if (X509_digest(cert, EVP_sha256(), md, &md_length) == 1) c->sha256 = hex(md, md_length);
    ERR_clear_error();
    return c;
}

} // namespace

void describe_session(SSL* ssl, tls_info& info) {
    info.version = SSL_get_version(ssl);
    info.cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl));
    const unsigned char* alpn = nullptr;
    unsigned int alpn_length = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_length);
    info.alpn.assign(reinterpret_cast<const char*>(alpn), alpn ? alpn_length : 0);
    const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    info.sni = sni ? sni : "";
    info.resumed = SSL_session_reused(ssl) == 1;
    info.ktls_send = BIO_get_ktls_send(SSL_get_wbio(ssl)) != 0;
    if (X509* cert = SSL_get0_peer_certificate(ssl)) info.client = describe_certificate(ssl, cert);
}

} // namespace wharf::detail
