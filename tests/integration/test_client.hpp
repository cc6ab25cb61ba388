// SPDX-License-Identifier: MIT
// A small blocking HTTP/1.1 client over raw sockets, for the integration tests: it sends bytes
// exactly as given and parses responses strictly (read_response: Content-Length framing only;
// read_framed_response: also chunked and close-delimited bodies, as streamed responses have),
// and the helpers every in-process server test uses.
// Every wait is bounded, so a misbehaving server fails a test instead of hanging it.
#pragma once

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include <functional>
#include <gtest/gtest.h>
#include <thread>
#include <wharf/address.hpp>
#include <wharf/headers.hpp>
#include <wharf/server.hpp>

namespace wharf_test {

using namespace std::chrono_literals;

struct http_response {
    std::string version; ///< "HTTP/1.1"
    int status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers; ///< in arrival order
    std::string body;

    /// The first header named `name` (case-insensitive), if any.
    std::optional<std::string> header(std::string_view name) const {
        for (const auto& [k, v] : headers)
            if (wharf::iequals(k, name)) return v;
        return std::nullopt;
    }
    /// Every value of the headers named `name`, in order.
    std::vector<std::string> header_all(std::string_view name) const {
        std::vector<std::string> out;
        for (const auto& [k, v] : headers)
            if (wharf::iequals(k, name)) out.push_back(v);
        return out;
    }
};

/// One client connection. Not copyable; movable.
class client {
  public:
    /// Connects to `to`. `rcvbuf` (bytes, 0: the system's default) is set before connecting,
    /// so it bounds the TCP window the server may fill while this client does not read.
    explicit client(const wharf::address& to, std::chrono::milliseconds timeout = 5s,
                    int rcvbuf = 0, bool nodelay = false)
        : timeout_(timeout) {
        fd_ = ::socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) {
            error_ = "socket() failed";
            return;
        }
        if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        if (nodelay) {
            const int one = 1;
            ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        if (::connect(fd_, to.data(), to.size()) != 0) {
            error_ = "connect() failed: errno " + std::to_string(errno);
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~client() { close(); }
    client(const client&) = delete;
    client& operator=(const client&) = delete;
    client(client&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)), timeout_(other.timeout_), buf_(std::move(other.buf_)),
          eof_(other.eof_), reset_(other.reset_), error_(std::move(other.error_)) {}
    client& operator=(client&& other) noexcept {
        if (this != &other) {
            close();
            fd_ = std::exchange(other.fd_, -1);
            timeout_ = other.timeout_;
            buf_ = std::move(other.buf_);
            eof_ = other.eof_;
            reset_ = other.reset_;
            error_ = std::move(other.error_);
        }
        return *this;
    }

    bool connected() const noexcept { return fd_ >= 0; }
    int fd() const noexcept { return fd_; }
    /// What went wrong last ("" when nothing did).
    const std::string& error() const noexcept { return error_; }
    /// True once the server closed its side (FIN or reset).
    bool eof() const noexcept { return eof_; }
    /// True when the end was a reset (ECONNRESET) rather than a FIN.
    bool reset() const noexcept { return reset_; }
    /// Bytes received but not yet parsed as part of a response.
    const std::string& pending() const noexcept { return buf_; }

    void close() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    void shutdown_write() noexcept {
        if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
    }

    /// The client's own address (getsockname).
    wharf::address local_address() const {
        return fd_ >= 0 ? wharf::address::local_of(fd_) : wharf::address();
    }

    /// Sends every byte; false if the connection failed.
    bool send(std::string_view data) {
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

    /// Reads one response. nullopt on EOF before a response, timeout or malformed input (see
    /// error()). `head_request`: the response has no body whatever its Content-Length says.
    /// 1xx responses are returned like any other.
    std::optional<http_response> read_response(bool head_request = false) {
        http_response r;
        if (!read_head(r)) return std::nullopt;

        const bool no_body = head_request || (r.status >= 100 && r.status < 200) ||
                             r.status == 204 || r.status == 304;
        if (no_body) return r;
        const auto length = r.header("Content-Length");
        if (!length) {
            error_ = "response without Content-Length";
            return std::nullopt;
        }
        const std::size_t n = std::stoull(*length);
        while (buf_.size() < n) {
            if (!fill()) {
                error_ = "connection closed inside a body";
                return std::nullopt;
            }
        }
        r.body = buf_.substr(0, n);
        buf_.erase(0, n);
        return r;
    }

    /// Reads one response whatever its body framing: Content-Length, chunked (the size of each
    /// chunk is appended to `chunk_sizes` when given; extensions and trailers are skipped) or,
    /// with neither, everything up to the server's close. nullopt on EOF before a response,
    /// timeout or malformed input (see error()). 1xx responses are returned like any other.
    std::optional<http_response>
    read_framed_response(bool head_request = false,
                         std::vector<std::size_t>* chunk_sizes = nullptr) {
        http_response r;
        if (!read_head(r)) return std::nullopt;
        const bool no_body = head_request || (r.status >= 100 && r.status < 200) ||
                             r.status == 204 || r.status == 304;
        if (no_body) return r;
        const auto te = r.header("Transfer-Encoding");
        const auto length = r.header("Content-Length");
        if (te) {
            if (!wharf::iequals(*te, "chunked") || length) {
                error_ = "unexpected framing: Transfer-Encoding " + *te;
                return std::nullopt;
            }
            for (;;) {
                std::string line;
                if (!read_line(line)) return std::nullopt;
                std::size_t size = 0;
                std::size_t digits = 0;
                for (char ch : line) {
                    int v;
                    if (ch >= '0' && ch <= '9')
                        v = ch - '0';
                    else if (ch >= 'a' && ch <= 'f')
                        v = ch - 'a' + 10;
                    else if (ch >= 'A' && ch <= 'F')
                        v = ch - 'A' + 10;
                    else
                        break;
                    size = size * 16 + static_cast<std::size_t>(v);
                    ++digits;
                }
                if (digits == 0 || digits > 15 || (digits < line.size() && line[digits] != ';')) {
                    error_ = "malformed chunk-size line: " + line;
                    return std::nullopt;
                }
                if (size == 0) break;
                if (!wait_for(size + 2)) {
                    error_ = "connection closed inside a chunk";
                    return std::nullopt;
                }
                if (buf_.compare(size, 2, "\r\n") != 0) {
                    error_ = "chunk data not followed by CRLF";
                    return std::nullopt;
                }
                r.body.append(buf_, 0, size);
                buf_.erase(0, size + 2);
                if (chunk_sizes) chunk_sizes->push_back(size);
            }
            std::string trailer;
            do {
                if (!read_line(trailer)) return std::nullopt;
            } while (!trailer.empty());
            return r;
        }
        if (length) {
            const std::size_t n = std::stoull(*length);
            if (!wait_for(n)) {
                error_ = "connection closed inside a body";
                return std::nullopt;
            }
            r.body = buf_.substr(0, n);
            buf_.erase(0, n);
            return r;
        }
        while (fill()) {
        }
        if (!eof_) return std::nullopt; // timed out before the close
        r.body = std::move(buf_);
        buf_.clear();
        return r;
    }

    /// Waits up to `wait` (the default timeout if zero) for more bytes, kept in pending();
    /// false on timeout, EOF or error.
    bool receive(std::chrono::milliseconds wait = 0ms) { return fill(wait); }
    /// Forgets the first `n` pending bytes.
    void discard(std::size_t n) { buf_.erase(0, std::min(n, buf_.size())); }

    /// True when the server closes the connection (EOF or reset) within `timeout`; bytes that
    /// arrive first are kept in pending().
    bool wait_closed(std::chrono::milliseconds timeout = 3s) {
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

  private:
    /// Reads and parses a response head into `r`; false on EOF, timeout or malformed input.
    bool read_head(http_response& r) {
        std::size_t head_end;
        while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
            if (!fill()) {
                if (eof_ && !buf_.empty()) error_ = "connection closed inside a response head";
                return false;
            }
        }
        const std::string head = buf_.substr(0, head_end);
        buf_.erase(0, head_end + 4);

        std::size_t line_end = head.find("\r\n");
        const std::string status_line = head.substr(0, line_end);
        const std::size_t sp1 = status_line.find(' ');
        const std::size_t sp2 = sp1 == std::string::npos ? sp1 : status_line.find(' ', sp1 + 1);
        if (sp1 == std::string::npos || sp2 == std::string::npos || sp2 - sp1 != 4) {
            error_ = "malformed status line: " + status_line;
            return false;
        }
        r.version = status_line.substr(0, sp1);
        r.status = std::stoi(status_line.substr(sp1 + 1, 3));
        r.reason = status_line.substr(sp2 + 1);
        while (line_end != std::string::npos) {
            const std::size_t start = line_end + 2;
            line_end = head.find("\r\n", start);
            const std::string line = head.substr(
                start, line_end == std::string::npos ? std::string::npos : line_end - start);
            const std::size_t colon = line.find(':');
            if (colon == std::string::npos) {
                error_ = "malformed header line: " + line;
                return false;
            }
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ')
                value.erase(0, 1);
            while (!value.empty() && value.back() == ' ')
                value.pop_back();
            r.headers.emplace_back(line.substr(0, colon), std::move(value));
        }
        return true;
    }

    /// Reads up to the next CRLF (not included) into `line`.
    bool read_line(std::string& line) {
        std::size_t end;
        while ((end = buf_.find("\r\n")) == std::string::npos) {
            if (!fill()) {
                error_ = "connection closed inside a line";
                return false;
            }
        }
        line = buf_.substr(0, end);
        buf_.erase(0, end + 2);
        return true;
    }

    /// Waits until at least `n` bytes are pending.
    bool wait_for(std::size_t n) {
        while (buf_.size() < n)
            if (!fill()) return false;
        return true;
    }

    /// Waits up to `wait` (the default timeout if zero) for bytes; false on timeout, EOF or
    /// error. A reset counts as EOF.
    bool fill(std::chrono::milliseconds wait = 0ms) {
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
            }
            return false;
        }
        buf_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

    int fd_ = -1;
    std::chrono::milliseconds timeout_;
    std::string buf_;
    bool eof_ = false;
    bool reset_ = false;
    std::string error_;
};

/// "GET target HTTP/1.1" with a Host header and `extra` header lines (each ending in CRLF).
inline std::string request(std::string_view method, std::string_view target,
                           std::string_view extra = {}, std::string_view body = {}) {
    std::string r;
    r.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: test\r\n");
    r.append(extra);
    if (!body.empty())
        r.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    r.append("\r\n").append(body);
    return r;
}

/// Sends `raw` on a new connection and reads one response.
inline std::optional<http_response> fetch(const wharf::address& to, std::string_view raw,
                                          bool head_request = false) {
    client c(to);
    if (!c.connected() || !c.send(raw)) return std::nullopt;
    return c.read_response(head_request);
}

/// A GET on a new connection.
inline std::optional<http_response> get(const wharf::address& to, std::string_view target,
                                        std::string_view extra = {}) {
    return fetch(to, request("GET", target, extra));
}

/// A server configuration on an ephemeral loopback port with `workers` workers.
inline wharf::server_config local_config(unsigned workers = 1) {
    wharf::server_config cfg;
    cfg.listen = {"127.0.0.1:0"};
    cfg.workers = workers;
    return cfg;
}

/// Polls `done` until it holds or `timeout` passes.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

/// Starts `srv`; the test fails (fatally) if it does not start.
inline void start(wharf::server& srv) {
    const std::error_code ec = srv.start();
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_FALSE(srv.local_addresses().empty());
}

} // namespace wharf_test
