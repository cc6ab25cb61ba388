// SPDX-License-Identifier: MIT
#include "ws/connection.hpp"

#include <algorithm>
#include <cstring>

#include "upgrade/byte_stream.hpp"
#include "ws/topic.hpp"

namespace wharf::detail {
namespace {

// The read buffer starts small (an idle connection holds little) and grows while reads fill
// it, up to a size that holds a 64 KiB frame whole; it shrinks back when traffic is light.
constexpr std::size_t small_read_buffer = 1024;
constexpr std::size_t large_read_buffer = 65536 + ws::max_head_size;
constexpr std::size_t coalesce_limit = 65536; // small frames share a chunk up to this size
constexpr std::size_t max_iov = 256;          // chunks per write
constexpr std::size_t kept_message_capacity = 65536;

// Compressed output of the thread's sends, reused.
thread_local std::string compressed_scratch;

std::uint8_t data_opcode(ws_kind kind) noexcept {
    return kind == ws_kind::text ? ws::op_text : ws::op_binary;
}

// The longest prefix of `reason` within `max` bytes that does not split a UTF-8 sequence.
std::string_view cut_utf8(std::string_view reason, std::size_t max) noexcept {
    if (reason.size() <= max) return reason;
    std::size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(reason[n]) & 0xC0) == 0x80)
        --n;
    return reason.substr(0, n);
}

} // namespace

ws_connection::ws_connection(upgraded_stream stream,
                             std::shared_ptr<const websocket_handlers> handlers,
                             ws::deflate_agreement deflate, std::string subprotocol,
                             std::any context)
    : stream_(std::move(stream)), loop_(stream_access::loop(stream_)),
      handlers_(std::move(handlers)), options_(handlers_->options), deflate_(std::move(deflate)),
      inflater_(deflate_.enabled ? std::make_unique<ws::inflater>(!deflate_.client_context_takeover)
                                 : nullptr),
      reader_(options_.max_message_size, inflater_.get(), large_read_buffer),
      subprotocol_(std::move(subprotocol)), context_(std::move(context)), facade_(this) {}

ws_connection::~ws_connection() = default;

std::int64_t ws_connection::now_ms() const noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void ws_connection::start() {
    resize_read_buffer(small_read_buffer);
    last_received_ = now_ms();
    // The stream owns the connection from here: its close callback holds the last reference.
    stream_.on_close([self = shared_from_this()](std::error_code) { self->finish(); });
    on_stop_.emplace(stream_.stop_token(), [weak = weak_from_this(), h = stream_.handle()] {
        // Runs inside the worker's drain: the close waits for the loop's next turn.
        (void)h.post([weak](upgraded_stream&) {
            if (auto c = weak.lock()) c->close(ws_close::going_away, "server shutting down");
        });
    });
    if (handlers_->on_open) handlers_->on_open(facade_);
    read();
    arm_alarm();
}

websocket_handle ws_connection::handle() {
    websocket_handle h;
    h.conn_ = weak_from_this();
    h.stream_ = stream_.handle();
    return h;
}

// -- receiving ------------------------------------------------------------------------------

void ws_connection::read() {
    if (reading_ || paused_ || finished_ || close_received_ || close_transport_ ||
        queued_ >= options_.high_water)
        return;
    reading_ = true;
    stream_.read_some(
        {in_.get() + in_size_, in_capacity_ - in_size_},
        [self = shared_from_this()](std::error_code ec, std::size_t n) { self->on_read(ec, n); });
}

void ws_connection::on_read(std::error_code ec, std::size_t n) {
    reading_ = false;
    if (ec) {
        // The client's FIN without a close frame, or a broken connection: ours follows, and
        // on_close comes with the stream's end.
        if (ec != errc::canceled) stream_.close();
        return;
    }
    last_received_ = now_ms();
    ping_sent_ = 0; // any byte shows the client is there
    const bool filled = in_size_ + n == in_capacity_;
    in_size_ += n;
    const std::size_t used = reader_.feed(in_.get(), in_size_, *this);
    in_size_ -= used;
    if (in_size_ > 0) std::memmove(in_.get(), in_.get() + used, in_size_);
    if (reader_.failure()) {
        fail(reader_.failure(), reader_.failure_reason());
        return;
    }
    if (filled && in_capacity_ < large_read_buffer)
        resize_read_buffer(std::min(in_capacity_ * 4, large_read_buffer));
    else if (in_size_ == 0 && n < small_read_buffer / 2 && in_capacity_ > small_read_buffer)
        resize_read_buffer(small_read_buffer);
    read();
}

void ws_connection::resize_read_buffer(std::size_t capacity) {
    auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
    if (in_size_ > 0) std::memcpy(bigger.get(), in_.get(), in_size_);
    in_ = std::move(bigger);
    in_capacity_ = capacity;
}

void ws_connection::on_data(std::string_view piece, bool text, bool last) {
    if (close_sent_ || finished_) return; // closing: what still arrives is dropped
    const ws_kind kind = text ? ws_kind::text : ws_kind::binary;
    if (handlers_->on_fragment) {
        handlers_->on_fragment(facade_, piece, kind, last);
        return;
    }
    if (last && message_.empty()) { // a message in one piece is handed over from the buffer
        if (handlers_->on_message) handlers_->on_message(facade_, piece, kind);
        return;
    }
    message_.append(piece);
    if (!last) return;
    if (handlers_->on_message) handlers_->on_message(facade_, message_, kind);
    if (message_.capacity() > kept_message_capacity)
        std::string().swap(message_);
    else
        message_.clear();
}

void ws_connection::on_control(std::uint8_t op, std::string_view payload) {
    if (op == ws::op_ping) {
        if (!close_sent_) {
            queue_frame(ws::op_pong, true, false, payload);
            flush();
        }
        if (handlers_->on_ping) handlers_->on_ping(facade_, payload);
        return;
    }
    if (op == ws::op_pong) {
        if (handlers_->on_pong) handlers_->on_pong(facade_, payload);
        return;
    }
    close_received_ = true;
    std::uint16_t code = 0;
    if (payload.size() >= 2) {
        code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                          static_cast<std::uint8_t>(payload[1]));
        close_code_ = code;
        close_reason_.assign(payload.substr(2));
    } else if (!close_sent_) {
        close_code_ = ws_close::no_status;
    }
    if (!close_sent_) send_close(code, {}); // the client's code echoed (RFC 6455 §5.5.1)
    close_transport_when_flushed();
}

void ws_connection::pause_reading() {
    paused_ = true;
}

void ws_connection::resume_reading() {
    paused_ = false;
    read();
}

// -- sending --------------------------------------------------------------------------------

std::optional<ws_send_status> ws_connection::refuse(std::size_t bytes) {
    if (close_sent_ || finished_) return ws_send_status::closed;
    // One message of any size may go when nothing waits; beyond that, send_limit holds.
    if (queued_ > 0 && queued_ + bytes > options_.send_limit) {
        if (options_.on_overflow == ws_overflow::drop) return ws_send_status::dropped;
        fail(ws_close::policy, "receiver too slow");
        return ws_send_status::closed;
    }
    return std::nullopt;
}

ws_send_status ws_connection::admitted() noexcept {
    if (queued_ < options_.high_water) return ws_send_status::queued;
    over_high_water_ = true;
    return ws_send_status::backpressure;
}

ws_send_status ws_connection::send(std::string_view message, ws_kind kind,
                                   std::function<void(std::error_code)> done) {
    if (fragmenting_) return ws_send_status::closed;
    if (auto refused = refuse(message.size() + ws::max_head_size)) return *refused;
    const std::uint8_t op = data_opcode(kind);
    bool packed = false;
    if (deflate_.enabled && message.size() >= options_.compress_min_size) {
        if (deflate_.server_context_takeover && !deflater_)
            deflater_ = std::make_unique<ws::deflater>(deflate_.server_window_bits, true);
        ws::deflater& d = deflater_ ? *deflater_ : ws::shared_deflater(deflate_.server_window_bits);
        compressed_scratch.clear();
        // With context takeover the client's window must see what ours saw: always packed.
        packed = d.compress(message, compressed_scratch) &&
                 (deflater_ || compressed_scratch.size() < message.size());
    }
    queue_frame(op, true, packed, packed ? std::string_view(compressed_scratch) : message,
                std::move(done));
    flush();
    return admitted();
}

ws_send_status ws_connection::send_fragment(std::string_view piece, ws_kind kind, bool last) {
    if (auto refused = refuse(piece.size() + ws::max_head_size)) return *refused;
    const std::uint8_t op = fragmenting_ ? std::uint8_t{ws::op_continuation} : data_opcode(kind);
    fragmenting_ = !last;
    queue_frame(op, last, false, piece);
    flush();
    return admitted();
}

ws_send_status ws_connection::send_shared(const std::shared_ptr<const std::string>& plain,
                                          std::size_t plain_head,
                                          const std::shared_ptr<const std::string>& packed) {
    if (fragmenting_) return ws_send_status::dropped;
    if (auto refused = refuse(plain->size())) return *refused;
    const std::string_view message = std::string_view(*plain).substr(plain_head);
    if (deflate_.enabled && message.size() >= options_.compress_min_size) {
        if (!packed || deflate_.server_window_bits != 15) {
            // A smaller window than the topic compressed with: this connection's own.
            const auto kind = (static_cast<std::uint8_t>((*plain)[0]) & 0x0F) == ws::op_text
                                  ? ws_kind::text
                                  : ws_kind::binary;
            return send(message, kind, {});
        }
        queue_shared(packed);
        // The client's window now holds a message our compressor did not see.
        if (deflater_) deflater_->reset();
    } else {
        queue_shared(plain);
    }
    flush();
    return admitted();
}

ws_send_status ws_connection::ping(std::string_view payload) {
    if (auto refused = refuse(payload.size() + ws::max_head_size)) return *refused;
    queue_frame(ws::op_ping, true, false, payload.substr(0, ws::max_control_payload));
    flush();
    return admitted();
}

void ws_connection::queue_frame(std::uint8_t op, bool fin, bool rsv1, std::string_view payload,
                                std::function<void(std::error_code)> done) {
    char head[ws::max_head_size];
    const std::size_t head_size = ws::write_head(head, op, fin, rsv1, payload.size());
    const std::size_t total = head_size + payload.size();
    // The last chunk takes the frame unless a write holds it, or it is shared, or it waits to
    // report its own completion, or it is full.
    chunk* tail = out_.size() > in_flight_ ? &out_.back() : nullptr;
    if (!tail || tail->shared || tail->done ||
        (!tail->bytes.empty() && tail->bytes.size() + total > coalesce_limit)) {
        out_.emplace_back();
        tail = &out_.back();
    }
    tail->bytes.append(head, head_size).append(payload);
    tail->done = std::move(done);
    queued_ += total;
}

void ws_connection::queue_shared(std::shared_ptr<const std::string> frame) {
    queued_ += frame->size();
    out_.push_back(chunk{{}, std::move(frame), {}});
}

void ws_connection::flush() {
    if (writing_ || finished_) return;
    if (out_.empty()) {
        if (close_transport_) stream_.close();
        return;
    }
    iov_.clear();
    for (const chunk& c : out_) {
        if (iov_.size() == max_iov) break;
        std::string_view v = c.view();
        if (iov_.empty()) v.remove_prefix(out_front_written_);
        iov_.push_back(v);
    }
    in_flight_ = iov_.size();
    writing_ = true;
    stream_.write_some(iov_, [self = shared_from_this()](std::error_code ec, std::size_t n) {
        self->on_written(ec, n);
    });
}

void ws_connection::on_written(std::error_code ec, std::size_t n) {
    writing_ = false;
    in_flight_ = 0;
    std::vector<std::function<void(std::error_code)>> done;
    if (ec) { // the stream broke: on_close follows
        for (chunk& c : out_)
            if (c.done) done.push_back(std::move(c.done));
        out_.clear();
        queued_ = 0;
        out_front_written_ = 0;
        for (auto& d : done)
            d(ec);
        return;
    }
    queued_ -= n;
    while (n > 0) {
        chunk& c = out_.front();
        const std::size_t left = c.view().size() - out_front_written_;
        if (n < left) {
            out_front_written_ += n;
            break;
        }
        n -= left;
        out_front_written_ = 0;
        if (c.done) done.push_back(std::move(c.done));
        out_.pop_front();
    }
    for (auto& d : done)
        d({});
    if (over_high_water_ && queued_ < options_.high_water / 2) {
        over_high_water_ = false;
        if (handlers_->on_drain && !finished_) handlers_->on_drain(facade_);
    }
    flush();
    read(); // reads wait while high_water bytes do
}

// -- closing --------------------------------------------------------------------------------

void ws_connection::send_close(std::uint16_t code, std::string_view reason) {
    char payload[ws::max_control_payload];
    std::size_t size = 0;
    if (code != 0) {
        payload[0] = static_cast<char>(code >> 8);
        payload[1] = static_cast<char>(code & 0xFF);
        reason = cut_utf8(reason, ws::max_control_payload - 2);
        if (!reason.empty()) std::memcpy(payload + 2, reason.data(), reason.size());
        size = 2 + reason.size();
    }
    fragmenting_ = false;
    queue_frame(ws::op_close, true, false, {payload, size});
    close_sent_ = true;
    if (!close_received_) {
        close_deadline_ = now_ms() + std::max<std::int64_t>(1, options_.close_timeout.count());
        arm_alarm();
    }
    flush();
}

void ws_connection::close(std::uint16_t code, std::string_view reason) {
    if (close_sent_ || finished_) return;
    if (!ws::valid_close_code(code)) code = ws_close::normal;
    send_close(code, reason);
}

void ws_connection::fail(std::uint16_t code, std::string_view reason) {
    if (finished_) return;
    if (!close_received_) {
        close_code_ = code;
        close_reason_.assign(reason);
    }
    if (!close_sent_) send_close(code, reason);
    close_transport_when_flushed();
}

void ws_connection::close_transport_when_flushed() {
    close_transport_ = true;
    flush();
}

void ws_connection::abort() {
    if (finished_) return;
    stream_.abort();
}

void ws_connection::finish() {
    if (finished_) return;
    finished_ = true;
    for (const auto& weak : topics_)
        if (auto topic = weak.lock()) topic->remove(*this);
    topics_.clear();
    std::vector<std::function<void(std::error_code)>> done;
    for (chunk& c : out_)
        if (c.done) done.push_back(std::move(c.done));
    out_.clear();
    queued_ = 0;
    for (auto& d : done)
        d(make_error_code(errc::closed));
    if (handlers_->on_close) handlers_->on_close(facade_, close_code_, close_reason_);
    on_stop_.reset();
}

// -- deadlines ------------------------------------------------------------------------------

void ws_connection::arm_alarm() {
    if (finished_) return;
    std::int64_t at = 0;
    const auto earliest = [&](std::int64_t t) {
        if (at == 0 || t < at) at = t;
    };
    if (close_sent_ && !close_received_ && close_deadline_) earliest(close_deadline_);
    if (!close_sent_ && options_.ping_interval.count() > 0) {
        if (ping_sent_)
            earliest(ping_sent_ + options_.pong_timeout.count());
        else
            earliest(last_received_ + options_.ping_interval.count());
    }
    if (at == 0) return;
    const std::int64_t delay = std::max<std::int64_t>(1, at - now_ms());
    stream_.set_alarm(std::chrono::milliseconds(delay), [weak = weak_from_this()] {
        if (auto c = weak.lock()) c->on_alarm();
    });
}

void ws_connection::on_alarm() {
    if (finished_) return;
    const std::int64_t now = now_ms();
    if (close_sent_ && !close_received_ && close_deadline_ && now >= close_deadline_) {
        close_transport_when_flushed(); // the client never answered our close frame
        if (writing_) stream_.abort();  // nor reads what we send
        return;
    }
    if (!close_sent_ && options_.ping_interval.count() > 0) {
        if (ping_sent_ && now >= ping_sent_ + options_.pong_timeout.count()) {
            abort(); // nothing came back
            return;
        }
        if (!ping_sent_ && now >= last_received_ + options_.ping_interval.count()) {
            queue_frame(ws::op_ping, true, false, {});
            ping_sent_ = now;
            flush();
        }
    }
    arm_alarm();
}

} // namespace wharf::detail
