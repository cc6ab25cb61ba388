// SPDX-License-Identifier: MIT
#include "wharf/xml.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "content/media_type.hpp"
#include "wharf/request.hpp"
#include "wharf/response.hpp"

namespace wharf {

namespace {

// What pugixml lets through but XML 1.0 calls not well-formed: more than one root element,
// text beside the root, an attribute given twice; and elements nested deeper than allowed.
class well_formed_check final : public pugi::xml_tree_walker {
  public:
    explicit well_formed_check(std::size_t max_depth) : max_(max_depth) {}
    bool for_each(pugi::xml_node& node) override {
        if (depth() == 0 && node.type() != pugi::node_element &&
            node.type() != pugi::node_comment && node.type() != pugi::node_pi &&
            node.type() != pugi::node_declaration && node.type() != pugi::node_doctype)
            return fail("text outside the root element");
        if (node.type() != pugi::node_element) return true;
        if (depth() == 0 && ++roots_ > 1) return fail("more than one root element");
        if (static_cast<std::size_t>(depth()) >= max_)
            return fail("elements nested deeper than " + std::to_string(max_) + " levels");
        names_.clear();
        for (const pugi::xml_attribute& a : node.attributes())
            names_.emplace_back(a.name());
        std::sort(names_.begin(), names_.end());
        if (std::adjacent_find(names_.begin(), names_.end()) != names_.end())
            return fail("an attribute appears twice in <" + std::string(node.name()) + ">");
        return true;
    }
    const std::string& problem() const noexcept { return problem_; }

  private:
    bool fail(std::string why) {
        problem_ = std::move(why);
        return false;
    }
    std::size_t max_;
    std::size_t roots_ = 0;
    std::vector<std::string_view> names_;
    std::string problem_;
};

class body_writer final : public pugi::xml_writer {
  public:
    explicit body_writer(response& res) : res_(res) {}
    void write(const void* data, std::size_t size) override {
        res_.append({static_cast<const char*>(data), size});
    }

  private:
    response& res_;
};

bool is_xml(std::string_view type) {
    return detail::is_media_type(type, "application/xml", "+xml") || iequals(type, "text/xml");
}

} // namespace

xml_body parse_xml(std::string_view text, std::size_t max_depth) {
    xml_body out;
    auto fail = [&](std::string message, std::size_t offset) {
        out.error.status = body_status::malformed;
        out.error.message = std::move(message);
        out.error.offset = offset;
        out.document.reset();
        return std::move(out);
    };
    out.document = std::make_unique<pugi::xml_document>();
    // parse_default expands only the predefined entities and character references; a DOCTYPE
    // (and any entity it declares) is skipped, never expanded or fetched. parse_fragment keeps
    // text outside the root element as nodes, for well_formed_check to refuse.
    const pugi::xml_parse_result parsed = out.document->load_buffer(
        text.data(), text.size(), pugi::parse_default | pugi::parse_fragment, pugi::encoding_auto);
    if (!parsed) return fail(parsed.description(), static_cast<std::size_t>(parsed.offset));
    if (!out.document->document_element()) return fail("no root element", text.size());
    well_formed_check check(max_depth);
    if (!out.document->traverse(check)) return fail(check.problem(), 0);
    return out;
}

xml_body read_xml(const request& req, std::size_t max_bytes, std::size_t max_depth) {
    const std::string_view body = req.body();
    const std::string_view type = req.content_type().media_type;
    auto fail = [&](body_status status, std::string message) {
        xml_body out;
        out.error.status = status;
        out.error.message = std::move(message);
        return out;
    };
    if (body.empty() && type.empty()) return fail(body_status::no_body, "an XML body is required");
    if (!is_xml(type)) return fail(body_status::wrong_media_type, "the body must be XML");
    if (body.empty()) return fail(body_status::no_body, "an XML body is required");
    if (body.size() > max_bytes) return fail(body_status::too_large, "the XML body is too large");
    return parse_xml(body, max_depth);
}

response& write_xml(response& res, const pugi::xml_node& node) {
    res.body(std::string{}, "application/xml; charset=utf-8");
    body_writer writer(res);
    if (node.type() == pugi::node_document)
        node.root().print(writer, "", pugi::format_raw | pugi::format_no_declaration);
    else
        node.print(writer, "", pugi::format_raw);
    return res;
}

} // namespace wharf
