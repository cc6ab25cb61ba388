// SPDX-License-Identifier: MIT
// Media types by file extension: a built-in table, then /etc/mime.types (read once).
#include <array>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "wharf/headers.hpp"
#include "wharf/static_files.hpp"

namespace wharf {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 30> builtin_types{{
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/vnd.microsoft.icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"pdf", "application/pdf"},
    {"wasm", "application/wasm"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"br", "application/octet-stream"},
    {"zst", "application/zstd"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},
    {"bin", "application/octet-stream"},
}};

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

/// /etc/mime.types: "type/subtype ext1 ext2 ..." lines, '#' comments. The first type listed
/// for an extension wins; text/* types get "; charset=utf-8".
std::unordered_map<std::string, std::string> load_system_types() noexcept {
    std::unordered_map<std::string, std::string> map;
    try {
        std::ifstream in("/etc/mime.types");
        std::string line;
        while (std::getline(in, line)) {
            if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
            std::istringstream words(line);
            std::string type, ext;
            if (!(words >> type) || type.find('/') == std::string::npos) continue;
            type = lower(type);
            if (type.starts_with("text/")) type += "; charset=utf-8";
            while (words >> ext)
                map.emplace(lower(ext), type);
        }
    } catch (...) {
        map.clear(); // out of memory while reading: the built-in table alone
    }
    return map;
}

} // namespace

std::string_view mime_type(std::string_view file_name) noexcept {
    const auto dot = file_name.rfind('.');
    if (dot == std::string_view::npos || file_name.find('/', dot) != std::string_view::npos)
        return "application/octet-stream";
    const std::string_view ext = file_name.substr(dot + 1);
    for (const auto& [e, type] : builtin_types)
        if (iequals(e, ext)) return type;
    static const std::unordered_map<std::string, std::string> system_types = load_system_types();
    if (ext.size() > 32) return "application/octet-stream";
    char buf[33];
    for (std::size_t i = 0; i < ext.size(); ++i)
        buf[i] = ext[i] >= 'A' && ext[i] <= 'Z' ? static_cast<char>(ext[i] - 'A' + 'a') : ext[i];
    try {
        const auto it = system_types.find(std::string(buf, ext.size()));
        if (it != system_types.end()) return it->second;
    } catch (...) {
    }
    return "application/octet-stream";
}

} // namespace wharf
