// SPDX-License-Identifier: MIT
#include "wharf/server.hpp"

#include <algorithm>
#include <atomic>
#include <fcntl.h>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "http/worker.hpp"
#include "http1/connection.hpp"
#include "http2/connection.hpp"
#include "net/listener.hpp"
#include "tls/context.hpp"
#include "tls/ticket_keys.hpp"

namespace wharf {

struct server::impl {
    detail::server_state state;
    std::vector<std::unique_ptr<detail::worker>> workers;
    std::vector<std::thread> threads;
    std::vector<address> bound;
    std::vector<int> shared_fds; // Unix-socket listeners, shared by all workers
    std::mutex mutex;            // guards threads against concurrent wait()/stop()
    std::mutex reload_mutex;     // one reload_tls() at a time
    bool started = false;
    std::atomic<bool> serving{false};    // started and not stopping
    std::atomic<bool> wants_ready{true}; // what set_ready said last
    std::string start_error;
    /// Per TLS group, kept across reloads so tickets stay valid.
    std::vector<std::shared_ptr<detail::ticket_keys>> ticket_keys;
    /// The protocols a TLS client may choose by ALPN, in the server's order of preference:
    /// HTTP/2 (unless off), HTTP/1.1, and HTTP/1.0 (served as in plaintext) for a client that
    /// offers only that.
    std::vector<std::string> alpn{"h2", "http/1.1", "http/1.0"};

    /// Builds every TLS group's context (all or none).
    tls_error build_tls(std::vector<std::shared_ptr<const detail::tls_context>>& out) {
        const auto& groups = state.config.tls;
        while (ticket_keys.size() < groups.size())
            ticket_keys.push_back(std::make_shared<detail::ticket_keys>(
                groups[ticket_keys.size()].ticket_key_lifetime));
        out.clear();
        for (std::size_t i = 0; i < groups.size(); ++i) {
            tls_error e;
            out.push_back(detail::tls_context::build(groups[i], alpn, ticket_keys[i], e));
            if (e) return e;
        }
        return {};
    }

    std::vector<std::string> unix_paths; // the Unix sockets this server made (not inherited)
    void close_shared() {
        for (int fd : shared_fds)
            ::close(fd);
        shared_fds.clear();
        for (const std::string& path : unix_paths)
            ::unlink(path.c_str());
        unix_paths.clear();
    }
};

server::server(server_config config) : impl_(std::make_unique<impl>()) {
    impl_->state.config = std::move(config);
    impl_->state.make_connection = http1::make_connection;
    if (impl_->state.config.http2.enabled || impl_->state.config.http2.cleartext)
        impl_->state.make_http2 = http2::make_connection;
    if (!impl_->state.config.http2.enabled) impl_->alpn.erase(impl_->alpn.begin());
    if (impl_->state.config.workers == 0)
        impl_->state.config.workers = std::max(1u, std::thread::hardware_concurrency());
}

server::~server() {
    if (impl_->started) {
        stop();
        wait();
    }
    if (impl_->state.access_log_fd > STDERR_FILENO) ::close(impl_->state.access_log_fd);
}

router& server::routes() noexcept {
    return impl_->state.routes;
}
const server_config& server::config() const noexcept {
    return impl_->state.config;
}

std::error_code server::start() {
    impl& m = *impl_;
    if (m.started) return errc::busy;
    const server_config& cfg = m.state.config;
    const unsigned n = cfg.workers;

    m.start_error.clear();
    // Each address with the TLS group that serves it (null: plaintext), and whether a PROXY
    // protocol header comes first.
    struct wanted_listener {
        address where;
        const detail::tls_slot* tls;
        bool proxy;
    };
    const auto proxied = [&cfg](const std::string& text) {
        return std::find(cfg.proxy_protocol.begin(), cfg.proxy_protocol.end(), text) !=
                   cfg.proxy_protocol.end() ||
               std::find(cfg.proxy_protocol.begin(), cfg.proxy_protocol.end(), "*") !=
                   cfg.proxy_protocol.end();
    };
    std::vector<wanted_listener> wanted;
    for (const std::string& text : cfg.listen) {
        std::error_code ec;
        wanted.push_back({address::parse(text, ec), nullptr, proxied(text)});
        if (ec) return ec;
    }
    {
        std::string error;
        auto trusted = detail::trusted_networks::parse(cfg.trusted_proxies, error);
        if (!trusted) {
            m.start_error = error;
            return errc::invalid_argument;
        }
        m.state.trusted = std::move(*trusted);
    }
    std::vector<std::shared_ptr<const detail::tls_context>> contexts;
    if (tls_error e = m.build_tls(contexts)) {
        m.start_error = e.message;
        return e.code;
    }
    m.state.tls.clear();
    for (std::size_t g = 0; g < cfg.tls.size(); ++g) {
        m.state.tls.push_back(std::make_unique<detail::tls_slot>());
        m.state.tls.back()->set(contexts[g]);
        for (const std::string& text : cfg.tls[g].listen) {
            std::error_code ec;
            wanted.push_back({address::parse(text, ec), m.state.tls.back().get(), proxied(text)});
            if (ec) {
                m.start_error = "invalid TLS listen address '" + text + "'";
                return ec;
            }
        }
    }
    if (wanted.empty() && cfg.inherited.empty()) return errc::invalid_argument;

    if (cfg.access_log == "-") {
        m.state.access_log_fd = STDOUT_FILENO;
    } else if (!cfg.access_log.empty()) {
        m.state.access_log_fd =
            ::open(cfg.access_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (m.state.access_log_fd < 0) return {errno, std::system_category()};
    }

    m.state.connections.set_max(std::max<std::size_t>(1, cfg.limits.max_connections));
    m.state.body_bytes.set_max(cfg.limits.max_buffered_body_bytes);
    for (unsigned i = 0; i < n; ++i) {
        m.workers.push_back(std::make_unique<detail::worker>(m.state));
        m.state.workers.push_back(m.workers.back().get());
    }

    auto fail = [&](std::error_code ec) {
        m.state.workers.clear();
        m.workers.clear(); // closes the listeners they own
        m.close_shared();
        m.bound.clear();
        return ec;
    };
    for (const auto& [want, tls, proxy] : wanted) {
        if (auto ec = detail::check_address_free(want)) return fail(ec);
        address bound;
        std::error_code ec;
        if (want.is_unix()) {
            const int fd = detail::open_listener(want, false, cfg.backlog, bound, ec);
            if (fd < 0) return fail(ec);
            m.shared_fds.push_back(fd);
            m.bound.push_back(bound);
            m.unix_paths.push_back(bound.host());
            for (auto& w : m.workers)
                w->add_listener(fd, bound, false, tls, proxy);
            continue;
        }
        // One SO_REUSEPORT socket per worker; the first fixes the port when 0 was asked for.
        for (unsigned i = 0; i < n; ++i) {
            const address& target = i == 0 ? want : m.bound.back();
            address got;
            const int fd = detail::open_listener(target, true, cfg.backlog, got, ec);
            if (fd < 0) return fail(ec);
            if (i == 0) m.bound.push_back(got);
            m.workers[i]->add_listener(fd, got, true, tls, proxy);
        }
    }

    // Listeners handed over by a supervisor (systemd socket activation): shared by all workers,
    // as Unix-socket listeners are.
    for (const inherited_listener& in : cfg.inherited) {
        int type = 0;
        int listening = 0;
        socklen_t len = sizeof type;
        socklen_t len2 = sizeof listening;
        if (in.fd < 0 || ::getsockopt(in.fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
            type != SOCK_STREAM ||
            ::getsockopt(in.fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len2) != 0 || !listening) {
            m.start_error = "inherited descriptor " + std::to_string(in.fd) +
                            " is not a listening stream socket";
            return fail(make_error_code(errc::invalid_argument));
        }
        if (in.tls && m.state.tls.empty()) {
            m.start_error =
                "inherited TLS listener " + std::to_string(in.fd) + " without a TLS configuration";
            return fail(make_error_code(errc::invalid_argument));
        }
        const int flags = ::fcntl(in.fd, F_GETFL);
        if (flags < 0 || ::fcntl(in.fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
            ::fcntl(in.fd, F_SETFD, FD_CLOEXEC) < 0)
            return fail({errno, std::system_category()});
        const address local = address::local_of(in.fd);
        m.shared_fds.push_back(in.fd);
        m.bound.push_back(local);
        const bool proxy = in.proxy || proxied("*");
        for (auto& w : m.workers)
            w->add_listener(in.fd, local, false, in.tls ? m.state.tls.front().get() : nullptr,
                            proxy);
    }

    m.started = true;
    m.serving.store(true);
    for (auto& w : m.workers)
        m.threads.emplace_back([wp = w.get()] { wp->run(); });
    return {};
}

void server::wait() {
    std::lock_guard lock(impl_->mutex);
    for (auto& t : impl_->threads)
        if (t.joinable()) t.join();
    impl_->threads.clear();
    impl_->close_shared();
}

std::error_code server::run() {
    if (auto ec = start()) return ec;
    wait();
    return {};
}

void server::stop(milliseconds deadline) {
    impl_->serving.store(false); // readiness flips first (a balancer polling /readyz sees it)
    for (auto& w : impl_->workers)
        w->stop(deadline);
}

void server::set_ready(bool ready) noexcept {
    impl_->wants_ready.store(ready);
}

bool server::ready() const noexcept {
    return impl_->serving.load() && impl_->wants_ready.load();
}

void server::stop() {
    stop(impl_->state.config.timeouts.shutdown);
}

tls_error server::reload_tls() {
    impl& m = *impl_;
    std::lock_guard lock(m.reload_mutex);
    std::vector<std::shared_ptr<const detail::tls_context>> contexts;
    if (tls_error e = m.build_tls(contexts)) return e;
    // All groups loaded: swap them in together. Before start() there is nothing to swap.
    for (std::size_t g = 0; g < m.state.tls.size() && g < contexts.size(); ++g)
        m.state.tls[g]->set(contexts[g]);
    return {};
}

const std::string& server::start_error() const noexcept {
    return impl_->start_error;
}

tls_error check_tls(const tls_config& config) {
    tls_error e;
    (void)detail::tls_context::build(
        config, {"http/1.1"}, std::make_shared<detail::ticket_keys>(config.ticket_key_lifetime), e);
    return e;
}

std::vector<address> server::local_addresses() const {
    return impl_->bound;
}

std::size_t server::connection_count() const noexcept {
    std::size_t total = 0;
    for (const auto& w : impl_->workers)
        total += w->connection_count();
    return total;
}

std::size_t raise_open_file_limit() noexcept {
    rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return static_cast<std::size_t>(rl.rlim_cur);
}

} // namespace wharf
