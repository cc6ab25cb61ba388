// SPDX-License-Identifier: MIT
#include "wharf/headers.hpp"

#include <algorithm>
#include <stdexcept>

#include "http/chars.hpp"

namespace wharf {
namespace {

inline unsigned char lower(unsigned char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c | 0x20) : c;
}

bool is_token(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return chars::token[static_cast<unsigned char>(c)];
    });
}

/// CR or LF would split the response (header injection); NUL truncates it in some clients.
bool splits_field(std::string_view value) noexcept {
    return std::any_of(value.begin(), value.end(),
                       [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

} // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(static_cast<unsigned char>(a[i])) != lower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::optional<std::string_view> header_view::get(std::string_view name) const noexcept {
    for (const header_field& f : fields_)
        if (iequals(f.name, name)) return f.value;
    return std::nullopt;
}

std::vector<std::string_view> header_view::get_all(std::string_view name) const {
    std::vector<std::string_view> values;
    for (const header_field& f : fields_)
        if (iequals(f.name, name)) values.push_back(f.value);
    return values;
}

std::size_t header_view::count(std::string_view name) const noexcept {
    return static_cast<std::size_t>(
        std::count_if(fields_.begin(), fields_.end(),
                      [&](const header_field& f) { return iequals(f.name, name); }));
}

void field_list::set(std::string_view name, std::string_view value) {
    remove(name);
    add(name, value);
}

void field_list::add(std::string_view name, std::string_view value) {
    if (!is_token(name)) throw std::invalid_argument("invalid header name");
    if (splits_field(value)) throw std::invalid_argument("header value contains CR, LF or NUL");
    const auto at = static_cast<std::uint32_t>(bytes_.size());
    bytes_.append(name).append(value);
    entries_.push_back({at, static_cast<std::uint32_t>(name.size()),
                        at + static_cast<std::uint32_t>(name.size()),
                        static_cast<std::uint32_t>(value.size())});
}

std::size_t field_list::remove(std::string_view name) noexcept {
    // The bytes stay until clear(); only the entries go.
    return std::erase_if(
        entries_, [&](const entry& e) { return iequals(view(e.name_at, e.name_len), name); });
}

std::optional<std::string_view> field_list::get(std::string_view name) const noexcept {
    for (const entry& e : entries_)
        if (iequals(view(e.name_at, e.name_len), name)) return view(e.value_at, e.value_len);
    return std::nullopt;
}

void field_list::clear() noexcept {
    bytes_.clear();
    entries_.clear();
}

} // namespace wharf
