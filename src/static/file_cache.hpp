// SPDX-License-Identifier: MIT
// A bounded cache of open files for the static file handler, keyed by resolved path and
// revalidated with lstat() at most once per `revalidate` interval.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unordered_map>
#include <vector>

#include "static/open_beneath.hpp"

namespace wharf::detail {

/// Hashes std::string keys and string_view lookups alike (no string built to look up).
struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

/// A cheap monotonic clock (CLOCK_MONOTONIC_COARSE): revalidation needs seconds, not ns.
struct coarse_clock {
    using duration = std::chrono::nanoseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<coarse_clock>;
    static constexpr bool is_steady = true;
    static time_point now() noexcept;
};

/// One version of a file: immutable once made, shared by every response sending it, so a
/// response keeps the bytes it started with even when the file changes meanwhile.
struct file_version {
    file_version() = default;
    file_version(const file_version&) = delete;
    file_version& operator=(const file_version&) = delete;
    ~file_version();

    int fd = -1; ///< owned by the version; a response sends a dup of it
    /// The whole file, for small files: served from memory with no file system call at all.
    std::optional<std::string> content;
    std::uint64_t size = 0;
    std::uint64_t inode = 0;
    std::int64_t mtime_ns = 0;     ///< since the epoch
    std::string etag;              ///< strong validator from size, mtime and inode
    std::string_view content_type; ///< from the extension (static storage)
    unsigned sidecars = 0;         ///< bit i: path + sidecar suffix i is a regular file
};

class file_cache {
  public:
    using clock = coarse_clock;

    /// `sidecar_suffixes` name files checked beside each cached one (precompressed
    /// variants), revalidated with it; at most 32. With a `root`, files under it are opened
    /// beneath it only (it must outlive the cache).
    explicit file_cache(std::size_t capacity = 1024,
                        clock::duration revalidate = std::chrono::seconds(1),
                        std::vector<std::string> sidecar_suffixes = {},
                        const confined_root* root = nullptr);
    ~file_cache() = default;
    file_cache(const file_cache&) = delete;
    file_cache& operator=(const file_cache&) = delete;

    /// The current version of the regular file at `path` (a resolved path: a symlink as its
    /// last component is refused). Null when it is missing or not a regular file
    /// (remembered as such for the revalidation interval too); `err` gets errno then.
    /// Files of at most `small_file` bytes are read into `content`.
    std::shared_ptr<const file_version> open(std::string_view path, int* err = nullptr);

    static constexpr std::uint64_t small_file = 32 * 1024;

    /// Entries currently held (for the tests).
    std::size_t size() const;

  private:
    struct entry {
        std::shared_ptr<const file_version> version; ///< null: known absent
        int error = 0;
        dev_t dev = 0;
        clock::time_point checked;
        std::list<std::string>::iterator lru;
    };
    static bool same(const entry& e, const struct stat& st) noexcept;
    void load(entry& e, const std::string& path) const;
    unsigned sidecars_of(const std::string& path) const;

    mutable std::mutex mutex_;
    std::size_t capacity_;
    clock::duration revalidate_;
    std::vector<std::string> sidecar_suffixes_;
    const confined_root* root_;
    std::list<std::string> lru_; ///< most recently used first
    std::unordered_map<std::string, entry, string_hash, std::equal_to<>> map_;
};

} // namespace wharf::detail
