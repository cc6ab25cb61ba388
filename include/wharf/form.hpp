// SPDX-License-Identifier: MIT
// Form request bodies (S5): application/x-www-form-urlencoded, parsed whole, and
// multipart/form-data (RFC 7578 on RFC 2046 §5.1.1), parsed as it streams in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wharf/parsed_body.hpp"

namespace wharf {

class request;
class session;

/// What a form body may hold; going past a limit is too_large (413).
struct form_limits {
    std::size_t max_fields = 1000;                ///< urlencoded fields, or multipart parts
    std::size_t max_field_bytes = 1 << 20;        ///< a field name, or a non-file value (decoded)
    std::size_t max_part_header_bytes = 8 * 1024; ///< one part's header block, CRLFs included
};

/// One form field, decoded.
struct form_field {
    std::string name, value;
};

/// A form body read whole: the fields in body order when ok(), else `error` says why.
struct form_body {
    std::vector<form_field> fields;
    body_error error;
    bool ok() const noexcept { return error.status == body_status::ok; }
    explicit operator bool() const noexcept { return ok(); }
    /// The value of the first field named `name` (case-sensitive), or nullptr. The pointer
    /// lasts until `fields` changes.
    const std::string* get(std::string_view name) const noexcept;
};

/// Parses an application/x-www-form-urlencoded body: '&'-separated name=value pairs, '+' is a
/// space and %XX a byte; empty pairs are skipped, a pair without '=' has an empty value. A '%'
/// without two hex digits is malformed (its offset given); more than max_fields fields, or a
/// name or value longer than max_field_bytes once decoded, is too_large. Bytes are not checked
/// for UTF-8 (the charset is the sender's). Never throws but for std::bad_alloc.
form_body parse_urlencoded(std::string_view body, const form_limits& limits = {});

/// Reads the buffered body of `req` as a urlencoded form: no_body when there is none (empty,
/// with neither Content-Length nor Transfer-Encoding), wrong_media_type unless its Content-Type
/// is application/x-www-form-urlencoded, then parse_urlencoded. Not for stream_body routes,
/// whose body() is empty.
form_body read_urlencoded(const request& req, const form_limits& limits = {});

/// A multipart/form-data part's head. Views given to handlers last only during the call.
struct multipart_part {
    /// Every header field as sent (name, value without surrounding whitespace), in order.
    std::vector<std::pair<std::string, std::string>> headers;
    /// Content-Disposition's name parameter (quoted-string unquoted; may be empty).
    std::string name;
    /// Content-Disposition's filename parameter, when present (as sent: "C:\x.txt" or
    /// "a%22b" keep their bytes; only \" and \\ are unescaped).
    std::optional<std::string> filename;
    /// The part's Content-Type as sent; "text/plain" when absent (RFC 7578 §4.4).
    std::string content_type = "text/plain";
    /// A file part has a filename; the others are fields, bounded by max_field_bytes.
    bool is_file() const noexcept { return filename.has_value(); }
};

/// A multipart/form-data parser: pure, incremental, no I/O. Feed it the body in pieces of any
/// size; it reports each part's head, its data piece by piece as it arrives, and its end, and
/// holds at most the delimiter's length of data back (to tell it from a delimiter) plus one
/// part's header block: memory is O(boundary + max_part_header_bytes) whatever the body size.
/// The preamble and epilogue are ignored; the first delimiter may start the body; transport
/// padding after a delimiter is allowed; a delimiter followed by anything but padding, CRLF or
/// "--" is malformed, and so is a close delimiter followed by anything but padding, then the
/// end or CRLF (RFC 2046 §5.1.1: `close-delimiter transport-padding [CRLF epilogue]`). A
/// delimiter is CRLF "--" boundary at the start of any line, whatever follows it (the RFC's
/// note to implementors), so a preamble line or a data line that begins with it is one. Part heads:
/// "Name: value" lines (no obs-fold) ended by an empty line, and a Content-Disposition of form-data
/// with a name parameter. The events are the same however the body is split, except that data may
/// come in different pieces; after an error none come.
class multipart_parser {
  public:
    /// Each returns false to stop the parse: feed() then fails with the message "stopped by
    /// the handler" (malformed). Missing callbacks accept.
    struct events {
        std::function<bool(const multipart_part&)> on_part_begin;
        std::function<bool(std::string_view)> on_part_data; ///< never empty
        std::function<bool()> on_part_end;
    };

    /// The boundary parameter of a Content-Type value (RFC 2046 §5.1.1: 1 to 70 bchars, not
    /// ending in a space; a token or a quoted-string), or nullopt when it is missing, invalid,
    /// given twice, or the parameters do not parse. The media type is not checked.
    static std::optional<std::string> boundary_of(std::string_view content_type);

    /// `boundary` as boundary_of returns it (not checked again: any non-empty string works).
    multipart_parser(std::string boundary, events ev, form_limits limits = {});

    /// Parses the next bytes of the body. False on error (and on every call after one):
    /// error() says why, with the offset of the byte at fault counted from the body's start:
    /// the first byte that cannot continue a valid body; for a header field that may not be
    /// there (a second Content-Disposition), the field's first byte; for one that lacks
    /// something (a Content-Disposition without a name; a head without one), the CR that ends
    /// it; for a limit, the first byte past it. The same however the body is split.
    bool feed(std::string_view bytes);
    /// The body ended: false, malformed, when it did not reach the close delimiter.
    bool finish();
    /// Why the parse failed ({} while it did not).
    const body_error& error() const noexcept { return error_; }
    /// Parts begun so far.
    std::size_t parts() const noexcept { return parts_; }

  private:
    enum class state : std::uint8_t {
        preamble,       // discarding until the first delimiter
        after_boundary, // right after a delimiter: "--", padding or CRLF follows
        close_dash,     // one '-' of the close delimiter seen
        close_padding,  // after the close delimiter: transport padding, then CRLF or the end
        close_lf,       // CR after the close delimiter seen
        padding,        // transport padding after a delimiter
        boundary_lf,    // CR of the delimiter line seen
        header_line,    // in a part's header line
        header_lf,      // CR of a header line seen
        data,           // in a part's data, watching for the delimiter
        epilogue,       // after the close delimiter: ignored
        failed,
    };
    bool scan(std::string_view& in, bool& found);
    bool emit(std::string_view bytes, std::uint64_t at);
    bool header_line_ended(std::uint64_t at);
    bool begin_part(std::uint64_t at);
    bool fail(body_status status, std::string message, std::uint64_t at);

    std::string delimiter_; // CRLF "--" boundary
    events ev_;
    form_limits limits_;
    state state_ = state::preamble;
    std::size_t matched_ = 2;  // delimiter bytes matched and held back (the body's start
                               // counts as a CRLF: the first delimiter may begin it)
    std::uint64_t offset_ = 0; // body bytes consumed before the current position
    std::size_t parts_ = 0;
    std::size_t header_bytes_ = 0;
    std::uint64_t part_bytes_ = 0;
    std::string line_;
    std::uint64_t line_at_ = 0;
    bool have_disposition_ = false;
    multipart_part part_;
    body_error error_;
};

/// What read_multipart calls. Missing callbacks accept (and drop data); one returning false
/// stops the read, which then ends with "stopped by the handler" (malformed).
struct multipart_handlers {
    std::function<bool(const multipart_part&)> on_part;
    std::function<bool(std::string_view)> on_data;
    std::function<bool()> on_part_end;
    /// Called exactly once: status ok when the whole body was read, else why not.
    std::function<void(const body_error&)> on_done;
};

/// Reads the request body as multipart/form-data, piece by piece with session::read_body
/// (back-pressure: the next piece is read only after the handlers returned), then calls
/// on_done once. no_body when the request has none (Content-Length 0 included);
/// wrong_media_type unless the Content-Type is multipart/form-data; malformed when its boundary
/// is missing or invalid, or the body is (the rest is then not read); a connection lost or a
/// body that failed to arrive is malformed too. Meant for stream_body routes (a buffered body comes
/// in as one piece). The response is the handler's to send: read_multipart defers it, so on_done
/// (or later code) calls s.send(), e.g. after error.answer(s.response()). Call on the session's
/// thread; `s` must not start another body read until on_done.
void read_multipart(session& s, multipart_handlers handlers, const form_limits& limits = {});

} // namespace wharf
