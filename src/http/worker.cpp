// SPDX-License-Identifier: MIT
#include "http/worker.hpp"

#include "net/proxy_transport.hpp"
#include "tls/tls_transport.hpp"

#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace wharf::detail {

namespace {
constexpr int accepts_per_event = 64;
constexpr std::int64_t accept_retry_ms = 100; // after EMFILE: retry later, never spin
} // namespace

struct worker::acceptor final : io_watcher {
    worker* owner;
    int fd;
    address local;
    bool owned;
    const tls_slot* tls;
    bool proxy; // a PROXY protocol header comes first
    void on_io(std::uint32_t) override { owner->accept_from(*this); }
};

worker::worker(const server_state& state)
    : state_(state), logger_(state.access_log_fd, state.config.access_log_format,
                             &state.config.access_log_callback),
      services_{state.config, state.routes, logger_,
                state.trusted.empty() ? nullptr : &state.trusted},
      scratch_fields_(state.config.limits.max_headers),
      accept_retry_([](void* self) { static_cast<worker*>(self)->pause_accepting(false); }, this),
      shutdown_deadline_(
          [](void* self) {
              auto* w = static_cast<worker*>(self);
              for (auto* c = w->first_; c;) {
                  auto* next = c->next;
                  c->abort();
                  c = next;
              }
          },
          this) {
    if (logger_.enabled()) loop_.on_iteration_end([this] { logger_.flush(); });
}

worker::~worker() {
    if (held_.fd >= 0) ::close(held_.fd);
    for (auto* c = first_; c;) {
        auto* next = c->next;
        c->abort();
        c = next;
    }
    for (auto& a : acceptors_)
        if (a->owned && a->fd >= 0) ::close(a->fd);
    loop_.run_deferred();
    logger_.flush();
}

void worker::add_listener(int fd, const address& local, bool owned, const tls_slot* tls,
                          bool proxy) {
    auto a = std::make_unique<acceptor>();
    a->owner = this;
    a->fd = fd;
    a->local = local;
    a->owned = owned;
    a->tls = tls;
    a->proxy = proxy;
    // Unix-socket listeners are shared by all workers: EPOLLEXCLUSIVE wakes only one.
    const std::uint32_t events =
        EPOLLIN | (owned ? 0u : static_cast<std::uint32_t>(EPOLLEXCLUSIVE));
    (void)loop_.add(fd, events, a.get());
    acceptors_.push_back(std::move(a));
}

void worker::run() {
    loop_.run();
    logger_.flush();
}

void worker::stop(milliseconds deadline) {
    loop_.post([this, deadline] { begin_shutdown(deadline); });
}

void worker::begin_shutdown(milliseconds deadline) {
    if (draining_) return;
    draining_ = true;
    if (held_.fd >= 0) ::close(std::exchange(held_, {}).fd);
    loop_.timers().disarm(accept_retry_);
    for (auto& a : acceptors_) {
        loop_.remove(a->fd);
        if (a->owned) ::close(a->fd);
        a->fd = -1;
    }
    for (auto* c = first_; c;) {
        auto* next = c->next;
        c->drain();
        c = next;
    }
    loop_.timers().arm(shutdown_deadline_, loop_.now() + deadline.count());
    maybe_finish();
}

void worker::maybe_finish() {
    if (draining_ && first_ == nullptr) {
        loop_.timers().disarm(shutdown_deadline_);
        loop_.quit();
    }
}

byte_buffer worker::take_buffer() {
    if (buffer_pool_.empty()) {
        byte_buffer b;
        b.prepare(buffer_size);
        return b;
    }
    byte_buffer b = std::move(buffer_pool_.back());
    buffer_pool_.pop_back();
    return b;
}

void worker::give_buffer(byte_buffer&& b) {
    // Keep only default-sized buffers, and not more than a busy moment needs.
    if (b.capacity() == buffer_size && buffer_pool_.size() < 256) {
        b.clear();
        buffer_pool_.push_back(std::move(b));
    } else {
        b.release();
    }
}

std::string worker::take_send_buffer() {
    if (send_buffer_pool_.empty()) return {};
    std::string b = std::move(send_buffer_pool_.back());
    send_buffer_pool_.pop_back();
    return b;
}

void worker::give_send_buffer(std::string&& b) {
    // A buffer that grew for a burst goes back to the allocator, not to the pool.
    if (b.capacity() >= 1024 && b.capacity() <= 2 * buffer_size && send_buffer_pool_.size() < 256) {
        b.clear();
        send_buffer_pool_.push_back(std::move(b));
    }
}

void worker::slot_freed() {
    // Resuming runs accept_from on every listener, which takes a held client first.
    if (paused_at_limit_ && !accept_retry_.armed()) pause_accepting(false);
}

void worker::accept_from(acceptor& a) {
    // A client accepted while the last slot went to another worker waits here, first in line.
    if (held_.fd >= 0) {
        if (draining_ || !state_.connections.try_take(1)) return;
        const held_client h = std::exchange(held_, {});
        adopt(h.fd, h.peer, *h.local, h.tls, h.proxy);
    }
    for (int i = 0; i < accepts_per_event && !accept_paused_ && !draining_; ++i) {
        // The limit is server-wide: a worker with few connections takes its share of clients
        // while another is busy (SO_REUSEPORT hashes clients, it does not balance them).
        if (state_.connections.used() >= state_.connections.max()) {
            pause_accepting(true);
            paused_at_limit_ = true;
            return;
        }
        sockaddr_storage from{};
        socklen_t from_length = sizeof from;
        const int fd = ::accept4(a.fd, reinterpret_cast<sockaddr*>(&from), &from_length,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
        const address peer = address::from(reinterpret_cast<const sockaddr*>(&from), from_length);
        if (fd >= 0 && !state_.connections.try_take(1)) {
            // Another worker took the last slot in the meantime: the limit is exact, so this
            // client waits (as it would have in the backlog) until a slot frees.
            held_ = {fd, peer, &a.local, a.tls, a.proxy};
            pause_accepting(true);
            paused_at_limit_ = true;
            return;
        }
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // Out of descriptors: stop accepting for a moment instead of spinning on a
                // listener that stays readable.
                pause_accepting(true);
                loop_.timers().arm(accept_retry_, loop_.now() + accept_retry_ms);
            }
            return;
        }
        adopt(fd, peer, a.local, a.tls, a.proxy);
    }
}

void worker::adopt(int fd, const address& peer, const address& local, const tls_slot* tls,
                   bool proxy) {
    if (!local.is_unix()) {
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    std::unique_ptr<transport> io;
    if (tls)
        io = std::make_unique<tls_transport>(fd, tls->current());
    else
        io = std::make_unique<socket_transport>(fd);
    if (proxy) io = std::make_unique<proxy_transport>(std::move(io));
    adopt(std::move(io), peer, local);
}

void worker::adopt(std::unique_ptr<transport> io, const address& peer, const address& local) {
    connection* c = state_.make_connection(*this, std::move(io), peer, local);
    c->next = first_;
    if (first_) first_->prev = c;
    first_ = c;
    count_.fetch_add(1, std::memory_order_relaxed);
    if (!c->start()) c->abort();
}

void worker::release_slot() {
    if (!state_.connections.give(1) || draining_) return;
    // The server was full: every worker paused by the limit may accept again.
    for (worker* w : state_.workers) {
        if (w == this)
            slot_freed();
        else
            w->loop().post([w] { w->slot_freed(); });
    }
}

void worker::pause_accepting(bool paused) {
    if (!paused) paused_at_limit_ = false;
    if (paused == accept_paused_ || draining_) return;
    accept_paused_ = paused;
    for (auto& a : acceptors_) {
        if (a->fd < 0) continue;
        const std::uint32_t events =
            paused ? 0u : (EPOLLIN | (a->owned ? 0u : static_cast<std::uint32_t>(EPOLLEXCLUSIVE)));
        if (a->owned) {
            (void)loop_.modify(a->fd, events, a.get());
        } else {
            // EPOLLEXCLUSIVE registrations cannot be modified: remove and add again.
            loop_.remove(a->fd);
            if (!paused) (void)loop_.add(a->fd, events, a.get());
        }
    }
    if (!paused) {
        for (auto& a : acceptors_)
            if (a->fd >= 0) accept_from(*a);
    }
}

void worker::hand_over(connection* from, connection* to) {
    to->prev = from->prev;
    to->next = from->next;
    if (to->prev)
        to->prev->next = to;
    else
        first_ = to;
    if (to->next) to->next->prev = to;
    from->prev = from->next = nullptr;
    loop_.defer([from] { delete from; });
    if (!to->start()) to->abort();
}

void worker::connection_closed(connection* c) {
    if (c->prev)
        c->prev->next = c->next;
    else
        first_ = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = nullptr;
    count_.fetch_sub(1, std::memory_order_relaxed);
    loop_.defer([c] { delete c; });
    release_slot();
    maybe_finish();
}

} // namespace wharf::detail
