// SPDX-License-Identifier: MIT
// multipart/form-data (RFC 7578) framed as RFC 2046 §5.1.1 says: an incremental parser that
// passes data through as it arrives, holding back only what could begin a delimiter.
#include <algorithm>
#include <cstring>

#include "http/chars.hpp"
#include "wharf/form.hpp"
#include "wharf/headers.hpp"

namespace wharf {

namespace {

constexpr std::size_t max_boundary = 70; // RFC 2046 §5.1.1

/// bchars (RFC 2046 §5.1.1): what a boundary is made of.
constexpr bool is_bchar(char c) noexcept {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return std::strchr("'()+_,-./:=? ", c) != nullptr && c != '\0';
}

bool is_token_char(char c) noexcept {
    return chars::token[static_cast<unsigned char>(c)];
}

constexpr std::size_t no_fault = static_cast<std::size_t>(-1);

/// Reads the parameters after a media type or disposition type: *( OWS ";" OWS name "="
/// ( token / quoted-string ) ). Calls f(name, value) with quoted values unescaped. Returns
/// no_fault, or the index in `rest` of the byte at fault: the first one that cannot continue
/// the list (rest.size() when it stops short), or the name of a parameter f refused.
///
/// HTTP fields (the request's Content-Type) allow no whitespace around '=' (RFC 9110 §5.6.6);
/// a part's MIME fields do (`mime`): RFC 2183 and RFC 2045 §5.1 write their grammar in RFC
/// 822's lexical terms, where linear whitespace may stand between any two tokens (comments,
/// which that also allows, are not taken: no browser or library sends them). Within quotes,
/// only \" and \\ are escapes: browsers send file names with backslashes unescaped (WHATWG's
/// multipart/form-data encoding), so "C:\dir" keeps its backslash.
template <class F>
std::size_t for_each_parameter(std::string_view rest, bool mime, F&& f) {
    std::size_t i = 0;
    const auto skip_ows = [&] {
        while (i < rest.size() && chars::is_ows(rest[i]))
            ++i;
    };
    for (;;) {
        skip_ows();
        if (i == rest.size()) return no_fault;
        if (rest[i] != ';') return i;
        ++i;
        skip_ows();
        if (i == rest.size()) return no_fault; // a trailing ';' is harmless
        const std::size_t name_at = i;
        while (i < rest.size() && is_token_char(rest[i]))
            ++i;
        const std::string_view name = rest.substr(name_at, i - name_at);
        if (name.empty()) return i;
        if (mime) skip_ows();
        if (i == rest.size() || rest[i] != '=') return i;
        ++i;
        if (mime) skip_ows();
        std::string value;
        if (i < rest.size() && rest[i] == '"') {
            ++i;
            bool closed = false;
            while (i < rest.size()) {
                const char c = rest[i];
                if (c == '"') {
                    ++i;
                    closed = true;
                    break;
                }
                if (c == '\\' && i + 1 < rest.size() &&
                    (rest[i + 1] == '"' || rest[i + 1] == '\\')) {
                    value.push_back(rest[i + 1]);
                    i += 2;
                    continue;
                }
                if (!chars::field_value[static_cast<unsigned char>(c)]) return i;
                value.push_back(c);
                ++i;
            }
            if (!closed) return i;
        } else {
            const std::size_t value_at = i;
            while (i < rest.size() && is_token_char(rest[i]))
                ++i;
            if (i == value_at) return i;
            value.assign(rest.substr(value_at, i - value_at));
        }
        if (!f(name, std::move(value))) return name_at;
    }
}

} // namespace

std::optional<std::string> multipart_parser::boundary_of(std::string_view content_type) {
    const std::size_t semi = content_type.find(';');
    if (semi == std::string_view::npos) return std::nullopt;
    std::optional<std::string> boundary;
    const bool parsed = for_each_parameter(content_type.substr(semi), false,
                                           [&](std::string_view name, std::string v) {
                                               if (!iequals(name, "boundary")) return true;
                                               // Given twice: which one the sender meant is
                                               // unclear.
                                               if (boundary) return false;
                                               boundary = std::move(v);
                                               return true;
                                           }) == no_fault;
    if (!parsed || !boundary || boundary->empty() || boundary->size() > max_boundary ||
        boundary->back() == ' ' || !std::all_of(boundary->begin(), boundary->end(), is_bchar))
        return std::nullopt;
    return boundary;
}

multipart_parser::multipart_parser(std::string boundary, events ev, form_limits limits)
    : delimiter_("\r\n--" + std::move(boundary)), ev_(std::move(ev)), limits_(limits) {}

bool multipart_parser::fail(body_status status, std::string message, std::uint64_t at) {
    state_ = state::failed;
    error_.status = status;
    error_.message = std::move(message);
    error_.offset = static_cast<std::size_t>(at);
    return false;
}

bool multipart_parser::emit(std::string_view bytes, std::uint64_t at) {
    if (bytes.empty() || state_ == state::preamble) return true;
    if (!part_.is_file()) {
        const std::uint64_t room =
            limits_.max_field_bytes > part_bytes_ ? limits_.max_field_bytes - part_bytes_ : 0;
        if (bytes.size() > room) {
            // Hand over what fits first, so the events do not depend on how the body was
            // split: the error is always at the first byte past the limit.
            if (room > 0 && ev_.on_part_data &&
                !ev_.on_part_data(bytes.substr(0, static_cast<std::size_t>(room))))
                return fail(body_status::malformed, "stopped by the handler", at);
            return fail(body_status::too_large, "a form field's value is over the limit",
                        at + room);
        }
    }
    part_bytes_ += bytes.size();
    if (ev_.on_part_data && !ev_.on_part_data(bytes))
        return fail(body_status::malformed, "stopped by the handler", at);
    return true;
}

// Consumes data (or preamble) from `in` up to and including the next delimiter (`found`), or
// all of it. '\r' is the delimiter's first byte and occurs nowhere else in it (bchars hold no
// CR), so after a mismatch the next candidate can only start at the mismatching byte or later:
// no byte is ever examined twice, and what was held back is data as soon as a match fails.
bool multipart_parser::scan(std::string_view& in, bool& found) {
    found = false;
    const std::string_view delim = delimiter_;
    std::size_t i = 0;
    if (matched_ > 0) {
        std::size_t k = 0;
        while (k < in.size() && matched_ + k < delim.size() && in[k] == delim[matched_ + k])
            ++k;
        if (matched_ + k == delim.size()) {
            matched_ = 0;
            offset_ += k;
            in.remove_prefix(k);
            found = true;
            return true;
        }
        if (k == in.size()) {
            matched_ += k;
            offset_ += k;
            in = {};
            return true;
        }
        // The held bytes sit right before `in`, so they start at offset_ - matched_.
        const std::size_t held = std::exchange(matched_, 0);
        if (state_ != state::preamble && !emit(delim.substr(0, held), offset_ - held)) return false;
        i = k; // in[0, k) matched too: data, emitted with what follows
    }
    const std::size_t start = 0;
    for (;;) {
        const void* cr = i < in.size() ? std::memchr(in.data() + i, '\r', in.size() - i) : nullptr;
        if (!cr) {
            const bool ok = emit(in.substr(start), offset_ + start);
            offset_ += in.size();
            in = {};
            return ok;
        }
        i = static_cast<std::size_t>(static_cast<const char*>(cr) - in.data());
        std::size_t k = 1;
        while (i + k < in.size() && k < delim.size() && in[i + k] == delim[k])
            ++k;
        if (k == delim.size()) {
            if (!emit(in.substr(start, i - start), offset_ + start)) return false;
            offset_ += i + k;
            in.remove_prefix(i + k);
            found = true;
            return true;
        }
        if (i + k == in.size()) {
            // A possible delimiter runs to the end of the input: hold it back.
            if (!emit(in.substr(start, i - start), offset_ + start)) return false;
            matched_ = k;
            offset_ += in.size();
            in = {};
            return true;
        }
        i += k;
    }
}

bool multipart_parser::begin_part(std::uint64_t at) {
    if (parts_ == limits_.max_fields) return fail(body_status::too_large, "too many parts", at);
    ++parts_;
    part_ = multipart_part{};
    header_bytes_ = 0;
    part_bytes_ = 0;
    have_disposition_ = false;
    line_.clear();
    line_at_ = at;
    state_ = state::header_line;
    return true;
}

bool multipart_parser::header_line_ended(std::uint64_t at) {
    const std::string_view line = line_;
    if (line.empty()) {
        // The empty line ends the head (RFC 2046 §5.1.1, RFC 7578 §4.2).
        if (!have_disposition_)
            return fail(body_status::malformed, "a part without Content-Disposition", at);
        if (ev_.on_part_begin && !ev_.on_part_begin(part_))
            return fail(body_status::malformed, "stopped by the handler", at);
        state_ = state::data;
        matched_ = 0;
        return true;
    }
    if (chars::is_ows(line.front()))
        return fail(body_status::malformed, "obs-fold in a part header (RFC 9112 §5.2)", line_at_);
    const std::size_t colon = line.find(':');
    std::size_t n = 0;
    while (n < line.size() && is_token_char(line[n]))
        ++n;
    if (colon == std::string_view::npos || n != colon || n == 0)
        return fail(body_status::malformed, "a malformed part header line", line_at_ + n);
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = chars::trim_ows(line.substr(colon + 1));
    for (std::size_t j = colon + 1; j < line.size(); ++j)
        if (!chars::field_value[static_cast<unsigned char>(line[j])])
            return fail(body_status::malformed, "a control byte in a part header", line_at_ + j);

    if (iequals(name, "Content-Disposition")) {
        // RFC 7578 §4.2: `form-data` and a name parameter; filename is optional. Errors point
        // at the byte at fault: the first one that cannot continue the field, or the end of
        // the line when a name never came.
        if (have_disposition_)
            return fail(body_status::malformed, "two Content-Disposition fields in a part",
                        line_at_);
        have_disposition_ = true;
        const std::uint64_t value_at = line_at_ + (value.data() - line.data());
        std::size_t type_end = 0;
        while (type_end < value.size() && is_token_char(value[type_end]))
            ++type_end;
        if (!iequals(value.substr(0, type_end), "form-data"))
            return fail(body_status::malformed, "a part's Content-Disposition is not form-data",
                        value_at);
        bool named = false;
        const std::size_t fault = for_each_parameter(value.substr(type_end), true,
                                                     [&](std::string_view p, std::string v) {
                                                         if (iequals(p, "name")) {
                                                             if (named) return false;
                                                             named = true;
                                                             part_.name = std::move(v);
                                                         } else if (iequals(p, "filename")) {
                                                             if (part_.filename) return false;
                                                             part_.filename = std::move(v);
                                                         }
                                                         return true;
                                                     });
        if (fault != no_fault)
            return fail(body_status::malformed,
                        "a malformed or repeated Content-Disposition parameter",
                        value_at + type_end + fault);
        if (!named)
            return fail(body_status::malformed, "a part's Content-Disposition has no name",
                        line_at_ + line.size());
    } else if (iequals(name, "Content-Type")) {
        part_.content_type = value;
    }
    part_.headers.emplace_back(name, value);
    line_.clear();
    return true;
}

bool multipart_parser::feed(std::string_view in) {
    while (!in.empty()) {
        switch (state_) {
        case state::failed:
            return false;
        case state::epilogue:
            offset_ += in.size();
            return true;
        case state::preamble:
        case state::data: {
            bool found = false;
            if (!scan(in, found)) return false;
            if (!found) break;
            if (state_ == state::data && ev_.on_part_end && !ev_.on_part_end())
                return fail(body_status::malformed, "stopped by the handler", offset_);
            state_ = state::after_boundary;
            break;
        }
        case state::after_boundary:
        case state::padding: {
            const char c = in.front();
            if (c == '-' && state_ == state::after_boundary) {
                state_ = state::close_dash;
            } else if (c == ' ' || c == '\t') {
                state_ = state::padding;
            } else if (c == '\r') {
                state_ = state::boundary_lf;
            } else {
                return fail(body_status::malformed, "a delimiter not followed by CRLF", offset_);
            }
            ++offset_;
            in.remove_prefix(1);
            break;
        }
        case state::close_dash:
            if (in.front() != '-')
                return fail(body_status::malformed, "a delimiter not followed by CRLF", offset_);
            state_ = state::close_padding;
            ++offset_;
            in.remove_prefix(1);
            break;
        case state::close_padding: {
            const char c = in.front();
            if (c == '\r') {
                state_ = state::close_lf;
            } else if (c != ' ' && c != '\t') {
                return fail(body_status::malformed,
                            "a close delimiter not followed by CRLF or the end", offset_);
            }
            ++offset_;
            in.remove_prefix(1);
            break;
        }
        case state::close_lf:
            if (in.front() != '\n')
                return fail(body_status::malformed, "a CR without LF after a delimiter", offset_);
            state_ = state::epilogue; // what follows the close delimiter's line is ignored
            ++offset_;
            in.remove_prefix(1);
            break;
        case state::boundary_lf:
            if (in.front() != '\n')
                return fail(body_status::malformed, "a CR without LF after a delimiter", offset_);
            ++offset_;
            in.remove_prefix(1);
            if (!begin_part(offset_)) return false;
            break;
        case state::header_line: {
            // Header blocks are small: byte by byte is fast enough, and limits each step.
            const char c = in.front();
            if (++header_bytes_ > limits_.max_part_header_bytes)
                return fail(body_status::too_large, "a part's header block is over the limit",
                            offset_);
            if (c == '\r') {
                state_ = state::header_lf;
            } else if (c == '\n') {
                return fail(body_status::malformed, "a bare LF in a part header", offset_);
            } else {
                line_.push_back(c);
            }
            ++offset_;
            in.remove_prefix(1);
            break;
        }
        case state::header_lf: {
            if (in.front() != '\n')
                return fail(body_status::malformed, "a bare CR in a part header", offset_);
            if (++header_bytes_ > limits_.max_part_header_bytes)
                return fail(body_status::too_large, "a part's header block is over the limit",
                            offset_);
            ++offset_;
            in.remove_prefix(1);
            state_ = state::header_line;
            if (!header_line_ended(offset_ - 2)) return false;
            line_at_ = offset_;
            break;
        }
        }
    }
    return state_ != state::failed;
}

bool multipart_parser::finish() {
    if (state_ == state::failed) return false;
    if (state_ != state::epilogue && state_ != state::close_padding)
        return fail(body_status::malformed, "the body ends before the close delimiter", offset_);
    return true;
}

} // namespace wharf
