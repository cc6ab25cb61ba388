// SPDX-License-Identifier: MIT
#include "static/file_cache.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace wharf::detail {

file_cache::~file_cache() {
    for (auto& [path, e] : map_)
        if (e.fd >= 0) ::close(e.fd);
}

std::size_t file_cache::size() const {
    std::lock_guard lock(mutex_);
    return map_.size();
}

void file_cache::fill(entry& e, const struct stat& st) noexcept {
    e.dev = st.st_dev;
    e.inode = static_cast<std::uint64_t>(st.st_ino);
    e.size = static_cast<std::uint64_t>(st.st_size);
    e.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

bool file_cache::same(const entry& e, const struct stat& st) noexcept {
    entry now;
    fill(now, st);
    return S_ISREG(st.st_mode) && now.dev == e.dev && now.inode == e.inode && now.size == e.size &&
           now.mtime_ns == e.mtime_ns;
}

void file_cache::load(entry& e, const std::string& path) {
    if (e.fd >= 0) ::close(e.fd);
    e.fd = -1;
    e.error = 0;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        e.error = errno;
        return;
    }
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        e.error = ENOENT;
        ::close(fd);
        return;
    }
    fill(e, st);
    e.fd = fd;
    e.content.reset();
    if (e.size <= small_file) {
        // Small files are kept in memory: a hit then costs no syscall and no dup.
        auto bytes = std::make_shared<std::string>(static_cast<std::size_t>(e.size), '\0');
        std::size_t done = 0;
        while (done < bytes->size()) {
            const ssize_t n =
                ::pread(fd, bytes->data() + done, bytes->size() - done, static_cast<off_t>(done));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
        if (done == bytes->size()) e.content = std::move(bytes);
    }
}

std::optional<cached_file> file_cache::open(const std::string& path, int* err) {
    const auto now = clock::now();
    std::lock_guard lock(mutex_);
    auto it = map_.find(path);
    if (it == map_.end()) {
        if (capacity_ == 0) return std::nullopt;
        while (map_.size() >= capacity_) {
            auto victim = map_.find(lru_.back());
            if (victim->second.fd >= 0) ::close(victim->second.fd);
            map_.erase(victim);
            lru_.pop_back();
        }
        lru_.push_front(path);
        it = map_.emplace(path, entry{}).first;
        it->second.lru = lru_.begin();
        load(it->second, path);
        it->second.checked = now;
    } else {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        entry& e = it->second;
        if (now - e.checked >= revalidate_) {
            struct stat st;
            const bool exists = ::lstat(path.c_str(), &st) == 0;
            if (e.fd >= 0 ? !exists || !same(e, st) : exists) load(e, path);
            e.checked = now;
        }
    }
    const entry& e = it->second;
    if (e.fd < 0) {
        if (err) *err = e.error;
        return std::nullopt;
    }
    if (e.content) return cached_file{-1, e.content, e.size, e.inode, e.mtime_ns};
    const int fd = ::fcntl(e.fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        if (err) *err = errno;
        return std::nullopt;
    }
    return cached_file{fd, nullptr, e.size, e.inode, e.mtime_ns};
}

} // namespace wharf::detail
