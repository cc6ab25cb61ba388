// SPDX-License-Identifier: MIT
// Trusted proxies: who the client is when the connection comes from a proxy the server trusts,
// by its Forwarded (RFC 7239) or, without one, X-Forwarded-For field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wharf/address.hpp"
#include "wharf/headers.hpp"

namespace wharf::detail {

/// A set of networks: addresses and CIDR prefixes ("10.0.0.0/8", "2001:db8::/32", "::1").
class trusted_networks {
  public:
    /// Parses `specs`; on a malformed one, nullopt and `error` names it.
    static std::optional<trusted_networks> parse(const std::vector<std::string>& specs,
                                                 std::string& error);
    bool empty() const noexcept { return nets_.empty(); }
    /// Whether `a` (IPv4, IPv6 or IPv4-mapped IPv6) is in one of the networks; Unix sockets:
    /// when "unix" was listed.
    bool contains(const address& a) const noexcept;

  private:
    struct net {
        std::uint8_t bytes[16];
        int family;
        int prefix;
    };
    std::vector<net> nets_;
    bool unix_ = false;
};

/// The client's address when `peer` is trusted: walking the chain of hops from the nearest,
/// the first one not trusted (or the farthest one, when all are). Forwarded's for= (a port kept
/// when given) wins over X-Forwarded-For (port 0); several fields of one name form one list.
/// Nullopt, and the peer stands, when the peer is not trusted, no field names a hop, or the
/// fields are malformed or name a hop only by an obfuscated or "unknown" identifier.
std::optional<address> forwarded_client(const header_view& headers, const address& peer,
                                        const trusted_networks& trusted);

} // namespace wharf::detail
