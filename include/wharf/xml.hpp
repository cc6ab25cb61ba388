// SPDX-License-Identifier: MIT
// XML request and response bodies (S5, S13), with pugixml documents.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <string_view>

#include <pugixml.hpp>

#include "wharf/parsed_body.hpp"

namespace wharf {

class request;
class response;

/// A request body read as XML: `document` when ok(), else `error` says why.
struct xml_body {
    std::unique_ptr<pugi::xml_document> document;
    body_error error;
    bool ok() const noexcept { return error.status == body_status::ok; }
    explicit operator bool() const noexcept { return ok(); }
};

/// Parses `text` as XML with the same rules as the body reader below (bounded nesting, entities
/// never expanded): the value, or malformed with the parser's message and offset.
xml_body parse_xml(std::string_view text, std::size_t max_depth = 256);

/// Parses the buffered body as XML: application/xml, text/xml and any "+xml" type. Nothing is
/// ever fetched and no entity but the five predefined ones and character references is
/// expanded (a DOCTYPE's entity declarations stay unexpanded text), so a hostile body costs
/// at most its size; elements nested deeper than `max_depth` are malformed. Never throws.
xml_body read_xml(const request& req,
                  std::size_t max_bytes = std::numeric_limits<std::size_t>::max(),
                  std::size_t max_depth = 256);

/// Replaces the response body with `node` (a document or any node) serialised, and sets
/// Content-Type: application/xml; charset=utf-8. Written straight into the body.
response& write_xml(response& res, const pugi::xml_node& node);

} // namespace wharf
