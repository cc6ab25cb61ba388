// SPDX-License-Identifier: MIT
#include "wharf/static_files.hpp"

#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <memory>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace wharf {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 24> mime_table{{
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/vnd.microsoft.icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"pdf", "application/pdf"},
    {"wasm", "application/wasm"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"mp4", "video/mp4"},
    {"bin", "application/octet-stream"},
}};

/// Each segment of a relative path must be a plain name: no "", ".", ".." (RFC 3986 §5.2.4
/// dot segments are refused rather than resolved, so no path can climb).
bool safe_relative(std::string_view rel) noexcept {
    while (!rel.empty()) {
        const auto slash = rel.find('/');
        const std::string_view seg = rel.substr(0, slash);
        if (seg == "." || seg == "..") return false;
        if (slash == std::string_view::npos) break;
        rel.remove_prefix(slash + 1);
    }
    return rel.find('\0') == std::string_view::npos;
}

struct root_dir {
    std::string real; // realpath of the root, without a trailing '/'
};

bool inside(const std::string& real_root, const char* resolved) noexcept {
    const std::string_view r(resolved);
    return r == real_root || (r.size() > real_root.size() && r.starts_with(real_root) &&
                              (r[real_root.size()] == '/' || real_root == "/"));
}

} // namespace

std::string_view mime_type(std::string_view file_name) noexcept {
    const auto dot = file_name.rfind('.');
    if (dot == std::string_view::npos || file_name.find('/', dot) != std::string_view::npos)
        return "application/octet-stream";
    const std::string_view ext = file_name.substr(dot + 1);
    for (const auto& [e, type] : mime_table)
        if (iequals(e, ext)) return type;
    return "application/octet-stream";
}

handler static_files(std::string root) {
    char resolved[PATH_MAX];
    if (!::realpath(root.c_str(), resolved))
        throw std::invalid_argument("no such directory: " + root);
    struct stat st;
    if (::stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode))
        throw std::invalid_argument("not a directory: " + root);
    auto dir = std::make_shared<root_dir>(root_dir{resolved});

    return [dir](session& s) {
        request& req = s.request();
        response& res = s.response();
        if (req.method() != method::get && req.method() != method::head) {
            res.set_std(405).set_header("Allow", "GET, HEAD");
            return;
        }
        std::string_view rel = req.param("*");
        if (!safe_relative(rel)) {
            res.not_found();
            return;
        }
        std::string path = dir->real;
        path.push_back('/');
        path.append(rel);
        char real[PATH_MAX];
        if (!::realpath(path.c_str(), real) || !inside(dir->real, real)) {
            res.not_found();
            return;
        }
        std::string file = real;
        struct stat fst;
        if (::stat(file.c_str(), &fst) != 0) {
            res.not_found();
            return;
        }
        if (S_ISDIR(fst.st_mode)) {
            file += "/index.html";
            if (::realpath(file.c_str(), real) == nullptr || !inside(dir->real, real) ||
                ::stat(real, &fst) != 0 || !S_ISREG(fst.st_mode)) {
                res.not_found();
                return;
            }
            file = real;
        } else if (!S_ISREG(fst.st_mode)) {
            res.not_found();
            return;
        }
        const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
            if (errno == EACCES)
                res.denied();
            else
                res.not_found();
            return;
        }
        // Zero-copy: the range goes out with sendfile(); the response closes the fd.
        res.status(200).content_type(mime_type(file));
        res.append_file(file_range{fd, 0, static_cast<std::uint64_t>(fst.st_size), true});
    };
}

} // namespace wharf
