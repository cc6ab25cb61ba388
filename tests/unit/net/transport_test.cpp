// SPDX-License-Identifier: MIT
// The transport seam: a file range through a transport that cannot hand files to the kernel
// is read and written (whatever the peer takes per write, ending early as sendfile does when
// the file is short), and the plain socket transport moves bytes both ways on a socketpair,
// sends files with sendfile, ends its direction in order, and reports a plain stream as ready.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "memory_transport.hpp"
#include "temp_dir.hpp"

#include "net/transport.hpp"

namespace {

using wharf::detail::socket_transport;
using wharf::detail::transport;
using wharf_test::memory_transport;

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>('a' + i % 26);
    return s;
}

struct open_file {
    int fd;
    explicit open_file(const std::string& path) : fd(::open(path.c_str(), O_RDONLY)) {}
    ~open_file() { ::close(fd); }
};

TEST(Transport, FileRangeFallsBackToReadAndWrite) {
    wharf_test::temp_dir dir;
    const std::string content = pattern(100'000);
    open_file f(dir.write("f", content));
    ASSERT_GE(f.fd, 0);
    for (const std::size_t per_write : {1ul, 7ul, 4096ul, 1ul << 20}) {
        SCOPED_TRACE(per_write);
        memory_transport t;
        off_t offset = 10;
        std::size_t left = content.size() - 20;
        while (left > 0) {
            t.write_budget = per_write;
            const ssize_t n = static_cast<transport&>(t).sendfile(f.fd, &offset, left);
            ASSERT_GT(n, 0);
            left -= static_cast<std::size_t>(n);
        }
        EXPECT_EQ(offset, static_cast<off_t>(content.size() - 10));
        EXPECT_EQ(t.output, content.substr(10, content.size() - 20));
    }
}

TEST(Transport, FallbackReportsAShortFileAsItsEnd) {
    wharf_test::temp_dir dir;
    open_file f(dir.write("f", "abc"));
    memory_transport t;
    off_t offset = 3;
    EXPECT_EQ(static_cast<transport&>(t).sendfile(f.fd, &offset, 10), 0);
    EXPECT_EQ(offset, 3);
    EXPECT_TRUE(t.output.empty());
}

TEST(Transport, FallbackPassesWriteErrorsOn) {
    wharf_test::temp_dir dir;
    open_file f(dir.write("f", "abc"));
    memory_transport t;
    t.write_error = ECONNRESET;
    off_t offset = 0;
    EXPECT_EQ(static_cast<transport&>(t).sendfile(f.fd, &offset, 3), -ECONNRESET);
    EXPECT_EQ(offset, 0);
}

TEST(SocketTransport, MovesBytesAndFilesAndEndsInOrder) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    socket_transport a(fds[0]); // owns and closes fds[0]
    EXPECT_EQ(a.handshake(), transport::handshake_status::done);
    EXPECT_FALSE(a.has_pending());
    EXPECT_EQ(a.fd(), fds[0]);

    const std::string one = "single buffer", two = "two ", three = "buffers";
    iovec single{const_cast<char*>(one.data()), one.size()};
    EXPECT_EQ(a.writev(&single, 1, false), static_cast<ssize_t>(one.size()));
    iovec pair[2] = {{const_cast<char*>(two.data()), two.size()},
                     {const_cast<char*>(three.data()), three.size()}};
    EXPECT_EQ(a.writev(pair, 2, true), static_cast<ssize_t>(two.size() + three.size()));

    wharf_test::temp_dir dir;
    open_file f(dir.write("f", "0123456789"));
    off_t offset = 2;
    EXPECT_EQ(a.sendfile(f.fd, &offset, 5), 5);
    EXPECT_EQ(offset, 7);
    a.shutdown_write();

    std::string got;
    char buf[256];
    for (;;) {
        const ssize_t n = ::read(fds[1], buf, sizeof buf);
        if (n <= 0) {
            EXPECT_EQ(n, 0) << "the peer sees the end after every byte";
            break;
        }
        got.append(buf, static_cast<std::size_t>(n));
    }
    EXPECT_EQ(got, "single buffertwo buffers23456");

    EXPECT_EQ(::write(fds[1], "back", 4), 4);
    EXPECT_EQ(a.read(buf, sizeof buf), 4);
    EXPECT_EQ(std::string(buf, 4), "back");
    EXPECT_EQ(a.read(buf, sizeof buf), -EAGAIN);
    ::close(fds[1]);
    EXPECT_EQ(a.read(buf, sizeof buf), 0);
}

} // namespace
