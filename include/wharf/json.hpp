// SPDX-License-Identifier: MIT
// JSON request and response bodies (S5, S13), with nlohmann::json values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include <nlohmann/json.hpp>

#include "wharf/parsed_body.hpp"

namespace wharf {

class request;
class response;

/// A request body read as JSON: `value` when ok(), else `error` says why.
struct json_body {
    nlohmann::json value;
    body_error error;
    bool ok() const noexcept { return error.status == body_status::ok; }
    explicit operator bool() const noexcept { return ok(); }
};

/// Parses `text` as JSON with the same rules as the body reader below (bounded nesting):
/// the value, or malformed with the parser's message and offset.
json_body parse_json(std::string_view text, std::size_t max_depth = 256);

/// Parses the buffered body as JSON. Takes application/json and any "+json" type (a missing
/// Content-Type is wrong_media_type); bodies over `max_bytes` are too_large; nesting deeper
/// than `max_depth` is malformed. Never throws.
json_body read_json(const request& req,
                    std::size_t max_bytes = std::numeric_limits<std::size_t>::max(),
                    std::size_t max_depth = 256);

/// Replaces the response body with `value` serialised (compact unless `indent` >= 0) and sets
/// Content-Type: application/json. Invalid UTF-8 in strings is replaced (U+FFFD), not thrown.
response& write_json(response& res, const nlohmann::json& value, int indent = -1);

} // namespace wharf
