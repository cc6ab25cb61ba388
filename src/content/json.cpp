// SPDX-License-Identifier: MIT
#include "wharf/json.hpp"

#include "content/media_type.hpp"
#include "wharf/request.hpp"
#include "wharf/response.hpp"

namespace wharf {

namespace {

struct too_deep {};

// Where nesting first goes deeper than `max_depth` (strings skipped), for the error's offset.
std::size_t depth_offset(std::string_view text, std::size_t max_depth) {
    std::size_t depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) return i;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return text.size();
}

// "[json.exception.parse_error.101] parse error at line 1, ...": the part after the tag.
std::string parser_message(const char* what) {
    std::string_view text(what);
    if (const auto close = text.find("] "); text.starts_with('[') && close != text.npos)
        text.remove_prefix(close + 2);
    return std::string(text);
}

} // namespace

json_body parse_json(std::string_view text, std::size_t max_depth) {
    json_body out;
    out.error.json_answer = true;
    auto fail = [&](std::string message, std::size_t offset) {
        out.value = nullptr;
        out.error.status = body_status::malformed;
        out.error.message = std::move(message);
        out.error.offset = offset;
        return std::move(out);
    };
    try {
        out.value = nlohmann::json::parse(
            text.begin(), text.end(),
            [max_depth](int depth, nlohmann::json::parse_event_t event, const nlohmann::json&) {
                // An object or array opening at depth d (from 0) is level d + 1.
                const bool opens = event == nlohmann::json::parse_event_t::object_start ||
                                   event == nlohmann::json::parse_event_t::array_start;
                if (opens && static_cast<std::size_t>(depth) >= max_depth) throw too_deep{};
                return true;
            });
    } catch (const nlohmann::json::parse_error& e) {
        return fail(parser_message(e.what()), e.byte > 0 ? e.byte - 1 : 0);
    } catch (const too_deep&) {
        return fail("nesting deeper than " + std::to_string(max_depth) + " levels",
                    depth_offset(text, max_depth));
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        return fail(e.what(), 0);
    }
    return out;
}

json_body read_json(const request& req, std::size_t max_bytes, std::size_t max_depth) {
    const std::string_view body = req.body();
    const std::string_view type = req.content_type().media_type;
    auto fail = [&](body_status status, std::string message) {
        json_body out;
        out.error.json_answer = true;
        out.error.status = status;
        out.error.message = std::move(message);
        return out;
    };
    if (body.empty() && type.empty()) return fail(body_status::no_body, "a JSON body is required");
    if (!detail::is_media_type(type, "application/json", "+json"))
        return fail(body_status::wrong_media_type, "the body must be application/json");
    if (body.empty()) return fail(body_status::no_body, "a JSON body is required");
    if (body.size() > max_bytes) return fail(body_status::too_large, "the JSON body is too large");
    return parse_json(body, max_depth);
}

response& write_json(response& res, const nlohmann::json& value, int indent) {
    return res.body(value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
}

} // namespace wharf
