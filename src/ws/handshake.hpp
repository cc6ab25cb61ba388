// SPDX-License-Identifier: MIT
// The opening handshake (RFC 6455 §4.2): checking the client's request, the accept key, and
// negotiating permessage-deflate (RFC 7692 §7.1).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wharf/headers.hpp"
#include "wharf/request.hpp"

namespace wharf::detail::ws {

/// Why a request is not a WebSocket handshake this server takes.
struct handshake_problem {
    int status = 0; ///< 0: none; 426 (not a WebSocket request, or another version) or 400
    std::string_view reason;
};

/// Checks method, version, Upgrade, Connection, Sec-WebSocket-Key and -Version; on HTTP/2,
/// the extended CONNECT of RFC 8441 and Sec-WebSocket-Version.
handshake_problem check_handshake(const request& r) noexcept;

/// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string accept_key(std::string_view key);

/// The subprotocols the client offered, in its order.
std::vector<std::string_view> offered_subprotocols(const header_view& headers);

/// permessage-deflate as agreed with the client.
struct deflate_agreement {
    bool enabled = false;
    bool server_context_takeover = false; ///< our compressor keeps its history
    bool client_context_takeover = true;  ///< the client's does (our inflater keeps a window)
    int server_window_bits = 15;
    std::string response; ///< the Sec-WebSocket-Extensions value to answer with
};

/// Takes the first offer of permessage-deflate in Sec-WebSocket-Extensions that is valid and
/// that zlib can honour. `context_takeover`: whether the server keeps its compression history
/// when the client allows it (otherwise it always answers server_no_context_takeover).
deflate_agreement negotiate_deflate(const header_view& headers, bool context_takeover);

} // namespace wharf::detail::ws
