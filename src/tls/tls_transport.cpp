// SPDX-License-Identifier: MIT
#include "tls/tls_transport.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

namespace wharf::detail {
namespace {

constexpr std::size_t record_size = 16 * 1024; // the largest TLS record's plaintext

// What a plain-HTTP client gets on a TLS port, as nginx answers it.
constexpr char plaintext_answer[] = "HTTP/1.1 400 Bad Request\r\n"
                                    "Content-Type: text/plain\r\n"
                                    "Content-Length: 48\r\n"
                                    "Connection: close\r\n"
                                    "\r\n"
                                    "This port speaks HTTPS: send a TLS ClientHello.\n";
static_assert(sizeof "This port speaks HTTPS: send a TLS ClientHello.\n" - 1 == 48);

} // namespace

tls_transport::tls_transport(int fd, std::shared_ptr<const tls_context> context) noexcept
    : fd_(fd), context_(std::move(context)) {
    ssl_ = context_->new_ssl();
    if (ssl_ && SSL_set_fd(ssl_, fd_) != 1) {
        SSL_free(ssl_);
        ssl_ = nullptr;
    }
    ERR_clear_error();
}

tls_transport::~tls_transport() {
    if (ssl_) {
        // A session that ended in order (with or without close_notify) stays resumable; only
        // a reset or a failed handshake drops it from the cache.
        if (!reset_ && SSL_is_init_finished(ssl_))
            SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        SSL_free(ssl_);
    }
    if (fd_ >= 0) ::close(fd_);
}

std::int64_t tls_transport::handshake_timeout_ms() const noexcept {
    return context_->handshake_timeout_ms();
}

transport::handshake_status tls_transport::sniff() noexcept {
    unsigned char first = 0;
    ssize_t n;
    do {
        n = ::recv(fd_, &first, 1, MSG_PEEK);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return errno == EAGAIN ? handshake_status::want_read : handshake_status::failed;
    if (n == 0) return handshake_status::failed;
    sniffed_ = true;
    if (first == 0x16) return handshake_status::done; // a handshake record: TLS goes on
    if (first >= 'A' && first <= 'Z') {
        // A request line: take what came (so the close is a FIN, not a reset) and say why.
        char sink[4096];
        while (::recv(fd_, sink, sizeof sink, 0) > 0) {
        }
        (void)::send(fd_, plaintext_answer, sizeof plaintext_answer - 1, MSG_NOSIGNAL);
    }
    return handshake_status::failed;
}

transport::handshake_status tls_transport::handshake() noexcept {
    if (ssl_ == nullptr) return handshake_status::failed;
    if (!sniffed_) {
        if (const auto s = sniff(); s != handshake_status::done) return s;
    }
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) {
        describe_session(ssl_, info_);
        return handshake_status::done;
    }
    switch (SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_READ:
        return handshake_status::want_read;
    case SSL_ERROR_WANT_WRITE:
        return handshake_status::want_write;
    default:
        ERR_clear_error();
        return handshake_status::failed;
    }
}

ssize_t tls_transport::failure(int result, bool writing) noexcept {
    const int e = SSL_get_error(ssl_, result);
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return -EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
        // Once close_notify has come, SSL_get_error says ZERO_RETURN for every call that fails
        // without wanting I/O, writes too: a write that failed (the peer reset) is an error,
        // not 0 bytes written, or the stream would wait for a writable socket forever.
        if (writing) {
            ERR_clear_error();
            return -EPIPE;
        }
        return 0; // close_notify (or, with IGNORE_UNEXPECTED_EOF, a bare FIN)
    case SSL_ERROR_SYSCALL: {
        const int err = errno;
        ERR_clear_error();
        return err ? -err : -ECONNRESET;
    }
    default:
        ERR_clear_error();
        return -EPROTO; // a bad record or alert: the stream cannot go on
    }
}

ssize_t tls_transport::read(char* buf, std::size_t len) noexcept {
    std::size_t n = 0;
    const int r = SSL_read_ex(ssl_, buf, len, &n);
    if (r == 1) {
        drained_ = false;
        return static_cast<ssize_t>(n);
    }
    const ssize_t e = failure(r);
    drained_ = e == -EAGAIN;
    return e;
}

bool tls_transport::has_pending() const noexcept {
    // A short read proves nothing here: records may wait in the socket or inside OpenSSL.
    // Only a read that stopped for want of bytes does.
    return !drained_ || SSL_has_pending(ssl_);
}

ssize_t tls_transport::write_record(const void* data, std::size_t len) noexcept {
    std::size_t n = 0;
    const int r = SSL_write_ex(ssl_, data, len, &n);
    return r == 1 ? static_cast<ssize_t>(n) : failure(r, true);
}

ssize_t tls_transport::writev(const iovec* iov, int count, bool) noexcept {
    // Each SSL_write sends one record (partial-write mode). Small buffers are gathered into
    // one record; a record that would block stays inside OpenSSL and is offered the same bytes
    // again by the caller, who only drops what was reported written.
    thread_local char gather[record_size];
    std::size_t total = 0;
    int i = 0;
    std::size_t skip = 0; // bytes of iov[i] already written
    while (i < count) {
        const char* base = static_cast<const char*>(iov[i].iov_base) + skip;
        std::size_t len = iov[i].iov_len - skip;
        if (len == 0) {
            ++i;
            skip = 0;
            continue;
        }
        ssize_t n;
        if (len >= record_size || i + 1 == count) {
            n = write_record(base, std::min(len, record_size));
        } else {
            std::size_t used = 0;
            for (int j = i; j < count && used < record_size; ++j) {
                const char* from = j == i ? base : static_cast<const char*>(iov[j].iov_base);
                const std::size_t take =
                    std::min((j == i ? len : iov[j].iov_len), record_size - used);
                std::memcpy(gather + used, from, take);
                used += take;
            }
            n = write_record(gather, used);
        }
        if (n <= 0) return total > 0 ? static_cast<ssize_t>(total) : n;
        total += static_cast<std::size_t>(n);
        // Advance through the vector by n bytes.
        auto left = static_cast<std::size_t>(n);
        while (left > 0 && i < count) {
            const std::size_t here = iov[i].iov_len - skip;
            if (left < here) {
                skip += left;
                left = 0;
            } else {
                left -= here;
                ++i;
                skip = 0;
            }
        }
    }
    return static_cast<ssize_t>(total);
}

ssize_t tls_transport::sendfile(int fd, off_t* offset, std::size_t count) noexcept {
    if (BIO_get_ktls_send(SSL_get_wbio(ssl_))) {
        const ossl_ssize_t n = SSL_sendfile(ssl_, fd, *offset, count, 0);
        if (n >= 0) {
            *offset += n;
            return n;
        }
        return failure(static_cast<int>(n), true);
    }
    return transport::sendfile(fd, offset, count);
}

void tls_transport::shutdown_write() noexcept {
    // close_notify first (only on a finished handshake), then the FIN.
    if (ssl_ && SSL_is_init_finished(ssl_)) {
        if (SSL_shutdown(ssl_) < 0) ERR_clear_error();
    }
    ::shutdown(fd_, SHUT_WR);
}

std::size_t tls_transport::unacknowledged() const noexcept {
    return socket_unacknowledged(fd_);
}

void tls_transport::prepare_reset() noexcept {
    reset_ = true;
    socket_prepare_reset(fd_);
}

} // namespace wharf::detail
