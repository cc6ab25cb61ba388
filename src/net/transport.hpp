// SPDX-License-Identifier: MIT
// The byte stream a connection speaks through. Plain TCP now; TLS slots in behind the same
// interface. Results are byte counts, 0 for end of stream, or a negative errno (-EAGAIN when
// the call would block).
#pragma once

#include <cstddef>
#include <sys/types.h>
#include <sys/uio.h>

namespace wharf::detail {

class transport {
  public:
    virtual ~transport() = default;
    virtual ssize_t read(char* buf, std::size_t len) noexcept = 0;
    /// Gathers up to `count` (<= IOV_MAX) buffers; `more` hints that more data follows at once
    /// (MSG_MORE), so the kernel may hold a partial segment.
    virtual ssize_t writev(const iovec* iov, int count, bool more) noexcept = 0;
    /// Sends up to `count` bytes of file `fd` from `*offset` (advanced by what was sent), with
    /// the same results as writev. A transport that cannot (TLS) reads the file and writes.
    virtual ssize_t sendfile(int fd, off_t* offset, std::size_t count) noexcept = 0;
    /// Ends our direction of the stream (FIN after what was sent).
    virtual void shutdown_write() noexcept = 0;
    virtual int fd() const noexcept = 0;
};

/// Plain TCP (or Unix-socket) stream on a non-blocking fd it does not own.
class socket_transport final : public transport {
  public:
    explicit socket_transport(int fd) noexcept : fd_(fd) {}
    ssize_t read(char* buf, std::size_t len) noexcept override;
    ssize_t writev(const iovec* iov, int count, bool more) noexcept override;
    ssize_t sendfile(int fd, off_t* offset, std::size_t count) noexcept override;
    void shutdown_write() noexcept override;
    int fd() const noexcept override { return fd_; }

  private:
    int fd_;
};

} // namespace wharf::detail
