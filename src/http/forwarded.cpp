// SPDX-License-Identifier: MIT
#include "http/forwarded.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

#include "http/chars.hpp"

namespace wharf::detail {
namespace {

/// The 16 bytes of an IPv6 address or the 4 of an IPv4 one (IPv4-mapped IPv6 becomes IPv4).
bool address_bytes(const address& a, std::uint8_t out[16], int& family) {
    if (a.family() == AF_INET) {
        std::memcpy(out, &reinterpret_cast<const sockaddr_in*>(a.data())->sin_addr, 4);
        family = AF_INET;
        return true;
    }
    if (a.family() == AF_INET6) {
        const auto* in6 = &reinterpret_cast<const sockaddr_in6*>(a.data())->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(in6)) {
            std::memcpy(out, in6->s6_addr + 12, 4);
            family = AF_INET;
        } else {
            std::memcpy(out, in6->s6_addr, 16);
            family = AF_INET6;
        }
        return true;
    }
    return false;
}

/// An address from its text form without a port ("1.2.3.4", "2001:db8::1"), with `port`.
std::optional<address> ip_of(std::string_view text, std::uint16_t port) {
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    char buf[INET6_ADDRSTRLEN];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    sockaddr_in v4{};
    if (inet_pton(AF_INET, buf, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons(port);
        return address::from(reinterpret_cast<const sockaddr*>(&v4), sizeof v4);
    }
    sockaddr_in6 v6{};
    if (inet_pton(AF_INET6, buf, &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(port);
        return address::from(reinterpret_cast<const sockaddr*>(&v6), sizeof v6);
    }
    return std::nullopt;
}

std::optional<std::uint16_t> port_of(std::string_view text) {
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v > 65535)
        return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

/// RFC 7239 §6 node: IPv4, "[" IPv6 "]", each with an optional ":" port; "unknown" and
/// obfuscated identifiers ("_x") give nullopt (no address to use).
std::optional<address> node_of(std::string_view node) {
    std::uint16_t port = 0;
    std::string_view host = node;
    if (node.starts_with('[')) {
        const std::size_t close = node.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = node.substr(1, close - 1);
        const std::string_view rest = node.substr(close + 1);
        if (!rest.empty()) {
            if (rest[0] != ':') return std::nullopt;
            const auto p = port_of(rest.substr(1));
            if (!p) return std::nullopt; // obfuscated port: the address alone is still usable
            port = *p;
        }
        if (host.find(':') == std::string_view::npos) return std::nullopt; // IPv6 only
        return ip_of(host, port);
    }
    if (const std::size_t colon = node.find(':'); colon != std::string_view::npos) {
        host = node.substr(0, colon);
        const auto p = port_of(node.substr(colon + 1));
        if (!p) return std::nullopt;
        port = *p;
    }
    if (host.find('.') == std::string_view::npos) return std::nullopt; // IPv4 only unbracketed
    return ip_of(host, port);
}

/// One hop's for= node, unquoted; "" when the element has no for=, nullopt when malformed.
std::optional<std::string> forwarded_for(std::string_view element) {
    std::optional<std::string> found = std::string();
    bool ok = true;
    std::string_view rest = element;
    while (!rest.empty() && ok) {
        const std::size_t semi = rest.find(';');
        const std::string_view pair = chars::trim_ows(rest.substr(0, semi));
        rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
        const std::size_t eq = pair.find('=');
        if (eq == std::string_view::npos || eq == 0) return std::nullopt;
        if (!iequals(pair.substr(0, eq), "for")) continue;
        std::string_view value = pair.substr(eq + 1);
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
            std::string unquoted;
            for (std::size_t i = 0; i < value.size(); ++i) {
                if (value[i] == '\\' && i + 1 < value.size()) ++i;
                unquoted += value[i];
            }
            found = std::move(unquoted);
        } else {
            if (value.empty() || value.find('"') != std::string_view::npos) return std::nullopt;
            found = std::string(value);
        }
    }
    return found;
}

} // namespace

std::optional<trusted_networks> trusted_networks::parse(const std::vector<std::string>& specs,
                                                        std::string& error) {
    trusted_networks out;
    for (const std::string& spec : specs) {
        if (spec == "unix") {
            out.unix_ = true;
            continue;
        }
        const std::size_t slash = spec.find('/');
        const auto ip = ip_of(std::string_view(spec).substr(0, slash), 0);
        net n{};
        if (!ip || !address_bytes(*ip, n.bytes, n.family)) {
            error = "invalid trusted proxy '" + spec + "'";
            return std::nullopt;
        }
        const int bits = n.family == AF_INET ? 32 : 128;
        n.prefix = bits;
        if (slash != std::string::npos) {
            int p = -1;
            const std::string_view text = std::string_view(spec).substr(slash + 1);
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), p);
            if (text.empty() || ec != std::errc() || end != text.data() + text.size() || p < 0 ||
                p > bits) {
                error = "invalid trusted proxy prefix '" + spec + "'";
                return std::nullopt;
            }
            n.prefix = p;
        }
        out.nets_.push_back(n);
    }
    return out;
}

bool trusted_networks::contains(const address& a) const noexcept {
    if (a.is_unix()) return unix_;
    std::uint8_t bytes[16];
    int family = 0;
    if (!address_bytes(a, bytes, family)) return false;
    for (const net& n : nets_) {
        if (n.family != family) continue;
        const int whole = n.prefix / 8, rest = n.prefix % 8;
        if (std::memcmp(bytes, n.bytes, static_cast<std::size_t>(whole)) != 0) continue;
        if (rest != 0) {
            const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
            if ((bytes[whole] & mask) != (n.bytes[whole] & mask)) continue;
        }
        return true;
    }
    return false;
}

std::optional<address> forwarded_client(const header_view& headers, const address& peer,
                                        const trusted_networks& trusted) {
    if (!trusted.contains(peer)) return std::nullopt;
    // The hops, farthest first, as the fields list them.
    std::vector<std::optional<address>> hops;
    bool malformed = false;
    const bool has_forwarded = headers.contains("Forwarded");
    for (const header_field& f : headers) {
        if (has_forwarded ? !iequals(f.name, "Forwarded") : !iequals(f.name, "X-Forwarded-For"))
            continue;
        chars::for_each_element(f.value, [&](std::string_view element) {
            if (has_forwarded) {
                const auto node = forwarded_for(element);
                if (!node) {
                    malformed = true;
                    return false;
                }
                if (node->empty()) return true; // a hop that did not say whom it forwarded for
                hops.push_back(node_of(*node));
            } else {
                hops.push_back(ip_of(element, 0));
                if (!hops.back()) malformed = true;
            }
            return !malformed;
        });
        if (malformed || hops.size() > 64) return std::nullopt;
    }
    // From the nearest hop back: trusted ones pass the question on.
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
        if (!*it) return std::nullopt; // unknown or obfuscated: no address to believe
        if (!trusted.contains(**it) || std::next(it) == hops.rend()) return **it;
    }
    return std::nullopt;
}

} // namespace wharf::detail
