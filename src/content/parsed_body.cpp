// SPDX-License-Identifier: MIT
#include "wharf/parsed_body.hpp"

#include <nlohmann/json.hpp>

#include "wharf/response.hpp"

namespace wharf {

int body_error::http_status() const noexcept {
    switch (status) {
    case body_status::ok:
        return 200;
    case body_status::wrong_media_type:
        return 415;
    case body_status::too_large:
        return 413;
    case body_status::no_body:
    case body_status::malformed:
        return 400;
    }
    return 400;
}

void body_error::answer(response& res) const {
    res.body(std::string{});
    res.status(http_status());
    if (json_answer) {
        nlohmann::json doc{{"error", message}};
        if (status == body_status::malformed) doc["offset"] = offset;
        res.body(doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                 "application/json");
        return;
    }
    std::string text(res.reason());
    if (!message.empty()) text.append(": ").append(message);
    if (status == body_status::malformed)
        text.append(" (at byte ").append(std::to_string(offset)).append(")");
    text.push_back('\n');
    res.body(std::move(text), "text/plain; charset=utf-8");
}

} // namespace wharf
