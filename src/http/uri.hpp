// SPDX-License-Identifier: MIT
// Request-target handling shared by every protocol: splitting the target into its parts and
// percent-decoding them (RFC 3986, RFC 9112 §3.2).
#pragma once

#include <string>
#include <string_view>

namespace wharf::detail {

struct target_parts {
    enum form_t { origin_form, absolute_form, asterisk_form, authority_form } form = origin_form;
    std::string_view authority; ///< host[:port] of an absolute- or authority-form target
    std::string_view path;      ///< raw path, "/" when an absolute-form target has none
    std::string_view query;     ///< raw query without '?'
};

/// Splits a request target. Returns false for a target that is none of the four forms.
bool split_target(std::string_view target, target_parts& out) noexcept;

/// Appends the percent-decoding of `in` to `out`; with `plus_is_space`, '+' becomes ' ' (form
/// encoding, for queries). Returns false for a malformed escape or an encoded NUL.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space);

/// True when `in` has no '%' (and no '+' when `plus_is_space`): decoding would not change it.
bool decoding_is_identity(std::string_view in, bool plus_is_space) noexcept;

} // namespace wharf::detail
