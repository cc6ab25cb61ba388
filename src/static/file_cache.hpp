// SPDX-License-Identifier: MIT
// A bounded cache of open file descriptors for the static file handler, keyed by resolved
// path and revalidated with lstat() at most once per `revalidate` interval.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unordered_map>

namespace wharf::detail {

/// What the cache knows of a file.
struct cached_file {
    int fd = -1; ///< a descriptor the caller owns (dup of the cached one); -1 with `content`
    /// The whole file, for small files: served from memory with no file system call at all.
    std::shared_ptr<const std::string> content;
    std::uint64_t size = 0;
    std::uint64_t inode = 0;
    std::int64_t mtime_ns = 0; ///< since the epoch
};

class file_cache {
  public:
    using clock = std::chrono::steady_clock;

    explicit file_cache(std::size_t capacity = 1024,
                        clock::duration revalidate = std::chrono::seconds(1))
        : capacity_(capacity), revalidate_(revalidate) {}
    ~file_cache();
    file_cache(const file_cache&) = delete;
    file_cache& operator=(const file_cache&) = delete;

    /// Opens the regular file at `path` (a resolved path: a symlink as its last component is
    /// refused) or reuses the cached descriptor. nullopt when it is missing or not a regular
    /// file (remembered as such for the revalidation interval too); `err` gets errno then.
    /// Files of at most `small_file` bytes come back as `content` (and fd -1) instead.
    std::optional<cached_file> open(const std::string& path, int* err = nullptr);

    static constexpr std::uint64_t small_file = 32 * 1024;

    /// Entries currently held (for the tests).
    std::size_t size() const;

  private:
    struct entry {
        int fd = -1; ///< -1: known absent (negative entry)
        int error = 0;
        dev_t dev = 0;
        std::uint64_t inode = 0, size = 0;
        std::int64_t mtime_ns = 0;
        std::shared_ptr<const std::string> content; // small files, read once per version
        clock::time_point checked;
        std::list<std::string>::iterator lru;
    };
    static void fill(entry& e, const struct stat& st) noexcept;
    static bool same(const entry& e, const struct stat& st) noexcept;
    void load(entry& e, const std::string& path);

    mutable std::mutex mutex_;
    std::size_t capacity_;
    clock::duration revalidate_;
    std::list<std::string> lru_; ///< most recently used first
    std::unordered_map<std::string, entry> map_;
};

} // namespace wharf::detail
