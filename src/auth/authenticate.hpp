// SPDX-License-Identifier: MIT
// The authentication filter, with the clock it reads nonce times from (tests set it).
#pragma once

#include <functional>
#include <memory>

#include "auth/nonce.hpp"
#include "wharf/auth.hpp"

namespace wharf::detail::auth {

using clock_fn = std::function<time_point()>;

/// authenticate(), reading the time from `clock`.
std::shared_ptr<filter> make_authenticate(auth_options options, clock_fn clock);

} // namespace wharf::detail::auth
