// SPDX-License-Identifier: MIT
#include "upgrade/raw_connection.hpp"

#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace wharf::detail {
namespace {

constexpr std::int64_t linger_ms = 2000; // after our FIN: how long the client's bytes are drained

std::error_code from_errno(ssize_t negative_errno) {
    switch (-negative_errno) {
    case ENOMEM:
    case ENOBUFS:
        return make_error_code(errc::no_memory);
    case EPIPE:
    case ECONNRESET:
    default:
        return make_error_code(errc::connection_reset);
    }
}

} // namespace

connection* make_raw_connection(worker& w, std::unique_ptr<transport> io, const address& peer,
                                const address& local, byte_buffer&& already_read,
                                upgrade_callback ready) {
    return new raw_connection(w, std::move(io), peer, local, std::move(already_read),
                              std::move(ready));
}

raw_connection::raw_connection(worker& w, std::unique_ptr<transport> io, const address& peer,
                               const address& local, byte_buffer&& already_read,
                               upgrade_callback ready)
    : byte_stream(w.loop(), w.state().config.timeouts.send_grace.count()), worker_(w),
      io_(std::move(io)), peer_(peer), local_(local), in_(std::move(already_read)),
      ready_(std::move(ready)),
      timer_([](void* self) { static_cast<raw_connection*>(self)->on_timeout(); }, this) {}

raw_connection::~raw_connection() = default;

bool raw_connection::start() {
    // The client's stream is already watched (it was HTTP/1's): its events come here now.
    if (const int fd = io_->fd();
        fd >= 0 && loop_.modify(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, this))
        return false;
    last_activity_ = loop_.now();
    if (worker_.draining()) stop_.request_stop();
    // The application learns of the stream after the hand-over, not inside it.
    loop_.defer([state = state_, ready = std::move(ready_)] {
        if (state->conn)
            ready({}, upgraded_stream(state));
        else
            ready(make_error_code(errc::closed), {});
    });
    return true;
}

void raw_connection::on_io(std::uint32_t events) {
    if (closed_) return;
    if (events & EPOLLERR) {
        close(make_error_code(errc::connection_reset), true);
        return;
    }
    if (events & EPOLLOUT) {
        writable_ = true;
        if (on_written_) try_write();
        if (closed_) return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
        readable_ = true;
        if (lingering_)
            linger();
        else if (on_read_)
            try_read();
    }
}

// -- writes ---------------------------------------------------------------------------------

void raw_connection::write(std::span<const std::string_view> buffers, bool all, io_callback done) {
    if (closed_ || fin_wanted_) return refuse_later(std::move(done), errc::closed);
    if (on_written_) return refuse_later(std::move(done), errc::busy);
    if (buffers.size() > IOV_MAX) return refuse_later(std::move(done), errc::invalid_argument);
    iov_.clear();
    for (std::string_view b : buffers)
        if (!b.empty()) iov_.push_back({const_cast<char*>(b.data()), b.size()});
    first_ = 0;
    written_ = 0;
    write_all_ = all;
    on_written_ = std::move(done);
    write_progress_at_ = loop_.now();
    if (iov_.empty()) {
        complete_write({});
        return;
    }
    if (writable_) try_write();
    refresh_timer();
}

void raw_connection::try_write() {
    while (first_ < iov_.size()) {
        const int count = static_cast<int>(iov_.size() - first_);
        const ssize_t n = io_->writev(iov_.data() + first_, count, false);
        if (n == -EAGAIN || n == -EWOULDBLOCK) {
            writable_ = false;
            break;
        }
        if (n < 0) {
            close(from_errno(n), true);
            return;
        }
        written_ += static_cast<std::size_t>(n);
        last_activity_ = write_progress_at_ = loop_.now();
        for (std::size_t left = static_cast<std::size_t>(n); left > 0 && first_ < iov_.size();) {
            iovec& v = iov_[first_];
            const std::size_t take = std::min(left, v.iov_len);
            v.iov_base = static_cast<char*>(v.iov_base) + take;
            v.iov_len -= take;
            left -= take;
            if (v.iov_len == 0) ++first_;
        }
        if (!write_all_) break; // NNG's write: done after at least one byte
    }
    if (first_ == iov_.size() || (!write_all_ && written_ > 0)) complete_write({});
    if (!closed_) refresh_timer();
}

void raw_connection::complete_write(std::error_code ec) {
    if (!on_written_) return;
    loop_.defer([done = std::exchange(on_written_, nullptr), ec, n = written_] { done(ec, n); });
    iov_.clear();
    if (fin_wanted_ && !closed_) send_fin();
}

// -- reads ----------------------------------------------------------------------------------

void raw_connection::read(std::span<char> buffer, io_callback done) {
    if (closed_ || lingering_) return refuse_later(std::move(done), errc::closed);
    if (on_read_) return refuse_later(std::move(done), errc::busy);
    if (buffer.empty()) return refuse_later(std::move(done), errc::invalid_argument);
    read_into_ = buffer;
    on_read_ = std::move(done);
    try_read();
}

void raw_connection::try_read() {
    if (in_at_ < in_.size()) {
        // What came with the request head goes first.
        const std::size_t n = std::min(read_into_.size(), in_.size() - in_at_);
        std::memcpy(read_into_.data(), in_.data() + in_at_, n);
        in_at_ += n;
        if (in_at_ == in_.size()) in_ = byte_buffer{};
        complete_read({}, n);
        return;
    }
    if (peer_eof_) {
        complete_read(make_error_code(errc::closed), 0);
        return;
    }
    if (!readable_ && !io_->has_pending()) {
        refresh_timer();
        return;
    }
    const ssize_t n = io_->read(read_into_.data(), read_into_.size());
    if (n > 0) {
        last_activity_ = loop_.now();
        complete_read({}, static_cast<std::size_t>(n));
    } else if (n == 0) {
        peer_eof_ = true;
        complete_read(make_error_code(errc::closed), 0);
    } else if (n == -EAGAIN || n == -EWOULDBLOCK) {
        readable_ = false;
        refresh_timer();
    } else {
        close(from_errno(n), true);
    }
}

void raw_connection::complete_read(std::error_code ec, std::size_t n) {
    if (!on_read_) return;
    read_into_ = {};
    loop_.defer([done = std::exchange(on_read_, nullptr), ec, n] { done(ec, n); });
    refresh_timer();
}

// -- ends -----------------------------------------------------------------------------------

void raw_connection::cancel() {
    complete_read(make_error_code(errc::canceled), 0);
    complete_write(make_error_code(errc::canceled));
}

void raw_connection::close_gracefully() {
    if (closed_ || fin_wanted_) return;
    fin_wanted_ = true;
    complete_read(make_error_code(errc::canceled), 0);
    if (!on_written_) send_fin();
}

void raw_connection::send_fin() {
    io_->shutdown_write();
    lingering_ = true;
    linger_until_ = loop_.now() + linger_ms;
    if (peer_eof_) {
        close(make_error_code(errc::closed), false);
        return;
    }
    linger();
}

void raw_connection::linger() {
    // Closing with the client's bytes unread would reset the connection and could destroy
    // what we sent last: they are read and dropped until its FIN.
    char sink[4096];
    for (;;) {
        const ssize_t n = io_->read(sink, sizeof sink);
        if (n > 0) continue;
        if (n == -EAGAIN || n == -EWOULDBLOCK) {
            refresh_timer();
            return;
        }
        close(make_error_code(errc::closed), false);
        return;
    }
}

void raw_connection::drain() {
    // The application is told; the worker's shutdown deadline resets what it leaves open.
    stop_.request_stop();
}

void raw_connection::abort() {
    close(make_error_code(errc::canceled), true);
}

void raw_connection::close(std::error_code why, bool reset) {
    if (closed_) return;
    closed_ = true;
    loop_.timers().disarm(timer_);
    loop_.unschedule(this);
    if (reset) io_->prepare_reset();
    io_.reset(); // closes the socket, which takes it out of epoll
    complete_read(why, 0);
    complete_write(why);
    detach(why);
    worker_.connection_closed(this);
}

// -- deadlines ------------------------------------------------------------------------------

void raw_connection::refresh_timer() {
    if (!closed_)
        arm_earliest(timer_, static_cast<bool>(on_written_), lingering_ ? linger_until_ : 0);
}

void raw_connection::on_timeout() {
    if (closed_) return;
    const std::int64_t now = loop_.now();
    const std::error_code timed_out = make_error_code(errc::timed_out);
    run_alarm_if_due(now);
    if (lingering_ && now >= linger_until_) {
        close(make_error_code(errc::closed), false);
    } else if (write_timed_out(static_cast<bool>(on_written_), now)) {
        close(timed_out, true); // the peer does not read: what waits for it is dropped
    } else if (idle_timed_out(now)) {
        close(timed_out, false);
    } else {
        refresh_timer();
    }
}

} // namespace wharf::detail
