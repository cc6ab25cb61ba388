// SPDX-License-Identifier: MIT
// Proactive negotiation (RFC 9110 §12): the Accept, Accept-Encoding, Accept-Language and
// Accept-Charset fields parsed into weighted items, and the choice among what a handler offers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace wharf {

class session;

/// One element of an Accept-style field. Views point into the request's field value.
struct accept_item {
    /// The element as sent, without parameters: "text/html", "text/*", "*/*", "gzip", "en-US", "*".
    std::string_view value;
    /// Media ranges only: the type and subtype ("text", "*"); empty for the other fields.
    std::string_view type, subtype;
    /// Media ranges only: the parameters before the weight, as (name, value); a quoted value is
    /// given without its quotes (escapes left as sent).
    std::vector<std::pair<std::string_view, std::string_view>> params;
    /// The weight in thousandths (q=0.5 is 500); 1000 when no q was given.
    std::uint16_t quality = 1000;
};

/// A parsed Accept-style field. Malformed elements are skipped (RFC 9110 lets a recipient ignore
/// what it cannot parse); a field with more than max_items elements keeps the first max_items.
class accept_list {
  public:
    enum class field_kind : std::uint8_t {
        media,    ///< Accept: media ranges with parameters
        coding,   ///< Accept-Encoding: content codings ("identity" is special, §12.5.3)
        language, ///< Accept-Language: language ranges, matched by prefix (RFC 4647 §3.3.1)
        charset,  ///< Accept-Charset: charsets
    };
    static constexpr std::size_t max_items = 64;

    accept_list() = default;
    /// Parses `value`; `present` says whether the request had the field at all (a missing field
    /// accepts anything; an empty Accept-Encoding accepts only identity).
    static accept_list parse(std::string_view value, field_kind kind, bool present = true);

    field_kind kind() const noexcept { return kind_; }
    bool present() const noexcept { return present_; }
    /// The elements in the order sent.
    std::span<const accept_item> items() const noexcept { return items_; }
    /// The elements by precedence: more specific first (for media ranges: type/subtype with
    /// parameters, type/subtype, type/*, */*), then by weight; ties keep their order.
    std::vector<const accept_item*> by_precedence() const;

    /// The weight (0..1000) this field gives `offered` ("application/json", "br", "en-GB",
    /// "utf-8"): that of the most specific element that matches it; 0 when none does; 1000
    /// when the field is absent. Accept-Encoding: "x-gzip" is "gzip"; "identity", when neither
    /// named nor covered by "*", gets 1 (acceptable, but the last resort: RFC 9110 §12.5.3).
    std::uint16_t quality(std::string_view offered) const noexcept;
    /// The index of the best of `offered` (highest quality; among equals the earliest offered),
    /// or nullopt when every one has quality 0.
    std::optional<std::size_t> negotiate(std::span<const std::string_view> offered) const noexcept;
    std::optional<std::size_t>
    negotiate(std::initializer_list<std::string_view> offered) const noexcept {
        return negotiate(std::span<const std::string_view>(offered.begin(), offered.size()));
    }

  private:
    std::vector<accept_item> items_;
    field_kind kind_ = field_kind::media;
    bool present_ = false;
};

/// The best of `offered` media types for the request's Accept, or nullopt (answer 406). Adds
/// "Accept" to the response's Vary: the answer depends on it either way.
std::optional<std::string_view> negotiate(session& s,
                                          std::initializer_list<std::string_view> offered);
std::optional<std::string_view> negotiate(session& s, std::span<const std::string_view> offered);

} // namespace wharf
