// SPDX-License-Identifier: MIT
// WebSocket (RFC 6455) with permessage-deflate (RFC 7692), on an upgraded HTTP/1.1 connection
// (plaintext or TLS) or an HTTP/2 stream (RFC 8441). Routes are added with router::websocket.
#pragma once

#include <any>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "wharf/address.hpp"
#include "wharf/tls.hpp"
#include "wharf/upgrade.hpp"

namespace wharf {

class session;

namespace detail {
class ws_connection;
struct topic_state;
} // namespace detail

/// What a data message carries.
enum class ws_kind : std::uint8_t { text = 1, binary = 2 };

/// Close status codes (RFC 6455 §7.4.1).
namespace ws_close {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;     ///< also: the server shuts down
inline constexpr std::uint16_t protocol_error = 1002; ///< a frame broke RFC 6455
inline constexpr std::uint16_t unsupported = 1003;
inline constexpr std::uint16_t no_status = 1005;    ///< reported only: the close frame had no code
inline constexpr std::uint16_t abnormal = 1006;     ///< reported only: no close frame at all
inline constexpr std::uint16_t invalid_data = 1007; ///< text that is not UTF-8
inline constexpr std::uint16_t policy = 1008;       ///< also: a receiver too slow (send_limit)
inline constexpr std::uint16_t too_big = 1009;      ///< over max_message_size
inline constexpr std::uint16_t internal_error = 1011;
} // namespace ws_close

/// What became of a send.
enum class ws_send_status : std::uint8_t {
    queued,       ///< queued; less than high_water bytes wait
    backpressure, ///< queued, but high_water bytes or more wait: on_drain tells when to go on
    dropped,      ///< not queued: send_limit bytes already wait (on_overflow::drop)
    closed, ///< not queued: the connection is closing, or closed for this (on_overflow::close)
};

/// What a send past send_limit does.
enum class ws_overflow : std::uint8_t { drop, close };

/// The limits and behaviour of a WebSocket route.
struct websocket_options {
    /// The largest message (and frame) accepted, after inflating; larger ones close with 1009.
    std::size_t max_message_size = 16u << 20;
    /// While this many bytes wait to be sent, sends report backpressure and the connection
    /// stops reading (a client that sends but never reads cannot grow the queue).
    std::size_t high_water = 1u << 20;
    /// Sends that would queue more than this are dropped or close the connection (1008).
    std::size_t send_limit = 16u << 20;
    ws_overflow on_overflow = ws_overflow::close;
    /// Pings sent after this long without a byte from the client; zero: none.
    std::chrono::milliseconds ping_interval{0};
    /// After a ping, the connection is dropped when no byte arrives for this long.
    std::chrono::milliseconds pong_timeout{10'000};
    /// After our close frame, how long the client has to answer with its own.
    std::chrono::milliseconds close_timeout{5'000};
    /// permessage-deflate when the client offers it.
    bool compression = true;
    /// Messages shorter than this are sent uncompressed.
    std::size_t compress_min_size = 128;
    /// Keep the compressor's history across messages (better ratios, about 150 KiB per
    /// connection). Off (the default), one compressor per thread serves every connection.
    bool compression_context_takeover = false;
    /// Subprotocols the route speaks, in order of preference; the first the client also
    /// offers is chosen (unless on_handshake chose one).
    std::vector<std::string> subprotocols;
};

class websocket;
class websocket_topic;

/// A thread-safe way to reach a WebSocket from any thread; cheap to copy, may outlive it.
class websocket_handle {
  public:
    websocket_handle() = default;
    /// Runs `task` on the connection's loop. Errors: closed (the connection is gone).
    std::error_code post(std::function<void(websocket&)> task) const;
    /// Sends `message` from any thread (queued on the connection's loop).
    std::error_code send(std::string message, ws_kind kind = ws_kind::text) const;

  private:
    friend class detail::ws_connection;
    std::weak_ptr<detail::ws_connection> conn_;
    upgraded_handle stream_;
};

/// An open WebSocket connection, as its callbacks see it. Every member must be called on the
/// connection's loop (in a callback, or through handle()).
class websocket {
  public:
    /// Queues one whole message. `done` (optional) learns when it was written or why not.
    ws_send_status send(std::string_view message, ws_kind kind = ws_kind::text,
                        std::function<void(std::error_code)> done = {});
    /// Queues one piece of a fragmented message: `kind` counts on the first piece, `last`
    /// ends the message. Whole-message sends wait until the fragmented one is finished (they
    /// report closed meanwhile). Pieces are not compressed.
    ws_send_status send_fragment(std::string_view piece, ws_kind kind, bool last);
    /// Sends a ping (at most 125 bytes of payload).
    ws_send_status ping(std::string_view payload = {});
    /// Starts the close handshake: our close frame, then the client's, then the TCP close (or
    /// close_timeout). `reason` is cut to 123 bytes.
    void close(std::uint16_t code = ws_close::normal, std::string_view reason = {});
    /// Drops the connection at once (TCP reset), without a close frame.
    void abort();

    /// Bytes queued and not yet written to the socket.
    std::size_t buffered_amount() const noexcept;
    /// Stops (or resumes) reading from the client; pings are not answered meanwhile.
    void pause_reading();
    void resume_reading();
    /// True until our close frame is queued or the connection is gone.
    bool is_open() const noexcept;

    /// The negotiated subprotocol; "" when none.
    std::string_view subprotocol() const noexcept;
    /// True when permessage-deflate was negotiated.
    bool compressed() const noexcept;
    address peer() const;
    /// The TLS details of the connection; null on plaintext.
    const tls_info* tls() const noexcept;
    /// The application's data for this connection (set by on_handshake's offer.context).
    std::any& context() noexcept;
    websocket_handle handle() const;

  private:
    friend class detail::ws_connection;
    friend class websocket_topic;
    explicit websocket(detail::ws_connection* c) : c_(c) {}
    detail::ws_connection* c_;
};

/// What the client asked for, as on_handshake sees it.
class websocket_offer {
  public:
    /// The subprotocols of Sec-WebSocket-Protocol, in the client's order.
    std::span<const std::string_view> subprotocols() const noexcept { return offered_; }
    /// Chooses the subprotocol; false (nothing chosen) unless the client offered it.
    bool accept_subprotocol(std::string_view name);
    std::string_view chosen_subprotocol() const noexcept { return chosen_; }
    /// Carried into websocket::context().
    std::any context;

  private:
    friend struct websocket_route;
    std::vector<std::string_view> offered_;
    std::string chosen_;
};

/// The callbacks of a WebSocket route. All run on the connection's loop thread.
struct websocket_handlers {
    /// Before the 101 (HTTP/2: the 200): may look at the request (Origin, credentials,
    /// subprotocols). Returning false refuses the handshake with the response it built (403
    /// when it set no status).
    std::function<bool(session&, websocket_offer&)> on_handshake;
    std::function<void(websocket&)> on_open;
    /// A whole message (text already checked as UTF-8).
    std::function<void(websocket&, std::string_view message, ws_kind kind)> on_message;
    /// When set, messages are not assembled: each piece comes as it arrives (text checked up
    /// to that point), `last` marks the end of the message.
    std::function<void(websocket&, std::string_view piece, ws_kind kind, bool last)> on_fragment;
    /// Pings are answered by the library; this only watches them.
    std::function<void(websocket&, std::string_view payload)> on_ping;
    std::function<void(websocket&, std::string_view payload)> on_pong;
    /// The queue fell below half of high_water after a send reported backpressure.
    std::function<void(websocket&)> on_drain;
    /// Once, when the connection is gone: the code and reason of the client's close frame
    /// (no_status when it had none, abnormal when there was no close frame).
    std::function<void(websocket&, std::uint16_t code, std::string_view reason)> on_close;
    websocket_options options;
};

/// Delivers one message to many WebSocket connections on every worker (a channel). The frame
/// is built, and compressed, once per message. A subscriber that falls behind is treated by
/// its own options (send_limit, on_overflow). Thread-safe; the topic may be destroyed while
/// connections are subscribed (they just stop receiving).
class websocket_topic {
  public:
    websocket_topic();
    ~websocket_topic();
    websocket_topic(const websocket_topic&) = delete;
    websocket_topic& operator=(const websocket_topic&) = delete;

    /// On the connection's loop. A connection leaves its topics when it closes.
    void subscribe(websocket& ws);
    void unsubscribe(websocket& ws);
    /// From any thread: queues `message` to every subscriber, in publish order per publishing
    /// thread. Returns how many subscribers there were.
    std::size_t publish(std::string_view message, ws_kind kind = ws_kind::text);
    std::size_t subscribers() const;

  private:
    std::shared_ptr<detail::topic_state> state_;
};

} // namespace wharf
