// SPDX-License-Identifier: MIT
#include "compress/policy.hpp"

#include "http/chars.hpp"

namespace wharf::detail::compress {

coding to_coding(content_coding c) noexcept {
    switch (c) {
    case content_coding::br:
        return coding::br;
    case content_coding::zstd:
        return coding::zstd;
    case content_coding::gzip:
        break;
    }
    return coding::gzip;
}

std::optional<coding> choose_coding(const accept_list& accept_encoding,
                                    std::span<const content_coding> offered) noexcept {
    if (!accept_encoding.present()) return std::nullopt; // RFC 9110 §12.5.3: no preference
    std::optional<coding> best;
    std::uint16_t best_q = 0;
    for (const content_coding c : offered) {
        const std::uint16_t q = accept_encoding.quality(coding_name(to_coding(c)));
        if (q > best_q) {
            best = to_coding(c);
            best_q = q;
        }
    }
    if (best && accept_encoding.quality("identity") > best_q) return std::nullopt;
    return best;
}

bool compressible_type(std::string_view content_type,
                       std::span<const std::string> patterns) noexcept {
    const std::string_view type = chars::trim_ows(content_type.substr(0, content_type.find(';')));
    const std::size_t slash = type.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == type.size()) return false;
    for (const std::string& p : patterns) {
        const std::string_view pattern = p;
        if (pattern.starts_with("*+")) {
            const std::string_view suffix = pattern.substr(1); // "+json"
            if (type.size() > suffix.size() &&
                iequals(type.substr(type.size() - suffix.size()), suffix))
                return true;
        } else if (pattern.ends_with("/*")) {
            if (iequals(type.substr(0, slash + 1), pattern.substr(0, pattern.size() - 1)))
                return true;
        } else if (iequals(type, pattern)) {
            return true;
        }
    }
    return false;
}

std::string etag_with_coding(std::string_view etag, coding c) {
    const std::string_view opaque = etag.starts_with("W/") ? etag.substr(2) : etag;
    if (opaque.size() < 2 || opaque.front() != '"' || opaque.back() != '"')
        return std::string(etag);
    std::string out(etag.substr(0, etag.size() - 1));
    out += '-';
    out += coding_name(c);
    out += '"';
    return out;
}

} // namespace wharf::detail::compress
