// SPDX-License-Identifier: MIT
// One WebSocket connection on an upgraded stream: the reader's events turned into the
// application's callbacks, the send queue (frames coalesced into few writes, bounded by
// high_water and send_limit), pings, the close handshake and its deadlines.
#pragma once

#include <any>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "loop/mailbox.hpp"
#include "wharf/upgrade.hpp"
#include "wharf/websocket.hpp"
#include "ws/deflate.hpp"
#include "ws/handshake.hpp"
#include "ws/reader.hpp"

namespace wharf::detail {

struct topic_state;

class ws_connection final : public ws::reader_sink,
                            public std::enable_shared_from_this<ws_connection> {
  public:
    ws_connection(upgraded_stream stream, std::shared_ptr<const websocket_handlers> handlers,
                  ws::deflate_agreement deflate, std::string subprotocol, std::any context);
    ~ws_connection();

    /// Tells the application, then reads.
    void start();

    ws_send_status send(std::string_view message, ws_kind kind,
                        std::function<void(std::error_code)> done);
    ws_send_status send_fragment(std::string_view piece, ws_kind kind, bool last);
    /// A topic's message, framed once for every subscriber: `plain`, and `packed` (compressed
    /// without context, window of 15 bits) when the topic compressed it.
    ws_send_status send_shared(const std::shared_ptr<const std::string>& plain,
                               std::size_t plain_head,
                               const std::shared_ptr<const std::string>& packed);
    ws_send_status ping(std::string_view payload);
    void close(std::uint16_t code, std::string_view reason);
    void abort();
    void pause_reading();
    void resume_reading();

    std::size_t buffered_amount() const noexcept { return queued_; }
    bool is_open() const noexcept { return !close_sent_ && !finished_; }
    std::string_view subprotocol() const noexcept { return subprotocol_; }
    bool compressed() const noexcept { return deflate_.enabled; }
    address peer() const { return stream_.peer(); }
    const tls_info* tls() const noexcept { return stream_.tls(); }
    std::any& context() noexcept { return context_; }
    websocket_handle handle();
    websocket& facade() noexcept { return facade_; }

    /// For topics: the loop this connection runs on, and the topics it is in.
    const std::shared_ptr<mailbox>& loop() const noexcept { return loop_; }
    std::vector<std::weak_ptr<topic_state>>& topics() noexcept { return topics_; }

  private:
    // reader_sink
    void on_data(std::string_view piece, bool text, bool last) override;
    void on_control(std::uint8_t op, std::string_view payload) override;

    void read();
    void on_read(std::error_code ec, std::size_t n);
    void resize_read_buffer(std::size_t capacity);
    /// Checks the limits for `bytes` more; nullopt when they may be queued.
    std::optional<ws_send_status> refuse(std::size_t bytes);
    ws_send_status admitted() noexcept;
    void queue_frame(std::uint8_t op, bool fin, bool rsv1, std::string_view payload,
                     std::function<void(std::error_code)> done = {});
    void queue_shared(std::shared_ptr<const std::string> frame);
    void flush();
    void on_written(std::error_code ec, std::size_t n);
    void send_close(std::uint16_t code, std::string_view reason);
    /// A violation: our close frame with `code`, then the TCP close without waiting.
    void fail(std::uint16_t code, std::string_view reason);
    void close_transport_when_flushed();
    /// The connection is gone: on_close, once.
    void finish();
    void arm_alarm();
    void on_alarm();
    std::int64_t now_ms() const noexcept;

    struct chunk {
        std::string bytes;
        std::shared_ptr<const std::string> shared; // a topic's frame, shared by subscribers
        std::function<void(std::error_code)> done;
        std::string_view view() const noexcept {
            return shared ? std::string_view(*shared) : std::string_view(bytes);
        }
    };

    upgraded_stream stream_;
    std::shared_ptr<mailbox> loop_;
    std::shared_ptr<const websocket_handlers> handlers_;
    const websocket_options& options_;
    ws::deflate_agreement deflate_;
    std::unique_ptr<ws::inflater> inflater_;
    std::unique_ptr<ws::deflater> deflater_; // with server context takeover only
    ws::reader reader_;
    std::string subprotocol_;
    std::any context_;
    websocket facade_;
    std::vector<std::weak_ptr<topic_state>> topics_;
    std::optional<std::stop_callback<std::function<void()>>> on_stop_;

    // Receiving.
    std::unique_ptr<char[]> in_;
    std::size_t in_capacity_ = 0;
    std::size_t in_size_ = 0; // bytes held: a frame head not yet complete, or a held frame
    std::string message_;     // a message being assembled
    bool reading_ = false;    // a read is pending
    bool paused_ = false;     // by the application

    // Sending.
    std::deque<chunk> out_;
    std::size_t out_front_written_ = 0; // of out_.front()
    std::size_t queued_ = 0;
    std::size_t in_flight_ = 0; // chunks in the pending write
    std::vector<std::string_view> iov_;
    bool writing_ = false;
    bool over_high_water_ = false; // a send reported backpressure: on_drain is owed
    bool fragmenting_ = false;     // a fragmented send has started and not ended

    // Ends.
    bool close_sent_ = false;
    bool close_received_ = false;
    bool close_transport_ = false; // once the queue is written
    bool finished_ = false;
    std::uint16_t close_code_ = ws_close::abnormal;
    std::string close_reason_;

    // Deadlines (milliseconds of the steady clock).
    std::int64_t last_received_ = 0;
    std::int64_t ping_sent_ = 0; // 0: no ping awaits an answer
    std::int64_t close_deadline_ = 0;
};

} // namespace wharf::detail
