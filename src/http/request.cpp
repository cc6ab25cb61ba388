// SPDX-License-Identifier: MIT
#include "wharf/request.hpp"

#include "http/chars.hpp"
#include "http/uri.hpp"

namespace wharf {
namespace {} // namespace

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
