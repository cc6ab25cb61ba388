// SPDX-License-Identifier: MIT
// A small blocking WebSocket client for the in-process integration tests: the opening
// handshake (RFC 6455's sample key, so the expected Sec-WebSocket-Accept is a constant),
// masked frames out, the server's frames parsed strictly in (they must be unmasked), and the
// end of the connection told apart as a FIN or a reset. It never offers permessage-deflate
// unless a test adds the header itself, so what arrives is plain.
// Every wait is bounded, so a misbehaving server fails a test instead of hanging it.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

#include <wharf/address.hpp>

#include "test_client.hpp"

namespace wharf_test {

/// Opcodes (RFC 6455 §5.2).
namespace ws_op {
inline constexpr std::uint8_t continuation = 0x0;
inline constexpr std::uint8_t text = 0x1;
inline constexpr std::uint8_t binary = 0x2;
inline constexpr std::uint8_t close = 0x8;
inline constexpr std::uint8_t ping = 0x9;
inline constexpr std::uint8_t pong = 0xA;
} // namespace ws_op

/// RFC 6455 §1.3's sample key and its accept value.
inline constexpr std::string_view ws_sample_key = "dGhlIHNhbXBsZSBub25jZQ==";
inline constexpr std::string_view ws_sample_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// One frame from the server.
struct ws_frame {
    std::uint8_t op = 0;
    bool fin = false;
    bool rsv1 = false;
    std::string payload;

    /// A close frame's code; 0 when it carried none.
    std::uint16_t close_code() const {
        if (payload.size() < 2) return 0;
        return static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                          static_cast<unsigned char>(payload[1]));
    }
    std::string close_reason() const { return payload.size() < 2 ? "" : payload.substr(2); }
};

/// The payload of a close frame: the code in network order, then the reason.
inline std::string ws_close_payload(std::uint16_t code, std::string_view reason = {}) {
    std::string p;
    p.push_back(static_cast<char>(code >> 8));
    p.push_back(static_cast<char>(code & 0xFF));
    p.append(reason);
    return p;
}

class ws_client {
  public:
    /// Connects to `to`. `rcvbuf` (bytes, 0: the system's default) is set before connecting,
    /// so it bounds the TCP window the server may fill while this client does not read.
    explicit ws_client(const wharf::address& to, int rcvbuf = 0,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5))
        : timeout_(timeout) {
        fd_ = ::socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) {
            error_ = "socket() failed";
            return;
        }
        if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        const int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (::connect(fd_, to.data(), to.size()) != 0) {
            error_ = "connect() failed: errno " + std::to_string(errno);
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~ws_client() { close(); }
    ws_client(const ws_client&) = delete;
    ws_client& operator=(const ws_client&) = delete;

    bool connected() const noexcept { return fd_ >= 0; }
    const std::string& error() const noexcept { return error_; }
    /// True once the server ended the connection (FIN or reset).
    bool eof() const noexcept { return eof_; }
    /// True when the end was a reset (ECONNRESET) rather than a FIN.
    bool reset() const noexcept { return reset_; }
    /// Bytes received and not yet parsed.
    const std::string& pending() const noexcept { return buf_; }

    void close() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    void shutdown_write() noexcept {
        if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
    }

    /// The GET with the upgrade headers for `path`, plus `extra` header lines (each ending in
    /// CRLF).
    static std::string handshake_request(std::string_view path, std::string_view extra = {}) {
        std::string r;
        r.append("GET ").append(path).append(" HTTP/1.1\r\nHost: test\r\n");
        r.append("Upgrade: websocket\r\nConnection: Upgrade\r\n");
        r.append("Sec-WebSocket-Key: ").append(ws_sample_key).append("\r\n");
        r.append("Sec-WebSocket-Version: 13\r\n");
        r.append(extra).append("\r\n");
        return r;
    }

    /// Sends the opening handshake and reads the response: its head, and for anything but a
    /// 101 a Content-Length body. nullopt on EOF, timeout or a malformed response (error()).
    std::optional<http_response> handshake(std::string_view path, std::string_view extra = {}) {
        if (!send_raw(handshake_request(path, extra))) return std::nullopt;
        return read_response();
    }

    /// As handshake(), and true only for a 101 with the right Upgrade and Accept.
    bool open(std::string_view path, std::string_view extra = {}) {
        const auto r = handshake(path, extra);
        if (!r) return false;
        if (r->status != 101) {
            error_ = "handshake answered " + std::to_string(r->status);
            return false;
        }
        if (r->header("Sec-WebSocket-Accept") != std::string(ws_sample_accept) ||
            !r->header("Upgrade") || !wharf::iequals(*r->header("Upgrade"), "websocket")) {
            error_ = "101 without the right Upgrade / Sec-WebSocket-Accept";
            return false;
        }
        return true;
    }

    std::optional<http_response> read_response() {
        std::size_t end;
        while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
            if (!fill()) {
                if (error_.empty()) error_ = "EOF before a response head";
                return std::nullopt;
            }
        const std::string head = buf_.substr(0, end);
        buf_.erase(0, end + 4);
        http_response r;
        std::size_t line_end = head.find("\r\n");
        const std::string status_line = head.substr(0, line_end);
        if (status_line.size() < 12 || status_line.compare(0, 9, "HTTP/1.1 ") != 0) {
            error_ = "malformed status line: " + status_line;
            return std::nullopt;
        }
        r.version = status_line.substr(0, 8);
        r.status = std::stoi(status_line.substr(9, 3));
        r.reason = status_line.size() > 13 ? status_line.substr(13) : "";
        while (line_end != std::string::npos) {
            const std::size_t start = line_end + 2;
            line_end = head.find("\r\n", start);
            const std::string line = head.substr(
                start, line_end == std::string::npos ? std::string::npos : line_end - start);
            const std::size_t colon = line.find(':');
            if (colon == std::string::npos) {
                error_ = "malformed header line: " + line;
                return std::nullopt;
            }
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ')
                value.erase(0, 1);
            while (!value.empty() && value.back() == ' ')
                value.pop_back();
            r.headers.emplace_back(line.substr(0, colon), std::move(value));
        }
        if (r.status == 101) return r;
        const auto length = r.header("Content-Length");
        if (!length) {
            error_ = "response without Content-Length";
            return std::nullopt;
        }
        const std::size_t n = std::stoull(*length);
        while (buf_.size() < n)
            if (!fill()) {
                error_ = "EOF inside a body";
                return std::nullopt;
            }
        r.body = buf_.substr(0, n);
        buf_.erase(0, n);
        return r;
    }

    /// Sends every byte; false if the connection failed.
    bool send_raw(std::string_view data) {
        while (!data.empty()) {
            const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                error_ = "send() failed: errno " + std::to_string(errno);
                return false;
            }
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    /// One masked frame, as a client must send it.
    static std::string frame_bytes(std::uint8_t op, std::string_view payload, bool fin = true,
                                   std::uint32_t mask_key = 0x37fa213d) {
        std::string f;
        f.push_back(static_cast<char>((fin ? 0x80 : 0x00) | op));
        const std::size_t n = payload.size();
        if (n < 126) {
            f.push_back(static_cast<char>(0x80 | n));
        } else if (n < 65536) {
            f.push_back(static_cast<char>(0x80 | 126));
            f.push_back(static_cast<char>(n >> 8));
            f.push_back(static_cast<char>(n & 0xFF));
        } else {
            f.push_back(static_cast<char>(0x80 | 127));
            for (int shift = 56; shift >= 0; shift -= 8)
                f.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF));
        }
        const char mask[4] = {static_cast<char>(mask_key >> 24), static_cast<char>(mask_key >> 16),
                              static_cast<char>(mask_key >> 8), static_cast<char>(mask_key)};
        f.append(mask, 4);
        for (std::size_t i = 0; i < n; ++i)
            f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
        return f;
    }

    bool send_frame(std::uint8_t op, std::string_view payload, bool fin = true) {
        return send_raw(frame_bytes(op, payload, fin));
    }
    bool send_text(std::string_view s) { return send_frame(ws_op::text, s); }
    bool send_close(std::uint16_t code, std::string_view reason = {}) {
        return send_frame(ws_op::close, ws_close_payload(code, reason));
    }

    /// The next frame, waiting up to `wait` (the default timeout if zero) in all. nullopt on
    /// timeout, EOF before a whole frame, or a frame no server may send (masked, or a length
    /// not in its shortest form): see error().
    std::optional<ws_frame>
    read_frame(std::chrono::milliseconds wait = std::chrono::milliseconds(0)) {
        const auto deadline =
            std::chrono::steady_clock::now() + (wait.count() > 0 ? wait : timeout_);
        for (;;) {
            ws_frame f;
            const int used = parse(f);
            if (used < 0) return std::nullopt;
            if (used > 0) {
                buf_.erase(0, static_cast<std::size_t>(used));
                return f;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                error_ = "timed out waiting for a frame";
                return std::nullopt;
            }
            if (!fill(left)) return std::nullopt;
        }
    }

    /// The next frame that is not a ping (pings are answered with a pong on the way).
    std::optional<ws_frame>
    read_data_frame(std::chrono::milliseconds wait = std::chrono::milliseconds(0)) {
        for (;;) {
            auto f = read_frame(wait);
            if (!f || f->op != ws_op::ping) return f;
            if (!send_frame(ws_op::pong, f->payload)) return std::nullopt;
        }
    }

    /// True when the server ends the connection within `timeout`; bytes that arrive first are
    /// kept (pending(), read_frame()).
    bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!eof_) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            if (!fill(left) && !eof_) return false;
        }
        return true;
    }

    /// True when nothing at all arrives for `span` and the connection stays open.
    bool stays_silent(std::chrono::milliseconds span) {
        const std::size_t before = buf_.size();
        (void)fill(span);
        return !eof_ && buf_.size() == before;
    }

    /// Waits up to `wait` (the default timeout if zero) for bytes; false on timeout, EOF or
    /// error.
    bool fill(std::chrono::milliseconds wait = std::chrono::milliseconds(0)) {
        if (fd_ < 0 || eof_) return false;
        pollfd p{fd_, POLLIN, 0};
        const int ms = static_cast<int>((wait.count() > 0 ? wait : timeout_).count());
        int ready;
        do {
            ready = ::poll(&p, 1, ms);
        } while (ready < 0 && errno == EINTR);
        if (ready <= 0) {
            error_ = "timed out waiting for the server";
            return false;
        }
        char chunk[65536];
        ssize_t n;
        do {
            n = ::recv(fd_, chunk, sizeof chunk, 0);
        } while (n < 0 && errno == EINTR);
        if (n <= 0) {
            eof_ = true;
            if (n < 0) {
                reset_ = errno == ECONNRESET;
                error_ = "recv() failed: errno " + std::to_string(errno);
            } else {
                error_ = "EOF";
            }
            return false;
        }
        buf_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

  private:
    /// Parses a frame at the front of buf_: its size, 0 when incomplete, -1 when malformed.
    int parse(ws_frame& f) {
        if (buf_.size() < 2) return 0;
        const auto b0 = static_cast<unsigned char>(buf_[0]);
        const auto b1 = static_cast<unsigned char>(buf_[1]);
        if (b1 & 0x80) {
            error_ = "the server masked a frame";
            return -1;
        }
        if (b0 & 0x30) {
            error_ = "RSV2/RSV3 set on a server frame";
            return -1;
        }
        std::size_t at = 2;
        std::uint64_t n = b1 & 0x7F;
        if (n == 126) {
            if (buf_.size() < 4) return 0;
            n = (static_cast<std::uint64_t>(static_cast<unsigned char>(buf_[2])) << 8) |
                static_cast<unsigned char>(buf_[3]);
            at = 4;
            if (n < 126) {
                error_ = "16-bit length not in shortest form";
                return -1;
            }
        } else if (n == 127) {
            if (buf_.size() < 10) return 0;
            n = 0;
            for (int i = 2; i < 10; ++i)
                n = (n << 8) | static_cast<unsigned char>(buf_[static_cast<std::size_t>(i)]);
            at = 10;
            if (n < 65536) {
                error_ = "64-bit length not in shortest form";
                return -1;
            }
        }
        if (buf_.size() < at + n) return 0;
        f.op = b0 & 0x0F;
        f.fin = (b0 & 0x80) != 0;
        f.rsv1 = (b0 & 0x40) != 0;
        f.payload = buf_.substr(at, static_cast<std::size_t>(n));
        return static_cast<int>(at + n);
    }

    int fd_ = -1;
    std::chrono::milliseconds timeout_;
    std::string buf_;
    bool eof_ = false;
    bool reset_ = false;
    std::string error_;
};

} // namespace wharf_test
