// SPDX-License-Identifier: MIT
#pragma once

#include <cstdarg>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "wharf/headers.hpp"

namespace wharf {

namespace detail {
struct response_access;
}

/// The response a handler builds. Nothing is sent while the handler runs; when it returns, the
/// server frames the response for the protocol in use (Content-Length is set from the body).
/// Status, headers and body may be changed in any order until then.
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
    /// Replaces the body with `body` and, when given, sets Content-Type (S13).
    response& body(std::string body, std::string_view content_type = {});
    /// Replaces the body with JSON text and sets Content-Type: application/json.
    response& json(std::string json_text) { return body(std::move(json_text), "application/json"); }
    std::string_view body() const noexcept { return body_; }
    std::string& body_buffer() noexcept { return body_; }

    /// Status helpers (S14): each sets the status and, when none was set, a Content-Type. Error
    /// statuses (4xx/5xx) also get a short text body ("Not Found\n") if the body stays empty.
    response& ok(std::string_view content_type = "text/plain");
    response& denied();          ///< 403 Forbidden
    response& not_found();       ///< 404 Not Found
    response& server_error();    ///< 500 Internal Server Error
    response& set_std(int code); ///< any code, with the same defaults

    /// Closes the connection after this response (S20); "Connection: close" is sent on HTTP/1.
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
    std::string body_;
};

} // namespace wharf
