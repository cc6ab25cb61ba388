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

namespace {

struct serve_options {
    std::string dir = ".";
    std::vector<std::string> listen;
    unsigned workers = 0;
    std::string access_log;
    std::string access_log_format = "common";
    bool demo = true;
    std::size_t max_connections = 10000;
    std::string server_name = "wharf";
    bool listing = true;
    std::string cache_control;
    std::string index = "index.html";
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

int serve(const serve_options& opt) {
    wharf::raise_open_file_limit();
    // Signals are taken by this thread with sigwait. Block them before any thread starts
    // (pool, workers): threads inherit the mask, so none can die of a SIGTERM.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    // Nothing but SIGINT and SIGTERM ends the server, and those drain it. SIGHUP (a closed
    // terminal), SIGUSR1 and SIGUSR2 would kill it at once, so they are ignored; later, SIGHUP
    // is to reload the configuration and SIGUSR2 to restart in place (taken with sigwait then).
    std::signal(SIGHUP, SIG_IGN);
    std::signal(SIGUSR1, SIG_IGN);
    std::signal(SIGUSR2, SIG_IGN);

    wharf::server_config config;
    if (!opt.listen.empty()) config.listen = opt.listen;
    config.workers = opt.workers;
    config.access_log = opt.access_log;
    config.access_log_format = opt.access_log_format == "combined" ? wharf::log_format::combined
                                                                   : wharf::log_format::common;
    config.limits = opt.limits;
    config.timeouts = opt.timeouts;
    config.limits.max_connections = opt.max_connections;
    config.server_name = opt.server_name;

    wharf::thread_pool pool(
        2); // demo work that must not run on a loop (declared first: outlives srv)
    wharf::server srv(config);
    if (opt.demo) wharf_cli::add_demo_routes(srv.routes(), pool);
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
        std::string where;
        for (const auto& l : srv.config().listen)
            where += (where.empty() ? "" : ", ") + l;
        std::fprintf(stderr, "wharf: cannot listen on %s: %s\n", where.c_str(),
                     ec.message().c_str());
        return 1;
    }
    for (const wharf::address& a : srv.local_addresses())
        std::fprintf(stderr, "wharf: serving %s on http://%s/ (%u workers)\n", opt.dir.c_str(),
                     a.to_string().c_str(), srv.config().workers);
    std::fflush(stderr);

    int sig = 0;
    sigwait(&signals, &sig);
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
    serve_cmd->add_option("--access-log-format", opt.access_log_format, "common or combined")
        ->check(CLI::IsMember({"common", "combined"}));
    serve_cmd->add_option("--max-connections", opt.max_connections, "Connection limit")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24));
    serve_cmd->add_option("--server-name", opt.server_name, "Server header value ('' for none)");
    serve_cmd->add_flag("--listing,!--no-listing", opt.listing,
                        "List directories without an index (default on)");
    serve_cmd->add_option("--cache-control", opt.cache_control,
                          "Cache-Control value for file responses");
    serve_cmd->add_option("--index", opt.index,
                          "Index file of a directory (default index.html; '' for none)");
    serve_cmd->add_flag("--demo,!--no-demo", opt.demo, "Mount the demo endpoints (default on)");
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
