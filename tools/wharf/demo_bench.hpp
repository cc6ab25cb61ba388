// SPDX-License-Identifier: MIT
// Fixed bodies for the benchmarks (bench/run's compress group).
#pragma once

#include <string>

#include <wharf/router.hpp>

namespace wharf_cli {

/// A fixed JSON document of exactly 65,536 bytes: an array of user records with varied
/// numbers, names and dates (made by a fixed pseudo-random sequence, the same every run), so
/// that it compresses like an API answer rather than like repeated text.
const std::string& json_64k();

/// GET /json/64k: json_64k() as application/json (the compression benchmark's body).
void add_bench_demo_routes(wharf::router& routes);

} // namespace wharf_cli
