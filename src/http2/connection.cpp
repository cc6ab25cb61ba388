// SPDX-License-Identifier: MIT
#include "http2/connection.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "http2/session_memory.hpp"
#include "http2/stream.hpp"
#include "wharf/error.hpp"

namespace wharf::http2 {
namespace {

constexpr int reads_per_event = 16;
constexpr std::size_t read_size = 16 * 1024;
constexpr std::size_t recent_streams = 256; // client stream ids remembered as used
// Frames are made only while less than this waits for the socket, and the kernel is asked to
// hold little more unsent (TCP_NOTSENT_LOWAT): the backlog stays where nghttp2 schedules the
// streams fairly, so a large download delays a small response by a few frames at most.
constexpr std::size_t output_window = 64 * 1024;
constexpr int unsent_in_kernel = 64 * 1024;
// Finished streams of this thread's connections, kept with their allocations for the next.
constexpr std::size_t max_pooled_streams = 256;
thread_local std::vector<std::unique_ptr<stream>> stream_pool;
// Rapid reset (CVE-2023-44487): RST_STREAM from the client, a burst then a steady rate; past
// it the connection gets GOAWAY ENHANCE_YOUR_CALM. nghttp2's own limit is the backstop.
constexpr double reset_burst = 1000;
constexpr double resets_per_second = 100;

/// Rewrites SETTINGS_MAX_CONCURRENT_STREAMS in a serialised SETTINGS frame; true when found.
bool patch_max_streams(std::uint8_t* frame, std::size_t len, std::uint32_t value) noexcept {
    if (len < 9 || frame[3] != NGHTTP2_SETTINGS || (frame[4] & NGHTTP2_FLAG_ACK)) return false;
    const std::size_t payload =
        (std::size_t{frame[0]} << 16) | (std::size_t{frame[1]} << 8) | frame[2];
    if (len < 9 + payload) return false;
    for (std::size_t at = 9; at + 6 <= 9 + payload; at += 6) {
        if (frame[at] != 0 || frame[at + 1] != NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS) continue;
        frame[at + 2] = static_cast<std::uint8_t>(value >> 24);
        frame[at + 3] = static_cast<std::uint8_t>(value >> 16);
        frame[at + 4] = static_cast<std::uint8_t>(value >> 8);
        frame[at + 5] = static_cast<std::uint8_t>(value);
        return true;
    }
    return false;
}

connection& self(void* user_data) noexcept {
    return *static_cast<connection*>(user_data);
}

// The callbacks nghttp2 calls while it parses or serialises, all on the loop's thread.
nghttp2_session_callbacks* make_callbacks() {
    nghttp2_session_callbacks* cb = nullptr;
    if (nghttp2_session_callbacks_new(&cb) != 0) return nullptr;
    nghttp2_session_callbacks_set_send_callback(
        cb,
        [](nghttp2_session*, const std::uint8_t* data, std::size_t len, int, void* u) -> ssize_t {
            return self(u).on_send(data, len);
        });
    nghttp2_session_callbacks_set_send_data_callback(
        cb,
        [](nghttp2_session*, nghttp2_frame* frame, const std::uint8_t* framehd, std::size_t length,
           nghttp2_data_source* source,
           void* u) -> int { return self(u).on_send_data(frame, framehd, length, source); });
    nghttp2_session_callbacks_set_on_begin_frame_callback(
        cb, [](nghttp2_session*, const nghttp2_frame_hd* hd, void* u) -> int {
            return self(u).on_begin_frame(hd);
        });
    nghttp2_session_callbacks_set_on_begin_headers_callback(
        cb, [](nghttp2_session*, const nghttp2_frame* frame, void* u) -> int {
            return self(u).on_begin_headers(frame);
        });
    nghttp2_session_callbacks_set_on_header_callback2(
        cb,
        [](nghttp2_session*, const nghttp2_frame* frame, nghttp2_rcbuf* name, nghttp2_rcbuf* value,
           std::uint8_t, void* u) -> int { return self(u).on_header(frame, name, value); });
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        cb, [](nghttp2_session*, const nghttp2_frame* frame, void* u) -> int {
            return self(u).on_frame_recv(frame);
        });
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        cb,
        [](nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* data,
           std::size_t len, void* u) -> int { return self(u).on_data_chunk(id, data, len); });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        cb, [](nghttp2_session*, std::int32_t id, std::uint32_t error_code, void* u) -> int {
            return self(u).on_stream_close(id, error_code);
        });
    nghttp2_session_callbacks_set_on_frame_send_callback(
        cb, [](nghttp2_session*, const nghttp2_frame* frame, void* u) -> int {
            return self(u).on_frame_send(frame);
        });
    return cb;
}

nghttp2_option* make_options() {
    nghttp2_option* opt = nullptr;
    if (nghttp2_option_new(&opt) != 0) return nullptr;
    // WINDOW_UPDATE follows what the handlers consumed, not what arrived.
    nghttp2_option_set_no_auto_window_update(opt, 1);
    // Floods: bounded by nghttp2 where it can (RFC 9113 §10.5).
    nghttp2_option_set_max_settings(opt, 32);
    nghttp2_option_set_max_outbound_ack(opt, 1000);
    nghttp2_option_set_max_continuations(opt, 8);
    // Rapid reset (CVE-2023-44487): a burst of 1000 resets, then 33 per second.
    nghttp2_option_set_stream_reset_rate_limit(opt, 4000, 400);
    nghttp2_option_set_max_deflate_dynamic_table_size(opt, 4096);
    return opt;
}

} // namespace

connection::connection(detail::worker& w, std::unique_ptr<detail::transport> io,
                       const address& peer, const address& local,
                       detail::byte_buffer&& already_read,
                       std::unique_ptr<detail::h2c_upgrade> upgrade)
    : worker_(w), loop_(w.loop()), config_(w.state().config), io_(std::move(io)), peer_(peer),
      local_(local), in_(std::move(already_read)),
      timer_([](void* self) { static_cast<connection*>(self)->on_timeout(); }, this),
      upgrade_(std::move(upgrade)) {
    self_ = std::make_shared<connection*>(this);
}

connection::~connection() {
    for (stream* s : streams_)
        delete s; // only streams a handler still held when the connection closed
    for (stream* s : retired_)
        delete s;
    if (session_) nghttp2_session_del(session_);
}

bool connection::init_session() {
    static nghttp2_session_callbacks* const callbacks = make_callbacks();
    static nghttp2_option* const options = make_options();
    if (!callbacks || !options) return false;
    if (nghttp2_session_server_new3(&session_, callbacks, this, options, session_memory()) != 0)
        return false;
    const http2_settings& h2 = config_.http2;
    // nghttp2 answers a stream over the acknowledged limit with a connection error, where RFC
    // 9113 §5.1.2 wants a stream error: it is told twice our limit (which also bounds the
    // closed streams it remembers) and the frame on the wire says ours (on_send patches it),
    // which on_begin_headers enforces with REFUSED_STREAM.
    const std::uint32_t nghttp2_limit =
        h2.max_concurrent_streams > 0x3fffffff ? 0x7fffffff : 2 * h2.max_concurrent_streams;
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, std::max<std::uint32_t>(nghttp2_limit, 1)},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, h2.stream_window},
        {NGHTTP2_SETTINGS_MAX_FRAME_SIZE,
         std::clamp<std::uint32_t>(h2.max_frame_size, 16384, 16777215)},
        {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, h2.header_table_size},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
         static_cast<std::uint32_t>(config_.limits.max_header_bytes)},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1}, // RFC 8441: WebSocket on a stream
    };
    if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings)) != 0)
        return false;
    if (h2.connection_window > 65535)
        nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                              static_cast<std::int32_t>(h2.connection_window));
    return true;
}

bool connection::start_upgraded() {
    const bool head = upgrade_->method == "HEAD";
    if (nghttp2_session_upgrade2(session_,
                                 reinterpret_cast<const std::uint8_t*>(upgrade_->settings.data()),
                                 upgrade_->settings.size(), head, nullptr) != 0)
        return false;
    auto* s = new stream(*this, 1);
    streams_.push_back(s);
    ++open_streams_;
    last_stream_id_ = 1;
    used_ids_.push_back(1);
    remember_stream(1, s);
    s->adopt_request(std::move(upgrade_));
    return true;
}

bool connection::start() {
    // The client's stream is already watched (it was HTTP/1's): point its events here.
    if (const int fd = io_->fd();
        fd >= 0 && loop_.modify(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, this))
        return false;
    if (const int fd = io_->fd(); fd >= 0 && !local_.is_unix())
        (void)::setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &unsent_in_kernel,
                           sizeof unsent_in_kernel);
    if (upgrade_)
        out_.append("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                    "Upgrade: h2c\r\n\r\n");
    if (!init_session()) return false;
    if (upgrade_ && !start_upgraded()) return false;
    last_activity_ = last_write_progress_ = loop_.now();
    reset_refill_at_ = static_cast<double>(last_activity_) / 1000.0;
    batching_ = true;
    if (!in_.empty()) {
        const bool ok = receive(in_.data(), in_.size());
        in_.consume(in_.size());
        if (!ok) {
            batching_ = false;
            send();
            if (!closed_) close();
            return true;
        }
    }
    if (in_.capacity()) worker_.give_buffer(std::move(in_));
    batching_ = false;
    on_readable(false); // what came behind the preface (or with the TLS handshake) is read now
    finish_batch();
    return true;
}

void connection::on_io(std::uint32_t events) {
    if (closed_) return;
    if (events & EPOLLERR) {
        abort();
        return;
    }
    batching_ = true;
    if ((events & EPOLLOUT) && send_blocked_) flush();
    // With the client's FIN in the same event, a short read does not mean "nothing more": the
    // end of stream is still to be read, and no edge will come for it.
    if (!closed_ && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)))
        on_readable((events & (EPOLLRDHUP | EPOLLHUP)) != 0);
    batching_ = false;
    if (!closed_) finish_batch();
}

void connection::on_readable(bool until_eof) {
    thread_local char buf[read_size];
    read_paused_ = false;
    for (int i = 0; i < reads_per_event && !closed_; ++i) {
        if (output_full()) {
            read_paused_ = true; // back-pressure: the client reads our answers first
            return;
        }
        const ssize_t n = io_->read(buf, sizeof buf);
        if (n > 0) {
            last_activity_ = loop_.now();
            if (!receive(buf, static_cast<std::size_t>(n))) {
                send(); // the GOAWAY, then the close
                if (!closed_) close();
                return;
            }
            if (static_cast<std::size_t>(n) < sizeof buf && !until_eof && !io_->has_pending())
                return;
            continue;
        }
        if (n == -EAGAIN) return;
        // The client closed (or reset): nothing more can come, and nobody will read.
        if (n == 0) {
            close();
        } else {
            abort();
        }
        return;
    }
    if (!closed_) loop_.schedule_read(this); // more may wait: after the others had a turn
}

bool connection::receive(const char* data, std::size_t len) {
    const ssize_t r =
        nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(data), len);
    if (closed_) return false;
    if (r >= 0) return true;
    // A fatal error nghttp2 does not answer itself: say why before closing (RFC 9113 §5.4.1).
    std::uint32_t code = NGHTTP2_PROTOCOL_ERROR;
    switch (r) {
    case NGHTTP2_ERR_FLOODED:
    case NGHTTP2_ERR_TOO_MANY_CONTINUATIONS:
    case NGHTTP2_ERR_TOO_MANY_SETTINGS:
        code = NGHTTP2_ENHANCE_YOUR_CALM;
        break;
    case NGHTTP2_ERR_HEADER_COMP:
        code = NGHTTP2_COMPRESSION_ERROR;
        break;
    case NGHTTP2_ERR_NOMEM:
    case NGHTTP2_ERR_CALLBACK_FAILURE:
        code = NGHTTP2_INTERNAL_ERROR;
        break;
    default:
        break;
    }
    nghttp2_session_terminate_session(session_, code);
    return false;
}

void connection::schedule_send() {
    if (closed_ || send_scheduled_) return;
    send_scheduled_ = true;
    if (batching_ || sending_) return; // the batch's end (or the running send) sends it
    // Called from a handler or a completion outside a batch: send once it has returned.
    std::weak_ptr<connection*> weak = self_;
    loop_.defer([weak] {
        if (auto self = weak.lock()) (*self)->finish_batch();
    });
}

void connection::finish_batch() {
    if (closed_) return;
    send();
    if (closed_) return;
    refresh_timer();
    pool_retired();
    if (open_streams_ == 0 && out_.empty()) {
        // Idle: the copy buffer goes back to the worker for the next busy connection.
        if (out_.has_spare()) worker_.give_send_buffer(out_.release_spare());
        out_.trim_idle();
    }
}

void connection::pool_retired() {
    // Nothing of these streams is on the stack between batches.
    for (stream* s : retired_) {
        if (stream_pool.size() < max_pooled_streams)
            stream_pool.emplace_back(s);
        else
            delete s;
    }
    retired_.clear();
}

bool connection::output_full() const noexcept {
    return queued_ >= std::min(config_.limits.output_high_water, output_window);
}

ssize_t connection::on_send(const std::uint8_t* data, std::size_t len) {
    if (output_full()) {
        stopped_full_ = true;
        return NGHTTP2_ERR_WOULDBLOCK;
    }
    if (!settings_sent_ && len <= 128) {
        // Our first SETTINGS frame: the stream limit the client is told (see init_session).
        std::uint8_t frame[128];
        std::memcpy(frame, data, len);
        settings_sent_ = patch_max_streams(frame, len, config_.http2.max_concurrent_streams);
        out_.append({reinterpret_cast<const char*>(frame), len});
        queued_ += len;
        return static_cast<ssize_t>(len);
    }
    out_.append({reinterpret_cast<const char*>(data), len});
    queued_ += len;
    return static_cast<ssize_t>(len);
}

int connection::on_send_data(nghttp2_frame* frame, const std::uint8_t* framehd, std::size_t length,
                             nghttp2_data_source* source) {
    if (output_full()) {
        stopped_full_ = true;
        return NGHTTP2_ERR_WOULDBLOCK;
    }
    (void)frame;
    static_cast<stream*>(source->ptr)->frame_data(framehd, length);
    queued_ += 9 + length;
    return 0;
}

void connection::send() {
    if (closed_ || sending_) return;
    sending_ = true;
    if (!out_.has_spare()) out_.give_spare(worker_.take_send_buffer()); // the worker's, if any
    // Frames are made only while the output is under its high-water mark; each round writes
    // them and makes more while the socket takes them.
    for (int round = 0; round < 64 && !closed_; ++round) {
        send_scheduled_ = false;
        stopped_full_ = false;
        if (nghttp2_session_send(session_) != 0) {
            sending_ = false;
            abort();
            return;
        }
        flush();
        if (closed_ || send_blocked_) break;
        if (!stopped_full_ && !send_scheduled_) break;
    }
    sending_ = false;
    if (closed_) return;
    // The socket still takes more but this turn is over: the rest goes on in the next loop
    // iteration, after the other connections had theirs.
    if (!send_blocked_ && (stopped_full_ || send_scheduled_)) loop_.schedule_read(this);
    if (out_.empty() && !nghttp2_session_want_read(session_) &&
        !nghttp2_session_want_write(session_)) {
        close(); // GOAWAY sent (ours or the client's) and every stream is done
        return;
    }
    if (closing_ && open_streams_ == 0 && out_.empty()) close();
}

void connection::flush() {
    if (closed_ || out_.empty()) {
        send_blocked_ = false;
        return;
    }
    const auto r = out_.flush(*io_);
    if (r.written > 0) last_write_progress_ = loop_.now();
    queued_ -= std::min(queued_, r.written);
    run_completions();
    if (closed_) return;
    if (r.error) {
        abort();
        return;
    }
    send_blocked_ = r.blocked;
    if (!send_blocked_ && read_paused_ && !output_full()) loop_.schedule_read(this);
}

void connection::run_completions() {
    if (!out_.has_completions()) return;
    for (auto& [done, result] : out_.take_completions())
        done(result);
}

void connection::go_away(std::uint32_t error_code) {
    if (closing_ || closed_) return;
    closing_ = true;
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(session_), error_code, nullptr,
                          0);
    schedule_send();
}

void connection::drain() {
    if (closed_) return;
    for (stream* s : streams_)
        s->drain();
    go_away();
    if (!batching_ && !sending_) finish_batch();
}

// -- nghttp2's callbacks -------------------------------------------------------------------

int connection::on_begin_frame(const nghttp2_frame_hd* hd) {
    // RFC 9113 §5.1.1: a new stream's id must be higher than every one the client used, and
    // the ids it skipped are closed; nghttp2 1.52 ignores HEADERS on one silently. HEADERS on a
    // stream that was used (trailers, or late frames after a reset) are nghttp2's to judge.
    if (hd->type != NGHTTP2_HEADERS || (hd->stream_id & 1) == 0) return 0;
    if (hd->stream_id > last_stream_id_) {
        last_stream_id_ = hd->stream_id;
        if (used_ids_.size() == recent_streams) used_ids_.erase(used_ids_.begin());
        used_ids_.push_back(hd->stream_id);
        return 0;
    }
    if (std::binary_search(used_ids_.begin(), used_ids_.end(), hd->stream_id)) return 0;
    nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
    return 0;
}

int connection::on_begin_headers(const nghttp2_frame* frame) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    if (closing_) {
        // After our GOAWAY no stream is taken (it was refused by its id already).
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    if (open_streams_ >= config_.http2.max_concurrent_streams) {
        // RFC 9113 §5.1.2: over our limit, a stream error; the fields are still decoded (HPACK)
        // and then dropped, as no stream is made.
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                  NGHTTP2_REFUSED_STREAM);
        return 0;
    }
    stream* s;
    if (!stream_pool.empty()) {
        s = stream_pool.back().release();
        stream_pool.pop_back();
        s->reuse(*this, frame->hd.stream_id);
    } else {
        s = new stream(*this, frame->hd.stream_id);
    }
    streams_.push_back(s);
    ++open_streams_;
    remember_stream(frame->hd.stream_id, s);
    return 0;
}

stream* connection::find_stream(std::int32_t id) noexcept {
    if (id != found_id_) {
        found_ = static_cast<stream*>(nghttp2_session_get_stream_user_data(session_, id));
        found_id_ = id;
    }
    return found_;
}

void connection::remember_stream(std::int32_t id, stream* s) noexcept {
    nghttp2_session_set_stream_user_data(session_, id, s);
    found_id_ = id;
    found_ = s;
}

int connection::on_header(const nghttp2_frame* frame, nghttp2_rcbuf* name, nghttp2_rcbuf* value) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    stream* s = find_stream(frame->hd.stream_id);
    if (!s) return 0;
    s->add_field(name, value, frame->headers.cat == NGHTTP2_HCAT_HEADERS);
    return 0;
}

int connection::on_frame_recv(const nghttp2_frame* frame) {
    switch (frame->hd.type) {
    case NGHTTP2_RST_STREAM: {
        const double now = static_cast<double>(loop_.now()) / 1000.0;
        reset_tokens_ =
            std::min(reset_burst, reset_tokens_ + (now - reset_refill_at_) * resets_per_second);
        reset_refill_at_ = now;
        if (reset_tokens_ < 1) {
            closing_ = true;
            nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
        } else {
            reset_tokens_ -= 1;
        }
        return 0;
    }
    case NGHTTP2_HEADERS: {
        stream* s = find_stream(frame->hd.stream_id);
        if (!s) return 0;
        const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
            s->headers_done(end_stream);
        } else {
            s->trailers_done();
            if (end_stream) s->request_ended();
        }
        return 0;
    }
    case NGHTTP2_DATA: {
        if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
        if (stream* s = find_stream(frame->hd.stream_id)) s->request_ended();
        return 0;
    }
    default:
        return 0;
    }
}

int connection::on_data_chunk(std::int32_t id, const std::uint8_t* data, std::size_t len) {
    if (stream* s = find_stream(id)) {
        s->body_data(data, len);
    } else {
        nghttp2_session_consume(session_, id, len); // a stream already gone: keep the window open
    }
    return 0;
}

int connection::on_stream_close(std::int32_t id, std::uint32_t error_code) {
    stream* s = find_stream(id);
    if (!s) return 0;
    remember_stream(id, nullptr);
    --open_streams_;
    s->closed(error_code);
    return 0;
}

int connection::on_frame_send(const nghttp2_frame* frame) {
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
    stream* s = find_stream(frame->hd.stream_id);
    if (!s) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS) s->head_framed();
    if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) s->end_framed();
    return 0;
}

// -- the end -------------------------------------------------------------------------------

void connection::stream_finished(stream* s) {
    std::erase(streams_, s);
    // Kept for the next stream once the batch is over (nothing of it is on the stack then).
    if (!closed_ && s->reusable())
        retired_.push_back(s);
    else
        loop_.defer([s] { delete s; });
    if (closing_ && open_streams_ == 0) schedule_send(); // may close now
}

void connection::refresh_timer() {
    // Idle: no stream open for the keep-alive time. Stuck: the socket took nothing for the
    // send grace. And each stream's own deadlines (a body that stops coming, a window that
    // stays shut).
    const timeouts& t = config_.timeouts;
    std::int64_t deadline = 0;
    const auto earliest = [&](std::int64_t d) {
        if (d != 0 && (deadline == 0 || d < deadline)) deadline = d;
    };
    if (send_blocked_ && t.send_grace.count() > 0)
        earliest(last_write_progress_ + t.send_grace.count());
    if (open_streams_ == 0 && t.keep_alive.count() > 0)
        earliest(last_activity_ + t.keep_alive.count());
    for (const stream* s : streams_)
        earliest(s->deadline(t));
    if (deadline)
        loop_.timers().arm(timer_, deadline);
    else
        loop_.timers().disarm(timer_);
}

void connection::on_timeout() {
    if (closed_) return;
    const std::int64_t now = loop_.now();
    const timeouts& t = config_.timeouts;
    if (send_blocked_ && t.send_grace.count() > 0 &&
        now >= last_write_progress_ + t.send_grace.count()) {
        abort(); // the client does not read: what waits for it is dropped
        return;
    }
    if (open_streams_ == 0 && t.keep_alive.count() > 0 &&
        now >= last_activity_ + t.keep_alive.count()) {
        go_away();
        finish_batch();
        if (!closed_) close(); // idle: the GOAWAY went out with whatever the socket took
        return;
    }
    bool window_stuck = false;
    for (stream* s : std::vector<stream*>(streams_))
        window_stuck = s->check_deadlines(now, t) || window_stuck;
    // A client that keeps the connection's window shut starves every stream: it goes.
    if (window_stuck && nghttp2_session_get_remote_window_size(session_) <= 0)
        go_away(NGHTTP2_ENHANCE_YOUR_CALM);
    finish_batch();
}

void connection::abort() {
    if (closed_) return;
    io_->prepare_reset();
    close();
}

void connection::close() {
    if (closed_) return;
    closed_ = true;
    loop_.timers().disarm(timer_);
    loop_.unschedule(this);
    // Every stream still open learns that the connection is gone; the output is dropped and
    // its completions fire with the reason, which lets the streams end.
    for (stream* s : std::vector<stream*>(streams_))
        if (!s->is_closed()) s->closed(NGHTTP2_CANCEL, true);
    out_.cancel(make_error_code(errc::closed));
    run_completions();
    for (stream* s : streams_)
        s->release_fields(); // before the session their buffers belong to goes
    io_.reset();             // closes the socket
    self_.reset();
    if (in_.capacity()) worker_.give_buffer(std::move(in_));
    worker_.connection_closed(this);
}

detail::connection* make_connection(detail::worker& w, std::unique_ptr<detail::transport> io,
                                    const address& peer, const address& local,
                                    detail::byte_buffer&& already_read,
                                    std::unique_ptr<detail::h2c_upgrade> upgrade) {
    return new connection(w, std::move(io), peer, local, std::move(already_read),
                          std::move(upgrade));
}

} // namespace wharf::http2
