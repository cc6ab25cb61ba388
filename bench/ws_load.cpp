// ws_load: a single-threaded WebSocket load client (epoll, non-blocking sockets, the standard
// library only) for bench/run's ws-* scenarios.
//
//   ws_load [options] HOST PORT PATH
//
// Modes:
//   echo (default)  N connections, each keeping exactly --inflight masked messages outstanding:
//                   every echo received sends the next one (the sends of one read are written
//                   together). Echoed lengths and kinds are checked, every message's sequence
//                   number too, and every 16th message's whole content.
//   --fanout        N connections (to a chat endpoint that delivers every text message to every
//                   client, the sender included); once all are open, connection 0 publishes
//                   with at most --inflight of its own messages outstanding (it learns of them
//                   by their delivery to itself); every connection counts what it receives.
//                   After the measured time, publishing stops and every connection must get
//                   every message published (a missing delivery is an error).
//   --idle          N connections, handshakes done (with --echo-once, one message each sent
//                   and echoed too), then held idle: prints "READY ..." once all are open, then
//                   waits for EOF on stdin (or --hold seconds), checks that every connection is
//                   still open and prints "IDLE ...". With --rss PID,... (bench/run's ws-idle)
//                   it reads the resident set of those processes before opening any connection
//                   and after holding them (--hold, default 1 s), prints no READY line and
//                   prints bench/idle_tls.py's line instead:
//                     IDLE connections=N open=M baseline_kib=B loaded_kib=L failed=F seconds=S
//
// Options: --conns N (256) --inflight K (4; fanout: 8) --size BYTES (32) --duration SECONDS (5)
//          --binary | --text (text) --connect-window W (128 handshakes in progress at most)
//          --hold SECONDS (idle: 0 = until stdin EOF) --echo-once --rss PID[,PID...]
//
// Output (echo, fanout), one line each:
//   WS mode=echo connections=N open=M messages=X bytes=Y seconds=S msgs_per_s=R errors=E ...
//   BENCH requests=X bytes=Y duration_us=U connect=C read=D write=W status=P timeout=T
// (the BENCH line is bench/report.lua's, so that bench/run reads it as a wrk run: requests =
// messages echoed or deliveries; connect = failed connections or handshakes; read = connections
// lost; status = protocol or content errors; timeout = stalls, a second without progress).
// The exit status is 0 when there was no error, 1 otherwise, 2 on bad usage.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
    return std::chrono::duration<double>(clock_type::now() - t).count();
}

enum class mode_type { echo, fanout, idle };

struct options {
    std::string host, port, path;
    mode_type mode = mode_type::echo;
    int conns = 256;
    int inflight = -1;
    std::size_t size = 32;
    double duration = 5;
    bool binary = false;
    int connect_window = 128;
    double hold = 0;
    bool echo_once = false;            // idle: one echoed message per connection first
    std::vector<std::string> rss_pids; // idle: the server processes whose RSS is read
};

struct counters {
    std::uint64_t messages = 0; // echoes (echo) or deliveries (fanout) inside the measured time
    std::uint64_t bytes = 0;    // their payload bytes
    std::uint64_t connect_errors = 0, lost = 0, protocol_errors = 0, content_errors = 0;
    std::uint64_t stalls = 0;
    std::uint64_t checked = 0; // messages whose whole content was compared
};

enum class state_type { connecting, handshake, open, closing, closed };

struct connection {
    int fd = -1;
    state_type state = state_type::connecting;
    std::string response; // the handshake's answer, until its blank line
    std::string out;      // bytes to write
    std::size_t out_off = 0;
    bool want_out = false; // EPOLLOUT registered
    std::uint32_t mask = 0;

    // The frame being parsed (server frames are unmasked).
    unsigned char hdr[14] = {};
    std::size_t hdr_len = 0;
    bool in_payload = false;
    std::uint64_t remaining = 0;
    unsigned opcode = 0;
    bool fin = false;
    std::string control; // a control frame's payload
    // The data message being received.
    unsigned msg_kind = 0;     // 1 text, 2 binary; 0: none in progress
    std::uint64_t msg_len = 0; // bytes so far
    bool msg_check = false;    // compare the whole content
    bool msg_ok = true;

    std::uint64_t sent = 0;     // data messages sent
    std::uint64_t received = 0; // data messages received
    bool got_close = false;
};

// The value of header NAME (lower case) in a response head, trimmed; nothing when absent.
std::optional<std::string_view> header_value(std::string_view head, std::string_view name) {
    std::size_t at = head.find("\r\n");
    while (at != std::string_view::npos) {
        std::size_t start = at + 2;
        std::size_t next = head.find("\r\n", start);
        std::string_view line = head.substr(
            start, next == std::string_view::npos ? std::string_view::npos : next - start);
        std::size_t colon = line.find(':');
        if (colon == name.size() &&
            std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) {
                return a == static_cast<char>(std::tolower(static_cast<unsigned char>(b)));
            })) {
            std::string_view v = line.substr(colon + 1);
            while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
                v.remove_prefix(1);
            while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
                v.remove_suffix(1);
            return v;
        }
        at = next;
    }
    return std::nullopt;
}

char hex_digit(unsigned v) {
    return "0123456789abcdef"[v & 15];
}

class client {
  public:
    explicit client(options o) : opt_(std::move(o)) {
        pattern_.resize(opt_.size);
        for (std::size_t i = 0; i < opt_.size; ++i)
            pattern_[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
        buf_.resize(1u << 18);
    }

    int run();

  private:
    bool resolve();
    void open_more();
    void start_connect(connection& c);
    void on_event(connection& c, std::uint32_t ev);
    void on_readable(connection& c);
    void on_handshake_bytes(connection& c, const char* p, std::size_t n);
    void on_frame_bytes(connection& c, const char* p, std::size_t n);
    void on_payload(connection& c, const char* p, std::size_t n);
    void on_frame_done(connection& c);
    void on_message(connection& c);
    void on_open(connection& c);
    void queue_message(connection& c);
    void queue_frame(connection& c, unsigned opcode, const char* payload, std::size_t n,
                     std::uint64_t seq);
    void flush(connection& c);
    void fail(connection& c, std::uint64_t& counter);
    void close_fd(connection& c);
    void update_events(connection& c);
    void expected_prefix(std::uint64_t seq, char* out8) const;
    void poll_once(int timeout_ms);
    int finish_load(const char* mode_name, double seconds);
    int run_idle(double open_seconds);
    std::uint64_t rss_kib() const;

    options opt_;
    std::vector<connection> conns_;
    std::string pattern_;
    std::vector<char> buf_;
    int ep_ = -1;
    sockaddr_storage addr_{};
    socklen_t addr_len_ = 0;
    int next_to_open_ = 0;
    int in_progress_ = 0; // connecting or handshaking
    int open_ = 0;        // handshakes done and not lost
    bool measuring_ = false;
    bool sending_ = false; // new data messages may be sent
    std::uint64_t published_ = 0;
    counters n_;
    std::mt19937 rng_{12345};
    std::uint64_t progress_ = 0;     // every data message received, measured or not
    std::uint64_t baseline_kib_ = 0; // idle --rss: the servers' RSS before any connection
};

bool client::resolve() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(opt_.host.c_str(), opt_.port.c_str(), &hints, &res);
    if (rc != 0 || res == nullptr) {
        std::fprintf(stderr, "ws_load: %s:%s: %s\n", opt_.host.c_str(), opt_.port.c_str(),
                     gai_strerror(rc));
        return false;
    }
    std::memcpy(&addr_, res->ai_addr, res->ai_addrlen);
    addr_len_ = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

void client::update_events(connection& c) {
    bool want = c.state == state_type::connecting || c.out_off < c.out.size();
    if (want == c.want_out) return;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u);
    ev.data.u64 = static_cast<std::uint64_t>(&c - conns_.data());
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    c.want_out = want;
}

void client::close_fd(connection& c) {
    if (c.fd >= 0) {
        epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
    }
    c.fd = -1;
}

void client::fail(connection& c, std::uint64_t& counter) {
    if (c.state == state_type::closed) return;
    if (c.state == state_type::connecting || c.state == state_type::handshake) --in_progress_;
    if (c.state == state_type::open || c.state == state_type::closing) --open_;
    ++counter;
    c.state = state_type::closed;
    close_fd(c);
}

void client::start_connect(connection& c) {
    c.fd = ::socket(addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
        std::fprintf(stderr, "ws_load: socket: %s\n", std::strerror(errno));
        c.state = state_type::closed;
        ++n_.connect_errors;
        return;
    }
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.mask = static_cast<std::uint32_t>(rng_());
    ++in_progress_;
    c.state = state_type::connecting;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
    ev.data.u64 = static_cast<std::uint64_t>(&c - conns_.data());
    c.want_out = true;
    epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
    if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), addr_len_) < 0 &&
        errno != EINPROGRESS) {
        std::fprintf(stderr, "ws_load: connect: %s\n", std::strerror(errno));
        fail(c, n_.connect_errors);
    }
}

void client::open_more() {
    while (next_to_open_ < opt_.conns && in_progress_ < opt_.connect_window)
        start_connect(conns_[static_cast<std::size_t>(next_to_open_++)]);
}

void client::flush(connection& c) {
    while (c.out_off < c.out.size()) {
        ssize_t w = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == EINTR) continue;
            fail(c, n_.lost);
            return;
        }
        c.out_off += static_cast<std::size_t>(w);
    }
    if (c.out_off == c.out.size()) {
        c.out.clear();
        c.out_off = 0;
    } else if (c.out_off > (1u << 16)) {
        c.out.erase(0, c.out_off);
        c.out_off = 0;
    }
    update_events(c);
}

void client::expected_prefix(std::uint64_t seq, char* out8) const {
    for (int i = 0; i < 8; ++i)
        out8[i] = hex_digit(static_cast<unsigned>(seq >> (4 * (7 - i))));
}

// One masked frame: FIN, opcode, the payload (data messages: the pattern, its first 8 bytes
// replaced by the sequence number in hex, so that every message differs and stays UTF-8).
void client::queue_frame(connection& c, unsigned opcode, const char* payload, std::size_t n,
                         std::uint64_t seq) {
    unsigned char h[14];
    std::size_t hl = 0;
    h[hl++] = static_cast<unsigned char>(0x80 | opcode);
    if (n < 126) {
        h[hl++] = static_cast<unsigned char>(0x80 | n);
    } else if (n < 65536) {
        h[hl++] = 0x80 | 126;
        h[hl++] = static_cast<unsigned char>(n >> 8);
        h[hl++] = static_cast<unsigned char>(n);
    } else {
        h[hl++] = 0x80 | 127;
        for (int i = 7; i >= 0; --i)
            h[hl++] = static_cast<unsigned char>(static_cast<std::uint64_t>(n) >> (8 * i));
    }
    unsigned char key[4] = {
        static_cast<unsigned char>(c.mask >> 24), static_cast<unsigned char>(c.mask >> 16),
        static_cast<unsigned char>(c.mask >> 8), static_cast<unsigned char>(c.mask)};
    std::memcpy(h + hl, key, 4);
    hl += 4;
    std::size_t start = c.out.size();
    c.out.append(reinterpret_cast<const char*>(h), hl);
    c.out.append(payload, n);
    char* p = c.out.data() + start + hl;
    if (opcode <= 2 && n > 0) {
        char prefix[8];
        expected_prefix(seq, prefix);
        std::memcpy(p, prefix, std::min<std::size_t>(8, n));
    }
    // Mask: 8 bytes at a time with the key repeated, then the tail.
    std::uint64_t k8;
    unsigned char k8b[8] = {key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]};
    std::memcpy(&k8, k8b, 8);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t v;
        std::memcpy(&v, p + i, 8);
        v ^= k8;
        std::memcpy(p + i, &v, 8);
    }
    for (; i < n; ++i)
        p[i] = static_cast<char>(static_cast<unsigned char>(p[i]) ^ key[i & 3]);
}

void client::queue_message(connection& c) {
    queue_frame(c, opt_.binary ? 2 : 1, pattern_.data(), pattern_.size(), c.sent);
    ++c.sent;
}

void client::on_open(connection& c) {
    c.state = state_type::open;
    --in_progress_;
    ++open_;
}

void client::on_handshake_bytes(connection& c, const char* p, std::size_t n) {
    std::size_t old = c.response.size();
    c.response.append(p, n);
    auto end = c.response.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
    if (end == std::string::npos) {
        if (c.response.size() > 16384) {
            std::fprintf(stderr, "ws_load: handshake answer too long\n");
            fail(c, n_.connect_errors);
        }
        return;
    }
    std::string_view head(c.response.data(), end);
    if (head.substr(0, 13) != "HTTP/1.1 101 ") {
        std::fprintf(stderr, "ws_load: handshake answered '%.*s'\n",
                     static_cast<int>(std::min<std::size_t>(head.find('\r'), 200)), head.data());
        fail(c, n_.connect_errors);
        return;
    }
    // The key is fixed (RFC 6455's example), so is the accept value; no extension was offered,
    // so none may be used.
    auto accept = header_value(head, "sec-websocket-accept");
    if (!accept || *accept != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" ||
        header_value(head, "sec-websocket-extensions")) {
        std::fprintf(stderr, "ws_load: handshake: %s\n",
                     accept ? "wrong Sec-WebSocket-Accept or an unoffered extension"
                            : "no Sec-WebSocket-Accept");
        fail(c, n_.connect_errors);
        return;
    }
    std::string rest = c.response.substr(end + 4);
    c.response.clear();
    c.response.shrink_to_fit();
    on_open(c);
    if (!rest.empty()) on_frame_bytes(c, rest.data(), rest.size());
}

void client::on_payload(connection& c, const char* p, std::size_t n) {
    if (c.opcode >= 8) {
        c.control.append(p, n);
        return;
    }
    if (c.msg_check && c.msg_ok) {
        // Compare with the expected message at offset msg_len.
        std::uint64_t off = c.msg_len;
        if (off + n > pattern_.size()) {
            c.msg_ok = false;
        } else {
            // Echo: the connection's own sequence; fanout: the publisher's, which every
            // connection receives in order.
            char prefix[8];
            expected_prefix(c.received, prefix);
            for (std::size_t i = 0; i < n && c.msg_ok; ++i) {
                std::uint64_t at = off + i;
                char want = at < 8 ? prefix[at] : pattern_[at];
                if (p[i] != want) c.msg_ok = false;
            }
        }
    } else if (c.msg_ok && c.msg_len < 8) {
        // Every message: its sequence number.
        char prefix[8];
        expected_prefix(c.received, prefix);
        for (std::size_t i = 0; i < n && c.msg_len + i < 8; ++i)
            if (p[i] != prefix[c.msg_len + i]) c.msg_ok = false;
    }
    c.msg_len += n;
}

void client::on_message(connection& c) {
    bool ok = c.msg_ok && c.msg_len == pattern_.size() && c.msg_kind == (opt_.binary ? 2u : 1u);
    if (!ok) {
        if (n_.content_errors < 5)
            std::fprintf(stderr,
                         "ws_load: connection %zu message %llu: kind %u length %llu (want %u "
                         "%zu)%s\n",
                         static_cast<std::size_t>(&c - conns_.data()),
                         static_cast<unsigned long long>(c.received), c.msg_kind,
                         static_cast<unsigned long long>(c.msg_len), opt_.binary ? 2u : 1u,
                         pattern_.size(), c.msg_ok ? "" : ", content differs");
        ++n_.content_errors;
    }
    if (c.msg_check) ++n_.checked;
    ++c.received;
    ++progress_;
    c.msg_kind = 0;
    c.msg_len = 0;
    if (measuring_) {
        ++n_.messages;
        n_.bytes += pattern_.size();
    }
    if (!sending_) return;
    if (opt_.mode == mode_type::echo) {
        if (c.state == state_type::open) queue_message(c);
    } else if (opt_.mode == mode_type::fanout && &c == conns_.data()) {
        if (c.state == state_type::open) {
            queue_message(c);
            ++published_;
        }
    }
}

void client::on_frame_done(connection& c) {
    c.in_payload = false;
    c.hdr_len = 0;
    if (c.opcode >= 8) {
        if (c.opcode == 8) { // close: answer it (unless ours was sent), then the server closes
            c.got_close = true;
            if (c.state == state_type::open) {
                if (c.control.size() >= 2) {
                    unsigned code = (static_cast<unsigned char>(c.control[0]) << 8) |
                                    static_cast<unsigned char>(c.control[1]);
                    if (n_.lost < 5)
                        std::fprintf(stderr, "ws_load: the server closed a connection: %u %s\n",
                                     code, c.control.substr(2).c_str());
                }
                queue_frame(c, 8, c.control.data(), std::min<std::size_t>(c.control.size(), 2), 0);
                c.state = state_type::closing;
                if (sending_ || opt_.mode == mode_type::idle) ++n_.lost;
            }
        } else if (c.opcode == 9) {
            queue_frame(c, 10, c.control.data(), c.control.size(), 0);
        }
        c.control.clear();
        return;
    }
    if (c.fin) on_message(c);
}

void client::on_frame_bytes(connection& c, const char* p, std::size_t n) {
    while (n > 0 && c.state != state_type::closed) {
        if (!c.in_payload) {
            // Gather the header: 2 bytes, then the extended length (and a mask key, which a
            // server must not send: it is read so that the frame can be reported). A header
            // may arrive split across reads: its length is known once its second byte is.
            auto header_size = [&c]() -> std::size_t {
                if (c.hdr_len < 2) return 2;
                unsigned l = c.hdr[1] & 0x7f;
                return 2 + ((c.hdr[1] & 0x80) ? 4 : 0) + (l == 126 ? 2 : l == 127 ? 8 : 0);
            };
            while (c.hdr_len < header_size()) {
                if (n == 0) return;
                c.hdr[c.hdr_len++] = static_cast<unsigned char>(*p++);
                --n;
            }
            unsigned b0 = c.hdr[0];
            c.fin = (b0 & 0x80) != 0;
            c.opcode = b0 & 0x0f;
            unsigned l = c.hdr[1] & 0x7f;
            std::uint64_t len = l;
            if (l == 126) {
                len = (std::uint64_t{c.hdr[2]} << 8) | c.hdr[3];
            } else if (l == 127) {
                len = 0;
                for (int i = 0; i < 8; ++i)
                    len = (len << 8) | c.hdr[2 + i];
            }
            bool bad = (c.hdr[1] & 0x80) != 0 || (b0 & 0x70) != 0;
            if (c.opcode >= 8) {
                bad = bad || !c.fin || len > 125 ||
                      (c.opcode != 8 && c.opcode != 9 && c.opcode != 10);
            } else if (c.opcode == 0) {
                bad = bad || c.msg_kind == 0;
            } else if (c.opcode == 1 || c.opcode == 2) {
                bad = bad || c.msg_kind != 0;
                c.msg_kind = c.opcode;
                c.msg_len = 0;
                c.msg_ok = true;
                c.msg_check = (c.received & 15) == 0;
            } else {
                bad = true;
            }
            if (bad) {
                if (n_.protocol_errors < 5)
                    std::fprintf(stderr, "ws_load: bad frame header %02x %02x\n", c.hdr[0],
                                 c.hdr[1]);
                ++n_.protocol_errors;
                fail(c, n_.lost);
                return;
            }
            c.remaining = len;
            c.in_payload = true;
            if (len == 0) {
                on_frame_done(c);
                continue;
            }
        }
        std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(c.remaining, n));
        on_payload(c, p, take);
        p += take;
        n -= take;
        c.remaining -= take;
        if (c.remaining == 0) on_frame_done(c);
    }
}

void client::on_readable(connection& c) {
    for (int rounds = 0; rounds < 4 && c.state != state_type::closed; ++rounds) {
        ssize_t r = ::recv(c.fd, buf_.data(), buf_.size(), 0);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == EINTR) continue;
            fail(c, n_.lost);
            return;
        }
        if (r == 0) {
            if (c.state == state_type::closing && c.got_close) { // a clean close
                c.state = state_type::closed;
                --open_;
                close_fd(c);
                return;
            }
            if (c.state == state_type::closing && !sending_ && opt_.mode != mode_type::idle) {
                c.state = state_type::closed; // our close, answered by a TCP close only
                --open_;
                close_fd(c);
                return;
            }
            if (n_.lost < 5)
                std::fprintf(stderr, "ws_load: connection %zu closed by the server\n",
                             static_cast<std::size_t>(&c - conns_.data()));
            fail(c, c.state == state_type::handshake ? n_.connect_errors : n_.lost);
            return;
        }
        auto n = static_cast<std::size_t>(r);
        if (c.state == state_type::handshake)
            on_handshake_bytes(c, buf_.data(), n);
        else
            on_frame_bytes(c, buf_.data(), n);
        if (n < buf_.size()) break;
    }
}

void client::on_event(connection& c, std::uint32_t ev) {
    if (c.state == state_type::connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || (ev & (EPOLLERR | EPOLLHUP))) {
            if (n_.connect_errors < 5)
                std::fprintf(stderr, "ws_load: connect: %s\n", std::strerror(err ? err : EIO));
            fail(c, n_.connect_errors);
            return;
        }
        if (!(ev & EPOLLOUT)) return;
        c.state = state_type::handshake;
        c.out = "GET " + opt_.path + " HTTP/1.1\r\nHost: " + opt_.host + ":" + opt_.port +
                "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n";
        c.out_off = 0;
        flush(c);
        return;
    }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(c);
    if (c.state != state_type::closed && (c.out_off < c.out.size() || (ev & EPOLLOUT))) flush(c);
}

void client::poll_once(int timeout_ms) {
    epoll_event evs[512];
    int k = epoll_wait(ep_, evs, 512, timeout_ms);
    for (int i = 0; i < k; ++i) {
        if (evs[i].data.u64 == ~std::uint64_t{0}) continue; // stdin (idle mode)
        connection& c = conns_[evs[i].data.u64];
        if (c.state == state_type::closed) continue;
        on_event(c, evs[i].events); // the writes its reads queued go out together, at its end
    }
    open_more();
}

int client::finish_load(const char* mode_name, double seconds) {
    // Stop: no new messages; every open connection sends a close frame; the server answers with
    // its own and closes the TCP connection (up to 3 s; in fanout the deliveries still in flight
    // arrive first and are checked).
    sending_ = false;
    measuring_ = false;
    if (opt_.mode == mode_type::fanout) {
        auto t = clock_type::now();
        for (;;) {
            bool all = true;
            for (auto& c : conns_)
                if (c.state == state_type::open && c.received < published_) all = false;
            if (all || seconds_since(t) > 3) break;
            poll_once(10);
        }
        std::uint64_t missing = 0;
        for (auto& c : conns_)
            if (c.state == state_type::open && c.received != published_) ++missing;
        if (missing) {
            std::fprintf(stderr,
                         "ws_load: %llu connections did not receive all %llu messages published\n",
                         static_cast<unsigned long long>(missing),
                         static_cast<unsigned long long>(published_));
            n_.content_errors += missing;
        }
    }
    std::uint64_t open_at_end = static_cast<std::uint64_t>(open_);
    for (auto& c : conns_)
        if (c.state == state_type::open) {
            const char code[2] = {0x03, static_cast<char>(0xe8)}; // 1000
            queue_frame(c, 8, code, 2, 0);
            c.state = state_type::closing;
            flush(c);
        }
    auto t = clock_type::now();
    while (open_ > 0 && seconds_since(t) < 3)
        poll_once(10);
    std::uint64_t unclosed = static_cast<std::uint64_t>(open_);
    for (auto& c : conns_)
        if (c.fd >= 0) {
            linger lg{1, 0};
            setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            close_fd(c);
        }
    std::uint64_t errors =
        n_.connect_errors + n_.lost + n_.protocol_errors + n_.content_errors + n_.stalls;
    std::printf(
        "WS mode=%s connections=%d open=%llu messages=%llu bytes=%llu seconds=%.6f "
        "msgs_per_s=%.0f errors=%llu connect_errors=%llu lost=%llu protocol_errors=%llu "
        "content_errors=%llu stalls=%llu checked=%llu published=%llu unclosed=%llu\n",
        mode_name, opt_.conns, static_cast<unsigned long long>(open_at_end),
        static_cast<unsigned long long>(n_.messages), static_cast<unsigned long long>(n_.bytes),
        seconds, seconds > 0 ? static_cast<double>(n_.messages) / seconds : 0.0,
        static_cast<unsigned long long>(errors), static_cast<unsigned long long>(n_.connect_errors),
        static_cast<unsigned long long>(n_.lost),
        static_cast<unsigned long long>(n_.protocol_errors),
        static_cast<unsigned long long>(n_.content_errors),
        static_cast<unsigned long long>(n_.stalls), static_cast<unsigned long long>(n_.checked),
        static_cast<unsigned long long>(published_), static_cast<unsigned long long>(unclosed));
    std::printf("BENCH requests=%llu bytes=%llu duration_us=%.0f connect=%llu read=%llu write=0 "
                "status=%llu timeout=%llu\n",
                static_cast<unsigned long long>(n_.messages),
                static_cast<unsigned long long>(n_.bytes), seconds * 1e6,
                static_cast<unsigned long long>(n_.connect_errors),
                static_cast<unsigned long long>(n_.lost),
                static_cast<unsigned long long>(n_.protocol_errors + n_.content_errors),
                static_cast<unsigned long long>(n_.stalls));
    std::fflush(stdout);
    return errors == 0 ? 0 : 1;
}

// Idle: after the handshakes (and with --echo-once one echoed message each), either hold the
// connections until stdin's EOF or --hold seconds and print READY and IDLE lines, or, with
// --rss, read the server's resident set before and after (bench/run's ws-idle) and print
// bench/idle_tls.py's IDLE line.
int client::run_idle(double open_seconds) {
    const bool rss_mode = !opt_.rss_pids.empty();
    if (!rss_mode) {
        std::printf("READY connections=%d open=%d failed=%llu\n", opt_.conns, open_,
                    static_cast<unsigned long long>(n_.connect_errors + n_.lost));
        std::fflush(stdout);
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLHUP;
    ev.data.u64 = ~std::uint64_t{0};
    bool have_stdin = !rss_mode && epoll_ctl(ep_, EPOLL_CTL_ADD, 0, &ev) == 0;
    double hold = rss_mode && opt_.hold <= 0 ? 1.0 : opt_.hold;
    auto t = clock_type::now();
    for (;;) {
        if (hold > 0 && seconds_since(t) >= hold) break;
        if (have_stdin) {
            char b[256];
            // A non-blocking check; epoll (below) wakes the loop when stdin has something.
            int fl = fcntl(0, F_GETFL);
            fcntl(0, F_SETFL, fl | O_NONBLOCK);
            ssize_t r = ::read(0, b, sizeof b);
            fcntl(0, F_SETFL, fl);
            if (r == 0) break;
        } else if (hold <= 0) {
            break;
        }
        poll_once(100);
    }
    std::uint64_t loaded = rss_mode ? rss_kib() : 0;
    // Anything the server sent meanwhile (a close, a reset) is read now: what is still open
    // has not been closed by the server.
    poll_once(0);
    int still = 0;
    for (auto& c : conns_)
        if (c.state == state_type::open) ++still;
    std::uint64_t failed = n_.connect_errors + n_.lost + n_.protocol_errors + n_.content_errors;
    double held = seconds_since(t);
    sending_ = false;
    for (auto& c : conns_)
        if (c.state == state_type::open) {
            const char code[2] = {0x03, static_cast<char>(0xe8)};
            queue_frame(c, 8, code, 2, 0);
            c.state = state_type::closing;
            flush(c);
        }
    auto tc = clock_type::now();
    while (open_ > 0 && seconds_since(tc) < 5)
        poll_once(10);
    for (auto& c : conns_)
        if (c.fd >= 0) {
            linger lg{1, 0};
            setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            close_fd(c);
        }
    if (rss_mode)
        std::printf("IDLE connections=%d open=%d baseline_kib=%llu loaded_kib=%llu failed=%llu "
                    "seconds=%.1f\n",
                    opt_.conns, still, static_cast<unsigned long long>(baseline_kib_),
                    static_cast<unsigned long long>(loaded),
                    static_cast<unsigned long long>(failed), open_seconds);
    else
        std::printf("IDLE connections=%d open=%d failed=%llu seconds=%.3f\n", opt_.conns, still,
                    static_cast<unsigned long long>(failed), held);
    std::fflush(stdout);
    return still == opt_.conns ? 0 : 1;
}

// The sum of VmRSS of --rss's processes, in KiB (a process that is gone counts 0).
std::uint64_t client::rss_kib() const {
    std::uint64_t total = 0;
    for (const auto& pid : opt_.rss_pids) {
        std::string path = "/proc/" + pid + "/status";
        std::FILE* f = std::fopen(path.c_str(), "r");
        if (f == nullptr) continue;
        char line[256];
        while (std::fgets(line, sizeof line, f) != nullptr)
            if (std::strncmp(line, "VmRSS:", 6) == 0) total += std::strtoull(line + 6, nullptr, 10);
        std::fclose(f);
    }
    return total;
}

int client::run() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < static_cast<rlim_t>(opt_.conns) + 20) {
        std::fprintf(stderr, "ws_load: %d connections need more than the %llu files allowed\n",
                     opt_.conns, static_cast<unsigned long long>(rl.rlim_cur));
        return 1;
    }
    if (!resolve()) return 1;
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    conns_.resize(static_cast<std::size_t>(opt_.conns));

    if (!opt_.rss_pids.empty()) {
        // The servers' resident set before the connections (after a moment, as idle_tls.py).
        poll_once(200);
        baseline_kib_ = rss_kib();
    }

    // Open every connection (at most connect_window handshakes at a time).
    auto t_open = clock_type::now();
    open_more();
    while (in_progress_ > 0 || next_to_open_ < opt_.conns) {
        poll_once(100);
        if (seconds_since(t_open) > 60) {
            std::fprintf(stderr, "ws_load: handshakes not done after 60 s\n");
            for (auto& c : conns_)
                if (c.state == state_type::connecting || c.state == state_type::handshake)
                    fail(c, n_.connect_errors);
            break;
        }
    }
    if (n_.connect_errors)
        std::fprintf(stderr, "ws_load: %llu of %d connections failed\n",
                     static_cast<unsigned long long>(n_.connect_errors), opt_.conns);
    if (opt_.mode == mode_type::idle && opt_.echo_once) {
        // One message each, echoed, before they go idle (sending_ is false: nothing follows).
        for (auto& c : conns_)
            if (c.state == state_type::open) {
                queue_message(c);
                flush(c);
            }
        auto t = clock_type::now();
        for (;;) {
            bool all = true;
            for (auto& c : conns_)
                if (c.state == state_type::open && c.received == 0) all = false;
            if (all) break;
            if (seconds_since(t) > 30) {
                std::fprintf(stderr, "ws_load: echoes missing after 30 s\n");
                for (auto& c : conns_)
                    if (c.state == state_type::open && c.received == 0) fail(c, n_.lost);
                break;
            }
            poll_once(100);
        }
    }
    double open_seconds = seconds_since(t_open);
    std::fprintf(stderr, "ws_load: %d connections open in %.3f s\n", open_, open_seconds);
    if (opt_.mode == mode_type::idle) return run_idle(open_seconds);
    if (opt_.mode == mode_type::fanout) {
        // The server may add a member to its room a little after its 101 went out: a moment
        // for the last ones, so that every member gets the first message published.
        auto t = clock_type::now();
        while (seconds_since(t) < 0.1)
            poll_once(10);
    }

    // The measured time.
    measuring_ = true;
    sending_ = true;
    auto t0 = clock_type::now();
    if (opt_.mode == mode_type::echo) {
        for (auto& c : conns_)
            if (c.state == state_type::open) {
                for (int i = 0; i < opt_.inflight; ++i)
                    queue_message(c);
                flush(c);
            }
    } else if (conns_[0].state == state_type::open) {
        for (int i = 0; i < opt_.inflight; ++i) {
            queue_message(conns_[0]);
            ++published_;
        }
        flush(conns_[0]);
    }
    auto t_end = t0 + std::chrono::duration_cast<clock_type::duration>(
                          std::chrono::duration<double>(opt_.duration));
    auto last_progress_at = t0;
    std::uint64_t last_progress = 0;
    for (;;) {
        auto now = clock_type::now();
        if (now >= t_end) break;
        int ms = static_cast<int>(
            std::chrono::duration_cast<std::chrono::milliseconds>(t_end - now).count());
        poll_once(std::clamp(ms, 0, 50));
        if (progress_ != last_progress) {
            last_progress = progress_;
            last_progress_at = clock_type::now();
        } else if (seconds_since(last_progress_at) > 1) {
            if (n_.stalls < 5)
                std::fprintf(stderr, "ws_load: no message for 1 s (%d connections open)\n", open_);
            ++n_.stalls;
            last_progress_at = clock_type::now();
        }
        if (open_ == 0) break;
    }
    double seconds = seconds_since(t0);
    return finish_load(opt_.mode == mode_type::echo ? "echo" : "fanout", seconds);
}

[[noreturn]] void usage(int status) {
    std::fputs("usage: ws_load [--echo|--fanout|--idle] [--conns N] [--inflight K] [--size BYTES]\n"
               "               [--duration SECONDS] [--text|--binary] [--connect-window W]\n"
               "               [--hold SECONDS] [--echo-once] [--rss PID[,PID...]]\n"
               "               HOST PORT PATH\n",
               status == 0 ? stdout : stderr);
    std::exit(status);
}

} // namespace

int main(int argc, char** argv) {
    options o;
    std::vector<std::string> pos;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage(2);
            return argv[++i];
        };
        if (a == "--echo") {
            o.mode = mode_type::echo;
        } else if (a == "--fanout") {
            o.mode = mode_type::fanout;
        } else if (a == "--idle") {
            o.mode = mode_type::idle;
        } else if (a == "--conns") {
            o.conns = std::atoi(value());
        } else if (a == "--inflight") {
            o.inflight = std::atoi(value());
        } else if (a == "--size") {
            o.size = static_cast<std::size_t>(std::strtoull(value(), nullptr, 10));
        } else if (a == "--duration") {
            o.duration = std::atof(value());
        } else if (a == "--text") {
            o.binary = false;
        } else if (a == "--binary") {
            o.binary = true;
        } else if (a == "--connect-window") {
            o.connect_window = std::atoi(value());
        } else if (a == "--hold") {
            o.hold = std::atof(value());
        } else if (a == "--echo-once") {
            o.echo_once = true;
        } else if (a == "--rss") {
            // PID[,PID...] (spaces also separate them)
            std::string list = value();
            std::size_t at = 0;
            while (at < list.size()) {
                std::size_t end = list.find_first_of(", ", at);
                if (end == std::string::npos) end = list.size();
                if (end > at) o.rss_pids.push_back(list.substr(at, end - at));
                at = end + 1;
            }
        } else if (a == "-h" || a == "--help") {
            usage(0);
        } else if (!a.empty() && a[0] == '-') {
            usage(2);
        } else {
            pos.emplace_back(a);
        }
    }
    if (pos.size() != 3) usage(2);
    o.host = pos[0];
    o.port = pos[1];
    o.path = pos[2];
    if (o.inflight < 0) o.inflight = o.mode == mode_type::fanout ? 8 : 4;
    if (o.conns < 1 || o.inflight < 1 || o.connect_window < 1 || o.duration <= 0) usage(2);
    if (o.mode == mode_type::fanout) o.binary = false; // chat rooms carry text
    return client(std::move(o)).run();
}
