// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wharf {

/// ASCII case-insensitive equality, as header names and tokens compare (RFC 9110 §5.1).
bool iequals(std::string_view a, std::string_view b) noexcept;

/// One header field of a request: views into the connection's receive buffer, valid for the
/// life of the session that received it.
struct header_field {
    std::string_view name;
    std::string_view value; ///< Leading and trailing whitespace removed.
};

/// The header fields of a request, in arrival order; lookups ignore case.
class header_view {
  public:
    header_view() = default;
    explicit header_view(std::span<const header_field> fields) noexcept : fields_(fields) {}

    /// The value of the first field named `name`, if any.
    std::optional<std::string_view> get(std::string_view name) const noexcept;
    /// Every value of the fields named `name`, in order (a multi-valued header).
    std::vector<std::string_view> get_all(std::string_view name) const;
    /// How many fields are named `name`.
    std::size_t count(std::string_view name) const noexcept;
    bool contains(std::string_view name) const noexcept { return count(name) != 0; }

    std::size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }
    auto begin() const noexcept { return fields_.begin(); }
    auto end() const noexcept { return fields_.end(); }

  private:
    std::span<const header_field> fields_;
};

/// The header fields of a response. Names keep the case they were given in; lookups ignore
/// case. Storage is reused across `clear()`, so a connection's steady state allocates nothing.
class field_list {
  public:
    /// Replaces every field named `name` with one field holding `value`. Like add(), throws
    /// std::invalid_argument for a name that is not a token or a value with CR, LF or NUL (in a
    /// handler that becomes a 500, never a split response).
    void set(std::string_view name, std::string_view value);
    /// Appends a field, keeping any others of the same name.
    void add(std::string_view name, std::string_view value);
    /// Removes every field named `name`; returns how many were removed.
    std::size_t remove(std::string_view name) noexcept;
    /// The value of the first field named `name`, if any. The view lasts until the next change.
    std::optional<std::string_view> get(std::string_view name) const noexcept;
    bool contains(std::string_view name) const noexcept { return get(name).has_value(); }

    std::size_t size() const noexcept { return entries_.size(); }
    bool empty() const noexcept { return entries_.empty(); }
    void clear() noexcept;

    /// Visits every field in order as (name, value).
    template <class F>
    void for_each(F&& f) const {
        for (const entry& e : entries_)
            f(view(e.name_at, e.name_len), view(e.value_at, e.value_len));
    }

  private:
    struct entry {
        std::uint32_t name_at, name_len, value_at, value_len;
    };
    std::string_view view(std::uint32_t at, std::uint32_t len) const noexcept {
        return {bytes_.data() + at, len};
    }
    std::string bytes_;
    std::vector<entry> entries_;
};

} // namespace wharf
