// SPDX-License-Identifier: MIT
#include "wharf/filter.hpp"

#include "http/access.hpp"
#include "http/filters.hpp"

namespace wharf {

namespace detail {

bool run_filters_before(std::span<const std::shared_ptr<filter>> filters, session& s) {
    for (const auto& f : filters) {
        session_access::filters(s).push_back(f.get());
        if (f->before(s) == filter::verdict::answered) return false;
    }
    return true;
}

} // namespace detail

handler with_filters(std::vector<std::shared_ptr<filter>> filters, handler h) {
    for (const auto& f : filters)
        if (!f) throw std::invalid_argument("with_filters: null filter");
    auto chain = std::make_shared<const std::vector<std::shared_ptr<filter>>>(std::move(filters));
    return [chain, h = std::move(h)](session& s) {
        if (detail::run_filters_before(*chain, s)) h(s);
    };
}

} // namespace wharf
