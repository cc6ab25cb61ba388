// SPDX-License-Identifier: MIT
// A small blocking WebSocket client for the in-process integration tests: the opening
// handshake (RFC 6455's sample key, so the expected Sec-WebSocket-Accept is a constant),
// masked frames out, the server's frames parsed strictly in (they must be unmasked), and the
// end of the connection told apart as a FIN or a reset. It never offers permessage-deflate
// unless a test adds the header itself, so what arrives is plain.
// Every wait is bounded, so a misbehaving server fails a test instead of hanging it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

/// A WebSocket client over wharf_test::client: the handshake, masked frames out, the
/// server's frames parsed as they come.
class ws_client {
  public:
    /// Connects to `to` (TCP_NODELAY). `rcvbuf` (bytes, 0: the system's default) bounds the TCP
    /// window the server may fill while this client does not read.
    explicit ws_client(const wharf::address& to, int rcvbuf = 0,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5))
        : conn_(to, timeout, rcvbuf, true), timeout_(timeout) {}

    bool connected() const noexcept { return conn_.connected(); }
    /// What went wrong last ("" when nothing did).
    const std::string& error() const noexcept { return error_.empty() ? conn_.error() : error_; }
    /// True once the server ended the connection (FIN or reset).
    bool eof() const noexcept { return conn_.eof(); }
    /// True when the end was a reset (ECONNRESET) rather than a FIN.
    bool reset() const noexcept { return conn_.reset(); }
    /// Bytes received and not yet parsed.
    const std::string& pending() const noexcept { return conn_.pending(); }

    void close() noexcept { conn_.close(); }
    void shutdown_write() noexcept { conn_.shutdown_write(); }

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
        error_.clear();
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

    /// The server's response to the handshake (a 101 has no body).
    std::optional<http_response> read_response() { return conn_.read_response(); }

    /// Sends every byte; false if the connection failed.
    bool send_raw(std::string_view data) { return conn_.send(data); }

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
        error_.clear();
        const auto deadline =
            std::chrono::steady_clock::now() + (wait.count() > 0 ? wait : timeout_);
        for (;;) {
            ws_frame f;
            const int used = parse(f);
            if (used < 0) return std::nullopt;
            if (used > 0) {
                conn_.discard(static_cast<std::size_t>(used));
                return f;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                error_ = "timed out waiting for a frame";
                return std::nullopt;
            }
            if (!conn_.receive(left)) return std::nullopt;
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
        return conn_.wait_closed(timeout);
    }

    /// True when nothing at all arrives for `span` and the connection stays open.
    bool stays_silent(std::chrono::milliseconds span) { return conn_.stays_silent(span); }

  private:
    /// Parses a frame at the front of what is pending: its size, 0 when incomplete, -1 when
    /// malformed.
    int parse(ws_frame& f) {
        const std::string& buf = conn_.pending();
        if (buf.size() < 2) return 0;
        const auto b0 = static_cast<unsigned char>(buf[0]);
        const auto b1 = static_cast<unsigned char>(buf[1]);
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
            if (buf.size() < 4) return 0;
            n = (static_cast<std::uint64_t>(static_cast<unsigned char>(buf[2])) << 8) |
                static_cast<unsigned char>(buf[3]);
            at = 4;
            if (n < 126) {
                error_ = "16-bit length not in shortest form";
                return -1;
            }
        } else if (n == 127) {
            if (buf.size() < 10) return 0;
            n = 0;
            for (int i = 2; i < 10; ++i)
                n = (n << 8) | static_cast<unsigned char>(buf[static_cast<std::size_t>(i)]);
            at = 10;
            if (n < 65536) {
                error_ = "64-bit length not in shortest form";
                return -1;
            }
        }
        if (buf.size() < at + n) return 0;
        f.op = b0 & 0x0F;
        f.fin = (b0 & 0x80) != 0;
        f.rsv1 = (b0 & 0x40) != 0;
        f.payload = buf.substr(at, static_cast<std::size_t>(n));
        return static_cast<int>(at + n);
    }

    client conn_;
    std::chrono::milliseconds timeout_;
    std::string error_; // this layer's own complaints
};

} // namespace wharf_test
