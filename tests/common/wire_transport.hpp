// SPDX-License-Identifier: MIT
// An in-memory byte stream for driving a connection without sockets: the peer's bytes wait in
// a `wire`, the server's writes land in it, and a write budget plays a full socket. The
// transport's state lives in the wire, which the test keeps: the connection owns (and deletes)
// the transport when it closes, the wire stays to tell what it wrote and how it ended.
#pragma once

#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "net/transport.hpp"

namespace wharf_test {

/// The two ends of the in-memory stream, as the test sees them.
struct wire {
    std::string pending;                 ///< sent by the peer, not read by the server yet
    bool eof = false;                    ///< the peer's FIN, after `pending`
    std::string output;                  ///< everything the server wrote
    std::size_t write_budget = SIZE_MAX; ///< bytes writes may still take; 0: EAGAIN
    bool write_refused = false;          ///< a write met EAGAIN since the last EPOLLOUT
    bool shut = false;                   ///< the server ended its direction (FIN)
    bool reset = false;                  ///< the server closed with a reset (RST)
    bool destroyed = false;              ///< the connection closed and deleted the transport
    bool wrote_after_shut = false;       ///< a write after shutdown_write (never legal)
    std::uint64_t calls = 0;             ///< calls into the transport: tells when it settles
};

/// The transport over a wire: a byte stream, like a socket (a read may take bytes of several
/// arrivals at once).
class wire_transport final : public wharf::detail::transport {
  public:
    explicit wire_transport(std::shared_ptr<wire> w) noexcept : w_(std::move(w)) {}
    ~wire_transport() override { w_->destroyed = true; }
    wire_transport(const wire_transport&) = delete;
    wire_transport& operator=(const wire_transport&) = delete;

    ssize_t read(char* buf, std::size_t len) noexcept override {
        ++w_->calls;
        if (w_->pending.empty()) return w_->eof ? 0 : -EAGAIN;
        const std::size_t n = std::min(len, w_->pending.size());
        w_->pending.copy(buf, n);
        w_->pending.erase(0, n);
        return static_cast<ssize_t>(n);
    }
    ssize_t writev(const iovec* iov, int count, bool) noexcept override {
        ++w_->calls;
        if (w_->shut) w_->wrote_after_shut = true;
        std::size_t total = 0;
        for (int i = 0; i < count && w_->write_budget > 0; ++i) {
            const std::size_t n = std::min(iov[i].iov_len, w_->write_budget);
            w_->output.append(static_cast<const char*>(iov[i].iov_base), n);
            if (w_->write_budget != SIZE_MAX) w_->write_budget -= n;
            total += n;
        }
        std::size_t asked = 0;
        for (int i = 0; i < count; ++i)
            asked += iov[i].iov_len;
        if (total < asked) w_->write_refused = true; // the next write would block
        return total == 0 && asked > 0 ? -EAGAIN : static_cast<ssize_t>(total);
    }
    void shutdown_write() noexcept override {
        ++w_->calls;
        w_->shut = true;
    }
    void prepare_reset() noexcept override { w_->reset = true; }
    std::size_t readable_bytes() const noexcept override { return w_->pending.size(); }
    int fd() const noexcept override { return -1; }

  private:
    std::shared_ptr<wire> w_;
};

} // namespace wharf_test
