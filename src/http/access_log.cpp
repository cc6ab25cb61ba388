// SPDX-License-Identifier: MIT
#include "http/access_log.hpp"

#include <ctime>
#include <unistd.h>

namespace wharf::detail {
namespace {

/// Appends `s` with quotes, backslashes and control bytes escaped, as Apache's logs do.
void append_escaped(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(ch);
        } else if (c < 0x20 || c >= 0x7f) {
            out.append("\\x");
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        } else {
            out.push_back(ch);
        }
    }
}

} // namespace

void format_access_line(std::string& out, const access_record& r, log_format format,
                        std::string_view time_text) {
    out.append(r.peer ? r.peer->host() : std::string("-"));
    out.append(" - ");
    if (r.user.empty())
        out.push_back('-');
    else
        append_escaped(out, r.user);
    out.append(" [").append(time_text).append("] \"");
    // A rejected request may have no method or target; "-" keeps the line's three fields.
    append_escaped(out, r.method.empty() ? std::string_view("-") : r.method);
    out.push_back(' ');
    append_escaped(out, r.target.empty() ? std::string_view("-") : r.target);
    out.append(" HTTP/").append(std::to_string(r.http_major)).push_back('.');
    out.append(std::to_string(r.http_minor)).append("\" ").append(std::to_string(r.status));
    out.push_back(' ');
    out.append(r.body_bytes ? std::to_string(r.body_bytes) : std::string("-"));
    if (format == log_format::combined || format == log_format::combined_tls ||
        format == log_format::timed) {
        out.append(" \"");
        if (r.referer.empty())
            out.push_back('-');
        else
            append_escaped(out, r.referer);
        out.append("\" \"");
        if (r.user_agent.empty())
            out.push_back('-');
        else
            append_escaped(out, r.user_agent);
        out.push_back('"');
    }
    if (format == log_format::combined_tls) {
        out.push_back(' ');
        out.append(r.tls_version.empty() ? std::string_view("-") : r.tls_version);
    }
    if (format == log_format::timed) {
        out.append(" \"");
        append_escaped(out, r.request_id.empty() ? std::string_view("-") : r.request_id);
        out.append("\" ").append(std::to_string(r.first_byte.count()));
        out.push_back(' ');
        out.append(std::to_string(r.total.count()));
    }
}

void access_logger::log(const access_record& r) {
    if (callback_ && *callback_) (*callback_)(r);
    if (fd_ < 0) return;
    const std::int64_t second =
        std::chrono::duration_cast<std::chrono::seconds>(r.time.time_since_epoch()).count();
    if (second != cached_second_) {
        cached_second_ = second;
        const time_t t = static_cast<time_t>(second);
        tm utc;
        gmtime_r(&t, &utc);
        std::strftime(cached_time_, sizeof cached_time_, "%d/%b/%Y:%H:%M:%S +0000", &utc);
    }
    format_access_line(buffer_, r, format_, cached_time_);
    buffer_.push_back('\n');
    if (buffer_.size() > 64 * 1024) flush();
}

void access_logger::flush() noexcept {
    std::size_t done = 0;
    while (done < buffer_.size()) {
        const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
        if (n <= 0) break; // a full disk must not stop the server; the lines are dropped
        done += static_cast<std::size_t>(n);
    }
    buffer_.clear();
}

} // namespace wharf::detail
