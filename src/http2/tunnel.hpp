// SPDX-License-Identifier: MIT
// An HTTP/2 stream after a 2xx to an extended CONNECT (RFC 8441): the client's DATA is what
// the application reads, its writes go out as the response's DATA, and END_STREAM is the FIN.
// The stream's flow control bounds both directions: a WINDOW_UPDATE follows what was read,
// and writes lend their buffers to DATA frames as nghttp2 lets them out.
#pragma once

#include <cstdint>
#include <memory>

#include "loop/timer_heap.hpp"
#include "upgrade/byte_stream.hpp"

namespace wharf::http2 {

class stream;

class tunnel final : public detail::byte_stream {
  public:
    explicit tunnel(stream& s);
    ~tunnel() override;

    // byte_stream
    void write(std::span<const std::string_view> buffers, bool all, io_callback done) override;
    void read(std::span<char> buffer, io_callback done) override;
    void cancel() override;
    void close_gracefully() override;
    void abort() override;
    const address& peer() const noexcept override;
    const address& local() const noexcept override;
    const tls_info* tls() const noexcept override;

    // What the stream tells it.
    /// DATA came (or END_STREAM): a pending read may complete.
    void data_arrived();
    /// Some of what the application wrote was framed.
    void wrote_some();
    /// The stream is gone (`why`): pending operations learn it, nothing touches the stream after.
    void stream_closed(std::error_code why);
    /// The server shuts down gracefully: the stop token is requested.
    void drain() { stop_.request_stop(); }

  private:
    struct write_op;

    void refresh_timer() override;
    void on_timeout();
    void try_read();
    void complete_read(std::error_code ec, std::size_t n);
    /// Consumes (and drops) what the client sends once reading is over.
    void discard_input();
    void end(std::error_code why, std::uint32_t rst_code);

    stream* s_;
    detail::timer timer_;
    std::span<char> read_into_;
    io_callback on_read_;
    std::shared_ptr<write_op> write_;
    std::int64_t linger_until_ = 0;
    bool fin_sent_ = false; // END_STREAM queued: waiting for the client's
    bool closed_ = false;
};

} // namespace wharf::http2
