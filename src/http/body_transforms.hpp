// SPDX-License-Identifier: MIT
// A response body on its way through the filters' body_transforms: memory at once, files and
// sources pulled through them as the client takes the output.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "wharf/filter.hpp"
#include "wharf/response.hpp"

namespace wharf::detail {

/// The transforms of one response, applied in order (the first one's output feeds the next).
class transform_chain {
  public:
    void add(std::unique_ptr<body_transform> t) { stages_.push_back(std::move(t)); }
    bool empty() const noexcept { return stages_.empty(); }
    /// Runs `in` through every stage, appending the last one's output to `out`.
    std::error_code run(std::string_view in, body_transform::boundary end, std::string& out);
    /// Every stage undoes its field changes: the response has no body after all.
    void abandon(response& res);

  private:
    std::vector<std::unique_ptr<body_transform>> stages_;
    std::string scratch_[2];
};

/// Replaces the response's unsent body with its transformed form: a body made only of memory
/// becomes the output bytes at once; one with files or sources becomes a single source that
/// pulls them through `chain` as the client reads. `final`: this send ends the body.
std::error_code transform_body(response& res, const std::shared_ptr<transform_chain>& chain,
                               bool final);

} // namespace wharf::detail
