// SPDX-License-Identifier: MIT
// read_multipart: a session's request body, read piece by piece, through a multipart_parser.
#include <memory>

#include "wharf/form.hpp"
#include "wharf/headers.hpp"
#include "wharf/session.hpp"

namespace wharf {

namespace {

body_error error_of(body_status status, std::string message, std::size_t offset = 0) {
    body_error e;
    e.status = status;
    e.message = std::move(message);
    e.offset = offset;
    return e;
}

/// One body read in progress; the read_body callback holds it until on_done.
struct multipart_read {
    multipart_read(std::string boundary, multipart_handlers h, const form_limits& limits)
        : handlers(std::move(h)),
          parser(
              std::move(boundary),
              {[this](const multipart_part& p) { return !handlers.on_part || handlers.on_part(p); },
               [this](std::string_view d) { return !handlers.on_data || handlers.on_data(d); },
               [this] { return !handlers.on_part_end || handlers.on_part_end(); }},
              limits) {}
    multipart_read(const multipart_read&) = delete;
    multipart_read& operator=(const multipart_read&) = delete;

    void done(const body_error& e) {
        if (handlers.on_done) handlers.on_done(e);
    }

    multipart_handlers handlers;
    multipart_parser parser; // its events point at `handlers`: declared after them
    std::uint64_t received = 0;
};

void read_next(session& s, std::shared_ptr<multipart_read> r) {
    // The connection delivers pieces that are already buffered in a loop, not by recursion, so
    // asking for the next piece from within the callback keeps the stack flat.
    s.read_body([&s, r](std::error_code ec, std::string_view piece, bool last) {
        if (ec) {
            r->done(error_of(body_status::malformed,
                             "the request body could not be read: " + ec.message(),
                             static_cast<std::size_t>(r->received)));
            return;
        }
        r->received += piece.size();
        if (!r->parser.feed(piece)) {
            r->done(r->parser.error());
            return;
        }
        if (!last) {
            read_next(s, r);
            return;
        }
        if (r->received == 0) {
            r->done(error_of(body_status::no_body, "the request has no body"));
            return;
        }
        if (!r->parser.finish()) {
            r->done(r->parser.error());
            return;
        }
        r->done({});
    });
}

} // namespace

void read_multipart(session& s, multipart_handlers handlers, const form_limits& limits) {
    s.defer();
    const request& req = s.request();
    const auto fail = [&](body_status status, std::string message) {
        if (handlers.on_done) handlers.on_done(error_of(status, std::move(message)));
    };
    // HTTP/1 tells from the head whether a body follows; HTTP/2 only once the stream ends.
    const auto length = req.header("Content-Length");
    if (req.version() != request::protocol_version::http2 && (!length || *length == "0") &&
        !req.header("Transfer-Encoding"))
        return fail(body_status::no_body, "the request has no body");
    if (!iequals(req.content_type().media_type, "multipart/form-data"))
        return fail(body_status::wrong_media_type, "the body is not multipart/form-data");
    auto boundary = multipart_parser::boundary_of(req.header("Content-Type").value_or(""));
    if (!boundary)
        return fail(body_status::malformed,
                    "multipart/form-data without a valid boundary parameter (RFC 2046 §5.1.1)");
    read_next(s,
              std::make_shared<multipart_read>(std::move(*boundary), std::move(handlers), limits));
}

} // namespace wharf
