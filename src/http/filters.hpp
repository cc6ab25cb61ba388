// SPDX-License-Identifier: MIT
// Running filters (wharf/filter.hpp) around a handler.
#pragma once

#include <memory>
#include <span>

#include "wharf/filter.hpp"

namespace wharf::detail {

/// Runs each filter's before hook in order, recording it on the session (its on_head runs
/// later); false when one answered and the handler must not run.
bool run_filters_before(std::span<const std::shared_ptr<filter>> filters, session& s);

} // namespace wharf::detail
