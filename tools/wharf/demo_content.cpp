// SPDX-License-Identifier: MIT
// The content demo endpoints: negotiation, JSON, XML and form bodies.
#include <array>
#include <optional>
#include <string>
#include <string_view>

#include <wharf/form.hpp>
#include <wharf/json.hpp>
#include <wharf/negotiate.hpp>
#include <wharf/session.hpp>
#include <wharf/xml.hpp>

#include "demo.hpp"
#include "sha256.hpp"

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

// POST /form: what a form held, files by size and digest. The body streams in: a file part is
// hashed piece by piece (a 2 GiB upload holds one piece at a time), field values are bounded by
// form_limits, and a urlencoded body by max_urlencoded_bytes.
constexpr std::size_t max_urlencoded_bytes = 8 * 1024 * 1024;

struct form_state {
    nlohmann::ordered_json fields = nlohmann::ordered_json::object();
    nlohmann::ordered_json files = nlohmann::ordered_json::array();
    // The part being read.
    wharf::multipart_part part;
    std::string value;
    std::uint64_t bytes = 0;
    std::optional<sha256> hash;
    // A urlencoded body, gathered whole.
    std::string urlencoded;
};

void answer_form(wharf::session& s, const form_state& st) {
    s.response().body(nlohmann::ordered_json{{"fields", st.fields}, {"files", st.files}}.dump(
                          -1, ' ', false, nlohmann::json::error_handler_t::replace),
                      "application/json");
}

void read_urlencoded_more(wharf::session& s) {
    s.read_body([&s](std::error_code ec, std::string_view piece, bool last) {
        auto* st = s.context<form_state>();
        if (ec || !st) return; // the client went away
        if (st->urlencoded.size() + piece.size() > max_urlencoded_bytes) {
            wharf::body_error{wharf::body_status::too_large, "the form is too large"}.answer(
                s.response());
            s.response().close_connection(); // the rest of the body is not read
            s.send();
            return;
        }
        st->urlencoded.append(piece);
        if (!last) return read_urlencoded_more(s);
        const wharf::form_body form = wharf::parse_urlencoded(st->urlencoded);
        if (!form) {
            form.error.answer(s.response());
        } else {
            for (const wharf::form_field& f : form.fields)
                st->fields[f.name] = f.value;
            answer_form(s, *st);
        }
        s.send();
    });
}

void form_upload(wharf::session& s) {
    auto& st = s.emplace_context<form_state>();
    if (wharf::iequals(s.request().content_type().media_type, "application/x-www-form-urlencoded"))
        return read_urlencoded_more(s);
    wharf::multipart_handlers h;
    h.on_part = [&st](const wharf::multipart_part& part) {
        st.part = part;
        st.value.clear();
        st.bytes = 0;
        st.hash.reset();
        if (part.is_file()) st.hash.emplace();
        return true;
    };
    h.on_data = [&st](std::string_view piece) {
        st.bytes += piece.size();
        if (st.hash)
            st.hash->update(piece);
        else
            st.value.append(piece); // bounded by form_limits::max_field_bytes
        return true;
    };
    h.on_part_end = [&st] {
        if (st.hash)
            st.files.push_back({{"field", st.part.name},
                                {"filename", *st.part.filename},
                                {"type", st.part.content_type},
                                {"bytes", st.bytes},
                                {"sha256", st.hash->hex()}});
        else
            st.fields[st.part.name] = std::move(st.value);
        return true;
    };
    h.on_done = [&s, &st](const wharf::body_error& error) {
        if (error.status != wharf::body_status::ok)
            error.answer(s.response());
        else
            answer_form(s, st);
        s.send();
    };
    wharf::read_multipart(s, std::move(h));
}

} // namespace

void add_content_demo_routes(wharf::router& routes) {
    routes.get("/negotiate", negotiate_greeting);
    routes.post("/json/echo", json_echo);
    routes.post("/xml/echo", xml_echo);
    wharf::route_options streamed;
    streamed.stream_body = true;
    routes.route(wharf::method::post, "/form", form_upload, streamed);
}

} // namespace wharf_cli
