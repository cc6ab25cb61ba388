// SPDX-License-Identifier: MIT
// A connection's stream through OpenSSL on a non-blocking socket: the handshake runs on the
// event loop (want-read / want-write), records are read and written in place, files go out
// with sendfile when the kernel does the encryption (kTLS) and through a buffer otherwise.
#pragma once

#include <memory>

#include <openssl/ssl.h>

#include "net/transport.hpp"
#include "tls/context.hpp"
#include "wharf/tls.hpp"

namespace wharf::detail {

class tls_transport final : public transport {
  public:
    /// Takes `fd` (closed when destroyed) and a new SSL from `context`.
    tls_transport(int fd, std::shared_ptr<const tls_context> context) noexcept;
    ~tls_transport() override;
    tls_transport(const tls_transport&) = delete;
    tls_transport& operator=(const tls_transport&) = delete;

    handshake_status handshake() noexcept override;
    std::int64_t handshake_timeout_ms() const noexcept override;
    ssize_t read(char* buf, std::size_t len) noexcept override;
    bool has_pending() const noexcept override;
    ssize_t writev(const iovec* iov, int count, bool more) noexcept override;
    ssize_t sendfile(int fd, off_t* offset, std::size_t count) noexcept override;
    void shutdown_write() noexcept override;
    std::size_t readable_bytes() const noexcept override {
        return (ssl_ ? static_cast<std::size_t>(SSL_pending(ssl_)) : 0) + socket_readable(fd_);
    }
    std::size_t unacknowledged() const noexcept override;
    void prepare_reset() noexcept override;
    int fd() const noexcept override { return fd_; }
    const tls_info* tls() const noexcept override { return &info_; }

  private:
    /// Before the first handshake byte: a client that speaks plain HTTP to this port gets a
    /// 400 that says so. False when the connection is to close.
    handshake_status sniff() noexcept;
    ssize_t write_record(const void* data, std::size_t len) noexcept;
    ssize_t failure(int result, bool writing = false) noexcept;

    int fd_;
    SSL* ssl_ = nullptr;
    std::shared_ptr<const tls_context> context_;
    tls_info info_;
    bool sniffed_ = false;
    bool reset_ = false;  // prepare_reset(): the session is not kept for resumption
    bool drained_ = true; // the last read stopped at want-read: nothing left in the socket
};

/// Fills `info` from an SSL whose handshake is done.
void describe_session(SSL* ssl, tls_info& info);

} // namespace wharf::detail
