// SPDX-License-Identifier: MIT
#include "auth/auth_params.hpp"

#include "http/chars.hpp"
#include "wharf/headers.hpp"

namespace wharf::detail::auth {
namespace {

bool is_token_char(char c) noexcept {
    return chars::token[static_cast<unsigned char>(c)];
}

// qdtext (RFC 9110 §5.6.4): HTAB, SP, visible characters but '"' and '\', and obs-text.
bool is_qdtext(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return c == '\t' || c == ' ' || c == 0x21 || (u >= 0x23 && u <= 0x5b) ||
           (u >= 0x5d && u <= 0x7e) || u >= 0x80;
}

// What may follow a backslash in a quoted-pair: HTAB, SP, VCHAR, obs-text.
bool is_quotable(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return c == '\t' || (u >= 0x20 && u != 0x7f);
}

class cursor {
  public:
    explicit cursor(std::string_view s) noexcept : s_(s) {}
    bool done() const noexcept { return at_ == s_.size(); }
    char peek() const noexcept { return s_[at_]; }
    void skip_ows() noexcept {
        while (!done() && chars::is_ows(peek()))
            ++at_;
    }
    std::string_view token() noexcept {
        const std::size_t from = at_;
        while (!done() && is_token_char(peek()))
            ++at_;
        return s_.substr(from, at_ - from);
    }
    bool eat(char c) noexcept {
        if (done() || peek() != c) return false;
        ++at_;
        return true;
    }
    /// A quoted-string, the opening quote already consumed; false when it is malformed.
    bool quoted_rest(std::string& out) {
        while (!done()) {
            const char c = s_[at_++];
            if (c == '"') return true;
            if (c == '\\') {
                if (done() || !is_quotable(peek())) return false;
                out += s_[at_++];
            } else if (is_qdtext(c)) {
                out += c;
            } else {
                return false;
            }
        }
        return false; // unterminated
    }

  private:
    std::string_view s_;
    std::size_t at_ = 0;
};

} // namespace

std::optional<credentials_view> split_credentials(std::string_view value) noexcept {
    cursor c(value);
    const std::string_view scheme = c.token();
    if (scheme.empty()) return std::nullopt;
    if (scheme.size() == value.size()) return credentials_view{scheme, {}};
    const char after = value[scheme.size()];
    if (after != ' ' && after != '\t') return std::nullopt;
    return credentials_view{scheme, chars::trim_ows(value.substr(scheme.size()))};
}

bool is_token68(std::string_view s) noexcept {
    std::size_t i = 0;
    const auto t68 = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    };
    while (i < s.size() && t68(s[i]))
        ++i;
    if (i == 0) return false;
    while (i < s.size() && s[i] == '=')
        ++i;
    return i == s.size();
}

const std::string* params_result::get(std::string_view name) const noexcept {
    for (const auth_param& p : params)
        if (iequals(p.name, name)) return &p.value;
    return nullptr;
}

params_result parse_auth_params(std::string_view list) {
    params_result r;
    cursor c(list);
    const auto fail = [&r](params_error e) {
        r.params.clear();
        r.error = e;
        return r;
    };
    while (true) {
        c.skip_ows();
        if (c.done()) break;
        if (c.eat(',')) continue; // an empty list element
        const std::string_view name = c.token();
        if (name.empty()) return fail(params_error::syntax);
        c.skip_ows();
        if (!c.eat('=')) return fail(params_error::syntax);
        c.skip_ows();
        std::string value;
        if (c.eat('"')) {
            if (!c.quoted_rest(value)) return fail(params_error::syntax);
        } else {
            const std::string_view token = c.token();
            if (token.empty()) return fail(params_error::syntax);
            value = token;
        }
        c.skip_ows();
        if (!c.done() && !c.eat(',')) return fail(params_error::syntax);
        if (r.get(name) != nullptr) return fail(params_error::duplicate);
        if (r.params.size() == max_auth_params) return fail(params_error::too_many);
        r.params.push_back({name, std::move(value)});
    }
    return r;
}

std::string quoted(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (char ch : s) {
        if (ch == '"' || ch == '\\') out += '\\';
        out += ch;
    }
    out += '"';
    return out;
}

} // namespace wharf::detail::auth
