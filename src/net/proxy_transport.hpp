// SPDX-License-Identifier: MIT
// A transport whose handshake first takes a PROXY protocol header off the socket (exactly its
// bytes: peeked, parsed, then read), then hands over to the transport it wraps (plain or TLS).
#pragma once

#include <memory>

#include "net/proxy_protocol.hpp"
#include "net/transport.hpp"

namespace wharf::detail {

class proxy_transport final : public transport {
  public:
    explicit proxy_transport(std::unique_ptr<transport> inner) : inner_(std::move(inner)) {}

    handshake_status handshake() noexcept override;
    std::int64_t handshake_timeout_ms() const noexcept override {
        return inner_->handshake_timeout_ms();
    }
    const tls_info* tls() const noexcept override { return inner_->tls(); }
    const proxy_info* proxied() const noexcept override {
        return have_header_ ? &header_ : nullptr;
    }

    ssize_t read(char* buf, std::size_t len) noexcept override {
        unread_hint_ = false;
        return inner_->read(buf, len);
    }
    // Right after the header, the request behind it may already wait in the kernel with no
    // edge left to announce it: say so once, so the connection reads.
    bool has_pending() const noexcept override { return unread_hint_ || inner_->has_pending(); }
    ssize_t writev(const iovec* iov, int count, bool more) noexcept override {
        return inner_->writev(iov, count, more);
    }
    ssize_t sendfile(int fd, off_t* offset, std::size_t count) noexcept override {
        return inner_->sendfile(fd, offset, count);
    }
    void shutdown_write() noexcept override { inner_->shutdown_write(); }
    std::size_t readable_bytes() const noexcept override { return inner_->readable_bytes(); }
    std::size_t unacknowledged() const noexcept override { return inner_->unacknowledged(); }
    void prepare_reset() noexcept override { inner_->prepare_reset(); }
    int fd() const noexcept override { return inner_->fd(); }

  private:
    handshake_status read_header() noexcept;

    std::unique_ptr<transport> inner_;
    proxy::header header_;
    bool have_header_ = false;
    bool unread_hint_ = false;
};

} // namespace wharf::detail
