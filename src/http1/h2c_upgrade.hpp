// SPDX-License-Identifier: MIT
// Whether an HTTP/1.1 request asks to go on in HTTP/2 over cleartext (RFC 7540 §3.2:
// `Upgrade: h2c`, `Connection: Upgrade, HTTP2-Settings` and one HTTP2-Settings field), and
// what HTTP/2 needs to answer it as its stream 1.
#pragma once

#include <memory>
#include <span>

#include "http/h2c_upgrade.hpp"
#include "http1/parser.hpp"

namespace wharf::http1 {

/// The upgrade `head` asks for, or null when it asks for none (or for one wharf does not do:
/// a malformed HTTP2-Settings value is simply not upgraded, RFC 7540 §3.2.1 lets the server
/// ignore it). `host` is the request's authority.
std::unique_ptr<detail::h2c_upgrade> h2c_upgrade_request(const request_head& head,
                                                         std::span<const header_field> fields,
                                                         std::string_view host);

} // namespace wharf::http1
