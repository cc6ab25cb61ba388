// SPDX-License-Identifier: MIT
// The HTTP/1 framer: how a connection turns its exchange's output into bytes on the wire (the
// head, Content-Length, chunked or close-delimited bodies, the last chunk) and whether the
// connection lives on after the response. Every chunk line comes from chunk_framer.
#include "http1/connection.hpp"

#include "http/access.hpp"
#include "http1/chunk_framer.hpp"
#include "http1/serializer.hpp"

namespace wharf::http1 {

void connection::write_head(detail::exchange& x, const detail::response_head& h) {
    const response& res = x.session().response();
    const request& req = x.session().request();
    if (x.close_requested()) response_keep_alive_ = false;
    if (auto c = res.headers().get("Connection"); c && iequals(*c, "close"))
        response_keep_alive_ = false;

    head_options opt;
    opt.date_line = worker_.date_line();
    opt.server_name = config_.server_name;
    opt.http10 = req.http_minor() == 0;
    opt.content_length = !h.status_forbids_body;
    if (h.status_forbids_body) {
        out_framing_ = body_framing::length;
    } else if (h.length) {
        out_framing_ = body_framing::length;
        opt.body_length = *h.length;
    } else if (req.http_minor() >= 1) {
        out_framing_ = body_framing::chunked;
        opt.chunked = true;
    } else {
        // HTTP/1.0 and no length: the end of the body is the end of the connection (S20).
        out_framing_ = body_framing::close_delimited;
        opt.content_length = false;
        response_keep_alive_ = false;
    }
    opt.keep_alive = response_keep_alive_;
    if (upgrade_) {
        out_framing_ = body_framing::length;
        opt.content_length = false;
        opt.upgrade = true;
    }

    if (!out_.has_spare()) out_.give_spare(worker_.take_send_buffer());
    char* p = out_.prepare(head_size_bound(res, opt));
    char* end = http1::write_head(p, res, opt);
    out_.commit(static_cast<std::size_t>(end - p));
    ++unsent_responses_;
}

void connection::write_body(detail::exchange&, detail::body_piece&& piece,
                            std::optional<std::uint64_t> size, std::uint64_t limit) {
    if (piece.kind == detail::body_piece::source) {
        // Wake the flush when a blocked source has bytes again; the weak handle makes a late
        // notify from another thread harmless.
        std::weak_ptr<connection*> weak = self_;
        detail::source_access::set_readable_hook(*piece.src, [weak, loop = loop_.shared_mailbox()] {
            loop->post([weak] {
                if (auto self = weak.lock()) (*self)->flush();
            });
        });
    }
    const bool chunked = out_framing_ == body_framing::chunked;
    if (chunked && size) {
        out_.commit(write_chunk_line(out_.prepare(max_chunk_line), *size));
        out_.append_piece(std::move(piece));
        out_.append(chunk_end);
    } else {
        out_.append_piece(std::move(piece), chunked ? &chunk_framing : nullptr, limit);
    }
}

void connection::write_body(detail::exchange&, std::string&& bytes) {
    if (out_framing_ == body_framing::chunked) {
        out_.commit(write_chunk_line(out_.prepare(max_chunk_line), bytes.size()));
        out_.append_owned(std::move(bytes));
        out_.append(chunk_end);
    } else {
        out_.append_owned(std::move(bytes));
    }
}

void connection::end_body(detail::exchange& x) {
    if (x.body_allowed() && out_framing_ == body_framing::chunked) {
        const field_list& trailers = x.session().response().trailers();
        if (trailers.empty()) {
            out_.append(last_chunk);
        } else {
            char* p = out_.prepare(last_chunk_size_bound(trailers));
            out_.commit(static_cast<std::size_t>(write_last_chunk(p, trailers) - p));
        }
    }
    if (x.close_requested()) response_keep_alive_ = false;
    if (!response_keep_alive_) close_after_output_ = true;
}

void connection::write_marker(detail::exchange&, send_callback done, std::uint64_t bytes) {
    out_.append_marker(std::move(done), bytes);
}

void connection::hold_output(detail::exchange&, bool on) {
    out_.set_hold(on);
}

void connection::flush(detail::exchange&) {
    if (!batching_) flush(); // inside a read, the flush after the batch sends it
}

} // namespace wharf::http1
