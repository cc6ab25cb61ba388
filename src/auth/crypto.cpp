// SPDX-License-Identifier: MIT
#include "auth/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

namespace wharf::detail::auth {
namespace {

const EVP_MD* md_of(digest_algorithm algorithm) noexcept {
    return algorithm == digest_algorithm::md5 ? EVP_md5() : EVP_sha256();
}

void append_hex(std::string& out, const unsigned char* p, std::size_t n) {
    constexpr char digits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < n; ++i) {
        out += digits[p[i] >> 4];
        out += digits[p[i] & 0xf];
    }
}

} // namespace

std::string hash_hex(digest_algorithm algorithm, std::initializer_list<std::string_view> parts) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (ctx == nullptr) throw std::bad_alloc();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    bool ok = EVP_DigestInit_ex(ctx, md_of(algorithm), nullptr) == 1;
    bool first = true;
    for (std::string_view part : parts) {
        if (!first) ok = ok && EVP_DigestUpdate(ctx, ":", 1) == 1;
        first = false;
        ok = ok && EVP_DigestUpdate(ctx, part.data(), part.size()) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) throw std::runtime_error("digest: the hash failed");
    std::string out;
    out.reserve(2 * len);
    append_hex(out, md, len);
    return out;
}

std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view data) {
    std::array<unsigned char, 32> out{};
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
             &len) == nullptr ||
        len != out.size())
        throw std::runtime_error("digest: HMAC-SHA256 failed");
    return out;
}

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
        throw std::runtime_error("digest: no random bytes (RAND_bytes failed)");
    return out;
}

bool same_secret(std::string_view a, std::string_view b) noexcept {
    unsigned char da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];
    if (EVP_Digest(a.data(), a.size(), da, nullptr, EVP_sha256(), nullptr) != 1 ||
        EVP_Digest(b.data(), b.size(), db, nullptr, EVP_sha256(), nullptr) != 1)
        return false;
    return CRYPTO_memcmp(da, db, sizeof da) == 0;
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

} // namespace wharf::detail::auth
