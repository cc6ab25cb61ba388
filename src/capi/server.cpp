// SPDX-License-Identifier: MIT
// The C API's configuration, server and routes.
#include <atomic>
#include <memory>
#include <string>

#include "capi/c_session.hpp"
#include "wharf/server.hpp"

struct wharf_config {
    wharf::server_config config;
    bool listen_set = false;
};

struct wharf_server {
    std::unique_ptr<wharf::server> srv;
    std::atomic<bool> started{false};
};

namespace {

using wharf::capi::guarded;

wharf::tls_config& tls_group(wharf_config* cfg) {
    if (cfg->config.tls.empty()) cfg->config.tls.emplace_back();
    return cfg->config.tls.front();
}

bool valid_address(const char* address) {
    std::error_code ec;
    wharf::address::parse(address, ec);
    return !ec;
}

int add_route(wharf_server* srv, const char* method, const char* pattern, wharf_handler_fn fn,
              void* service_ctx, bool stream_body) {
    if (!srv || !pattern || !fn) return EINVAL;
    if (srv->started.load()) return EBUSY;
    return guarded([&] {
        wharf::handler h = [fn](wharf::session& s) { fn(wharf::capi::c_handle(s)); };
        wharf::route_options options;
        options.service_context = wharf::capi::route_context{service_ctx, stream_body};
        options.stream_body = stream_body;
        if (!method) {
            srv->srv->routes().any(pattern, std::move(h), std::move(options));
            return 0;
        }
        const wharf::method m = wharf::method_from_string(method);
        if (m == wharf::method::other) return EINVAL; // a route is per named method
        srv->srv->routes().route(m, pattern, std::move(h), std::move(options));
        return 0;
    });
}

} // namespace

extern "C" {

wharf_config* wharf_config_new(void) {
    return new (std::nothrow) wharf_config;
}

void wharf_config_free(wharf_config* cfg) {
    delete cfg;
}

int wharf_config_listen(wharf_config* cfg, const char* address) {
    if (!cfg || !address || !valid_address(address)) return EINVAL;
    return guarded([&] {
        if (!cfg->listen_set) cfg->config.listen.clear();
        cfg->listen_set = true;
        cfg->config.listen.emplace_back(address);
        return 0;
    });
}

int wharf_config_workers(wharf_config* cfg, unsigned workers) {
    if (!cfg || workers > 1024) return EINVAL;
    cfg->config.workers = workers;
    return 0;
}

int wharf_config_tls_listen(wharf_config* cfg, const char* address) {
    if (!cfg || !address || !valid_address(address)) return EINVAL;
    return guarded([&] {
        tls_group(cfg).listen.emplace_back(address);
        // TLS listeners alone, unless plaintext ones were asked for too.
        if (!cfg->listen_set) cfg->config.listen.clear();
        cfg->listen_set = true;
        return 0;
    });
}

int wharf_config_tls(wharf_config* cfg, const char* cert_file, const char* key_file) {
    if (!cfg || !cert_file || !key_file) return EINVAL;
    return guarded([&] {
        tls_group(cfg).certificates.push_back({cert_file, key_file});
        return 0;
    });
}

int wharf_config_tls_client_ca(wharf_config* cfg, const char* ca_file, int required) {
    if (!cfg || !ca_file) return EINVAL;
    return guarded([&] {
        wharf::tls_config& tls = tls_group(cfg);
        tls.client_ca_file = ca_file;
        tls.verify_client =
            required ? wharf::client_verify::required : wharf::client_verify::optional;
        return 0;
    });
}

int wharf_config_access_log(wharf_config* cfg, const char* path) {
    if (!cfg) return EINVAL;
    return guarded([&] {
        cfg->config.access_log = path ? path : "";
        return 0;
    });
}

int wharf_config_limit(wharf_config* cfg, wharf_limit limit, uint64_t value) {
    if (!cfg || value == 0) return EINVAL;
    wharf::limits& l = cfg->config.limits;
    wharf::timeouts& t = cfg->config.timeouts;
    const auto size = static_cast<std::size_t>(value);
    switch (limit) {
    case WHARF_LIMIT_MAX_REQUEST_LINE:
        l.max_request_line = size;
        return 0;
    case WHARF_LIMIT_MAX_HEADER_BYTES:
        l.max_header_bytes = size;
        return 0;
    case WHARF_LIMIT_MAX_HEADERS:
        l.max_headers = size;
        return 0;
    case WHARF_LIMIT_MAX_BODY_SIZE:
        l.max_body_size = size;
        return 0;
    case WHARF_LIMIT_MAX_BUFFERED_BODY_BYTES:
        l.max_buffered_body_bytes = size;
        return 0;
    case WHARF_LIMIT_MAX_CONNECTIONS:
        l.max_connections = size;
        return 0;
    case WHARF_LIMIT_MIN_BODY_RATE:
        t.min_body_rate = size;
        return 0;
    case WHARF_LIMIT_MIN_SEND_RATE:
        t.min_send_rate = size;
        return 0;
    }
    return EINVAL;
}

int wharf_config_timeout(wharf_config* cfg, wharf_timeout timeout, unsigned milliseconds) {
    if (!cfg) return EINVAL;
    wharf::timeouts& t = cfg->config.timeouts;
    const wharf::milliseconds ms(milliseconds);
    switch (timeout) {
    case WHARF_TIMEOUT_REQUEST_HEAD:
        t.request_head = ms;
        return 0;
    case WHARF_TIMEOUT_BODY_READ:
        t.body_read = ms;
        return 0;
    case WHARF_TIMEOUT_KEEP_ALIVE:
        t.keep_alive = ms;
        return 0;
    case WHARF_TIMEOUT_SEND_GRACE:
        t.send_grace = ms;
        return 0;
    case WHARF_TIMEOUT_SHUTDOWN:
        t.shutdown = ms;
        return 0;
    }
    return EINVAL;
}

wharf_server* wharf_server_new(const wharf_config* cfg, int* error) {
    int err = 0;
    wharf_server* out = nullptr;
    if (!cfg) {
        err = EINVAL;
    } else {
        err = guarded([&] {
            auto srv = std::make_unique<wharf_server>();
            srv->srv = std::make_unique<wharf::server>(cfg->config);
            out = srv.release();
            return 0;
        });
    }
    if (error) *error = err;
    return out;
}

int wharf_register(wharf_server* srv, const char* method, const char* pattern,
                   wharf_handler_fn handler, void* service_ctx) {
    return add_route(srv, method, pattern, handler, service_ctx, false);
}

int wharf_register_streamed(wharf_server* srv, const char* method, const char* pattern,
                            wharf_handler_fn handler, void* service_ctx) {
    return add_route(srv, method, pattern, handler, service_ctx, true);
}

int wharf_server_start(wharf_server* srv) {
    if (!srv) return EINVAL;
    if (srv->started.exchange(true)) return EBUSY;
    const int err = guarded([&] { return wharf::capi::errno_of(srv->srv->start()); });
    if (err) srv->started.store(false);
    return err;
}

int wharf_server_port(const wharf_server* srv, size_t index) {
    if (!srv) return -1;
    try {
        const std::vector<wharf::address> bound = srv->srv->local_addresses();
        if (index >= bound.size() || bound[index].is_unix()) return -1;
        return bound[index].port();
    } catch (...) {
        return -1;
    }
}

void wharf_server_stop(wharf_server* srv, unsigned deadline_ms) {
    if (srv) srv->srv->stop(wharf::milliseconds(deadline_ms));
}

void wharf_server_wait(wharf_server* srv) {
    if (srv) srv->srv->wait();
}

void wharf_server_free(wharf_server* srv) {
    delete srv;
}

} // extern "C"
