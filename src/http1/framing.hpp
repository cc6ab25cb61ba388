// SPDX-License-Identifier: MIT
// What a parsed request head means for the connection (RFC 9112 §6-9): how its body is
// framed, whether the connection persists, and whether it breaks a rule that parsing alone
// cannot see (Host count, Content-Length vs Transfer-Encoding, ...).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "http1/parser.hpp"

namespace wharf::http1 {

struct request_framing {
    enum body_t { none, length, chunked } body = none;
    std::uint64_t content_length = 0;
    bool keep_alive = true;
    bool expect_continue = false;
    bool upgrade = false;
    std::string_view host;   ///< the Host field's value (absolute-form: see analyze_request)
    int status = 0;          ///< non-zero: the request is rejected with this status
    const char* reason = ""; ///< why, when rejected
};

/// Works out body framing, persistence and host; rejects (status 400, 417 or 501) Content-Length
/// with Transfer-Encoding, differing or malformed Content-Length, a final coding other than
/// chunked, codings we cannot decode, a missing or repeated Host on HTTP/1.1, a Host value that
/// is not `uri-host [ ":" port ]` (RFC 9110 §7.2; strict: no ',', a port of at most 65535, no
/// port without a host), and unknown expectations. The authority of an absolute-form target,
/// which the connection uses as the request's host in place of the Host field (RFC 9112
/// §3.2.2), and that of an authority-form target are held to the same rules and must not be
/// empty; an authority-form one needs its port.
request_framing analyze_request(const request_head& head,
                                std::span<const header_field> fields) noexcept;

} // namespace wharf::http1
