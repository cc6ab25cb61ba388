// SPDX-License-Identifier: MIT
// Character classes of RFC 9110 §5.6 and of RFC 3986 (request targets), as 256-entry tables
// built at compile time.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "wharf/headers.hpp"

namespace wharf::chars {

/// unreserved (RFC 3986 §2.3).
constexpr bool is_unreserved(int c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}
/// sub-delims (RFC 3986 §2.2).
constexpr bool is_sub_delim(int c) noexcept {
    for (char t : {'!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '='})
        if (c == t) return true;
    return false;
}

namespace detail {
constexpr bool is_tchar(int c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    for (char t : {'!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~'})
        if (c == t) return true;
    return false;
}
template <class Pred>
constexpr std::array<bool, 256> table_of(Pred pred) {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c)
        t[static_cast<std::size_t>(c)] = pred(c);
    return t;
}
} // namespace detail

using table = std::array<bool, 256>;

/// tchar: the characters of a token (method, field name, transfer coding).
inline constexpr table token = detail::table_of([](int c) { return detail::is_tchar(c); });

/// field-vchar, SP and HTAB: what a field value may hold (obs-text included).
inline constexpr table field_value =
    detail::table_of([](int c) { return c == '\t' || (c >= 0x20 && c != 0x7f); });

/// What a request target may hold outside a percent-escape (RFC 9112 §3.2, RFC 3986 §3):
/// unreserved, sub-delims and the gen-delims ':', '/', '?', '@', '[' and ']'. Never CTL, SP,
/// DEL or 8-bit bytes, nor the visible bytes that no URI holds (" < > \ ^ ` { | }). Also not:
///   '#'  a fragment is never sent in a request target (RFC 9112 §3.2);
///   '%'  the parser checks the two HEXDIGs that must follow it, then goes on.
/// '[' and ']' stay, although RFC 3986 allows them only around an IP literal in the authority
/// (absolute-form "http://[::1]/"): browsers send them unencoded in queries ("?a[]=1").
inline constexpr table target = detail::table_of([](int c) {
    return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '/' || c == '?' || c == '@' ||
           c == '[' || c == ']';
});

/// HEXDIG (RFC 5234 B.1, case-insensitive as every ABNF string).
constexpr bool is_hexdig(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/// OWS (RFC 9110 §5.6.3): a space or a horizontal tab.
constexpr bool is_ows(char c) noexcept {
    return c == ' ' || c == '\t';
}

/// `s` without leading and trailing OWS.
constexpr std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back()))
        s.remove_suffix(1);
    return s;
}

/// Calls f(element) for each non-empty element of a comma-separated list (RFC 9110 §5.6.1)
/// until f returns false; returns whether it never did.
template <class F>
bool for_each_element(std::string_view list, F&& f) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string_view element = trim_ows(list.substr(0, comma));
        if (!element.empty() && !f(element)) return false;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return true;
}

/// Whether the comma-separated list has `element` among its elements, ignoring case.
inline bool list_has(std::string_view list, std::string_view element) {
    return !for_each_element(list, [&](std::string_view e) { return !iequals(e, element); });
}

} // namespace wharf::chars
