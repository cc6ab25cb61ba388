// SPDX-License-Identifier: MIT
// Filters (middleware): what wraps handlers — authentication, compression, CORS — without the
// connection code knowing about any of them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "wharf/router.hpp"

namespace wharf {

class response;

/// Rewrites one response's body on its way out (compression, say). It sees the body's bytes
/// in order, whatever they were made of (memory, files, sources), and its output is what the
/// client gets; the response is framed by that output (chunked, or no length on HTTP/2, unless
/// the whole body went out in one send).
class body_transform {
  public:
    virtual ~body_transform() = default;
    /// How far the input of one call reaches.
    enum class boundary : std::uint8_t {
        none,   ///< more input follows at once
        flush,  ///< the handler's send ends here (send_flags::more): emit all that `in` implies
        finish, ///< the body ends here
    };
    /// Appends the output for `in` to `out`. An error abandons the response (the connection
    /// is cut: part of it may be out already).
    virtual std::error_code transform(std::string_view in, boundary end, std::string& out) = 0;
    /// The response ended up without a body to transform (HEAD, 304, 412): undo in its fields
    /// what on_head set for the transform (a Content-Encoding, say).
    virtual void abandon(response& res) { (void)res; }
};

/// What on_head is told of the response about to start.
struct head_context {
    /// This first send is also the last: the whole body is in the response now (its size is
    /// res.body_size() when known). False when the handler streams the body in further sends.
    bool whole = false;
};

/// Wraps handlers. `before` runs ahead of the handler and may answer instead of it; `on_head`
/// runs when the response head is about to go out (the first send, however the handler sends:
/// whole, streamed, after a suspend) and may change status and fields and install a
/// body_transform. One filter object serves every worker thread at once: its hooks must be
/// safe to call concurrently for different sessions.
class filter {
  public:
    virtual ~filter() = default;
    enum class verdict : std::uint8_t {
        next,     ///< go on to the next filter, then the handler
        answered, ///< the filter built the response (or will send it): the handler does not run
    };
    /// Runs before the handler, on its thread; it may do anything a handler may (suspend, too).
    virtual verdict before(session& s) {
        (void)s;
        return verdict::next;
    }
    /// Runs just before the response head is written, before conditional requests and ranges
    /// are answered. A filter that changes the representation of a response that processes
    /// ranges gives it its own validator with res.process_ranges(new_etag, res.last_modified()):
    /// that is the ETag sent and the one If-None-Match meets. Returns a transform for the body,
    /// or null.
    virtual std::unique_ptr<body_transform> on_head(session& s, const head_context& head) {
        (void)s;
        (void)head;
        return nullptr;
    }
};

/// A handler that runs `filters` in order, then `h`. Their on_head hooks run in the reverse
/// order (the outermost filter sees the response last), and so do their transforms.
handler with_filters(std::vector<std::shared_ptr<filter>> filters, handler h);

} // namespace wharf
