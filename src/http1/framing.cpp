// SPDX-License-Identifier: MIT
#include "http1/framing.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "http/chars.hpp"
#include "http/uri.hpp"

namespace wharf::http1 {
namespace {

// --- uri-host [ ":" port ] (RFC 9110 §4.2.3, §7.2; RFC 3986 §3.2.2-3.2.3) ---------------------
//
// ',' is a sub-delim, so the grammar lets a reg-name or an IPvFuture hold it, but it is refused
// everywhere here: a recipient that joins repeated fields into one list (RFC 9110 §5.3) turns two
// Host fields "a" and "b" into "a, b", so a comma in a Host value means (or fakes) two of them.

/// The bytes of a reg-name outside percent-escapes: unreserved and sub-delims but ','.
constexpr chars::table reg_name_char = chars::detail::table_of(
    [](int c) { return c != ',' && (chars::is_unreserved(c) || chars::is_sub_delim(c)); });

constexpr bool is_reg_name_char(char c) noexcept {
    return reg_name_char[static_cast<unsigned char>(c)];
}

/// reg-name = *( unreserved / pct-encoded / sub-delims ). IPv4address is a reg-name by its
/// characters, so it needs no rule of its own here.
bool is_reg_name(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size() || !chars::is_hexdig(s[i + 1]) || !chars::is_hexdig(s[i + 2]))
                return false;
            i += 2;
        } else if (!is_reg_name_char(s[i])) {
            return false;
        }
    }
    return true;
}

/// What is inside the brackets of IP-literal: IPv6address / IPvFuture. No zone identifier
/// (RFC 6874 is not part of HTTP's uri-host).
bool is_ip_literal_body(std::string_view s) noexcept {
    if (!s.empty() && (s[0] == 'v' || s[0] == 'V')) {
        // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
        std::size_t i = 1;
        while (i < s.size() && chars::is_hexdig(s[i]))
            ++i;
        if (i == 1 || i == s.size() || s[i] != '.' || i + 1 == s.size()) return false;
        for (++i; i < s.size(); ++i)
            if (!is_reg_name_char(s[i]) && s[i] != ':') return false;
        return true;
    }
    // IPv6address: inet_pton(AF_INET6) takes the text forms of RFC 4291 §2.2, which is what
    // RFC 3986's grammar spells out: up to eight h16 of 1-4 HEXDIGs, "::" at most once, an
    // optional trailing dotted quad without leading zeros; no zone, no brackets.
    char text[INET6_ADDRSTRLEN]; // 46: the longest form and its NUL
    if (s.empty() || s.size() >= sizeof text) return false;
    std::memcpy(text, s.data(), s.size());
    text[s.size()] = '\0';
    in6_addr addr;
    return ::inet_pton(AF_INET6, text, &addr) == 1;
}

/// port = *DIGIT, strictly: at most five digits and at most 65535 (a longer or larger port
/// names no TCP port; "00080" is fine, "000080" is not).
bool is_port(std::string_view s) noexcept {
    if (s.size() > 5) return false;
    unsigned n = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<unsigned>(c - '0');
    }
    return n <= 65535;
}

enum class authority_error { none, character, ip_literal, port, no_host, no_port };

/// Checks `uri-host [ ":" port ]`. An empty value is fine (a Host field for a target without
/// an authority); a port after an empty host is not: no http or https URI has an empty host
/// (RFC 9110 §4.2.1), so ":80" cannot come from a target URI. `need_port`: the ":" port part
/// is required and its port must not be empty (authority-form, RFC 9110 §9.3.6).
authority_error check_authority(std::string_view v, bool need_host, bool need_port) noexcept {
    std::string_view host = v;
    std::string_view rest;
    if (!v.empty() && v[0] == '[') {
        const std::size_t close = v.find(']');
        if (close == std::string_view::npos || !is_ip_literal_body(v.substr(1, close - 1)))
            return authority_error::ip_literal;
        host = v.substr(0, close + 1);
        rest = v.substr(close + 1);
        if (!rest.empty() && rest[0] != ':') return authority_error::character;
    } else {
        const std::size_t colon = v.find(':');
        if (colon != std::string_view::npos) {
            host = v.substr(0, colon);
            rest = v.substr(colon);
        }
        if (!is_reg_name(host)) return authority_error::character;
    }
    if (!rest.empty()) rest.remove_prefix(1); // the ':'
    if (!is_port(rest)) return authority_error::port;
    if (host.empty() && (need_host || !v.empty())) return authority_error::no_host;
    if (need_port && rest.empty()) return authority_error::no_port;
    return authority_error::none;
}

const char* host_field_reason(authority_error e) noexcept {
    switch (e) {
    case authority_error::none:
        break;
    case authority_error::character:
        return "invalid character in Host header";
    case authority_error::ip_literal:
        return "malformed IP literal in Host header";
    case authority_error::port:
        return "malformed port in Host header";
    case authority_error::no_host:
    case authority_error::no_port:
        return "port without a host in Host header";
    }
    return "";
}

const char* target_authority_reason(authority_error e) noexcept {
    switch (e) {
    case authority_error::none:
        break;
    case authority_error::character:
        return "invalid character in the host of the request target";
    case authority_error::ip_literal:
        return "malformed IP literal in the request target";
    case authority_error::port:
        return "malformed port in the request target";
    case authority_error::no_host:
        return "empty host in the request target";
    case authority_error::no_port:
        return "missing port in an authority-form request target";
    }
    return "";
}

request_framing reject(request_framing f, int status, const char* reason) noexcept {
    f.status = status;
    f.reason = reason;
    return f;
}

} // namespace

request_framing analyze_request(const request_head& head,
                                std::span<const header_field> fields) noexcept {
    request_framing f;
    const bool http11 = head.minor >= 1;
    f.keep_alive = http11;

    int hosts = 0;
    bool have_length = false;
    bool have_te = false;
    bool chunked_seen = false;
    bool chunked_last = false;
    bool unknown_coding = false;

    for (const header_field& h : fields) {
        const std::string_view name = h.name;
        if (name.size() == 4 && iequals(name, "host")) {
            ++hosts;
            f.host = h.value;
        } else if (name.size() == 14 && iequals(name, "content-length")) {
            // "5", or a list of identical values ("5, 5") from a repeating intermediary.
            bool ok = true;
            chars::for_each_element(h.value, [&](std::string_view v) {
                if (v.size() > 18) return ok = false;
                std::uint64_t n = 0;
                for (char c : v) {
                    if (c < '0' || c > '9') return ok = false;
                    n = n * 10 + static_cast<unsigned>(c - '0');
                }
                if (have_length && n != f.content_length) return ok = false;
                have_length = true;
                f.content_length = n;
                return true;
            });
            if (!ok || h.value.find_first_of("0123456789") == std::string_view::npos)
                return reject(f, 400, "malformed or conflicting Content-Length");
        } else if (name.size() == 17 && iequals(name, "transfer-encoding")) {
            have_te = true;
            chars::for_each_element(h.value, [&](std::string_view coding) {
                if (chunked_seen) chunked_last = false; // chunked must be last and only once
                if (iequals(coding, "chunked")) {
                    if (chunked_seen) unknown_coding = true;
                    chunked_seen = chunked_last = true;
                } else {
                    unknown_coding = true;
                }
                return true;
            });
        } else if (name.size() == 10 && iequals(name, "connection")) {
            chars::for_each_element(h.value, [&](std::string_view option) {
                if (iequals(option, "close"))
                    f.keep_alive = false;
                else if (iequals(option, "keep-alive") && !http11)
                    f.keep_alive = true;
                else if (iequals(option, "upgrade"))
                    f.upgrade = true;
                return true;
            });
        } else if (name.size() == 6 && iequals(name, "expect")) {
            if (!iequals(h.value, "100-continue")) return reject(f, 417, "unsupported expectation");
            f.expect_continue = http11;
        }
    }
    // "close" wins over "keep-alive" wherever it appears.
    for (const header_field& h : fields)
        if (iequals(h.name, "connection"))
            chars::for_each_element(h.value, [&](std::string_view option) {
                if (iequals(option, "close")) f.keep_alive = false;
                return true;
            });

    if (http11 && hosts == 0) return reject(f, 400, "missing Host header");
    if (hosts > 1) return reject(f, 400, "more than one Host header");
    // RFC 9112 §3.2: a Host field with an invalid value is a 400, whatever the target's form.
    if (const auto e = check_authority(f.host, false, false); e != authority_error::none)
        return reject(f, 400, host_field_reason(e));
    // The authority of an absolute-form target stands in for Host (RFC 9112 §3.2.2: the
    // connection hands it to the request as its host), so it meets the same rules, and may not
    // be empty; that of an authority-form target (CONNECT) must also have a port.
    if (!head.target.empty() && head.target[0] != '/') {
        detail::target_parts parts;
        if (detail::split_target(head.target, parts) &&
            parts.form != detail::target_parts::asterisk_form) {
            const bool authority_form = parts.form == detail::target_parts::authority_form;
            const auto e = check_authority(parts.authority, true, authority_form);
            if (e != authority_error::none) return reject(f, 400, target_authority_reason(e));
        }
        // A target of none of the four forms is the connection's to refuse.
    }

    if (have_te) {
        // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 or beside Content-Length is faulty
        // framing and a smuggling vector; reject rather than guess.
        if (!http11) return reject(f, 400, "Transfer-Encoding in an HTTP/1.0 request");
        if (have_length) return reject(f, 400, "both Content-Length and Transfer-Encoding");
        if (!chunked_last) return reject(f, 400, "final transfer coding is not chunked");
        if (unknown_coding) return reject(f, 501, "unsupported transfer coding");
        f.body = request_framing::chunked;
        return f;
    }
    if (have_length && f.content_length > 0) f.body = request_framing::length;
    if (f.body == request_framing::none) f.expect_continue = false;
    return f;
}

} // namespace wharf::http1
