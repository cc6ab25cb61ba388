// SPDX-License-Identifier: MIT
#include "ws/deflate.hpp"

#include <zlib.h>

#include <array>

namespace wharf::detail::ws {
namespace {

constexpr char tail[4] = {0x00, 0x00, static_cast<char>(0xFF), static_cast<char>(0xFF)};
constexpr std::size_t piece_size = 16384;
// Compression memory: 2^(bits+2) + 2^(mem_level+9) bytes; level 6 is zlib's default speed.
constexpr int mem_level = 8;
constexpr int level = 6;

} // namespace

struct inflater::state {
    z_stream z{};
    bool ready = false;
    ~state() {
        if (ready) inflateEnd(&z);
    }
};

inflater::inflater(bool reset_each_message)
    : s_(std::make_unique<state>()), reset_each_message_(reset_each_message) {}

inflater::~inflater() = default;

inflater::result inflater::inflate(std::string_view in, bool last, std::size_t budget, sink out,
                                   void* context) {
    if (!s_->ready) {
        // A window of 15 bits inflates whatever window the client compressed with.
        if (inflateInit2(&s_->z, -15) != Z_OK) return result::corrupt;
        s_->ready = true;
    }
    z_stream& z = s_->z;
    std::array<char, piece_size> piece;
    const auto run = [&](std::string_view input) {
        if (!input.empty()) stream_ended_ = false;
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
        z.avail_in = static_cast<uInt>(input.size());
        do {
            z.next_out = reinterpret_cast<Bytef*>(piece.data());
            z.avail_out = static_cast<uInt>(piece.size());
            const int rc = ::inflate(&z, Z_SYNC_FLUSH);
            // What came out before an error counts first: the answer must not depend on
            // how the input was split.
            const std::size_t n = piece.size() - z.avail_out;
            const std::size_t room = budget - std::min(budget, produced_);
            if (n > room) { // what fits is handed over first, as smaller pieces would have been
                if (room > 0) out(context, {piece.data(), room});
                return result::too_big;
            }
            produced_ += n;
            if (n > 0) out(context, {piece.data(), n});
            if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) return result::corrupt;
            if (rc == Z_STREAM_END) {
                // A block with BFINAL set (RFC 7692 §7.2.3.4): what follows starts a new
                // stream. When nothing does, the tail belongs to the ended one: skip it.
                inflateReset(&z);
                stream_ended_ = true;
                if (z.avail_in == 0) break;
                stream_ended_ = false;
                continue;
            }
            if (n == 0 && (z.avail_in == 0 || rc == Z_BUF_ERROR)) break;
        } while (z.avail_in > 0 || z.avail_out == 0);
        return result::ok;
    };
    result r = run(in);
    if (r == result::ok && last) {
        if (!stream_ended_) r = run({tail, sizeof tail});
        stream_ended_ = false;
        produced_ = 0;
        if (reset_each_message_) inflateReset(&z);
    }
    if (r != result::ok) produced_ = 0;
    return r;
}

struct deflater::state {
    z_stream z{};
    bool ready = false;
    int window_bits = 15;
    ~state() {
        if (ready) deflateEnd(&z);
    }
};

deflater::deflater(int window_bits, bool context_takeover)
    : s_(std::make_unique<state>()), context_takeover_(context_takeover) {
    s_->window_bits = window_bits;
}

deflater::~deflater() = default;

bool deflater::compress(std::string_view message, std::string& out) {
    z_stream& z = s_->z;
    if (!s_->ready) {
        if (deflateInit2(&z, level, Z_DEFLATED, -s_->window_bits, mem_level, Z_DEFAULT_STRATEGY) !=
            Z_OK)
            return false;
        s_->ready = true;
    }
    const std::size_t start = out.size();
    out.resize(start + deflateBound(&z, static_cast<uLong>(message.size())) + 16);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
    z.avail_in = static_cast<uInt>(message.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data() + start);
    z.avail_out = static_cast<uInt>(out.size() - start);
    int rc = deflate(&z, Z_SYNC_FLUSH);
    while (rc == Z_OK && z.avail_out == 0) { // deflateBound is an estimate: make room
        const std::size_t used = out.size() - start;
        out.resize(out.size() + piece_size);
        z.next_out = reinterpret_cast<Bytef*>(out.data() + start + used);
        z.avail_out = piece_size;
        rc = deflate(&z, Z_SYNC_FLUSH);
    }
    const std::size_t produced = out.size() - start - z.avail_out;
    if (!context_takeover_) deflateReset(&z);
    if ((rc != Z_OK && rc != Z_BUF_ERROR) || produced < 4) {
        out.resize(start);
        reset();
        return false;
    }
    out.resize(start + produced - 4); // the flush's 00 00 FF FF
    return true;
}

void deflater::reset() {
    if (s_->ready) deflateReset(&s_->z);
}

deflater& shared_deflater(int window_bits) {
    thread_local std::array<std::unique_ptr<deflater>, 16> by_bits;
    auto& d = by_bits[static_cast<std::size_t>(window_bits) & 15];
    if (!d) d = std::make_unique<deflater>(window_bits, false);
    return *d;
}

} // namespace wharf::detail::ws
