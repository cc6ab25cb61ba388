// SPDX-License-Identifier: MIT
#include "http/uri.hpp"

#include "wharf/headers.hpp"

namespace wharf::detail {
namespace {

int hex(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void split_path_query(std::string_view rest, target_parts& out) noexcept {
    const auto q = rest.find('?');
    out.path = rest.substr(0, q);
    out.query = q == std::string_view::npos ? std::string_view{} : rest.substr(q + 1);
    if (const auto hash = out.query.find('#'); hash != std::string_view::npos)
        out.query = out.query.substr(0, hash);
}

} // namespace

bool split_target(std::string_view target, target_parts& out) noexcept {
    out = {};
    if (target.empty()) return false;
    if (target[0] == '/') {
        split_path_query(target, out);
        return true;
    }
    if (target == "*") {
        out.form = target_parts::asterisk_form;
        out.path = target;
        return true;
    }
    // absolute-form: scheme "://" authority [path-abempty] ["?" query]
    const auto scheme_end = target.find("://");
    if (scheme_end != std::string_view::npos) {
        const std::string_view scheme = target.substr(0, scheme_end);
        if (!iequals(scheme, "http") && !iequals(scheme, "https")) return false;
        std::string_view rest = target.substr(scheme_end + 3);
        const auto path_at = rest.find_first_of("/?");
        out.form = target_parts::absolute_form;
        out.authority = rest.substr(0, path_at);
        if (out.authority.empty() || out.authority.find('@') != std::string_view::npos)
            return false;
        if (path_at == std::string_view::npos) {
            out.path = "/";
        } else if (rest[path_at] == '?') {
            out.path = "/";
            out.query = rest.substr(path_at + 1);
        } else {
            split_path_query(rest.substr(path_at), out);
        }
        return true;
    }
    // authority-form (CONNECT only; the caller checks the method).
    if (target.find_first_of("/?#@") == std::string_view::npos &&
        target.find(':') != std::string_view::npos) {
        out.form = target_parts::authority_form;
        out.authority = target;
        return true;
    }
    return false;
}

bool decoding_is_identity(std::string_view in, bool plus_is_space) noexcept {
    // One pass, without a memchr per character (what find_first_of does).
    for (const char c : in)
        if (c == '%' || (plus_is_space && c == '+')) return false;
    return true;
}

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
    out.reserve(out.size() + in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '%') {
            if (i + 2 >= in.size()) return false;
            const int hi = hex(in[i + 1]);
            const int lo = hex(in[i + 2]);
            if (hi < 0 || lo < 0) return false;
            const char decoded = static_cast<char>(hi * 16 + lo);
            if (decoded == '\0') return false;
            out.push_back(decoded);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return true;
}

} // namespace wharf::detail
