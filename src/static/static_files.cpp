// SPDX-License-Identifier: MIT
#include "wharf/static_files.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "http/chars.hpp"
#include "static/file_cache.hpp"
#include "wharf/session.hpp"

namespace wharf {
namespace {

/// Each segment of a relative path must be a plain name: no ".", "..", and no empty segment
/// except a trailing one (a directory's slash). Dot segments are refused rather than
/// resolved (RFC 3986 §5.2.4), so no path can climb.
bool safe_relative(std::string_view rel) noexcept {
    if (rel.find('\0') != std::string_view::npos) return false;
    while (!rel.empty()) {
        const auto slash = rel.find('/');
        const std::string_view seg = rel.substr(0, slash);
        if (seg == "." || seg == "..") return false;
        if (slash == std::string_view::npos) break;
        if (seg.empty()) return false;
        rel.remove_prefix(slash + 1);
    }
    return true;
}

// ---- Accept-Encoding ------------------------------------------------------------------------

struct coding {
    std::string_view name;      // as in Content-Encoding
    std::string_view extension; // of the precompressed file
};
constexpr std::array<coding, 3> codings{{{"br", ".br"}, {"zstd", ".zst"}, {"gzip", ".gz"}}};

std::vector<std::string> coding_extensions() {
    std::vector<std::string> out;
    for (const auto& c : codings)
        out.emplace_back(c.extension);
    return out;
}

struct state {
    state(std::string real_root, static_file_options options)
        : root(std::move(real_root)), opt(std::move(options)),
          beneath(opt.follow_symlinks_outside ? std::make_unique<detail::confined_root>()
                                              : std::make_unique<detail::confined_root>(root)),
          cache(1024, std::chrono::seconds(1), coding_extensions(), beneath.get()) {}

    std::string root; // realpath of the root, without a trailing '/'
    static_file_options opt;
    // Files and listed directories are opened beneath the root by the kernel too, so a
    // symlink swapped in after the realpath check still cannot lead out.
    std::unique_ptr<detail::confined_root> beneath;
    detail::file_cache cache;

    // Request paths already resolved to regular files inside the root, rechecked at most once
    // a second (the file cache's own staleness bound): a hot file costs no realpath or stat.
    struct resolved {
        std::shared_ptr<const std::string> real;
        detail::coarse_clock::time_point checked;
    };
    std::mutex resolved_mutex;
    std::unordered_map<std::string, resolved, detail::string_hash, std::equal_to<>> resolved_files;

    std::shared_ptr<const std::string> fresh_file(std::string_view rel) {
        const auto now = detail::coarse_clock::now();
        std::lock_guard lock(resolved_mutex);
        const auto it = resolved_files.find(rel);
        if (it == resolved_files.end()) return nullptr;
        if (now - it->second.checked > std::chrono::seconds(1)) {
            resolved_files.erase(it);
            return nullptr;
        }
        return it->second.real;
    }
    std::shared_ptr<const std::string> remember_file(std::string_view rel, std::string real) {
        auto shared = std::make_shared<const std::string>(std::move(real));
        const auto now = detail::coarse_clock::now();
        std::lock_guard lock(resolved_mutex);
        if (resolved_files.size() >= 4096) resolved_files.clear(); // bounded
        resolved_files.insert_or_assign(std::string(rel), resolved{shared, now});
        return shared;
    }
};

/// The realpath of `path` when it exists and (unless allowed) lies inside the root.
std::optional<std::string> resolve(const state& st, const std::string& path) {
    char real[PATH_MAX];
    if (!::realpath(path.c_str(), real)) return std::nullopt;
    if (!st.opt.follow_symlinks_outside && !detail::path_within(st.root, real)) return std::nullopt;
    return std::string(real);
}

/// The q-value of a "q=..." parameter (1 when absent, 0 when malformed).
double qvalue(std::string_view params) {
    while (!params.empty()) {
        const auto semi = params.find(';');
        std::string_view p = chars::trim_ows(params.substr(0, semi));
        params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
        if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            p.remove_prefix(2);
            if (p.empty() || p.size() > 5 || (p[0] != '0' && p[0] != '1')) return 0;
            double q = p[0] - '0';
            if (p.size() > 1) {
                if (p[1] != '.') return 0;
                double scale = 0.1;
                for (std::size_t i = 2; i < p.size(); ++i, scale /= 10) {
                    if (p[i] < '0' || p[i] > '9') return 0;
                    q += (p[i] - '0') * scale;
                }
            }
            return q > 1 ? 0 : q;
        }
    }
    return 1;
}

/// The q-value the client gives each of `codings` (0: not acceptable).
std::array<double, codings.size()> accepted_codings(const request& req) {
    std::array<double, codings.size()> q{};
    std::array<bool, codings.size()> named{};
    double star = -1;
    for (std::string_view value : req.headers().get_all("Accept-Encoding")) {
        while (!value.empty()) {
            const auto comma = value.find(',');
            const std::string_view item = chars::trim_ows(value.substr(0, comma));
            value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
            const auto semi = item.find(';');
            const std::string_view name = chars::trim_ows(item.substr(0, semi));
            const double v = semi == std::string_view::npos ? 1.0 : qvalue(item.substr(semi + 1));
            if (name == "*") star = v;
            for (std::size_t i = 0; i < codings.size(); ++i) {
                if (iequals(name, codings[i].name) ||
                    (codings[i].name == "gzip" && iequals(name, "x-gzip"))) {
                    q[i] = v;
                    named[i] = true;
                }
            }
        }
    }
    if (star >= 0)
        for (std::size_t i = 0; i < codings.size(); ++i)
            if (!named[i]) q[i] = star;
    return q;
}

// ---- listing --------------------------------------------------------------------------------

void html_escape(std::string& out, std::string_view s) {
    for (char c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out += c;
        }
    }
}

void url_escape(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 15];
        }
    }
}

struct dir_entry {
    std::string name;
    bool dir = false;
    std::uint64_t size = 0;
    std::time_t mtime = 0;
};

bool list_directory(const detail::confined_root& beneath, const std::string& dir,
                    std::string_view shown_path, bool at_root, response& res) {
    const int fd = beneath.open(dir, O_RDONLY | O_DIRECTORY | O_NONBLOCK);
    if (fd < 0) return false;
    DIR* d = ::fdopendir(fd);
    if (!d) {
        ::close(fd);
        return false;
    }
    std::vector<dir_entry> entries;
    while (const dirent* e = ::readdir(d)) {
        const std::string_view name = e->d_name;
        if (name == "." || name == "..") continue;
        struct stat st;
        // lstat: a symlink's target (perhaps outside the root) is not disclosed.
        if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        entries.push_back({std::string(name), S_ISDIR(st.st_mode),
                           static_cast<std::uint64_t>(st.st_size), st.st_mtim.tv_sec});
    }
    ::closedir(d);
    std::sort(entries.begin(), entries.end(),
              [](const dir_entry& a, const dir_entry& b) { return a.name < b.name; });

    std::string html = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Index of ";
    html_escape(html, shown_path);
    html += "</title></head>\n<body>\n<h1>Index of ";
    html_escape(html, shown_path);
    html += "</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Modified</th></tr>\n";
    if (!at_root) html += "<tr><td><a href=\"../\">../</a></td><td>-</td><td></td></tr>\n";
    for (const auto& e : entries) {
        html += "<tr><td><a href=\"";
        url_escape(html, e.name);
        if (e.dir) html += '/';
        html += "\">";
        html_escape(html, e.name);
        if (e.dir) html += '/';
        html += "</a></td><td>";
        html += e.dir ? std::string("-") : std::to_string(e.size);
        html += "</td><td>";
        std::tm utc{};
        ::gmtime_r(&e.mtime, &utc);
        char when[32];
        std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &utc);
        html += when;
        html += "</td></tr>\n";
    }
    html += "</table>\n</body></html>\n";
    res.status(200).body(std::move(html), "text/html; charset=utf-8");
    res.set_header("Cache-Control", "no-cache");
    return true;
}

// ---- serving --------------------------------------------------------------------------------

void redirect_to_directory(const request& req, response& res) {
    std::string_view raw = req.raw_path();
    // Never produce a scheme-relative "//host" location (an open redirect).
    while (raw.size() > 1 && raw[0] == '/' && raw[1] == '/')
        raw.remove_prefix(1);
    std::string location(raw);
    location += '/';
    if (!req.query().empty()) {
        location += '?';
        location += req.query();
    }
    res.status(301).set_header("Location", location);
    res.body("Moved Permanently\n", "text/plain; charset=utf-8");
}

/// Sends the regular file `file` (a resolved path), or a precompressed variant of it.
void serve_file(state& st, const request& req, response& res, const std::string& file) {
    int err = 0;
    auto version = st.cache.open(file, &err);
    if (!version) {
        if (err == EACCES)
            res.denied();
        else
            res.not_found();
        return;
    }
    const std::string_view content_type = version->content_type;
    std::string_view etag = version->etag;
    std::string variant_etag;

    // Variants beside the file: same directory (already resolved), refused when symlinks.
    if (const unsigned sidecars = version->sidecars) {
        const auto q = accepted_codings(req);
        double best = 0;
        for (std::size_t i = 0; i < codings.size(); ++i) {
            if (!(sidecars & (1u << i)) || q[i] <= best) continue;
            auto variant = st.cache.open(file + std::string(codings[i].extension));
            if (!variant) continue;
            best = q[i];
            version = std::move(variant);
            res.set_header("Content-Encoding", codings[i].name);
            const std::string_view tag = version->etag; // "...": the coding goes inside
            variant_etag = fmt::format("{}-{}\"", tag.substr(0, tag.size() - 1), codings[i].name);
            etag = variant_etag;
        }
        res.set_header("Vary", "Accept-Encoding");
    }

    res.status(200).content_type(content_type);
    if (!st.opt.cache_control.empty()) res.set_header("Cache-Control", st.opt.cache_control);
    const auto mtime = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(version->mtime_ns)));
    res.process_ranges(etag, mtime);
    if (version->content) {
        // A small file from memory: the response borrows the cached bytes (the version is
        // kept alive until they are sent).
        const std::string_view bytes = *version->content;
        res.append_borrowed(bytes, [keep = std::move(version)] {});
        return;
    }
    // Zero-copy: the range goes out with sendfile(); the response closes its descriptor.
    const int fd = ::fcntl(version->fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        res.set_std(503);
        return;
    }
    res.append_file(file_range{fd, 0, version->size, true});
}

} // namespace

handler static_files(std::string root, static_file_options options) {
    char resolved[PATH_MAX];
    if (!::realpath(root.c_str(), resolved))
        throw std::invalid_argument("no such directory: " + root);
    struct stat rst;
    if (::stat(resolved, &rst) != 0 || !S_ISDIR(rst.st_mode))
        throw std::invalid_argument("not a directory: " + root);
    auto st = std::make_shared<state>(resolved, std::move(options));

    return [st](session& s) {
        const request& req = s.request();
        response& res = s.response();
        if (req.method() != method::get && req.method() != method::head) {
            res.set_std(405).set_header("Allow", "GET, HEAD");
            return;
        }
        const std::string_view rel = req.param("*");
        if (!safe_relative(rel)) {
            res.not_found();
            return;
        }
        if (const auto hot = st->fresh_file(rel)) {
            serve_file(*st, req, res, *hot);
            return;
        }
        std::string path = st->root;
        path.push_back('/');
        path.append(rel);
        const auto real = resolve(*st, path);
        struct stat fst;
        if (!real || ::stat(real->c_str(), &fst) != 0) {
            res.not_found();
            return;
        }
        if (S_ISREG(fst.st_mode)) {
            if (!rel.empty() && rel.back() == '/') {
                res.not_found(); // "file.txt/"
                return;
            }
            serve_file(*st, req, res, *st->remember_file(rel, *real));
            return;
        }
        if (!S_ISDIR(fst.st_mode)) {
            res.not_found();
            return;
        }
        if (!req.path().ends_with('/')) {
            redirect_to_directory(req, res);
            return;
        }
        if (!st->opt.index.empty() && st->opt.index.find('/') == std::string::npos) {
            const auto index = resolve(*st, *real + "/" + st->opt.index);
            struct stat ist;
            if (index && ::stat(index->c_str(), &ist) == 0 && S_ISREG(ist.st_mode)) {
                serve_file(*st, req, res, *index);
                return;
            }
        }
        if (!st->opt.listing) {
            res.denied();
            return;
        }
        if (!list_directory(*st->beneath, *real, req.path(), rel.empty(), res)) res.denied();
    };
}

} // namespace wharf
