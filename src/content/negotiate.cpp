// SPDX-License-Identifier: MIT
// Accept, Accept-Encoding, Accept-Language and Accept-Charset (RFC 9110 §12.4, §12.5): a single
// left-to-right pass splits the field at commas outside quoted strings, each element is parsed
// on its own, and a malformed one is dropped.
#include "wharf/negotiate.hpp"

#include <algorithm>

#include "http/chars.hpp"
#include "wharf/headers.hpp"
#include "wharf/request.hpp"
#include "wharf/response.hpp"
#include "wharf/session.hpp"

namespace wharf {
namespace {

using field_kind = accept_list::field_kind;

constexpr char lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_token_char(char c) noexcept {
    return chars::token[static_cast<unsigned char>(c)];
}

bool is_token(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

bool is_alpha(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

/// qdtext (RFC 9110 §5.6.4): HTAB, SP, visible characters but '"' and '\', and obs-text.
bool is_qdtext(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || u == ' ' || u == 0x21 || (u >= 0x23 && u <= 0x5b) ||
           (u >= 0x5d && u <= 0x7e) || u >= 0x80;
}
/// What may follow a backslash in a quoted-pair: HTAB, SP, VCHAR, obs-text.
bool is_quotable(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || u == ' ' || (u >= 0x21 && u != 0x7f);
}

/// The length of the quoted-string at the start of `s` (which begins with '"'), or 0 when it
/// is not one.
std::size_t quoted_length(std::string_view s) noexcept {
    for (std::size_t i = 1; i < s.size(); ++i) {
        if (s[i] == '"') return i + 1;
        if (s[i] == '\\') {
            if (++i == s.size() || !is_quotable(s[i])) return 0;
        } else if (!is_qdtext(s[i])) {
            return 0;
        }
    }
    return 0;
}

/// qvalue (RFC 9110 §12.4.2) in thousandths, or nullopt when `s` is not one.
std::optional<std::uint16_t> parse_qvalue(std::string_view s) noexcept {
    if (s.empty() || (s[0] != '0' && s[0] != '1')) return std::nullopt;
    const bool one = s[0] == '1';
    if (s.size() == 1) return one ? 1000 : 0;
    if (s[1] != '.' || s.size() > 5) return std::nullopt;
    unsigned thousandths = 0;
    unsigned scale = 100;
    for (std::size_t i = 2; i < s.size(); ++i, scale /= 10) {
        if (!is_digit(s[i]) || (one && s[i] != '0')) return std::nullopt;
        thousandths += static_cast<unsigned>(s[i] - '0') * scale;
    }
    return static_cast<std::uint16_t>(one ? 1000 : thousandths);
}

/// One parameter: name and value (without quotes; escapes as sent).
struct parameter {
    std::string_view name, value;
    bool quoted = false;
};

/// Walks `*( OWS ";" OWS [ parameter ] )` (RFC 9110 §5.6.6) over what follows an element's value.
class parameter_reader {
  public:
    explicit parameter_reader(std::string_view rest) noexcept : rest_(rest) {}

    /// Reads the next parameter into `out`; false at the end. Sets malformed() when the rest is
    /// not a parameter list.
    bool next(parameter& out) noexcept {
        for (;;) {
            rest_ = chars::trim_ows(rest_);
            if (rest_.empty()) return false;
            if (rest_.front() != ';') return fail();
            rest_.remove_prefix(1);
            rest_ = chars::trim_ows(rest_);
            if (rest_.empty()) return false;
            if (rest_.front() == ';') continue; // an empty parameter
            std::size_t n = 0;
            while (n < rest_.size() && is_token_char(rest_[n]))
                ++n;
            if (n == 0 || n == rest_.size() || rest_[n] != '=') return fail();
            out.name = rest_.substr(0, n);
            rest_.remove_prefix(n + 1);
            if (!rest_.empty() && rest_.front() == '"') {
                const std::size_t q = quoted_length(rest_);
                if (q == 0) return fail();
                out.value = rest_.substr(1, q - 2);
                out.quoted = true;
                rest_.remove_prefix(q);
            } else {
                n = 0;
                while (n < rest_.size() && is_token_char(rest_[n]))
                    ++n;
                if (n == 0) return fail();
                out.value = rest_.substr(0, n);
                out.quoted = false;
                rest_.remove_prefix(n);
            }
            return true;
        }
    }
    bool malformed() const noexcept { return malformed_; }

  private:
    bool fail() noexcept {
        malformed_ = true;
        rest_ = {};
        return false;
    }
    std::string_view rest_;
    bool malformed_ = false;
};

/// Compares two parameter values after undoing quoted-pairs (a token has none).
bool values_equal(std::string_view a, std::string_view b, bool case_insensitive) noexcept {
    std::size_t i = 0, j = 0;
    for (;;) {
        if (i < a.size() && a[i] == '\\') ++i;
        if (j < b.size() && b[j] == '\\') ++j;
        if (i >= a.size() || j >= b.size()) return i >= a.size() && j >= b.size();
        const char x = case_insensitive ? lower(a[i]) : a[i];
        const char y = case_insensitive ? lower(b[j]) : b[j];
        if (x != y) return false;
        ++i;
        ++j;
    }
}

/// language-range (RFC 4647 §2.1): 1*8ALPHA *("-" 1*8alphanum), or "*".
bool is_language_range(std::string_view s) noexcept {
    if (s == "*") return true;
    std::size_t run = 0;
    bool first = true;
    for (const char c : s) {
        if (c == '-') {
            if (run == 0) return false;
            run = 0;
            first = false;
        } else if (is_alpha(c) || (!first && is_digit(c))) {
            if (++run > 8) return false;
        } else {
            return false;
        }
    }
    return run != 0;
}

/// Splits `media` ("type/subtype") at the slash; false when it is not a media range.
bool split_media(std::string_view media, std::string_view& type, std::string_view& subtype) {
    const auto slash = media.find('/');
    if (slash == std::string_view::npos) return false;
    type = media.substr(0, slash);
    subtype = media.substr(slash + 1);
    if (!is_token(type) || !is_token(subtype)) return false;
    return !(type == "*" && subtype != "*");
}

/// Parses one element (OWS already trimmed); false when it is malformed.
bool parse_element(std::string_view element, field_kind kind, accept_item& item) {
    std::size_t end = 0;
    while (end < element.size() && element[end] != ';' && !chars::is_ows(element[end]))
        ++end;
    item.value = element.substr(0, end);
    switch (kind) {
    case field_kind::media:
        if (!split_media(item.value, item.type, item.subtype)) return false;
        break;
    case field_kind::language:
        if (!is_language_range(item.value)) return false;
        break;
    case field_kind::coding:
    case field_kind::charset:
        if (!is_token(item.value)) return false;
        break;
    }
    parameter_reader reader(element.substr(end));
    parameter p;
    bool weighted = false;
    while (reader.next(p)) {
        if (weighted) continue; // accept-ext after the weight (RFC 7231): ignored
        if (iequals(p.name, "q")) {
            const auto q = parse_qvalue(p.value);
            if (p.quoted || !q) return false; // a qvalue is never quoted
            item.quality = *q;
            weighted = true;
        } else if (kind == field_kind::media) {
            item.params.emplace_back(p.name, p.value);
        }
    }
    return !reader.malformed();
}

/// How specific an element is: a larger rank wins over a smaller one when both match.
std::size_t specificity(const accept_item& item, field_kind kind) noexcept {
    switch (kind) {
    case field_kind::media: {
        const std::size_t level = item.type == "*" ? 0 : item.subtype == "*" ? 1 : 2;
        // The parameter count is bounded by the field's length, far below this factor.
        return level * (std::size_t{1} << 40) + item.params.size();
    }
    case field_kind::language: // subtags: of two ranges that match a tag, one is a prefix
        return item.value == "*" ? 0
                                 : 1 + static_cast<std::size_t>(
                                           std::count(item.value.begin(), item.value.end(), '-'));
    case field_kind::coding:
    case field_kind::charset:
        return item.value == "*" ? 0 : 1;
    }
    return 0;
}

/// "x-gzip" and "x-compress" are aliases of "gzip" and "compress" (RFC 9110 §8.4.1).
std::string_view canonical_coding(std::string_view coding) noexcept {
    if (iequals(coding, "x-gzip")) return "gzip";
    if (iequals(coding, "x-compress")) return "compress";
    return coding;
}

/// Basic filtering (RFC 4647 §3.3.1): `range` is "*", equals `tag`, or is a prefix of `tag`
/// followed by '-'; case-insensitive.
bool language_matches(std::string_view range, std::string_view tag) noexcept {
    if (range == "*") return true;
    if (tag.size() < range.size() || !iequals(tag.substr(0, range.size()), range)) return false;
    return tag.size() == range.size() || tag[range.size()] == '-';
}

/// Whether `offered` ("text/html;level=1", already split) has each of the range's parameters
/// with an equal value.
bool params_match(const accept_item& range, std::string_view offered_params) noexcept {
    for (const auto& [name, value] : range.params) {
        parameter_reader reader(offered_params);
        parameter p;
        bool found = false;
        while (!found && reader.next(p))
            found = iequals(p.name, name) && values_equal(p.value, value, iequals(name, "charset"));
        if (!found) return false;
    }
    return true;
}

bool media_matches(const accept_item& range, std::string_view type, std::string_view subtype,
                   std::string_view offered_params) noexcept {
    if (range.type != "*" && !iequals(range.type, type)) return false;
    if (range.subtype != "*" && !iequals(range.subtype, subtype)) return false;
    return params_match(range, offered_params);
}

} // namespace

accept_list accept_list::parse(std::string_view value, field_kind kind, bool present) {
    accept_list list;
    list.kind_ = kind;
    list.present_ = present;
    std::size_t start = 0;
    const auto take = [&](std::size_t end) {
        const std::string_view element = chars::trim_ows(value.substr(start, end - start));
        start = end + 1;
        if (element.empty()) return;
        accept_item item;
        if (parse_element(element, kind, item)) list.items_.push_back(std::move(item));
    };
    bool quoted = false;
    for (std::size_t i = 0; i < value.size() && list.items_.size() < max_items; ++i) {
        const char c = value[i];
        if (quoted) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                quoted = false;
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            take(i);
        }
    }
    if (start < value.size() && list.items_.size() < max_items) take(value.size());
    return list;
}

std::vector<const accept_item*> accept_list::by_precedence() const {
    std::vector<const accept_item*> order;
    order.reserve(items_.size());
    for (const auto& item : items_)
        order.push_back(&item);
    std::stable_sort(order.begin(), order.end(),
                     [this](const accept_item* a, const accept_item* b) {
                         const auto sa = specificity(*a, kind_), sb = specificity(*b, kind_);
                         if (sa != sb) return sa > sb;
                         return a->quality > b->quality;
                     });
    return order;
}

std::uint16_t accept_list::quality(std::string_view offered) const noexcept {
    if (!present_) return 1000;
    // The first element in by_precedence() order that matches: the most specific, then the
    // heaviest. Found in one pass without building that order.
    const accept_item* best = nullptr;
    std::size_t best_rank = 0;
    const auto consider = [&](const accept_item& item) {
        const std::size_t rank = specificity(item, kind_);
        if (!best || rank > best_rank || (rank == best_rank && item.quality > best->quality)) {
            best = &item;
            best_rank = rank;
        }
    };
    switch (kind_) {
    case field_kind::media: {
        std::size_t end = 0;
        while (end < offered.size() && offered[end] != ';' && !chars::is_ows(offered[end]))
            ++end;
        std::string_view type, subtype;
        if (!split_media(offered.substr(0, end), type, subtype)) return 0;
        const std::string_view offered_params = offered.substr(end);
        for (const auto& item : items_)
            if (media_matches(item, type, subtype, offered_params)) consider(item);
        break;
    }
    case field_kind::coding: {
        const std::string_view coding = canonical_coding(offered);
        bool named = false;
        for (const auto& item : items_) {
            const bool exact = iequals(canonical_coding(item.value), coding);
            named = named || exact;
            if (exact || item.value == "*") consider(item);
        }
        // identity is acceptable unless excluded by "identity;q=0" or "*;q=0" (§12.5.3); when
        // the field does not mention it at all, it is the last resort.
        if (!named && !best && iequals(coding, "identity")) return 1;
        break;
    }
    case field_kind::language:
        for (const auto& item : items_)
            if (language_matches(item.value, offered)) consider(item);
        break;
    case field_kind::charset:
        for (const auto& item : items_)
            if (item.value == "*" || iequals(item.value, offered)) consider(item);
        break;
    }
    return best ? best->quality : 0;
}

std::optional<std::size_t>
accept_list::negotiate(std::span<const std::string_view> offered) const noexcept {
    std::optional<std::size_t> chosen;
    std::uint16_t best = 0;
    for (std::size_t i = 0; i < offered.size(); ++i) {
        const std::uint16_t q = quality(offered[i]);
        if (q > best) {
            best = q;
            chosen = i;
        }
    }
    return chosen;
}

std::optional<std::string_view> negotiate(session& s, std::span<const std::string_view> offered) {
    s.response().vary("Accept");
    const auto chosen = s.request().accept().negotiate(offered);
    if (!chosen) return std::nullopt;
    return offered[*chosen];
}

std::optional<std::string_view> negotiate(session& s,
                                          std::initializer_list<std::string_view> offered) {
    return negotiate(s, std::span<const std::string_view>(offered.begin(), offered.size()));
}

} // namespace wharf
