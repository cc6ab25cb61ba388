// SPDX-License-Identifier: MIT
// An upgraded connection (101 Switching Protocols, CONNECT): the client's transport, driven
// by the application's reads and writes (upgraded_stream) instead of a protocol module. It
// lives on its worker's loop from the hand-over to the close, and still counts as one of the
// server's connections.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <vector>

#include "http/worker.hpp"
#include "loop/event_loop.hpp"
#include "loop/timer_heap.hpp"
#include "net/byte_buffer.hpp"
#include "net/connection.hpp"
#include "net/transport.hpp"
#include "upgrade/byte_stream.hpp"
#include "wharf/upgrade.hpp"

namespace wharf::detail {

class raw_connection final : public connection, public byte_stream {
  public:
    /// `already_read`: the client's bytes after the request head, read first.
    raw_connection(worker& w, std::unique_ptr<transport> io, const address& peer,
                   const address& local, byte_buffer&& already_read, upgrade_callback ready);
    ~raw_connection();

    bool start() override;
    void on_io(std::uint32_t events) override;
    void drain() override;
    void abort() override; // connection's and byte_stream's

    // byte_stream
    void write(std::span<const std::string_view> buffers, bool all, io_callback done) override;
    void read(std::span<char> buffer, io_callback done) override;
    void cancel() override;
    void close_gracefully() override;
    const address& peer() const noexcept override { return peer_; }
    const address& local() const noexcept override { return local_; }
    const tls_info* tls() const noexcept override { return io_ ? io_->tls() : nullptr; }

  private:
    void try_write();
    void try_read();
    void complete_write(std::error_code ec);
    void complete_read(std::error_code ec, std::size_t n);
    void send_fin();
    void linger();
    /// Closes the socket (a reset when `reset`); pending operations learn `why`.
    void close(std::error_code why, bool reset);
    void refresh_timer() override;
    void on_timeout();

    worker& worker_;
    std::unique_ptr<transport> io_;
    address peer_;
    address local_;
    byte_buffer in_; // the bytes read with the request, handed over first
    std::size_t in_at_ = 0;
    upgrade_callback ready_;
    timer timer_;

    // The pending write: its buffers as iovecs, from `first` on (the first one `skip` bytes
    // in), and what was written of them.
    std::vector<iovec> iov_;
    std::size_t first_ = 0;
    std::size_t written_ = 0;
    bool write_all_ = false;
    io_callback on_written_;

    std::span<char> read_into_;
    io_callback on_read_;

    std::int64_t linger_until_ = 0;
    bool readable_ = true;  // no read has hit EAGAIN since the last readiness edge
    bool writable_ = true;  // likewise for writes
    bool peer_eof_ = false; // the client's FIN was read
    bool fin_wanted_ = false;
    bool lingering_ = false; // FIN sent: draining the client until its FIN or a deadline
    bool closed_ = false;
};

/// The factory HTTP/1 hands an upgraded client to (server_state::make_raw).
connection* make_raw_connection(worker& w, std::unique_ptr<transport> io, const address& peer,
                                const address& local, byte_buffer&& already_read,
                                upgrade_callback ready);

} // namespace wharf::detail
