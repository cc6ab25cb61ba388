// SPDX-License-Identifier: MIT
// One HTTP/2 stream: a request whose fields arrive as nghttp2 decodes them, its exchange, and
// the response body waiting to be framed. nghttp2 decides when a stream may send (windows,
// priorities); the stream hands it DATA without copying (memory by reference, files by
// range) and moves each send's completion behind the bytes it covers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nghttp2/nghttp2.h>

#include "http/exchange.hpp"
#include "http/h2c_upgrade.hpp"
#include "wharf/body.hpp"

namespace wharf::http2 {

class connection;
class tunnel;

class stream final : public detail::exchange_protocol {
  public:
    stream(connection& c, std::int32_t id);
    ~stream();
    stream(const stream&) = delete;
    stream& operator=(const stream&) = delete;

    std::int32_t id() const noexcept { return id_; }
    /// Whether a finished stream can carry another request (see reuse()).
    bool reusable() const noexcept;
    /// Makes a finished stream new again for stream `id` of `c`, keeping its allocations.
    void reuse(connection& c, std::int32_t id);

    // The request, as nghttp2 delivers it.
    /// One decoded field; false when the stream is already refused (the field is dropped).
    void add_field(nghttp2_rcbuf* name, nghttp2_rcbuf* value, bool trailer);
    /// The HTTP/1.1 request of an h2c upgrade is this stream's (whole) request.
    void adopt_request(std::unique_ptr<detail::h2c_upgrade> request);
    /// The request's HEADERS ended; `end_stream`: no body follows.
    void headers_done(bool end_stream);
    void trailers_done();
    void body_data(const std::uint8_t* data, std::size_t len);
    /// The client ended its side (END_STREAM).
    void request_ended();
    /// nghttp2 closed the stream (`error_code` from RST_STREAM, or NO_ERROR), or the connection
    /// went away (`gone`).
    void closed(std::uint32_t error_code, bool gone = false);
    bool is_closed() const noexcept { return closed_; }
    /// When this stream's next deadline falls (0: none): a request body that stopped coming
    /// (timeouts::body_read), a response the client's window holds below min_send_rate.
    std::int64_t deadline(const timeouts& t) const noexcept;
    /// Acts on the deadlines that passed at `now`; true when the stream was reset because the
    /// client kept its window shut.
    bool check_deadlines(std::int64_t now, const timeouts& t);
    /// Frees what points into the session (field buffers) before nghttp2 is torn down.
    void release_fields() noexcept;
    /// The server shuts down gracefully: a tunnel's application is told.
    void drain();

    // The response, as nghttp2 pulls it.
    /// nghttp2's read callback: how many bytes the next DATA frame carries (at most `length`),
    /// or NGHTTP2_ERR_DEFERRED.
    ssize_t produce(std::size_t length, std::uint32_t* flags);
    /// nghttp2's send-data callback: queues the frame header and `length` bytes of body.
    void frame_data(const std::uint8_t* framehd, std::size_t length);
    /// The HEADERS frame of the response was queued for the socket.
    void head_framed();
    /// The frame that ends the response (END_STREAM) was queued for the socket.
    void end_framed();

    // exchange_protocol
    detail::event_loop& loop() noexcept override;
    void write_head(detail::exchange& x, const detail::response_head& head) override;
    void write_body(detail::exchange& x, detail::body_piece&& piece,
                    std::optional<std::uint64_t> size, std::uint64_t limit) override;
    void write_body(detail::exchange& x, std::string&& bytes) override;
    void end_body(detail::exchange& x) override;
    void write_marker(detail::exchange& x, send_callback done, std::uint64_t bytes) override;
    void hold_output(detail::exchange&, bool) override {}
    void flush(detail::exchange& x) override;
    void read_body(detail::exchange& x, body_callback on_piece) override;
    /// After a 2xx to an extended CONNECT (RFC 8441) the stream becomes a tunnel.
    bool upgrade_after_response(detail::exchange& x, upgrade_callback on_upgraded) override;
    void handler_returned(detail::exchange& x) override;
    void reset(detail::exchange& x) override;

  private:
    friend class tunnel;
    struct item {
        detail::body_piece piece;  // the body bytes, unless a marker
        std::uint64_t sent = 0;    // of the piece, already framed
        std::uint64_t limit = 0;   // a source: bytes it may still produce
        std::string source_bytes;  // a source: what was read for the frame being made
        bool source_ended = false; // a source said end
        send_callback done;        // a marker: fires once what precedes it is written
        std::uint64_t done_bytes = 0;
        bool referenced = false; // a DATA frame points into the piece's memory
        bool is_marker() const noexcept { return static_cast<bool>(done); }
    };
    /// The response's pieces and markers in order; keeps its room for the next stream.
    struct item_queue {
        std::vector<item> items;
        std::size_t head = 0;
        bool empty() const noexcept { return head == items.size(); }
        item& front() noexcept { return items[head]; }
        item& emplace_back() { return items.emplace_back(); }
        void pop_front() {
            items[head] = item{};
            if (++head == items.size()) {
                items.clear();
                head = 0;
            }
        }
        auto begin() noexcept { return items.begin() + static_cast<std::ptrdiff_t>(head); }
        auto end() noexcept { return items.end(); }
        auto begin() const noexcept { return items.begin() + static_cast<std::ptrdiff_t>(head); }
        auto end() const noexcept { return items.end(); }
    };

    void start();
    void start_tunnel();
    void refuse(int status, const char* reason);
    void run_buffered();
    void deliver_body();
    /// "100 Continue" once, when the client waits for it.
    void send_continue();
    void resume_data();
    /// Marks the DATA frame being made as the body's last; the trailers, if any, follow it.
    void end_data(std::uint32_t* flags);
    /// Moves the completions at the front of the queue to the connection's output.
    void release_markers();
    /// Keeps a sent piece's memory (or file) alive until the output has written it.
    void retire(item& it);
    void drop_output(std::error_code why);
    void release_body_budget() noexcept;
    /// Frees the stream once nghttp2 forgot it, its exchange is done and no completion is left.
    void try_finish();

    connection* conn_;
    std::int32_t id_;
    detail::exchange exchange_;
    std::vector<nghttp2_rcbuf*> held_;              // the buffers every field view points into
    std::unique_ptr<detail::h2c_upgrade> upgraded_; // or, after an upgrade, this
    std::vector<header_field> fields_;
    std::vector<header_field> trailers_;
    static constexpr std::size_t no_cookie = SIZE_MAX;
    std::size_t cookie_at_ = no_cookie; // the one cookie field in fields_
    std::string cookie_;                // its value, when crumbs were joined
    std::string_view method_, path_, scheme_, authority_, protocol_;
    std::size_t field_bytes_ = 0;
    int refused_status_ = 0;
    const char* refused_reason_ = "";

    std::string body_; // a buffered body, or a streamed body's unread bytes
    std::size_t body_reserved_ = 0;
    body_callback body_reader_;  // a streamed body's reader, waiting for bytes
    bool started_ = false;       // the exchange has the request
    bool streamed_ = false;      // the route reads the body itself
    bool request_ended_ = false; // END_STREAM came
    bool expects_continue_ = false;
    bool continue_sent_ = false;
    bool delivering_ = false;

    bool has_output() const noexcept;
    bool awaits_body() const noexcept;

    std::int64_t last_body_at_ = 0;      // when request body bytes last came
    std::int64_t send_window_start_ = 0; // min_send_rate: the window being measured
    std::uint64_t send_window_bytes_ = 0;
    item_queue out_;
    bool has_body_ = false;   // the response was submitted with a data provider
    bool end_queued_ = false; // every body byte is in out_
    bool head_framed_ = false;
    bool end_framed_ = false;
    bool deferred_ = false; // produce() answered DEFERRED: resume when there is more
    bool closed_ = false;
    bool finished_ = false;
    std::size_t markers_in_flight_ = 0; // completions in the connection's output
    std::shared_ptr<stream*> self_;     // weak handles for sources' wake-ups
    upgrade_callback tunnel_wanted_;    // an extended CONNECT's upgrade, until its 2xx is queued
    std::unique_ptr<tunnel> tunnel_;    // then the stream is this
};

} // namespace wharf::http2
