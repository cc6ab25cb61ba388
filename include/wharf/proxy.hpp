// SPDX-License-Identifier: MIT
// What a load balancer said about a connection with the PROXY protocol (haproxy's spec, v1 and
// v2), on listeners that expect it (server_config::proxy_protocol).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "wharf/address.hpp"

namespace wharf {

struct proxy_info {
    int version = 0; ///< 1 or 2
    /// The balancer spoke for itself (v2 LOCAL, v1 UNKNOWN, an unspecified family, e.g. its
    /// health checks): the connection's own addresses stand.
    bool local = true;
    address source, destination; ///< the client's, and the address it connected to
    /// Version 2's TLVs in order (type, value), and the ones the spec names.
    std::vector<std::pair<std::uint8_t, std::string>> tlvs;
    std::string alpn, authority, unique_id;
};

} // namespace wharf
