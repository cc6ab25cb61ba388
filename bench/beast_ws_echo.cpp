// beast_ws_echo: the Boost.Beast peer of bench/run's ws-* scenarios. One io_context run on one
// thread; every connection is a session doing the canonical Beast asynchronous echo:
// async_accept, then async_read into a flat_buffer, async_write of that buffer with the same
// text/binary flag, read again. permessage-deflate is off, auto_fragment off, and messages up
// to 64 MiB are read. Any path is accepted.
//
//   beast_ws_echo PORT [--chat] [--address A]
//
// --chat: every text message received goes to every session (the sender included), each
// session with a queue of shared_ptr<const std::string> and one async_write at a time (Beast's
// broadcast pattern); binary messages are dropped.
// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility> (GCC 12, C++20).
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

bool chat_mode = false;

class session;
std::unordered_set<session*> room; // chat: the sessions whose handshake is done

class session : public std::enable_shared_from_this<session> {
  public:
    explicit session(tcp::socket&& socket) : ws_(std::move(socket)) {}
    ~session() { room.erase(this); }

    void run() {
        ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        websocket::permessage_deflate pmd;
        pmd.server_enable = false;
        pmd.client_enable = false;
        ws_.set_option(pmd);
        ws_.auto_fragment(false);
        ws_.read_message_max(64u << 20);
        ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
            res.set(beast::http::field::server, "beast_ws_echo");
        }));
        ws_.async_accept(beast::bind_front_handler(&session::on_accept, shared_from_this()));
    }

    // Chat: queue a message for this session.
    void deliver(const std::shared_ptr<const std::string>& message) {
        queue_.push_back(message);
        if (queue_.size() > 1) return; // a write is in progress
        write_next();
    }

  private:
    void on_accept(beast::error_code ec) {
        if (ec) return;
        if (chat_mode) room.insert(this);
        do_read();
    }

    void do_read() {
        ws_.async_read(buffer_, beast::bind_front_handler(&session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) {
            room.erase(this);
            return;
        }
        if (chat_mode) {
            if (ws_.got_text()) {
                auto message =
                    std::make_shared<const std::string>(beast::buffers_to_string(buffer_.data()));
                // Copy the set: a failing delivery must not change it under the loop.
                std::vector<std::weak_ptr<session>> targets;
                targets.reserve(room.size());
                for (session* s : room)
                    targets.push_back(s->weak_from_this());
                for (auto& w : targets)
                    if (auto s = w.lock()) s->deliver(message);
            }
            buffer_.consume(buffer_.size());
            do_read();
            return;
        }
        ws_.text(ws_.got_text());
        ws_.async_write(buffer_.data(),
                        beast::bind_front_handler(&session::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        if (ec) return;
        buffer_.consume(buffer_.size());
        do_read();
    }

    void write_next() {
        ws_.text(true);
        ws_.async_write(asio::buffer(*queue_.front()),
                        beast::bind_front_handler(&session::on_chat_write, shared_from_this()));
    }

    void on_chat_write(beast::error_code ec, std::size_t) {
        if (ec) {
            room.erase(this);
            queue_.clear();
            return;
        }
        queue_.pop_front();
        if (!queue_.empty()) write_next();
    }

    websocket::stream<beast::tcp_stream> ws_;
    beast::flat_buffer buffer_;
    std::deque<std::shared_ptr<const std::string>> queue_;
};

class listener : public std::enable_shared_from_this<listener> {
  public:
    listener(asio::io_context& ioc, const tcp::endpoint& endpoint) : ioc_(ioc), acceptor_(ioc) {
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(asio::socket_base::max_listen_connections);
    }

    void do_accept() {
        // No strand: one thread runs the io_context, nothing needs one.
        acceptor_.async_accept(ioc_,
                               beast::bind_front_handler(&listener::on_accept, shared_from_this()));
    }

  private:
    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (!ec) {
            beast::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            std::make_shared<session>(std::move(socket))->run();
        } else if (ec == asio::error::no_descriptors) {
            std::fprintf(stderr, "beast_ws_echo: accept: %s\n", ec.message().c_str());
        }
        do_accept();
    }

    asio::io_context& ioc_;
    tcp::acceptor acceptor_;
};

} // namespace

int main(int argc, char** argv) {
    std::string address = "127.0.0.1";
    int port = -1;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--chat") {
            chat_mode = true;
        } else if (a == "--address" && i + 1 < argc) {
            address = argv[++i];
        } else if (!a.empty() && a[0] != '-' && port < 0) {
            port = std::atoi(argv[i]);
        } else {
            std::fprintf(stderr, "usage: beast_ws_echo PORT [--chat] [--address A]\n");
            return 2;
        }
    }
    if (port < 0 || port > 65535) {
        std::fprintf(stderr, "usage: beast_ws_echo PORT [--chat] [--address A]\n");
        return 2;
    }
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    try {
        asio::io_context ioc{1};
        std::make_shared<listener>(
            ioc, tcp::endpoint{asio::ip::make_address(address), static_cast<unsigned short>(port)})
            ->do_accept();
        asio::signal_set signals(ioc, SIGINT, SIGTERM);
        signals.async_wait([&ioc](beast::error_code, int) { ioc.stop(); });
        std::fprintf(stderr, "beast_ws_echo: listening on %s:%d%s (Boost %d.%d)\n", address.c_str(),
                     port, chat_mode ? ", chat" : "", BOOST_VERSION / 100000,
                     BOOST_VERSION / 100 % 1000);
        ioc.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "beast_ws_echo: %s\n", e.what());
        return 1;
    }
    return 0;
}
