// SPDX-License-Identifier: MIT
// `wharf serve [DIR]`: a file server with demo endpoints, built on the wharf library.
#include <csignal>
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
};

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

    wharf::server_config config;
    if (!opt.listen.empty()) config.listen = opt.listen;
    config.workers = opt.workers;
    config.access_log = opt.access_log;
    config.access_log_format = opt.access_log_format == "combined" ? wharf::log_format::combined
                                                                   : wharf::log_format::common;
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
