// SPDX-License-Identifier: MIT
// An HTTP/1.1 request that asked to go on in HTTP/2 (`Upgrade: h2c`, RFC 7540 §3.2): what the
// HTTP/2 connection needs to answer it as stream 1, copied out of the HTTP/1 buffers.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace wharf::detail {

struct h2c_upgrade {
    std::string settings; ///< the decoded HTTP2-Settings payload
    std::string method;
    std::string target;
    std::string authority;
    /// The request's fields with lower-case names; the upgrade's own and the connection's
    /// (Connection, Upgrade, HTTP2-Settings, Host, Keep-Alive, ...) left out.
    std::vector<std::pair<std::string, std::string>> fields;
};

} // namespace wharf::detail
