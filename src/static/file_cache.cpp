// SPDX-License-Identifier: MIT
#include "static/file_cache.hpp"

#include <cerrno>
#include <ctime>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

#include <fmt/format.h>

#include "wharf/static_files.hpp"

namespace wharf::detail {
namespace {

std::int64_t mtime_ns_of(const struct stat& st) noexcept {
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

bool read_whole(int fd, std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n =
            ::pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

} // namespace

coarse_clock::time_point coarse_clock::now() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
}

file_version::~file_version() {
    if (fd >= 0) ::close(fd);
}

file_cache::file_cache(std::size_t capacity, clock::duration revalidate,
                       std::vector<std::string> sidecar_suffixes, const confined_root* root)
    : capacity_(capacity), revalidate_(revalidate), sidecar_suffixes_(std::move(sidecar_suffixes)),
      root_(root) {
    if (sidecar_suffixes_.size() > 32) throw std::invalid_argument("at most 32 sidecar suffixes");
}

std::size_t file_cache::size() const {
    std::lock_guard lock(mutex_);
    return map_.size();
}

bool file_cache::same(const entry& e, const struct stat& st) noexcept {
    const file_version& v = *e.version;
    return S_ISREG(st.st_mode) && st.st_dev == e.dev &&
           static_cast<std::uint64_t>(st.st_ino) == v.inode &&
           static_cast<std::uint64_t>(st.st_size) == v.size && mtime_ns_of(st) == v.mtime_ns;
}

unsigned file_cache::sidecars_of(const std::string& path) const {
    unsigned found = 0;
    for (std::size_t i = 0; i < sidecar_suffixes_.size(); ++i) {
        struct stat st;
        const std::string beside = path + sidecar_suffixes_[i];
        if (::lstat(beside.c_str(), &st) == 0 && S_ISREG(st.st_mode)) found |= 1u << i;
    }
    return found;
}

void file_cache::load(entry& e, const std::string& path) const {
    e.version.reset();
    e.error = 0;
    constexpr int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
    const int fd = root_ ? root_->open(path, flags) : ::open(path.c_str(), flags);
    if (fd < 0) {
        e.error = root_ ? -fd : errno;
        return;
    }
    auto v = std::make_shared<file_version>();
    v->fd = fd; // closed with the version from here on
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        e.error = ENOENT;
        return;
    }
    e.dev = st.st_dev;
    v->size = static_cast<std::uint64_t>(st.st_size);
    v->inode = static_cast<std::uint64_t>(st.st_ino);
    v->mtime_ns = mtime_ns_of(st);
    // Everything a response needs is formatted once per version, not once per request.
    v->etag = fmt::format("\"{:x}-{:x}-{:x}\"", v->size, static_cast<std::uint64_t>(v->mtime_ns),
                          v->inode);
    v->content_type = mime_type(path);
    v->sidecars = sidecars_of(path);
    if (v->size <= small_file) {
        std::string bytes(static_cast<std::size_t>(v->size), '\0');
        if (read_whole(fd, bytes)) v->content = std::move(bytes);
    }
    e.version = std::move(v);
}

std::shared_ptr<const file_version> file_cache::open(std::string_view path, int* err) {
    const auto now = clock::now();
    std::lock_guard lock(mutex_);
    auto it = map_.find(path);
    if (it == map_.end()) {
        if (capacity_ == 0) return nullptr;
        while (!lru_.empty() && map_.size() >= capacity_) {
            map_.erase(lru_.back());
            lru_.pop_back();
        }
        lru_.emplace_front(path);
        it = map_.emplace(lru_.front(), entry{}).first;
        it->second.lru = lru_.begin();
        load(it->second, it->first);
        it->second.checked = now;
    } else {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        entry& e = it->second;
        if (now - e.checked >= revalidate_) {
            struct stat st;
            const bool exists = ::lstat(it->first.c_str(), &st) == 0;
            if (e.version ? !exists || !same(e, st) : exists) {
                load(e, it->first);
            } else if (e.version && !sidecar_suffixes_.empty()) {
                const unsigned sidecars = sidecars_of(it->first);
                if (sidecars != e.version->sidecars) load(e, it->first);
            }
            e.checked = now;
        }
    }
    const entry& e = it->second;
    if (!e.version && err) *err = e.error;
    return e.version;
}

} // namespace wharf::detail
