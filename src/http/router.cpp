// SPDX-License-Identifier: MIT
#include "wharf/router.hpp"

#include <array>
#include <optional>
#include <stdexcept>
#include <string>

namespace wharf {

namespace {

using param_list = std::vector<std::pair<std::string_view, std::string_view>>;

constexpr std::uint32_t bit(method m) noexcept {
    return 1u << static_cast<unsigned>(m);
}

struct route_entry {
    handler fn;
    std::any context;
    bool stream_body = false;
};

} // namespace

struct router::node {
    std::string literal;
    std::vector<std::unique_ptr<node>> literals;
    std::unique_ptr<node> param;
    std::string param_name;
    std::unique_ptr<node> wildcard;
    std::array<std::optional<route_entry>, method_count> routes;

    std::uint32_t methods() const noexcept {
        std::uint32_t bits = 0;
        for (std::size_t i = 0; i < routes.size(); ++i)
            if (routes[i]) bits |= 1u << i;
        if (bits & bit(method::get)) bits |= bit(method::head);
        return bits;
    }

    route_entry* find(method m) noexcept {
        auto& r = routes[static_cast<std::size_t>(m)];
        if (r) return &*r;
        if (m == method::head && routes[static_cast<std::size_t>(method::get)])
            return &*routes[static_cast<std::size_t>(method::get)];
        return nullptr;
    }
};

namespace detail {

struct route_walker {
    method m;
    param_list& params;
    route_match result;

    bool accept(router::node& n) {
        if (route_entry* e = n.find(m)) {
            result.target = &e->fn;
            result.service_context = e->context.has_value() ? &e->context : nullptr;
            result.stream_body = e->stream_body;
            result.allowed_methods |= n.methods();
            return true;
        }
        result.allowed_methods |= n.methods();
        return false;
    }

    bool walk(router::node& n, std::string_view rest, bool done) {
        if (done) {
            if (accept(n)) return true;
            if (n.wildcard) {
                params.emplace_back("*", std::string_view{});
                if (accept(*n.wildcard)) return true;
                params.pop_back();
            }
            return false;
        }
        const auto slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        const bool last = slash == std::string_view::npos;
        const std::string_view next = last ? std::string_view{} : rest.substr(slash + 1);
        for (auto& child : n.literals)
            if (child->literal == segment && walk(*child, next, last)) return true;
        if (n.param && !segment.empty()) {
            params.emplace_back(n.param_name, segment);
            if (walk(*n.param, next, last)) return true;
            params.pop_back();
        }
        if (n.wildcard) {
            params.emplace_back("*", rest);
            if (accept(*n.wildcard)) return true;
            params.pop_back();
        }
        return false;
    }
};

} // namespace detail

router::router() : root_(std::make_unique<node>()) {}
router::~router() = default;
router::router(router&&) noexcept = default;
router& router::operator=(router&&) noexcept = default;

router& router::route(method m, std::string_view pattern, handler h, std::any service_context) {
    return route({m}, pattern, std::move(h), std::move(service_context));
}

router& router::route(method m, std::string_view pattern, handler h, route_options options) {
    return add({m}, pattern, std::move(h), std::move(options.service_context), options.stream_body);
}

router& router::any(std::string_view pattern, handler h, std::any service_context) {
    route_options options;
    options.service_context = std::move(service_context);
    return any(pattern, std::move(h), std::move(options));
}

router& router::any(std::string_view pattern, handler h, route_options options) {
    return add({method::get, method::head, method::post, method::put, method::delete_,
                method::connect, method::options, method::trace, method::patch, method::other},
               pattern, std::move(h), std::move(options.service_context), options.stream_body);
}

router& router::route(std::initializer_list<method> methods, std::string_view pattern, handler h,
                      std::any service_context) {
    return add(methods, pattern, std::move(h), std::move(service_context), false);
}

router& router::add(std::initializer_list<method> methods, std::string_view pattern, handler h,
                    std::any service_context, bool stream_body) {
    if (pattern.empty() || pattern[0] != '/')
        throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
    node* n = root_.get();
    std::string_view rest = pattern.substr(1);
    bool done = rest.empty();
    while (!done) {
        const auto slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        done = slash == std::string_view::npos;
        rest = done ? std::string_view{} : rest.substr(slash + 1);
        if (segment == "*") {
            if (!done)
                throw std::invalid_argument("'*' must end a route pattern: " +
                                            std::string(pattern));
            if (!n->wildcard) n->wildcard = std::make_unique<node>();
            n = n->wildcard.get();
        } else if (segment.size() >= 2 && segment.front() == '{' && segment.back() == '}') {
            const std::string_view name = segment.substr(1, segment.size() - 2);
            if (name.find_first_of("{}/") != std::string_view::npos)
                throw std::invalid_argument("malformed parameter in route: " +
                                            std::string(pattern));
            if (!n->param) {
                n->param = std::make_unique<node>();
                n->param_name = name;
            } else if (n->param_name != name) {
                throw std::invalid_argument("parameter name conflicts with an earlier route: " +
                                            std::string(pattern));
            }
            n = n->param.get();
        } else {
            if (segment.find_first_of("{}") != std::string_view::npos)
                throw std::invalid_argument("malformed segment in route: " + std::string(pattern));
            node* found = nullptr;
            for (auto& child : n->literals)
                if (child->literal == segment) found = child.get();
            if (!found) {
                n->literals.push_back(std::make_unique<node>());
                found = n->literals.back().get();
                found->literal = segment;
            }
            n = found;
        }
    }
    auto shared = std::make_shared<handler>(std::move(h));
    for (method m : methods) {
        auto& slot = n->routes[static_cast<std::size_t>(m)];
        if (slot)
            throw std::invalid_argument("duplicate route: " + std::string(to_string(m)) + " " +
                                        std::string(pattern));
        slot.emplace(
            route_entry{[shared](session& s) { (*shared)(s); }, service_context, stream_body});
    }
    if (methods.size() == 1) {
        // The common case keeps a direct handler, without the shared indirection.
        n->routes[static_cast<std::size_t>(*methods.begin())]->fn = std::move(*shared);
    }
    return *this;
}

route_match router::match(method m, std::string_view path, param_list& params) const {
    detail::route_walker w{m, params, {}};
    if (path.empty() || path[0] != '/') return {};
    const std::string_view rest = path.substr(1);
    w.walk(*root_, rest, rest.empty());
    if (w.result.target && !filters_.empty()) w.result.filters = &filters_;
    return w.result;
}

router& router::use(std::shared_ptr<filter> f) {
    if (!f) throw std::invalid_argument("router::use: null filter");
    filters_.push_back(std::move(f));
    return *this;
}

std::string router::allow_header(std::uint32_t allowed) {
    std::string out;
    for (std::size_t i = 0; i + 1 < method_count; ++i) {
        if (!(allowed & (1u << i))) continue;
        if (!out.empty()) out += ", ";
        out += to_string(static_cast<method>(i));
    }
    return out;
}

} // namespace wharf
