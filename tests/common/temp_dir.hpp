// SPDX-License-Identifier: MIT
// A directory under /tmp for one test, removed with everything in it afterwards.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace wharf_test {

struct temp_dir {
    std::string path;
    temp_dir() {
        char tmpl[] = "/tmp/wharf-test-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    /// Writes `data` to `name` (relative to the directory); returns the file's path.
    std::string write(const std::string& name, const std::string& data) const {
        const std::string p = path + "/" + name;
        std::ofstream(p, std::ios::binary | std::ios::trunc) << data;
        return p;
    }
    /// Makes `name` a symlink to `target`; false if that failed.
    bool link(const std::string& target, const std::string& name) const {
        return ::symlink(target.c_str(), (path + "/" + name).c_str()) == 0;
    }
};

} // namespace wharf_test
