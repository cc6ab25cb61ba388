// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "static/file_cache.hpp"
#include "temp_dir.hpp"
#include "wharf/static_files.hpp"

namespace {

using wharf::detail::confined_root;
using wharf::detail::file_cache;
using wharf_test::temp_dir;

std::string read_all(int fd, std::uint64_t size) {
    std::string s(size, '\0');
    EXPECT_EQ(::pread(fd, s.data(), s.size(), 0), static_cast<ssize_t>(size));
    return s;
}

TEST(StaticFileCache, ReusesOneOpenFile) {
    temp_dir dir;
    const std::string big(file_cache::small_file + 1, 'b'); // past the in-memory size
    const std::string p = dir.write("a.bin", big);
    file_cache cache(4, std::chrono::hours(1));
    auto a = cache.open(p);
    auto b = cache.open(p);
    ASSERT_TRUE(a && b);
    EXPECT_FALSE(a->content);
    EXPECT_EQ(a, b); // one version, one descriptor
    EXPECT_GE(a->fd, 0);
    EXPECT_EQ(a->size, big.size());
    EXPECT_EQ(read_all(b->fd, b->size), big);
    EXPECT_EQ(a->content_type, "application/octet-stream");
    EXPECT_EQ(a->etag.front(), '"');
    EXPECT_EQ(a->etag.back(), '"');
    EXPECT_EQ(cache.size(), 1u);
}

TEST(StaticFileCache, SmallFilesComeFromMemory) {
    temp_dir dir;
    const std::string p = dir.write("a.txt", "hello");
    file_cache cache(4, std::chrono::hours(1));
    auto a = cache.open(p);
    auto b = cache.open(p);
    ASSERT_TRUE(a && b);
    ASSERT_TRUE(a->content);
    EXPECT_EQ(*a->content, "hello");
    EXPECT_EQ(a, b); // one copy, shared
    EXPECT_EQ(a->size, 5u);
    EXPECT_EQ(a->content_type, "text/plain; charset=utf-8");
}

TEST(StaticFileCache, RevalidatesReplacedFiles) {
    temp_dir dir;
    const std::string p = dir.write("a.txt", "first");
    file_cache cache(4, std::chrono::milliseconds(0));
    auto a = cache.open(p);
    ASSERT_TRUE(a && a->content);
    const std::string tmp = dir.write("b.txt", "second version");
    ASSERT_EQ(::rename(tmp.c_str(), p.c_str()), 0);
    auto b = cache.open(p);
    ASSERT_TRUE(b && b->content);
    EXPECT_NE(a->inode, b->inode);
    EXPECT_NE(a->etag, b->etag);
    EXPECT_EQ(*b->content, "second version");
    EXPECT_EQ(*a->content, "first"); // a response still sending the old version keeps it
    ::unlink(p.c_str());
    EXPECT_FALSE(cache.open(p));
}

TEST(StaticFileCache, MissingSymlinkAndDirectoryAreRefused) {
    temp_dir dir;
    const std::string target = dir.write("t.txt", "x");
    ASSERT_TRUE(dir.link(target, "link"));
    file_cache cache(4);
    int err = 0;
    EXPECT_FALSE(cache.open(dir.path + "/missing", &err));
    EXPECT_EQ(err, ENOENT);
    EXPECT_FALSE(cache.open(dir.path + "/link"));
    EXPECT_FALSE(cache.open(dir.path));
}

TEST(StaticFileCache, IsBounded) {
    temp_dir dir;
    file_cache cache(3);
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(cache.open(dir.write(std::to_string(i) + ".f", "x")));
    }
    EXPECT_EQ(cache.size(), 3u);
}

TEST(StaticFileCache, NotesSidecarsAndTheirChanges) {
    temp_dir dir;
    const std::string p = dir.write("a.css", "body{}");
    file_cache cache(4, std::chrono::milliseconds(0), {".br", ".gz"});
    auto a = cache.open(p);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->sidecars, 0u);
    dir.write("a.css.gz", "gz");
    auto b = cache.open(p);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->sidecars, 2u); // the second suffix
    ASSERT_TRUE(dir.link(dir.path + "/a.css.gz", "a.css.br"));
    EXPECT_EQ(cache.open(p)->sidecars, 2u); // a symlinked variant is not one
}

TEST(StaticMime, BuiltinAndSystemTypes) {
    EXPECT_EQ(wharf::mime_type("index.HTML"), "text/html; charset=utf-8");
    EXPECT_EQ(wharf::mime_type("a.png"), "image/png");
    EXPECT_EQ(wharf::mime_type("noext"), "application/octet-stream");
    EXPECT_EQ(wharf::mime_type("dir.d/noext"), "application/octet-stream");
    EXPECT_EQ(wharf::mime_type("x.unknown-ext-zz"), "application/octet-stream");
    if (::access("/etc/mime.types", R_OK) == 0) {
        // Not in the built-in table; text types get the charset.
        EXPECT_EQ(wharf::mime_type("a.odt"), "application/vnd.oasis.opendocument.text");
        EXPECT_EQ(wharf::mime_type("a.tsv"), "text/tab-separated-values; charset=utf-8");
    }
}

} // namespace

TEST(StaticFileCache, ConfinedOpensStayBeneathTheRoot) {
    // What a symlink swapped in after the handler's realpath check would do: lead through a
    // directory link to a file outside the root. The kernel refuses it when confined.
    temp_dir outside;
    const std::string secret = outside.write("secret.txt", "secret");
    temp_dir root;
    std::filesystem::create_directory(root.path + "/sub");
    const std::string inside = root.write("sub/ok.txt", "fine");
    ASSERT_TRUE(root.link(outside.path, "escape"));
    ASSERT_TRUE(root.link("sub", "alias"));

    const confined_root beneath(root.path);
    file_cache confined(8, std::chrono::hours(1), {}, &beneath);
    int err = 0;
    EXPECT_FALSE(confined.open(root.path + "/escape/secret.txt", &err));
    EXPECT_NE(err, 0);
    ASSERT_TRUE(confined.open(root.path + "/alias/ok.txt")); // a link that stays inside
    EXPECT_EQ(*confined.open(inside)->content, "fine");

    file_cache unconfined(8, std::chrono::hours(1));
    ASSERT_TRUE(unconfined.open(root.path + "/escape/secret.txt")); // the mechanism matters
}
