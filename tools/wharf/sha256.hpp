// SPDX-License-Identifier: MIT
// An incremental SHA-256 (OpenSSL EVP) for the demo endpoints that hash what streams in.
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace wharf_cli {

class sha256 {
  public:
    sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
    sha256(const sha256&) = delete;
    sha256& operator=(const sha256&) = delete;
    ~sha256() { EVP_MD_CTX_free(ctx_); }

    void update(std::string_view bytes) { EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()); }
    /// The digest of everything updated so far, in lower-case hex; ends the hash.
    std::string hex() {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_DigestFinal_ex(ctx_, md, &len);
        std::string out;
        for (unsigned i = 0; i < len; ++i)
            out += fmt::format("{:02x}", md[i]);
        return out;
    }

  private:
    EVP_MD_CTX* ctx_;
};

} // namespace wharf_cli
