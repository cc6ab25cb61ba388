// SPDX-License-Identifier: MIT
// Accept-style fields (wharf/negotiate.hpp). The first byte picks the field kind and whether it is
// present; the rest is the field value, then after a NUL byte the offers, one per line.
// Invariants: at most max_items elements, weights within 0..1000, every view inside the input,
// by_precedence a permutation of the items, and negotiate's choice in range, of maximal
// quality, the earliest such, and absent only when every offer has quality 0; an element's own
// value gets at least its weight.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "wharf/negotiate.hpp"

namespace {

using wharf::accept_list;

void check_views(const accept_list& list, const char* buf, std::size_t len) {
    const auto inside = [&](std::string_view v) {
        return v.empty() || wharf_fuzz::inside(v, buf, len);
    };
    for (const auto& item : list.items()) {
        FUZZ_CHECK(!item.value.empty());
        FUZZ_CHECK(inside(item.value));
        FUZZ_CHECK(inside(item.type));
        FUZZ_CHECK(inside(item.subtype));
        FUZZ_CHECK(item.quality <= 1000);
        if (list.kind() == accept_list::field_kind::media) {
            FUZZ_CHECK(!item.type.empty() && !item.subtype.empty());
            FUZZ_CHECK(item.type.size() + 1 + item.subtype.size() == item.value.size());
        } else {
            FUZZ_CHECK(item.type.empty() && item.subtype.empty() && item.params.empty());
        }
        for (const auto& [name, value] : item.params) {
            FUZZ_CHECK(!name.empty());
            FUZZ_CHECK(inside(name));
            FUZZ_CHECK(inside(value));
        }
    }
}

void check_precedence(const accept_list& list) {
    auto order = list.by_precedence();
    FUZZ_CHECK(order.size() == list.items().size());
    std::sort(order.begin(), order.end(), std::less<const wharf::accept_item*>());
    for (std::size_t i = 0; i < order.size(); ++i)
        FUZZ_CHECK(order[i] == &list.items()[i]);
}

void check_negotiate(const accept_list& list, const std::vector<std::string_view>& offered) {
    std::uint16_t best = 0;
    std::size_t first_best = 0;
    for (std::size_t i = 0; i < offered.size(); ++i) {
        const std::uint16_t q = list.quality(offered[i]);
        FUZZ_CHECK(q <= 1000);
        if (!list.present()) FUZZ_CHECK(q == 1000);
        if (q > best) {
            best = q;
            first_best = i;
        }
    }
    const auto chosen = list.negotiate(std::span<const std::string_view>(offered));
    if (best == 0) {
        FUZZ_CHECK(!chosen);
        return;
    }
    FUZZ_CHECK(chosen && *chosen < offered.size());
    FUZZ_CHECK(list.quality(offered[*chosen]) == best);
    FUZZ_CHECK(*chosen == first_best);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto kind = static_cast<accept_list::field_kind>(data[0] & 3);
    const bool present = (data[0] & 4) == 0;
    const auto buf = wharf_fuzz::copy_of(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::string_view input(buf.get(), size - 1);

    const std::size_t nul = input.find('\0');
    const std::string_view field = input.substr(0, nul);
    std::vector<std::string_view> offered;
    if (nul != std::string_view::npos) {
        std::string_view rest = input.substr(nul + 1);
        while (offered.size() < 16) {
            const std::size_t nl = rest.find('\n');
            offered.push_back(rest.substr(0, nl));
            if (nl == std::string_view::npos) break;
            rest.remove_prefix(nl + 1);
        }
    }

    const accept_list list = accept_list::parse(field, kind, present);
    FUZZ_CHECK(list.kind() == kind);
    FUZZ_CHECK(list.present() == present);
    FUZZ_CHECK(list.items().size() <= accept_list::max_items);
    check_views(list, buf.get(), field.size());
    check_precedence(list);
    check_negotiate(list, offered);
    // An element's own value is matched by that element and by nothing more specific, so its
    // quality is at least the element's weight (media ranges with parameters excepted: the bare
    // value lacks them).
    for (const auto& item : list.items())
        if (item.params.empty()) FUZZ_CHECK(list.quality(item.value) >= item.quality);
    return 0;
}
