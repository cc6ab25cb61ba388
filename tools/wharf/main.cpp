// SPDX-License-Identifier: MIT
// `wharf serve [DIR]`: a file server with demo endpoints, built on the wharf library.
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <wharf/static_files.hpp>
#include <wharf/thread_pool.hpp>
#include <wharf/wharf.hpp>

#include "demo.hpp"
#include "demo_bench.hpp"

namespace {

struct serve_options {
    std::string dir = ".";
    std::vector<std::string> listen;
    unsigned workers = 0;
    std::string access_log;
    std::string access_log_format = "common";
    bool demo = true;
    std::vector<wharf_cli::demo_user> demo_users{{"alice", "wonderland"}};
    bool h2 = true;  // HTTP/2 by ALPN on TLS listeners
    bool h2c = true; // HTTP/2 over cleartext (prior knowledge, Upgrade: h2c)
    bool compress = true;
    bool proxy_protocol = false; // every listener expects a PROXY protocol header
    std::vector<std::string> trusted_proxies;
    std::size_t max_connections = 10000;
    std::string server_name = "wharf";
    bool listing = true;
    std::string cache_control;
    std::string index = "index.html";
    std::vector<std::string> tls_listen;
    std::vector<std::string> tls_certs, tls_keys; // pairs, in order
    std::string tls_client_ca, tls_client_crl;
    std::string tls_client_verify = "none";
    std::string tls_min_version = "1.2";
    wharf::limits limits;     // only the fields with flags below are set from the command line
    wharf::timeouts timeouts; // the same
};

/// The budget's flags: limits in bytes, deadlines in milliseconds (0 turns a deadline off).
void add_budget_options(CLI::App& cmd, wharf::limits& l, wharf::timeouts& t) {
    const auto bytes = [&cmd](const char* name, std::size_t& field, const char* what) {
        cmd.add_option(name, field, what)->capture_default_str()->group("Limits");
    };
    const auto ms = [&cmd](const char* name, wharf::milliseconds& field, const char* what) {
        cmd.add_option_function<std::int64_t>(
               name, [&field](std::int64_t v) { field = wharf::milliseconds(v); }, what)
            ->check(CLI::NonNegativeNumber)
            ->default_str(std::to_string(field.count()))
            ->group("Limits");
    };
    bytes("--max-body-size", l.max_body_size, "Largest buffered request body (bytes; more: 413)");
    bytes("--max-buffered-body-bytes", l.max_buffered_body_bytes,
          "Buffered request bodies held at once, server-wide (bytes; beyond: 503)");
    bytes("--max-header-bytes", l.max_header_bytes, "Largest request head (bytes; more: 431)");
    bytes("--max-lookahead", l.max_lookahead,
          "Unparsed bytes read ahead while a response is pending");
    ms("--request-head-timeout", t.request_head, "From a head's first byte to its end (ms)");
    ms("--body-read-timeout", t.body_read, "Longest gap between two reads of a body (ms)");
    ms("--keep-alive-timeout", t.keep_alive, "Idle time between requests (ms)");
    ms("--send-grace", t.send_grace, "Window over which --min-send-rate is measured (ms)");
    bytes("--min-send-rate", t.min_send_rate, "Bytes/s a blocked response must drain at");
    ms("--body-grace", t.body_grace, "Window over which --min-body-rate is measured (ms)");
    bytes("--min-body-rate", t.min_body_rate,
          "Bytes/s a request body must arrive at (0: no minimum)");
    ms("--shutdown-timeout", t.shutdown, "Graceful-shutdown deadline (ms)");
}

/// The TLS group of the command line, or a message (and exit code 2) for what is wrong with it.
/// `inherited_tls`: systemd passed a socket named "https" or "tls", served like --tls-listen.
bool tls_from_options(const serve_options& opt, wharf::tls_config& tls, bool inherited_tls) {
    if (opt.tls_listen.empty() && !inherited_tls) {
        if (opt.tls_certs.empty() && opt.tls_keys.empty()) return true;
        std::fprintf(stderr, "wharf: --tls-cert and --tls-key need --tls-listen\n");
        return false;
    }
    if (opt.tls_certs.empty()) {
        std::fprintf(stderr, "wharf: --tls-listen (or a systemd socket named https) needs "
                             "--tls-cert FILE --tls-key FILE\n");
        return false;
    }
    if (opt.tls_certs.size() != opt.tls_keys.size()) {
        std::fprintf(stderr,
                     "wharf: every --tls-cert needs its --tls-key (%zu certificates, "
                     "%zu keys)\n",
                     opt.tls_certs.size(), opt.tls_keys.size());
        return false;
    }
    tls.listen = opt.tls_listen;
    for (std::size_t i = 0; i < opt.tls_certs.size(); ++i)
        tls.certificates.push_back({opt.tls_certs[i], opt.tls_keys[i]});
    tls.client_ca_file = opt.tls_client_ca;
    tls.client_crl_file = opt.tls_client_crl;
    tls.verify_client = opt.tls_client_verify == "required"   ? wharf::client_verify::required
                        : opt.tls_client_verify == "optional" ? wharf::client_verify::optional
                                                              : wharf::client_verify::none;
    if (tls.verify_client != wharf::client_verify::none && tls.client_ca_file.empty()) {
        std::fprintf(stderr, "wharf: --tls-client-verify %s needs --tls-client-ca FILE\n",
                     opt.tls_client_verify.c_str());
        return false;
    }
    tls.min_version =
        opt.tls_min_version == "1.3" ? wharf::tls_version::tls1_3 : wharf::tls_version::tls1_2;
    if (const wharf::tls_error e = wharf::check_tls(tls)) {
        std::fprintf(stderr, "wharf: %s\n", e.message.c_str());
        return false;
    }
    return true;
}

int serve(const serve_options& opt) {
    wharf::raise_open_file_limit();
    // Signals are taken by this thread with sigwait. Block them before any thread starts
    // (pool, workers): threads inherit the mask, so none can die of a SIGTERM.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP); // reloads the TLS files
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    // Nothing but SIGINT and SIGTERM ends the server, and those drain it; SIGHUP reloads the
    // TLS files. SIGUSR1 and SIGUSR2 would kill it at once, so they are ignored; later, SIGUSR2
    // is to restart in place (taken with sigwait then).
    std::signal(SIGUSR1, SIG_IGN);
    std::signal(SIGUSR2, SIG_IGN);

    wharf::server_config config;
    // Socket activation: systemd's listeners replace the default one; a socket named "https"
    // or "tls" (FileDescriptorName=) is served with TLS.
    bool inherited_tls = false;
    for (const auto& [fd, name] : wharf::systemd_listeners()) {
        const bool is_tls = name == "https" || name == "tls";
        inherited_tls = inherited_tls || is_tls;
        config.inherited.push_back({fd, is_tls, false});
    }
    wharf::tls_config tls;
    if (!tls_from_options(opt, tls, inherited_tls)) return 2;
    if (!opt.listen.empty())
        config.listen = opt.listen;
    else if (!config.inherited.empty())
        config.listen.clear();
    if (!tls.listen.empty() || inherited_tls) {
        config.tls.push_back(std::move(tls));
        if (opt.listen.empty()) config.listen.clear(); // --tls-listen alone: TLS only
    }
    config.workers = opt.workers;
    config.access_log = opt.access_log;
    config.access_log_format = opt.access_log_format == "combined" ? wharf::log_format::combined
                               : opt.access_log_format == "combined_tls"
                                   ? wharf::log_format::combined_tls
                               : opt.access_log_format == "timed" ? wharf::log_format::timed
                                                                  : wharf::log_format::common;
    config.limits = opt.limits;
    config.timeouts = opt.timeouts;
    config.limits.max_connections = opt.max_connections;
    config.server_name = opt.server_name;
    config.http2.enabled = opt.h2;
    config.http2.cleartext = opt.h2c;
    if (opt.proxy_protocol) config.proxy_protocol = {"*"};
    config.trusted_proxies = opt.trusted_proxies;

    wharf::thread_pool pool(
        2); // demo work that must not run on a loop (declared first: outlives srv)
    wharf::server srv(config);
    // First, so that it sees every response last (after the other filters).
    if (opt.compress) srv.routes().use(wharf::compression());
    if (opt.demo) {
        wharf_cli::add_demo_routes(srv.routes(), pool);
        wharf_cli::add_content_demo_routes(srv.routes());
        wharf_cli::add_auth_demo_routes(srv.routes(), opt.demo_users);
        wharf_cli::add_bench_demo_routes(srv.routes());
        // Health checks: liveness (the loops answer), readiness (503 once draining).
        srv.routes().get("/healthz", [](wharf::session& s) {
            s.response().set_header("Cache-Control", "no-store");
            s.response().body("ok\n", "text/plain");
        });
        srv.routes().get("/readyz", [&srv](wharf::session& s) {
            s.response().set_header("Cache-Control", "no-store");
            if (srv.ready())
                s.response().body("ready\n", "text/plain");
            else
                s.response().status(503).body("draining\n", "text/plain");
        });
    }
    try {
        srv.routes().route({wharf::method::get, wharf::method::head}, "/*",
                           wharf::static_files(opt.dir, [&opt] {
                               wharf::static_file_options o;
                               o.listing = opt.listing;
                               o.cache_control = opt.cache_control;
                               o.index = opt.index;
                               return o;
                           }()));
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "wharf: %s\n", e.what());
        return 2;
    }

    if (std::error_code ec = srv.start()) {
        if (!srv.start_error().empty()) {
            std::fprintf(stderr, "wharf: %s\n", srv.start_error().c_str());
            return 2;
        }
        std::string where;
        for (const auto& l : srv.config().listen)
            where += (where.empty() ? "" : ", ") + l;
        for (const auto& group : srv.config().tls)
            for (const auto& l : group.listen)
                where += (where.empty() ? "" : ", ") + l;
        std::fprintf(stderr, "wharf: cannot listen on %s: %s\n", where.c_str(),
                     ec.message().c_str());
        return 1;
    }
    // local_addresses() lists the plaintext addresses first, then the TLS ones, then the
    // inherited ones, in order.
    std::vector<bool> is_tls(srv.config().listen.size(), false);
    for (const auto& group : srv.config().tls)
        is_tls.insert(is_tls.end(), group.listen.size(), true);
    for (const auto& in : srv.config().inherited)
        is_tls.push_back(in.tls);
    std::size_t i = 0;
    for (const wharf::address& a : srv.local_addresses()) {
        const bool secure = i < is_tls.size() && is_tls[i];
        ++i;
        std::fprintf(stderr, "wharf: serving %s on %s://%s/ (%u workers)\n", opt.dir.c_str(),
                     secure ? "https" : "http", a.to_string().c_str(), srv.config().workers);
    }
    if (!srv.config().tls.empty())
        std::fprintf(stderr, "wharf: kernel TLS %s\n",
                     wharf::kernel_tls_available()
                         ? "available: files go out with sendfile where the cipher allows"
                         : "not available in this kernel: files are encrypted by OpenSSL");
    std::fflush(stderr);

    int sig = 0;
    for (;;) {
        sigwait(&signals, &sig);
        if (sig != SIGHUP) break;
        if (srv.config().tls.empty())
            std::fprintf(stderr, "wharf: SIGHUP: no TLS listener, nothing to reload\n");
        else if (const wharf::tls_error e = srv.reload_tls())
            std::fprintf(stderr, "wharf: SIGHUP: TLS reload failed, nothing changed: %s\n",
                         e.message.c_str());
        else
            std::fprintf(stderr, "wharf: SIGHUP: TLS certificates reloaded\n");
        std::fflush(stderr);
    }
    std::fprintf(stderr, "wharf: %s received, shutting down\n",
                 sig == SIGINT ? "SIGINT" : "SIGTERM");
    srv.stop();
    srv.wait();
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"wharf: a fast, embeddable HTTP server"};
    app.set_version_flag("--version", std::string("wharf ") + wharf::version);
    app.require_subcommand(1);

    serve_options opt;
    CLI::App* serve_cmd =
        app.add_subcommand("serve", "Serve DIR (default .) and the demo endpoints");
    serve_cmd->add_option("dir", opt.dir, "Directory to serve")->check(CLI::ExistingDirectory);
    serve_cmd->add_option("--listen,-l", opt.listen,
                          "Address to listen on (ADDR:PORT, [V6]:PORT, unix:PATH); repeatable "
                          "(default 127.0.0.1:8080)");
    serve_cmd->add_option("--workers,-w", opt.workers, "Worker threads (default: one per core)")
        ->check(CLI::Range(1u, 1024u));
    serve_cmd->add_option("--access-log", opt.access_log, "Access log file ('-' for stdout)");
    serve_cmd
        ->add_option("--access-log-format", opt.access_log_format,
                     "common, combined, combined_tls (combined and the TLS version), or timed "
                     "(combined, the request id, microseconds to the first byte and in all)")
        ->check(CLI::IsMember({"common", "combined", "combined_tls", "timed"}));
    serve_cmd
        ->add_option("--tls-listen", opt.tls_listen,
                     "Address to serve HTTPS on; repeatable (with it and no --listen, "
                     "only TLS is served)")
        ->group("TLS");
    serve_cmd
        ->add_option("--tls-cert", opt.tls_certs,
                     "Certificate chain (PEM); repeatable, in pairs with --tls-key; SNI "
                     "picks by the certificates' DNS names, the first is the default")
        ->group("TLS");
    serve_cmd->add_option("--tls-key", opt.tls_keys, "Private key (PEM) of the --tls-cert before")
        ->group("TLS");
    serve_cmd
        ->add_option("--tls-client-ca", opt.tls_client_ca,
                     "CA certificates (PEM) client certificates must chain to")
        ->group("TLS");
    serve_cmd
        ->add_option("--tls-client-crl", opt.tls_client_crl,
                     "Revocation list (PEM) for client certificates")
        ->group("TLS");
    serve_cmd
        ->add_option("--tls-client-verify", opt.tls_client_verify,
                     "Ask for a client certificate: none, optional or required")
        ->check(CLI::IsMember({"none", "optional", "required"}))
        ->group("TLS");
    serve_cmd
        ->add_option("--tls-min-version", opt.tls_min_version, "Lowest TLS version: 1.2 or 1.3")
        ->check(CLI::IsMember({"1.2", "1.3"}))
        ->group("TLS");
    serve_cmd->add_option("--max-connections", opt.max_connections, "Connection limit")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24));
    serve_cmd->add_option("--server-name", opt.server_name, "Server header value ('' for none)");
    serve_cmd->add_flag("--listing,!--no-listing", opt.listing,
                        "List directories without an index (default on)");
    serve_cmd->add_option("--cache-control", opt.cache_control,
                          "Cache-Control value for file responses");
    serve_cmd->add_option("--index", opt.index,
                          "Index file of a directory (default index.html; '' for none)");
    serve_cmd->add_flag("--proxy-protocol", opt.proxy_protocol,
                        "Every listener is behind a balancer that sends the PROXY protocol (v1 "
                        "or v2) first: the client address comes from it; connections without "
                        "one are closed");
    serve_cmd->add_option("--trusted-proxy", opt.trusted_proxies,
                          "A proxy (address or CIDR prefix; repeatable) whose Forwarded or "
                          "X-Forwarded-For field names the client");
    serve_cmd->add_flag("--compress,!--no-compress", opt.compress,
                        "Compress text responses with br, zstd or gzip as clients accept "
                        "(default on)");
    serve_cmd->add_flag("--demo,!--no-demo", opt.demo, "Mount the demo endpoints (default on)");
    serve_cmd
        ->add_option_function<std::vector<std::string>>(
            "--demo-user",
            [&opt](const std::vector<std::string>& accounts) {
                for (const std::string& account : accounts) {
                    const auto colon = account.find(':');
                    if (colon == std::string::npos || colon == 0)
                        throw CLI::ValidationError("--demo-user", "expected NAME:PASSWORD");
                    std::string name = account.substr(0, colon);
                    std::string password = account.substr(colon + 1);
                    std::erase_if(opt.demo_users, [&](const auto& u) { return u.first == name; });
                    opt.demo_users.emplace_back(std::move(name), std::move(password));
                }
            },
            "Add or replace a user of the demo's /whoami (NAME:PASSWORD; alice:wonderland is "
            "there by default)")
        ->type_name("NAME:PASSWORD");
    serve_cmd->add_flag("--h2,!--no-h2", opt.h2, "Offer HTTP/2 by ALPN on TLS (default on)")
        ->group("HTTP/2");
    serve_cmd
        ->add_flag("--h2c,!--no-h2c", opt.h2c,
                   "HTTP/2 on plaintext listeners: prior knowledge and Upgrade: h2c (default on)")
        ->group("HTTP/2");
    add_budget_options(*serve_cmd, opt.limits, opt.timeouts);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "wharf: %s\nRun 'wharf --help' for usage.\n", e.what());
        return 2;
    }
    for (const std::string& l : opt.tls_listen) {
        std::error_code ec;
        (void)wharf::address::parse(l, ec);
        if (ec) {
            std::fprintf(stderr, "wharf: invalid TLS listen address '%s'\n", l.c_str());
            return 2;
        }
    }
    for (const std::string& l : opt.listen) {
        std::error_code ec;
        (void)wharf::address::parse(l, ec);
        if (ec) {
            std::fprintf(stderr, "wharf: invalid listen address '%s'\n", l.c_str());
            return 2;
        }
    }
    return serve(opt);
}
