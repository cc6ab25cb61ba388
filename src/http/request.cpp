// SPDX-License-Identifier: MIT
#include "wharf/request.hpp"

#include "http/access.hpp"
#include "http/chars.hpp"
#include "http/uri.hpp"

namespace wharf {

namespace detail {
/// The negotiation fields of one request, each parsed when first asked for.
struct accept_fields {
    std::optional<accept_list> lists[4];
};

void request_access::forget_accept(request& r) noexcept {
    if (r.accept_)
        for (auto& list : r.accept_->lists)
            list.reset();
}
} // namespace detail

namespace {

const accept_list& parsed(const header_view& headers, std::unique_ptr<detail::accept_fields>& cache,
                          accept_list::field_kind kind, std::string_view name) {
    if (!cache) cache = std::make_unique<detail::accept_fields>();
    auto& slot = cache->lists[static_cast<int>(kind)];
    if (!slot) {
        const auto value = headers.get(name);
        slot = accept_list::parse(value.value_or(std::string_view{}), kind, value.has_value());
    }
    return *slot;
}

} // namespace

request::request() = default;
request::~request() = default;

const accept_list& request::accept() const {
    return parsed(headers_, accept_, accept_list::field_kind::media, "Accept");
}
const accept_list& request::accept_encoding() const {
    return parsed(headers_, accept_, accept_list::field_kind::coding, "Accept-Encoding");
}
const accept_list& request::accept_language() const {
    return parsed(headers_, accept_, accept_list::field_kind::language, "Accept-Language");
}
const accept_list& request::accept_charset() const {
    return parsed(headers_, accept_, accept_list::field_kind::charset, "Accept-Charset");
}

std::optional<std::string> request::query_param(std::string_view name) const {
    std::string_view rest = query_;
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        const auto eq = pair.find('=');
        const std::string_view key = pair.substr(0, eq);
        std::string decoded_key;
        if (!detail::percent_decode(key, decoded_key, true) || decoded_key != name) continue;
        std::string value;
        if (eq != std::string_view::npos &&
            !detail::percent_decode(pair.substr(eq + 1), value, true))
            return std::nullopt;
        return value;
    }
    return std::nullopt;
}

content_type_info request::content_type() const noexcept {
    const auto value = headers_.get("Content-Type");
    if (!value) return {};
    content_type_info info;
    std::string_view rest = *value;
    const auto semi = rest.find(';');
    info.media_type = chars::trim_ows(rest.substr(0, semi));
    while (semi != std::string_view::npos && !rest.empty()) {
        const auto next = rest.find(';');
        if (next == std::string_view::npos) break;
        rest = rest.substr(next + 1);
        const std::string_view param = chars::trim_ows(rest.substr(0, rest.find(';')));
        const auto eq = param.find('=');
        if (eq == std::string_view::npos ||
            !iequals(chars::trim_ows(param.substr(0, eq)), "charset"))
            continue;
        std::string_view charset = chars::trim_ows(param.substr(eq + 1));
        if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"')
            charset = charset.substr(1, charset.size() - 2);
        info.charset = charset;
        break;
    }
    return info;
}

std::string_view request::param(std::string_view name) const noexcept {
    for (const auto& [key, value] : params_)
        if (key == name) return value;
    return {};
}

} // namespace wharf
