// SPDX-License-Identifier: MIT
// The content demo endpoints: negotiation, JSON, XML and form bodies.
#include <array>
#include <string_view>

#include <wharf/json.hpp>
#include <wharf/negotiate.hpp>
#include <wharf/session.hpp>
#include <wharf/xml.hpp>

#include "demo.hpp"

namespace wharf_cli {

namespace {

constexpr std::array<std::string_view, 4> greeting_types{"application/json", "application/xml",
                                                         "text/html", "text/plain"};

void negotiate_greeting(wharf::session& s) {
    wharf::response& res = s.response();
    const auto chosen = wharf::negotiate(s, greeting_types);
    if (!chosen) {
        res.status(406);
        res.body("406 Not Acceptable: /negotiate is available as application/json, "
                 "application/xml, text/html and text/plain\n",
                 "text/plain; charset=utf-8");
        return;
    }
    if (*chosen == "application/json") {
        wharf::write_json(res, {{"message", "Hello, World!"}});
    } else if (*chosen == "application/xml") {
        res.body("<message>Hello, World!</message>", "application/xml; charset=utf-8");
    } else if (*chosen == "text/html") {
        res.body("<!DOCTYPE html>\n<html><head><title>Hello</title></head>"
                 "<body><p>Hello, World!</p></body></html>\n",
                 "text/html; charset=utf-8");
    } else {
        res.body("Hello, World!", "text/plain; charset=utf-8");
    }
}

std::string_view json_type(const nlohmann::json& value) {
    switch (value.type()) {
    case nlohmann::json::value_t::object:
        return "object";
    case nlohmann::json::value_t::array:
        return "array";
    case nlohmann::json::value_t::string:
        return "string";
    case nlohmann::json::value_t::boolean:
        return "boolean";
    case nlohmann::json::value_t::null:
        return "null";
    default:
        return "number";
    }
}

void json_echo(wharf::session& s) {
    wharf::json_body in = wharf::read_json(s.request());
    if (!in) return in.error.answer(s.response());
    const std::string_view type = json_type(in.value);
    wharf::write_json(s.response(), {{"received", std::move(in.value)}, {"type", type}});
}

void xml_echo(wharf::session& s) {
    const wharf::xml_body in = wharf::read_xml(s.request());
    if (!in) return in.error.answer(s.response());
    const std::size_t elements = in.document->select_nodes("//*").size();
    pugi::xml_document out;
    pugi::xml_node echo = out.append_child("echo");
    echo.append_attribute("root") = in.document->document_element().name();
    echo.append_attribute("elements") = static_cast<unsigned long long>(elements);
    wharf::write_xml(s.response(), out);
}

} // namespace

void add_content_demo_routes(wharf::router& routes) {
    routes.get("/negotiate", negotiate_greeting);
    routes.post("/json/echo", json_echo);
    routes.post("/xml/echo", xml_echo);
}

} // namespace wharf_cli
