// SPDX-License-Identifier: MIT
#include "http/ranges.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <random>
#include <unistd.h>
#include <utility>

#include "http/access.hpp"
#include "http/chars.hpp"
#include "wharf/headers.hpp"

namespace wharf::detail {
namespace {

using clock = std::chrono::system_clock;
using chars::is_ows;
using chars::trim_ows;

constexpr std::array<std::string_view, 7> day_names{"Sun", "Mon", "Tue", "Wed",
                                                    "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> month_names{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

/// Parses 1*DIGIT; values too large for 64 bits saturate at UINT64_MAX.
bool parse_digits(std::string_view s, std::uint64_t& out) noexcept {
    if (s.empty()) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (!is_digit(c)) return false;
        const auto d = static_cast<std::uint64_t>(c - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    out = v;
    return true;
}

/// Parses exactly `n` digits at s[at...].
bool fixed_number(std::string_view s, std::size_t at, std::size_t n, int& out) noexcept {
    if (at + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (!is_digit(s[i])) return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

int month_index(std::string_view m) noexcept {
    for (std::size_t i = 0; i < month_names.size(); ++i)
        if (month_names[i] == m) return static_cast<int>(i);
    return -1;
}

/// "HH:MM:SS" at s[at...].
bool parse_clock(std::string_view s, std::size_t at, std::tm& tm) noexcept {
    return at + 8 <= s.size() && fixed_number(s, at, 2, tm.tm_hour) && s[at + 2] == ':' &&
           fixed_number(s, at + 3, 2, tm.tm_min) && s[at + 5] == ':' &&
           fixed_number(s, at + 6, 2, tm.tm_sec);
}

std::optional<clock::time_point> to_time(std::tm& tm) noexcept {
    if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60)
        return std::nullopt;
    const time_t t = ::timegm(&tm);
    if (t == static_cast<time_t>(-1)) return std::nullopt;
    return clock::from_time_t(t);
}

/// The next entity-tag of a list at `s` (after OWS and commas); false at the end or on a
/// malformed tag. `weak` tells whether it had the W/ prefix; `tag` includes the quotes.
bool next_etag(std::string_view& s, std::string_view& tag, bool& weak) noexcept {
    while (!s.empty() && (is_ows(s.front()) || s.front() == ','))
        s.remove_prefix(1);
    if (s.empty()) return false;
    weak = false;
    if (s.starts_with("W/")) {
        weak = true;
        s.remove_prefix(2);
    }
    if (s.empty() || s.front() != '"') return false;
    const auto close = s.find('"', 1);
    if (close == std::string_view::npos) return false;
    tag = s.substr(0, close + 1);
    s.remove_prefix(close + 1);
    return true;
}

/// Splits a validator into its weakness and opaque quoted tag.
std::pair<bool, std::string_view> split_etag(std::string_view etag) noexcept {
    if (etag.starts_with("W/")) return {true, etag.substr(2)};
    return {false, etag};
}

clock::time_point seconds_of(clock::time_point t) noexcept {
    return std::chrono::floor<std::chrono::seconds>(t);
}

std::string make_boundary() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[40];
    std::snprintf(buf, sizeof buf, "wharf-%016llx%08llx", static_cast<unsigned long long>(rng()),
                  static_cast<unsigned long long>(rng() & 0xffffffffu));
    return buf;
}

/// The body as an ordered list of pieces to slice from (pieces first, then the buffer).
class body_slicer {
  public:
    explicit body_slicer(response& res) {
        for (auto& p : detail::response_access::pieces(res))
            spans_.push_back({&p, {}});
        if (!detail::response_access::memory(res).empty())
            spans_.push_back({nullptr, detail::response_access::memory(res)});
    }

    /// Appends the bytes [first, last] of the body to `out`, memory coalesced into `mem`.
    bool slice(std::uint64_t first, std::uint64_t last, std::vector<body_piece>& out,
               std::string& mem) {
        std::uint64_t at = 0;
        const std::uint64_t end = last + 1;
        for (const auto& sp : spans_) {
            const std::uint64_t size = sp.piece ? sp.piece->size().value_or(0) : sp.bytes.size();
            const std::uint64_t from = std::max(first, at);
            const std::uint64_t to = std::min(end, at + size);
            if (from < to) {
                const std::uint64_t off = from - at;
                const std::uint64_t len = to - from;
                if (sp.piece && sp.piece->kind == body_piece::file) {
                    const int fd = ::fcntl(sp.piece->range.fd, F_DUPFD_CLOEXEC, 0);
                    if (fd < 0) return false;
                    flush(out, mem);
                    body_piece p;
                    p.kind = body_piece::file;
                    p.range = file_range{fd, sp.piece->range.offset + off, len, true};
                    out.push_back(std::move(p));
                } else {
                    std::string_view bytes = sp.bytes;
                    if (sp.piece) {
                        bytes = sp.piece->kind == body_piece::bytes
                                    ? std::string_view(sp.piece->data)
                                    : sp.piece->view;
                    }
                    mem.append(
                        bytes.substr(static_cast<std::size_t>(off), static_cast<std::size_t>(len)));
                }
            }
            at += size;
            if (at >= end) break;
        }
        return true;
    }

    static void flush(std::vector<body_piece>& out, std::string& mem) {
        if (mem.empty()) return;
        body_piece p;
        p.kind = body_piece::bytes;
        p.data = std::move(mem);
        mem.clear();
        out.push_back(std::move(p));
    }

  private:
    struct span {
        body_piece* piece;
        std::string_view bytes;
    };
    std::vector<span> spans_;
};

/// Drops the body (releasing every piece) and sets a status that carries no content.
void drop_body(response& res) {
    detail::response_access::pieces(res).clear();
    detail::response_access::memory(res).clear();
    if (res.declared_length()) res.content_length(0);
}

/// Replaces the body with `pieces`.
void replace_body(response& res, std::vector<body_piece> pieces) {
    std::vector<body_piece> old =
        std::exchange(detail::response_access::pieces(res), std::move(pieces));
    detail::response_access::memory(res).clear();
    old.clear(); // releases borrowed memory and closes the original descriptors
    if (res.declared_length()) res.content_length(res.body_size().value_or(0));
}

void answer_without_content(response& res, int status) {
    drop_body(res);
    res.status(status);
    res.remove_header("Content-Type");
    res.remove_header("Content-Encoding");
}

} // namespace

std::string http_date(clock::time_point t) {
    // By hand rather than gmtime_r + snprintf: this runs on every file response.
    using namespace std::chrono;
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss clock_of_day{floor<seconds>(t - day)};
    const auto two = [](char* at, unsigned v) {
        at[0] = static_cast<char>('0' + v / 10 % 10);
        at[1] = static_cast<char>('0' + v % 10);
    };
    std::string out = "Sun, 00 Jan 0000 00:00:00 GMT";
    const auto wd = weekday{day}.c_encoding();
    const auto mon = static_cast<unsigned>(ymd.month()) - 1;
    const auto year = static_cast<unsigned>(std::clamp(static_cast<int>(ymd.year()), 0, 9999));
    out.replace(0, 3, day_names[wd % 7]);
    two(&out[5], static_cast<unsigned>(ymd.day()));
    out.replace(8, 3, month_names[mon % 12]);
    two(&out[12], year / 100);
    two(&out[14], year % 100);
    two(&out[17], static_cast<unsigned>(clock_of_day.hours().count()));
    two(&out[20], static_cast<unsigned>(clock_of_day.minutes().count()));
    two(&out[23], static_cast<unsigned>(clock_of_day.seconds().count()));
    return out;
}

std::optional<clock::time_point> parse_http_date(std::string_view s) {
    s = trim_ows(s);
    std::tm tm{};
    const auto comma = s.find(',');
    if (comma == 3) {
        // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
        if (s.size() != 29 || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
            s[25] != ' ' || s.substr(26) != "GMT")
            return std::nullopt;
        int year = 0;
        if (!fixed_number(s, 5, 2, tm.tm_mday) || !fixed_number(s, 12, 4, year) ||
            !parse_clock(s, 17, tm))
            return std::nullopt;
        tm.tm_mon = month_index(s.substr(8, 3));
        tm.tm_year = year - 1900;
        return to_time(tm);
    }
    if (comma != std::string_view::npos && comma > 3) {
        // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
        std::string_view r = s.substr(comma + 1);
        if (r.size() != 23 || r[0] != ' ' || r[3] != '-' || r[7] != '-' || r[10] != ' ' ||
            r[19] != ' ' || r.substr(20) != "GMT")
            return std::nullopt;
        int yy = 0;
        if (!fixed_number(r, 1, 2, tm.tm_mday) || !fixed_number(r, 8, 2, yy) ||
            !parse_clock(r, 11, tm))
            return std::nullopt;
        tm.tm_mon = month_index(r.substr(4, 3));
        // Two-digit years: the nearest past century reading (RFC 9110 §5.6.7, simplified).
        tm.tm_year = yy < 70 ? yy + 100 : yy;
        return to_time(tm);
    }
    // asctime: "Sun Nov  6 08:49:37 1994"
    if (s.size() != 24 || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[19] != ' ')
        return std::nullopt;
    tm.tm_mon = month_index(s.substr(4, 3));
    const std::string_view day = s.substr(8, 2);
    if (day[0] == ' ') {
        if (!fixed_number(day, 1, 1, tm.tm_mday)) return std::nullopt;
    } else if (!fixed_number(day, 0, 2, tm.tm_mday)) {
        return std::nullopt;
    }
    int year = 0;
    if (!parse_clock(s, 11, tm) || !fixed_number(s, 20, 4, year)) return std::nullopt;
    tm.tm_year = year - 1900;
    return to_time(tm);
}

bool etag_list_matches(std::string_view list, std::string_view etag, bool weak) {
    if (trim_ows(list) == "*") return true;
    if (etag.empty()) return false;
    const auto [ours_weak, ours] = split_etag(etag);
    if (!weak && ours_weak) return false;
    std::string_view tag;
    bool tag_weak = false;
    while (next_etag(list, tag, tag_weak)) {
        if (tag != ours) continue;
        if (weak || !tag_weak) return true;
    }
    return false;
}

range_request parse_range(std::string_view value, std::uint64_t size) {
    range_request out;
    value = trim_ows(value);
    if (value.size() < 6 || !iequals(value.substr(0, 6), "bytes=")) return out;
    value.remove_prefix(6);
    std::vector<byte_range> list;
    bool any = false;
    while (!value.empty()) {
        const auto comma = value.find(',');
        const std::string_view spec = trim_ows(value.substr(0, comma));
        value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
        if (spec.empty()) continue; // empty list elements are allowed (RFC 9110 §5.6.1.2)
        any = true;
        const auto dash = spec.find('-');
        if (dash == std::string_view::npos) return {};
        const std::string_view a = spec.substr(0, dash);
        const std::string_view b = spec.substr(dash + 1);
        std::uint64_t first = 0, last = 0;
        if (a.empty()) {
            // suffix-range: the last N bytes
            if (!parse_digits(b, last)) return {};
            if (last == 0 || size == 0) continue;
            list.push_back({size - std::min(last, size), size - 1});
            continue;
        }
        if (!parse_digits(a, first)) return {};
        if (b.empty()) {
            last = UINT64_MAX;
        } else {
            if (!parse_digits(b, last)) return {};
            if (last < first) return {}; // invalid: the whole header is ignored
        }
        if (first >= size) continue; // unsatisfiable on its own
        list.push_back({first, std::min(last, size - 1)});
    }
    if (!any) return {};
    if (list.empty()) {
        out.kind = range_request::unsatisfiable;
        return out;
    }
    for (const auto& r : list)
        out.requested_bytes += r.last - r.first + 1;
    std::sort(list.begin(), list.end(),
              [](const byte_range& x, const byte_range& y) { return x.first < y.first; });
    for (const auto& r : list) {
        if (!out.list.empty() && r.first <= out.list.back().last + 1)
            out.list.back().last = std::max(out.list.back().last, r.last);
        else
            out.list.push_back(r);
    }
    out.kind = range_request::ranges;
    return out;
}

void apply_conditional_and_ranges(const request& req, response& res, const range_limits& limits) {
    const std::string etag(res.etag());
    const auto last_modified = res.last_modified();
    const bool get_or_head = req.method() == method::get || req.method() == method::head;

    bool sliceable = true;
    for (const auto& p : detail::response_access::pieces(res))
        if (p.kind == body_piece::source) sliceable = false;
    const auto total = res.body_size();
    if (!total) sliceable = false;

    if (!etag.empty()) res.set_header("ETag", etag);
    if (last_modified) res.set_header("Last-Modified", http_date(*last_modified));
    if (sliceable) res.set_header("Accept-Ranges", "bytes");

    // Compared at the one-second resolution of HTTP-dates (a plain flag rather than an
    // optional: GCC 12 warns about the latter here).
    const bool has_lm = last_modified.has_value();
    const clock::time_point lm_at = has_lm ? seconds_of(*last_modified) : clock::time_point{};

    // RFC 9110 §13.2.2: If-Match, else If-Unmodified-Since; If-None-Match, else
    // If-Modified-Since; then Range with If-Range.
    if (const auto im = req.header("If-Match")) {
        if (!etag_list_matches(*im, etag, false)) return answer_without_content(res, 412);
    } else if (const auto ius = req.header("If-Unmodified-Since")) {
        const auto date = parse_http_date(*ius);
        if (date && has_lm && lm_at > *date) return answer_without_content(res, 412);
    }
    if (const auto inm = req.header("If-None-Match")) {
        if (etag_list_matches(*inm, etag, true)) {
            if (get_or_head) {
                drop_body(res);
                res.status(304);
                res.remove_header("Content-Type");
                return;
            }
            return answer_without_content(res, 412);
        }
    } else if (const auto ims = req.header("If-Modified-Since"); ims && get_or_head) {
        const auto date = parse_http_date(*ims);
        if (date && has_lm && lm_at <= *date) {
            drop_body(res);
            res.status(304);
            res.remove_header("Content-Type");
            return;
        }
    }

    if (req.method() != method::get || !sliceable) return;
    const auto range = req.header("Range");
    if (!range) return;
    if (const auto if_range = req.header("If-Range")) {
        const std::string_view v = trim_ows(*if_range);
        if (v.starts_with("\"") || v.starts_with("W/")) {
            // Strong comparison: a weak tag never matches.
            if (etag.empty() || v != etag || etag.starts_with("W/")) return;
        } else {
            const auto date = parse_http_date(v);
            if (!date || !has_lm || *date != lm_at) return;
        }
    }

    const std::uint64_t size = *total;
    range_request rr = parse_range(*range, size);
    if (rr.kind == range_request::ignore) return;
    if (rr.kind == range_request::unsatisfiable) {
        answer_without_content(res, 416);
        res.set_header("Content-Range", "bytes */" + std::to_string(size));
        return;
    }
    // Abuse: overlapping ranges that ask for more than the whole, or too many pieces.
    if (rr.requested_bytes > size || rr.list.size() > limits.max_ranges) return;
    if (rr.list.size() == 1 && rr.list[0].first == 0 && rr.list[0].last + 1 == size) return;

    body_slicer slicer(res);
    std::vector<body_piece> out;
    std::string mem;
    if (rr.list.size() == 1) {
        const byte_range r = rr.list[0];
        if (!slicer.slice(r.first, r.last, out, mem)) return; // dup failed: send it whole
        body_slicer::flush(out, mem);
        replace_body(res, std::move(out));
        res.status(206);
        res.set_header("Content-Range", "bytes " + std::to_string(r.first) + "-" +
                                            std::to_string(r.last) + "/" + std::to_string(size));
        return;
    }

    const std::string boundary = make_boundary();
    const auto type = res.headers().get("Content-Type");
    const std::string part_type = type ? std::string(*type) : std::string();
    bool first_part = true;
    for (const auto& r : rr.list) {
        mem.append(first_part ? "--" : "\r\n--");
        first_part = false;
        mem.append(boundary);
        mem.append("\r\n");
        if (!part_type.empty()) {
            mem.append("Content-Type: ");
            mem.append(part_type);
            mem.append("\r\n");
        }
        mem.append("Content-Range: bytes " + std::to_string(r.first) + "-" +
                   std::to_string(r.last) + "/" + std::to_string(size) + "\r\n\r\n");
        if (!slicer.slice(r.first, r.last, out, mem)) return; // `out` drops its dup'ed fds
    }
    mem.append("\r\n--" + boundary + "--\r\n");
    body_slicer::flush(out, mem);
    replace_body(res, std::move(out));
    res.status(206);
    res.set_header("Content-Type", "multipart/byteranges; boundary=" + boundary);
}

} // namespace wharf::detail
