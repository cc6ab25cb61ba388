// SPDX-License-Identifier: MIT
// One HTTP/2 connection (RFC 9113): nghttp2 parses and serialises the frames and keeps the
// flow-control books; this class owns the socket, the buffers, the scheduling of reads and
// writes, the deadlines and the streams, each of which carries one exchange.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <nghttp2/nghttp2.h>

#include "http/worker.hpp"
#include "loop/event_loop.hpp"
#include "net/byte_buffer.hpp"
#include "net/connection.hpp"
#include "net/send_queue.hpp"
#include "net/transport.hpp"

namespace wharf::http2 {

class stream;

class connection final : public detail::connection {
  public:
    connection(detail::worker& w, std::unique_ptr<detail::transport> io, const address& peer,
               const address& local, detail::byte_buffer&& already_read,
               std::unique_ptr<detail::h2c_upgrade> upgrade);
    ~connection() override;

    bool start() override;
    void on_io(std::uint32_t events) override;
    void drain() override;
    void abort() override;

    // What streams ask of their connection.
    detail::worker& worker() noexcept { return worker_; }
    detail::event_loop& loop() noexcept { return loop_; }
    nghttp2_session* session() noexcept { return session_; }
    detail::send_queue& output() noexcept { return out_; }
    const address& peer() const noexcept { return peer_; }
    const address& local() const noexcept { return local_; }
    const tls_info* tls() const noexcept { return io_ ? io_->tls() : nullptr; }
    const proxy_info* proxied() const noexcept { return io_ ? io_->proxied() : nullptr; }
    /// Frames are produced and written at the end of the current batch (or now, outside one).
    void schedule_send();
    /// The stream's data may go out only while the output stays under its high-water mark.
    bool output_full() const noexcept;
    /// A response asked for the connection to end: GOAWAY, then close when streams finish.
    void go_away(std::uint32_t error_code = NGHTTP2_NO_ERROR);
    /// Called by a stream once nghttp2 forgot it and its exchange is done: frees it.
    void stream_finished(stream* s);

    // nghttp2 callbacks (static trampolines live in connection.cpp).
    int on_begin_frame(const nghttp2_frame_hd* hd);
    int on_begin_headers(const nghttp2_frame* frame);
    int on_header(const nghttp2_frame* frame, nghttp2_rcbuf* name, nghttp2_rcbuf* value);
    int on_frame_recv(const nghttp2_frame* frame);
    int on_data_chunk(std::int32_t stream_id, const std::uint8_t* data, std::size_t len);
    int on_stream_close(std::int32_t stream_id, std::uint32_t error_code);
    int on_frame_send(const nghttp2_frame* frame);
    ssize_t on_send(const std::uint8_t* data, std::size_t len);
    int on_send_data(nghttp2_frame* frame, const std::uint8_t* framehd, std::size_t length,
                     nghttp2_data_source* source);

  private:
    bool init_session();
    /// After an h2c upgrade: the 101, then the request that asked for it as stream 1.
    bool start_upgraded();
    void on_readable(bool until_eof);
    /// Feeds `len` bytes to nghttp2; false when the connection must close.
    bool receive(const char* data, std::size_t len);
    /// Runs nghttp2's send loop and writes what it produced.
    void send();
    void flush();
    void run_completions();
    void finish_batch();
    /// Gives the streams that finished in the last batch to the thread's pool.
    void pool_retired();
    void refresh_timer();
    void on_timeout();
    void close();
    stream* find_stream(std::int32_t id) noexcept;
    void remember_stream(std::int32_t id, stream* s) noexcept;

    detail::worker& worker_;
    detail::event_loop& loop_;
    const server_config& config_;
    std::unique_ptr<detail::transport> io_;
    address peer_;
    address local_;
    detail::byte_buffer in_;
    detail::send_queue out_;
    detail::timer timer_;
    std::unique_ptr<detail::h2c_upgrade> upgrade_;
    nghttp2_session* session_ = nullptr;
    std::vector<stream*> streams_;       // every stream not yet freed
    std::vector<stream*> retired_;       // finished this batch: reusable after it
    std::vector<std::int32_t> used_ids_; // the client's last stream ids, in order
    std::int32_t found_id_ = -1;         // the last find_stream: one frame's callbacks ask alike
    stream* found_ = nullptr;
    std::size_t queued_ = 0; // bytes of frames in out_ (file ranges too)
    std::size_t open_streams_ = 0;
    std::int32_t last_stream_id_ = 0; // the highest client stream id seen (RFC 9113 §5.1.1)
    std::int64_t last_activity_ = 0;
    std::int64_t last_write_progress_ = 0;
    bool batching_ = false;
    bool send_scheduled_ = false;
    bool send_blocked_ = false;
    bool read_paused_ = false;
    bool closing_ = false; // GOAWAY sent: close once every stream is done
    bool closed_ = false;
    bool sending_ = false;
    bool stopped_full_ = false;         // the last send round stopped at the high-water mark
    bool settings_sent_ = false;        // our first SETTINGS went out (its stream limit patched)
    double reset_tokens_ = 1000;        // client RST_STREAMs allowed now
    double reset_refill_at_ = 0;        // seconds
    std::shared_ptr<connection*> self_; // weak handles for cross-thread wake-ups
};

detail::connection* make_connection(detail::worker& w, std::unique_ptr<detail::transport> io,
                                    const address& peer, const address& local,
                                    detail::byte_buffer&& already_read,
                                    std::unique_ptr<detail::h2c_upgrade> upgrade);

} // namespace wharf::http2
