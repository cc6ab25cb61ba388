// SPDX-License-Identifier: MIT
// One HTTP/1.x connection: reads, parses, dispatches and answers requests in order, and owns
// everything about its socket's life (timeouts, back-pressure, graceful and lingering close).
// It lives on one worker's loop thread from accept to close.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "http/exchange.hpp"
#include "http/worker.hpp"
#include "http1/chunked.hpp"
#include "http1/framing.hpp"
#include "loop/event_loop.hpp"
#include "net/byte_buffer.hpp"
#include "net/connection.hpp"
#include "net/send_queue.hpp"
#include "net/transport.hpp"
#include "wharf/session.hpp"

namespace wharf::http1 {

class connection final : public detail::connection, public detail::exchange_protocol {
  public:
    connection(detail::worker& w, std::unique_ptr<detail::transport> io, const address& peer,
               const address& local);
    ~connection();

    /// Registers with the loop and starts the first request's deadline.
    bool start() override;
    void on_io(std::uint32_t events) override;
    /// Graceful shutdown: an idle connection closes now, a busy one after its response.
    void drain() override;
    /// Closes at once, whatever is in flight.
    void abort() override;

    // exchange_protocol: how the request's exchange reaches the wire.
    detail::event_loop& loop() noexcept override { return loop_; }
    void write_head(detail::exchange& x, const detail::response_head& head) override;
    void write_body(detail::exchange& x, detail::body_piece&& piece,
                    std::optional<std::uint64_t> size, std::uint64_t limit) override;
    void write_body(detail::exchange& x, std::string&& bytes) override;
    void end_body(detail::exchange& x) override;
    void write_marker(detail::exchange& x, send_callback done, std::uint64_t bytes) override;
    void hold_output(detail::exchange& x, bool on) override;
    void flush(detail::exchange& x) override;
    void read_body(detail::exchange& x, body_callback on_piece) override;
    bool upgrade_after_response(detail::exchange& x, upgrade_callback on_upgraded) override;
    void handler_returned(detail::exchange& x) override;
    void reset(detail::exchange& x) override;

  private:
    enum class phase : std::uint8_t {
        handshake,    // the transport's handshake (TLS) is not done yet
        head,         // waiting for (the rest of) a request head
        body_length,  // reading a Content-Length body
        body_chunked, // reading a chunked body
        responding,   // the handler's response is still being sent (streamed)
        lingering,    // answered and shut down for writing; draining the client's bytes
        closed,
    };

    /// Moves the transport's handshake on; true once it is done.
    bool advance_handshake();
    /// The first bytes of a plaintext connection: false while they may still be the HTTP/2
    /// preface (or were, and the connection went to HTTP/2).
    bool check_h2c_preface();
    /// Gives the client to an HTTP/2 connection (with the request that asked for it, after an
    /// h2c upgrade); this one is done.
    void switch_to_http2(std::unique_ptr<detail::h2c_upgrade> upgrade = nullptr);
    bool may_upgrade_to_h2c() const noexcept;
    /// Gives the client to the application as a raw stream (session::upgrade); this one is done.
    void switch_to_raw();
    void on_readable(bool until_eof = false);
    void process();
    bool start_request();
    void finish_request(std::string_view body, std::size_t consumed);
    /// The head's bytes moved: its views (and the request's) follow them.
    void move_views(const char* old_begin, std::size_t length, const char* new_begin);
    void respond_error(int status, const char* reason);
    void maybe_complete_response();
    void start_streamed_request();
    void try_deliver_body();
    void run_completions();
    void flush();
    void after_output_drained();
    void on_peer_eof();
    void begin_lingering_close();
    void close();
    std::int64_t current_deadline() const noexcept;
    std::size_t unacknowledged_bytes() const noexcept;
    void start_send_window() noexcept;
    void refresh_timer();
    void on_timeout();
    bool output_full() const noexcept;
    static constexpr std::size_t max_trailers = 16;
    std::span<header_field> trailer_room() noexcept {
        return {fields_.data() + head_.num_headers, max_trailers};
    }
    bool idle() const noexcept { return phase_ == phase::head && in_.empty() && out_.empty(); }
    void park_idle_buffers();
    /// The exchange, taken from the thread's pool when the connection has none.
    detail::exchange& exchange();
    bool reserve_body(std::size_t bytes);
    /// Holds `bytes` of the body budget (taking `step` more when it can); else answers 503.
    bool reserve_body_or_refuse(std::size_t bytes, std::size_t step);
    void release_body() noexcept;
    bool receiving_body() const noexcept;
    void start_body_window() noexcept;
    void body_too_slow(const char* reason);
    /// A streamed body cannot go on: the reader learns `why`, then the request is answered
    /// with `status` unless the application answered (or started to) already.
    void fail_streamed_body(std::error_code why, int status, const char* reason);

    detail::worker& worker_;
    detail::event_loop& loop_;
    const server_config& config_;
    std::unique_ptr<detail::transport> io_;
    address peer_;
    address local_;
    detail::byte_buffer in_;
    detail::send_queue out_;
    detail::timer timer_;
    /// The exchange of the request in progress; an idle connection holds none (they are
    /// pooled per thread), see exchange().
    std::unique_ptr<detail::exchange> exchange_;
    std::vector<header_field> fields_;

    phase phase_ = phase::head;
    request_head head_{};
    request_framing framing_{};
    chunked_decoder chunked_;
    std::size_t head_len_ = 0;
    std::size_t scan_from_ = 0;    // bytes already searched for the end of the head
    std::size_t body_raw_ = 0;     // chunked: raw bytes consumed after the head
    std::size_t body_decoded_ = 0; // chunked: payload bytes compacted after the head
    std::size_t unsent_responses_ = 0;
    std::int64_t head_started_ = 0;  // when the current head's first byte arrived (0: none)
    std::int64_t last_activity_ = 0; // last read or write
    std::int64_t last_read_ = 0;     // last read: what a body's gap deadline counts from
    std::int64_t linger_until_ = 0;
    std::int64_t send_window_start_ = 0;
    std::uint64_t send_window_bytes_ = 0;  // written in the window
    std::uint64_t send_window_queued_ = 0; // unacknowledged in the kernel when it began
    std::size_t lingered_bytes_ = 0;
    std::size_t body_reserved_ = 0;       // of the server's buffered-body budget
    std::int64_t body_window_start_ = 0;  // min_body_rate: the window being measured
    std::uint64_t body_window_bytes_ = 0; // body bytes read in it
    bool body_window_paused_ = false;     // the server stopped reading in it: not judged
    std::int64_t reader_gone_at_ = 0;     // streamed body: when the handler last took a piece
    bool close_after_output_ = false;     // no more requests: close once out_ is sent
    bool read_paused_ = false;            // stopped reading for back-pressure
    bool send_blocked_ = false;           // the socket refused part of out_
    bool peer_eof_ = false;
    bool may_be_h2c_ = false;    // no request yet on a plaintext stream that could be h2c
    bool client_closes_ = false; // the last request asked for the close and was read whole

    // The response in progress.
    enum class body_framing : std::uint8_t { length, chunked, close_delimited };
    body_framing out_framing_ = body_framing::length;
    std::size_t request_consumed_ = 0; // input bytes of the request being answered
    bool response_keep_alive_ = true;
    bool flushing_ = false;
    bool reflush_ = false;
    bool batching_ = false; // inside on_readable: one flush after the batch
    std::error_code close_reason_;
    std::shared_ptr<connection*> self_; // weak handles for cross-thread wake-ups
    upgrade_callback upgrade_;          // session::upgrade: the stream's taker, after the 101

    // A request body the handler reads itself (route_options::stream_body).
    bool streaming_body_ = false;
    bool body_finished_ = false;
    bool continue_sent_ = true;
    bool delivering_ = false;
    std::uint64_t body_remaining_ = 0; // length framing
    body_callback body_reader_;
    std::string pinned_head_; // the head's bytes, owned while the body streams past
};

/// The worker's factory for HTTP/1 connections (server_state::make_connection).
detail::connection* make_connection(detail::worker& w, std::unique_ptr<detail::transport> io,
                                    const address& peer, const address& local);

} // namespace wharf::http1
