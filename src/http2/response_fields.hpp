// SPDX-License-Identifier: MIT
// A response head as HTTP/2 fields (RFC 9113 §8.3.2): :status first, lower-case names, no
// connection-specific fields (§8.2.2), content-length only where the body's size is known.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nghttp2/nghttp2.h>

#include "http/exchange.hpp"
#include "wharf/response.hpp"

namespace wharf::http2 {

class response_fields {
  public:
    /// Fills the fields for `res`; `date_line` is the loop's "Date: ...\r\n" line.
    void build(const response& res, const detail::response_head& head, std::string_view date_line,
               std::string_view server_name);
    /// Fills the fields for a trailer section.
    void build_trailers(const field_list& trailers);
    nghttp2_nv* data() noexcept { return nv_.data(); }
    std::size_t size() const noexcept { return nv_.size(); }

    /// One per thread, reused: nghttp2 copies the fields when they are submitted.
    static response_fields& scratch() {
        thread_local response_fields fields;
        return fields;
    }

  private:
    void add(std::string_view name, std::string_view value, bool lower);

    std::vector<nghttp2_nv> nv_;
    std::string arena_; // names and values; reserved up front so pointers stay put
};

} // namespace wharf::http2
