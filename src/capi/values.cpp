// SPDX-License-Identifier: MIT
// Reading values out of JSON and XML text for C code that has no JSON or XML library.
#include <string>

#include "capi/c_session.hpp"
#include "wharf/json.hpp"
#include "wharf/xml.hpp"

namespace {

/// Where a value returned to C lives until this thread's next call.
std::string& scratch() {
    thread_local std::string value;
    return value;
}

wharf_str held(std::string text) {
    std::string& s = scratch();
    s = std::move(text);
    return wharf::capi::str(s);
}

/// An element's text content (XPath's string-value): the text of all its descendants, in order.
std::string text_content(const pugi::xml_node& node) {
    if (node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata) return node.value();
    std::string out;
    for (const pugi::xml_node& child : node.children())
        out += text_content(child);
    return out;
}

} // namespace

extern "C" {

int wharf_json_get(wharf_str json, const char* pointer, wharf_str* value) {
    if (!pointer || !value || (!json.ptr && json.len > 0)) return EINVAL;
    return wharf::capi::guarded([&] {
        const wharf::json_body doc = wharf::parse_json({json.ptr ? json.ptr : "", json.len});
        if (!doc) return EBADMSG;
        nlohmann::json::json_pointer where;
        try {
            where = nlohmann::json::json_pointer(pointer);
        } catch (const nlohmann::json::exception&) {
            return EINVAL;
        }
        const nlohmann::json* at = nullptr;
        try {
            at = &doc.value.at(where);
        } catch (const nlohmann::json::exception&) {
            return ENOENT; // no such member or index (or an index that is not a number)
        }
        const nlohmann::json& found = *at;
        *value = held(found.is_string()
                          ? found.get<std::string>()
                          : found.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        return 0;
    });
}

int wharf_xml_get(wharf_str xml, const char* xpath, wharf_str* value) {
    if (!xpath || !value || (!xml.ptr && xml.len > 0)) return EINVAL;
    return wharf::capi::guarded([&] {
        const wharf::xml_body doc = wharf::parse_xml({xml.ptr ? xml.ptr : "", xml.len});
        if (!doc) return EBADMSG;
        pugi::xpath_node found;
        try {
            found = doc.document->select_node(xpath);
        } catch (const pugi::xpath_exception&) {
            return EINVAL;
        }
        if (!found) return ENOENT;
        *value = held(found.attribute() ? std::string(found.attribute().value())
                                        : text_content(found.node()));
        return 0;
    });
}

} // extern "C"
