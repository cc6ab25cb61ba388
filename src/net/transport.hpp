// SPDX-License-Identifier: MIT
// The byte stream a connection speaks through: plain TCP (or a Unix socket) now, TLS behind
// the same interface, and an in-memory stream in unit tests. Results are byte counts, 0 for
// end of stream, or a negative errno (-EAGAIN when the call would block).
#pragma once

#include <cstddef>
#include <cstdint>
#include <sys/types.h>
#include <sys/uio.h>

namespace wharf {
struct tls_info;
struct proxy_info;
} // namespace wharf

namespace wharf::detail {

class transport {
  public:
    virtual ~transport() = default;

    /// Where a handshake stands (TLS); a plain stream is ready at once.
    enum class handshake_status { done, want_read, want_write, failed };
    /// Advances the handshake; call again on the readiness it asked for.
    virtual handshake_status handshake() noexcept { return handshake_status::done; }
    /// How long the handshake may take, in milliseconds (0: no deadline of its own).
    virtual std::int64_t handshake_timeout_ms() const noexcept { return 0; }
    /// The TLS session once the handshake is done; null for a plain stream.
    virtual const tls_info* tls() const noexcept { return nullptr; }
    /// What a PROXY protocol header said, once the handshake is done on a listener that
    /// expects one; null otherwise.
    virtual const proxy_info* proxied() const noexcept { return nullptr; }

    virtual ssize_t read(char* buf, std::size_t len) noexcept = 0;
    /// True when bytes already read from the socket wait inside the transport (a decrypted TLS
    /// record): a short read then does not mean the socket is drained, so read again.
    virtual bool has_pending() const noexcept { return false; }
    /// Gathers up to `count` (<= IOV_MAX) buffers; `more` says more data follows at once, so
    /// a partial packet (or record) may be held back.
    virtual ssize_t writev(const iovec* iov, int count, bool more) noexcept = 0;
    /// Sends up to `count` bytes of file `fd` from `*offset` (advanced by what was sent), with
    /// the same results as writev. This default reads the file and writes what it read, for
    /// transports that cannot hand a file to the kernel (TLS without kTLS, memory).
    virtual ssize_t sendfile(int fd, off_t* offset, std::size_t count) noexcept;
    /// Ends our direction in order (TLS close_notify, then FIN) after what was written.
    virtual void shutdown_write() noexcept = 0;
    /// Bytes the peer sent that wait to be read (in the kernel or the transport; 0 when
    /// unknown).
    virtual std::size_t readable_bytes() const noexcept { return 0; }
    /// Bytes written but not yet acknowledged by the peer (0 when unknown).
    virtual std::size_t unacknowledged() const noexcept { return 0; }
    /// Makes the close that follows a reset: the peer gets RST and queued bytes are dropped.
    virtual void prepare_reset() noexcept {}
    /// The descriptor to watch for readiness, or -1 (a stream the caller drives itself).
    virtual int fd() const noexcept = 0;
};

/// What the kernel holds unread on a socket (FIONREAD; 0 when unknown).
std::size_t socket_readable(int fd) noexcept;
/// What the kernel holds unacknowledged on a TCP socket (SIOCOUTQ; 0 when unknown).
std::size_t socket_unacknowledged(int fd) noexcept;
/// Makes the socket's close send RST and drop what is queued (SO_LINGER 0).
void socket_prepare_reset(int fd) noexcept;

/// Plain TCP (or Unix-socket) stream on a non-blocking fd; closes it when destroyed.
class socket_transport final : public transport {
  public:
    explicit socket_transport(int fd) noexcept : fd_(fd) {}
    ~socket_transport() override;
    socket_transport(const socket_transport&) = delete;
    socket_transport& operator=(const socket_transport&) = delete;

    ssize_t read(char* buf, std::size_t len) noexcept override;
    ssize_t writev(const iovec* iov, int count, bool more) noexcept override;
    ssize_t sendfile(int fd, off_t* offset, std::size_t count) noexcept override;
    void shutdown_write() noexcept override;
    std::size_t readable_bytes() const noexcept override { return socket_readable(fd_); }
    std::size_t unacknowledged() const noexcept override;
    void prepare_reset() noexcept override;
    int fd() const noexcept override { return fd_; }

  private:
    int fd_;
};

} // namespace wharf::detail
