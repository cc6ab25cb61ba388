// SPDX-License-Identifier: MIT
// systemd socket activation (sd_listen_fds(3) semantics, without libsystemd): the protocol is
// three environment variables and descriptors from 3 on.
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wharf/server.hpp"

namespace wharf {

namespace {

constexpr int first_fd = 3; // SD_LISTEN_FDS_START

bool number(const char* text, long& out) {
    if (!text || !*text) return false;
    const std::string_view s(text);
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

} // namespace

std::vector<std::pair<int, std::string>> systemd_listeners() {
    std::vector<std::pair<int, std::string>> out;
    long pid = 0, count = 0;
    const bool ours = number(std::getenv("LISTEN_PID"), pid) && pid == ::getpid() &&
                      number(std::getenv("LISTEN_FDS"), count) && count > 0 && count < 4096;
    if (ours) {
        std::vector<std::string> names;
        if (const char* list = std::getenv("LISTEN_FDNAMES")) {
            std::string_view rest(list);
            while (true) {
                const std::size_t colon = rest.find(':');
                names.emplace_back(rest.substr(0, colon));
                if (colon == std::string_view::npos) break;
                rest.remove_prefix(colon + 1);
            }
        }
        for (long i = 0; i < count; ++i)
            out.emplace_back(first_fd + static_cast<int>(i),
                             static_cast<std::size_t>(i) < names.size()
                                 ? names[static_cast<std::size_t>(i)]
                                 : std::string());
    }
    // As sd_listen_fds(1): the variables are for this process only.
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
    return out;
}

} // namespace wharf
