// SPDX-License-Identifier: MIT
// The static file handler mounted in an in-process server: where symlinks may lead.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "temp_dir.hpp"
#include "test_client.hpp"
#include "wharf/wharf.hpp"

namespace {

using wharf_test::get;
using wharf_test::local_config;
using wharf_test::start;
using wharf_test::temp_dir;

/// A tree with links that stay inside the root and links that leave it.
struct linked_tree {
    temp_dir outside, root;
    linked_tree() {
        outside.write("secret.txt", "secret\n");
        std::filesystem::create_directory(root.path + "/sub");
        root.write("sub/page.txt", "page\n");
        EXPECT_TRUE(root.link("sub", "alias"));                          // a directory link inside
        EXPECT_TRUE(root.link("sub/page.txt", "page-link.txt"));         // a file link inside
        EXPECT_TRUE(root.link(outside.path, "away"));                    // a directory link out
        EXPECT_TRUE(root.link(outside.path + "/secret.txt", "out.txt")); // a file link out
    }
};

int status_of(wharf::server& srv, std::string_view target) {
    const auto res = get(srv.local_addresses()[0], target);
    return res ? res->status : -1;
}

TEST(StaticFiles, SymlinksAreFollowedOnlyInsideTheRoot) {
    linked_tree tree;
    wharf::server srv(local_config());
    srv.routes().get("/*", wharf::static_files(tree.root.path));
    start(srv);
    EXPECT_EQ(status_of(srv, "/alias/page.txt"), 200);
    EXPECT_EQ(status_of(srv, "/page-link.txt"), 200);
    EXPECT_EQ(status_of(srv, "/away/secret.txt"), 404);
    EXPECT_EQ(status_of(srv, "/out.txt"), 404);
    EXPECT_EQ(status_of(srv, "/away/"), 404); // no listing of the outside either
    const auto page = get(srv.local_addresses()[0], "/alias/page.txt");
    ASSERT_TRUE(page);
    EXPECT_EQ(page->body, "page\n");
}

TEST(StaticFiles, SymlinksOutsideWhenAllowed) {
    linked_tree tree;
    wharf::static_file_options opt;
    opt.follow_symlinks_outside = true;
    wharf::server srv(local_config());
    srv.routes().get("/*", wharf::static_files(tree.root.path, opt));
    start(srv);
    const auto secret = get(srv.local_addresses()[0], "/away/secret.txt");
    ASSERT_TRUE(secret);
    EXPECT_EQ(secret->status, 200);
    EXPECT_EQ(secret->body, "secret\n");
    EXPECT_EQ(status_of(srv, "/out.txt"), 200);
    EXPECT_EQ(status_of(srv, "/away/"), 200); // its listing
}

} // namespace
