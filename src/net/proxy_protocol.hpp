// SPDX-License-Identifier: MIT
// The PROXY protocol (haproxy's spec, versions 1 and 2): the header a load balancer sends first
// on a connection, saying whose connection it really is. A pure parser, no I/O: give it the
// bytes received so far; it says whether they hold a whole header, might still become one, or
// cannot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wharf/proxy.hpp"

namespace wharf::detail::proxy {

/// TLV types of version 2 (spec §2.2.x).
enum tlv_type : std::uint8_t {
    tlv_alpn = 0x01,
    tlv_authority = 0x02,
    tlv_crc32c = 0x03,
    tlv_noop = 0x04,
    tlv_unique_id = 0x05,
    tlv_ssl = 0x20,
    tlv_netns = 0x30,
};

/// What a header said.
using header = proxy_info;

enum class status : std::uint8_t {
    incomplete, ///< a prefix of a valid header: read more
    done,       ///< a header of `consumed` bytes; what follows is the connection's own data
    invalid,    ///< not a header (or one that breaks the spec or our bounds): refuse
};

struct result {
    proxy::status status = status::incomplete;
    std::size_t consumed = 0;
    std::string_view error; ///< why, when invalid
};

/// The longest version 1 header (spec §2.1: 107 bytes, CRLF included).
inline constexpr std::size_t max_v1_bytes = 107;
/// The v2 header size accepted by default: the 16-byte head and up to 4080 bytes of addresses
/// and TLVs (the spec allows 65535; real balancers send well under 1 KiB).
inline constexpr std::size_t default_max_v2_bytes = 4096;
/// What to read before a header can be told apart from other bytes: v2's signature.
inline constexpr std::size_t v2_head_bytes = 16;

/// Parses the start of `bytes`. Strict: v1 needs "PROXY " and TCP4, TCP6 or UNKNOWN with
/// canonical addresses and ports (no leading zeros) and CRLF; v2 needs version 2, command LOCAL
/// or PROXY, a STREAM or UNSPEC transport, the address block its family needs, well-formed
/// TLVs, and a CRC32C TLV, when present, that matches.
result parse(std::string_view bytes, header& out, std::size_t max_v2_bytes = default_max_v2_bytes);

/// CRC-32C (Castagnoli) of `bytes`, as the CRC32C TLV carries it.
std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc = 0) noexcept;

} // namespace wharf::detail::proxy
