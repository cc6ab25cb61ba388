// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdarg>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <vector>

#include "wharf/body.hpp"
#include "wharf/headers.hpp"

namespace wharf {

namespace detail {
struct response_access;
}

/// The response a handler builds: status, headers and a body chain of memory, file ranges and
/// sources. Unless the handler sends it itself (session::send), the whole response goes out
/// when the handler returns, with a Content-Length when every piece's size is known. Status
/// and headers may change until the first send.
class response {
  public:
    /// Sets the status code; the reason phrase is the standard one unless given.
    response& status(int code) noexcept;
    response& status(int code, std::string_view reason);
    int status() const noexcept { return status_; }
    std::string_view reason() const noexcept;

    /// Response header fields (S11). Date, Server, Content-Length, Transfer-Encoding and
    /// Connection are written by the server; setting Connection: close closes after sending.
    field_list& headers() noexcept { return headers_; }
    const field_list& headers() const noexcept { return headers_; }
    response& set_header(std::string_view name, std::string_view value);
    response& add_header(std::string_view name, std::string_view value);
    response& remove_header(std::string_view name) noexcept;
    response& content_type(std::string_view value) { return set_header("Content-Type", value); }
    /// Adds `field` to Vary unless it is listed already (or Vary is "*"): the response depends
    /// on that request field (RFC 9110 §12.5.5).
    response& vary(std::string_view field);

    /// Trailer fields (RFC 9110 §6.5), sent after the body: on HTTP/2 in a HEADERS frame that
    /// ends the stream, on HTTP/1.1 in the last chunk (a response whose first send has
    /// trailers is chunked rather than given a Content-Length). Set them before the send that
    /// ends the response. HTTP/1.0, and HTTP/1.1 bodies framed by a length, drop them.
    field_list& trailers() noexcept { return trailers_; }
    const field_list& trailers() const noexcept { return trailers_; }

    /// Appends bytes to the body (S9).
    response& append(std::string_view bytes);
    /// Appends printf-formatted text to the body (S9).
    response& printf(const char* format, ...) __attribute__((format(printf, 2, 3)));
    response& vprintf(const char* format, std::va_list args) __attribute__((format(printf, 2, 0)));
    /// Appends fmt-formatted text to the body.
    template <class... Args>
    response& format(fmt::format_string<Args...> f, Args&&... args) {
        fmt::format_to(std::back_inserter(body_), f, std::forward<Args>(args)...);
        return *this;
    }
    /// Appends an owned memory chunk without copying it (S25).
    response& append_chunk(std::string bytes);
    /// Appends memory the caller keeps valid until `release` is called: exactly once, when the
    /// bytes were sent or the response was dropped.
    response& append_borrowed(std::string_view bytes, std::function<void()> release);
    /// Appends a range of an open file (S25), sent with sendfile().
    response& append_file(file_range range);
    /// Opens `path` and appends [offset, offset + length) of it (the rest of the file when
    /// length is omitted). Errors: those of open/fstat, or invalid_argument for a bad range.
    std::error_code append_file(const std::string& path, std::uint64_t offset = 0,
                                std::optional<std::uint64_t> length = std::nullopt);
    /// Appends a streamed source (S12, not immediate): read only as fast as the client takes it.
    response& append_source(std::shared_ptr<body_source> source);
    /// Reads `source` into the body now (S12, immediate). When it would block, returns
    /// errc::would_block: what was read so far stays appended (nothing is lost or duplicated),
    /// and a later call continues. Returns {} at the source's end, or the source's error.
    std::error_code append_now(body_source& source);
    /// Declares the body's total length ahead of a streamed response (Content-Length framing).
    response& content_length(std::uint64_t n) noexcept {
        declared_length_ = n;
        return *this;
    }
    std::optional<std::uint64_t> declared_length() const noexcept { return declared_length_; }
    /// The total length of the unsent body when every piece's size is known.
    std::optional<std::uint64_t> body_size() const;

    /// Replaces the body with `body` and, when given, sets Content-Type (S13).
    response& body(std::string body, std::string_view content_type = {});
    /// Replaces the body with JSON text and sets Content-Type: application/json.
    response& json(std::string json_text) { return body(std::move(json_text), "application/json"); }
    /// The in-memory bytes appended since the last send (and since the last non-memory piece).
    std::string_view body() const noexcept { return body_; }
    /// Makes room for `bytes` more in-memory body bytes, so appends do not reallocate.
    response& reserve(std::size_t bytes) {
        body_.reserve(body_.size() + bytes);
        return *this;
    }

    /// Status helpers (S14): each sets the status and, when none was set, a Content-Type. Error
    /// statuses (4xx/5xx) also get a short text body ("Not Found\n") if the body stays empty.
    response& ok(std::string_view content_type = "text/plain");
    response& denied();          ///< 403 Forbidden
    response& not_found();       ///< 404 Not Found
    response& server_error();    ///< 500 Internal Server Error
    response& set_std(int code); ///< any code, with the same defaults

    /// S23: the body holds the full content; before it is sent, the library answers the
    /// request's conditional headers (304, 412; RFC 9110 §13) and Range (206, multipart/
    /// byteranges, 416; §14) for it, using these validators (both optional). Applies to GET
    /// and HEAD responses with status 200 that are sent whole (not in parts).
    response&
    process_ranges(std::string_view etag = {},
                   std::optional<std::chrono::system_clock::time_point> last_modified = {});
    bool processes_ranges() const noexcept { return process_ranges_; }
    std::string_view etag() const noexcept { return etag_; }
    std::optional<std::chrono::system_clock::time_point> last_modified() const noexcept {
        return last_modified_;
    }

    /// What the access log writes for this response instead of the request's own fields (the
    /// HTTP Server API's HTTP_LOG_DATA, S28): an empty string or a zero status keeps the
    /// request's. Set it before the last send.
    struct log_fields {
        std::string target; ///< the request line's target
        std::string user;   ///< the user field
        int status = 0;     ///< the status written
    };
    response& log_as(log_fields fields) {
        log_fields_ = std::make_unique<log_fields>(std::move(fields));
        return *this;
    }
    const log_fields* logged_as() const noexcept { return log_fields_.get(); }

    /// Ends the connection after this response (S20). HTTP/1: "Connection: close" is sent and
    /// the connection closes once the response is written. HTTP/2: the connection is told to
    /// go away (GOAWAY) and closes once its other streams finish.
    response& close_connection() noexcept {
        close_ = true;
        return *this;
    }
    bool closes_connection() const noexcept { return close_; }

  private:
    friend struct detail::response_access;
    response& standard(int code);

    int status_ = 200;
    bool close_ = false;
    bool default_body_ = false;
    std::string reason_;
    field_list headers_;
    field_list trailers_;
    std::string body_;
    std::vector<detail::body_piece> pieces_;
    std::optional<std::uint64_t> declared_length_;
    bool process_ranges_ = false;
    std::string etag_;
    std::optional<std::chrono::system_clock::time_point> last_modified_;
    std::unique_ptr<log_fields> log_fields_;

    void seal_memory();
};

} // namespace wharf
