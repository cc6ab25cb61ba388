// SPDX-License-Identifier: MIT
// Trusted proxies: the network lists, and the client a Forwarded (RFC 7239) or X-Forwarded-For
// chain names, by table.
#include "http/forwarded.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using wharf::address;
using wharf::header_field;
using wharf::header_view;
using wharf::detail::forwarded_client;
using wharf::detail::trusted_networks;

address at(const std::string& text) {
    std::error_code ec;
    address a = address::parse(text, ec);
    EXPECT_FALSE(ec) << text;
    return a;
}

trusted_networks nets(const std::vector<std::string>& specs) {
    std::string error;
    auto t = trusted_networks::parse(specs, error);
    EXPECT_TRUE(t) << error;
    return t.value_or(trusted_networks{});
}

TEST(trusted_networks, AddressesAndPrefixes) {
    const auto t = nets({"10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "::1", "172.16.0.0/12"});
    EXPECT_TRUE(t.contains(at("10.1.2.3:80")));
    EXPECT_FALSE(t.contains(at("11.0.0.1:80")));
    EXPECT_TRUE(t.contains(at("192.0.2.7:1")));
    EXPECT_FALSE(t.contains(at("192.0.2.8:1")));
    EXPECT_TRUE(t.contains(at("[2001:db8:ffff::1]:1")));
    EXPECT_FALSE(t.contains(at("[2001:db9::1]:1")));
    EXPECT_TRUE(t.contains(at("[::1]:1")));
    EXPECT_TRUE(t.contains(at("172.31.255.255:1")));
    EXPECT_FALSE(t.contains(at("172.32.0.0:1")));
    EXPECT_TRUE(t.contains(at("[::ffff:10.9.9.9]:1"))); // IPv4-mapped counts as IPv4
    EXPECT_FALSE(t.contains(at("unix:/tmp/x.sock")));
    EXPECT_TRUE(nets({"unix"}).contains(at("unix:/tmp/x.sock")));
    EXPECT_TRUE(nets({"0.0.0.0/0"}).contains(at("8.8.8.8:1")));
    for (const std::string bad : {"10.0.0.0/33", "::/129", "10.0.0.0/", "example.com",
                                  "10.0.0.0/8x", "1.2.3.4:80", "", "10.0.0.0/-1"}) {
        std::string error;
        EXPECT_FALSE(trusted_networks::parse({bad}, error)) << bad;
        EXPECT_FALSE(error.empty());
    }
}

struct chain_case {
    std::vector<header_field> fields;
    std::string peer;
    std::string want; // address::to_string, or "" for none (the peer stands)
};

TEST(forwarded_client, WalksTheChainFromTheNearestHop) {
    const auto trusted = nets({"10.0.0.0/8"});
    const chain_case cases[] = {
        {{{"X-Forwarded-For", "203.0.113.5"}}, "10.0.0.1:4000", "203.0.113.5:0"},
        {{{"X-Forwarded-For", "203.0.113.5, 10.0.0.9"}}, "10.0.0.1:4000", "203.0.113.5:0"},
        {{{"X-Forwarded-For", "198.51.100.1, 203.0.113.5, 10.0.0.9"}},
         "10.0.0.1:4000",
         "203.0.113.5:0"}, // the client can lie about what is left of its own hop
        {{{"X-Forwarded-For", "198.51.100.1"}, {"X-Forwarded-For", "10.0.0.7"}},
         "10.0.0.1:1",
         "198.51.100.1:0"},
        {{{"X-Forwarded-For", "10.0.0.3, 10.0.0.9"}}, "10.0.0.1:1", "10.0.0.3:0"}, // all trusted
        {{{"X-Forwarded-For", "203.0.113.5"}}, "192.0.2.1:1", ""},   // peer not trusted
        {{{"X-Forwarded-For", "not-an-ip"}}, "10.0.0.1:1", ""},      // malformed: ignored
        {{{"X-Forwarded-For", "203.0.113.5:80"}}, "10.0.0.1:1", ""}, // no ports in XFF
        {{{"X-Forwarded-For", "2001:db8::5"}}, "10.0.0.1:1", "[2001:db8::5]:0"},
        {{}, "10.0.0.1:1", ""},
        {{{"Forwarded", "for=203.0.113.60;proto=http;by=10.0.0.1"}},
         "10.0.0.1:1",
         "203.0.113.60:0"},
        {{{"Forwarded", "for=\"[2001:db8:cafe::17]:4711\""}},
         "10.0.0.1:1",
         "[2001:db8:cafe::17]:4711"},
        {{{"Forwarded", "for=192.0.2.43, for=10.0.0.4"}}, "10.0.0.1:1", "192.0.2.43:0"},
        {{{"Forwarded", "FOR=\"192.0.2.43:8080\""}}, "10.0.0.1:1", "192.0.2.43:8080"},
        {{{"Forwarded", "for=unknown"}}, "10.0.0.1:1", ""},
        {{{"Forwarded", "for=_hidden, for=10.0.0.4"}}, "10.0.0.1:1", ""},
        {{{"Forwarded", "for=2001:db8::1"}}, "10.0.0.1:1", ""}, // IPv6 must be bracketed
        {{{"Forwarded", "for"}}, "10.0.0.1:1", ""},             // malformed pair
        {{{"Forwarded", "by=10.0.0.1"}}, "10.0.0.1:1", ""},     // no for=
        // Forwarded wins over X-Forwarded-For.
        {{{"X-Forwarded-For", "198.51.100.9"}, {"Forwarded", "for=203.0.113.61"}},
         "10.0.0.1:1",
         "203.0.113.61:0"},
    };
    for (const chain_case& c : cases) {
        const header_view h(c.fields);
        const auto got = forwarded_client(h, at(c.peer), trusted);
        const std::string fields = c.fields.empty() ? "(none)"
                                                    : std::string(c.fields.back().name) + ": " +
                                                          std::string(c.fields.back().value);
        if (c.want.empty()) {
            EXPECT_FALSE(got) << fields << " -> " << got->to_string();
        } else {
            ASSERT_TRUE(got) << fields;
            EXPECT_EQ(got->to_string(), c.want) << fields;
        }
    }
}

} // namespace
