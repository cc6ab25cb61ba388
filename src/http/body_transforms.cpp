// SPDX-License-Identifier: MIT
#include "http/body_transforms.hpp"

#include <unistd.h>

#include <cerrno>
#include <deque>

#include "http/access.hpp"

namespace wharf::detail {

std::error_code transform_chain::run(std::string_view in, body_transform::boundary end,
                                     std::string& out) {
    std::string_view input = in;
    for (std::size_t i = 0; i < stages_.size(); ++i) {
        const bool last = i + 1 == stages_.size();
        std::string& into = last ? out : scratch_[i % 2];
        if (!last) into.clear();
        if (auto ec = stages_[i]->transform(input, end, into)) return ec;
        input = into;
    }
    return {};
}

void transform_chain::abandon(response& res) {
    for (auto& stage : stages_)
        stage->abandon(res);
}

namespace {

constexpr std::size_t read_size = 32 * 1024;

/// Files and sources (and the memory between them) pulled through a chain as the protocol
/// reads, so that a transformed file or stream costs one read buffer, not its size.
class transforming_source final : public body_source,
                                  public std::enable_shared_from_this<transforming_source> {
  public:
    transforming_source(std::deque<body_piece> inputs, std::shared_ptr<transform_chain> chain,
                        body_transform::boundary end)
        : inputs_(std::move(inputs)), chain_(std::move(chain)), end_(end) {}

    ~transforming_source() override { drop_inputs(make_error_code(std::errc::operation_canceled)); }

    source_read read(char* buf, std::size_t len) override {
        for (;;) {
            if (taken_ < output_.size()) {
                const std::size_t n = std::min(len, output_.size() - taken_);
                output_.copy(buf, n, taken_);
                taken_ += n;
                if (taken_ == output_.size()) {
                    output_.clear();
                    taken_ = 0;
                }
                return source_read::got(n);
            }
            if (ended_) return source_read::finished();
            if (inputs_.empty()) {
                if (auto ec = chain_->run({}, end_, output_)) return source_read::failure(ec);
                ended_ = true;
                continue;
            }
            const source_read step = pull(inputs_.front());
            if (step.status != source_read::data) return step; // blocked or failed
        }
    }

    void on_release(std::error_code result) override { drop_inputs(result); }

  private:
    // Feeds the chain from `piece`; `data` means "go on" (the output may still be empty).
    source_read pull(body_piece& piece) {
        using boundary = body_transform::boundary;
        std::error_code ec;
        switch (piece.kind) {
        case body_piece::bytes:
            ec = chain_->run(piece.data, boundary::none, output_);
            break;
        case body_piece::borrowed:
            ec = chain_->run(piece.view, boundary::none, output_);
            break;
        case body_piece::file: {
            if (piece.range.length == 0) break;
            scratch_.resize(read_size);
            const std::size_t want =
                static_cast<std::size_t>(std::min<std::uint64_t>(read_size, piece.range.length));
            const ssize_t got = ::pread(piece.range.fd, scratch_.data(), want,
                                        static_cast<off_t>(piece.range.offset));
            if (got < 0 && errno == EINTR) return source_read::got(0);
            if (got <= 0) {
                ec = got < 0 ? std::error_code(errno, std::system_category())
                             : make_error_code(std::errc::io_error); // the file shrank
                break;
            }
            piece.range.offset += static_cast<std::uint64_t>(got);
            piece.range.length -= static_cast<std::uint64_t>(got);
            ec = chain_->run({scratch_.data(), static_cast<std::size_t>(got)}, boundary::none,
                             output_);
            if (!ec && piece.range.length > 0) return source_read::got(0);
            break;
        }
        case body_piece::source: {
            hook(*piece.src);
            scratch_.resize(read_size);
            const source_read r = piece.src->read(scratch_.data(), scratch_.size());
            if (r.status == source_read::would_block || r.status == source_read::failed) return r;
            if (r.status == source_read::data) {
                ec = chain_->run({scratch_.data(), r.bytes}, boundary::none, output_);
                if (!ec) return source_read::got(0);
            }
            break; // end
        }
        }
        if (ec) return source_read::failure(ec);
        piece.finish({});
        inputs_.pop_front();
        return source_read::got(0);
    }

    // An inner source's wake-up is this source's wake-up.
    void hook(body_source& inner) {
        if (hooked_ == &inner) return;
        hooked_ = &inner;
        source_access::set_readable_hook(inner, [weak = weak_from_this()] {
            if (auto self = weak.lock()) self->notify_readable();
        });
    }

    void drop_inputs(std::error_code why) {
        for (auto& piece : inputs_)
            piece.finish(why);
        inputs_.clear();
    }

    std::deque<body_piece> inputs_;
    std::shared_ptr<transform_chain> chain_;
    body_transform::boundary end_;
    std::string output_;
    std::size_t taken_ = 0;
    std::string scratch_;
    const body_source* hooked_ = nullptr;
    bool ended_ = false;
};

} // namespace

std::error_code transform_body(response& res, const std::shared_ptr<transform_chain>& chain,
                               bool final) {
    using boundary = body_transform::boundary;
    const boundary end = final ? boundary::finish : boundary::flush;
    auto& pieces = response_access::pieces(res);
    std::string& memory = response_access::memory(res);
    response_access::forget_declared_length(res);

    bool memory_only = true;
    for (const auto& piece : pieces)
        memory_only =
            memory_only && (piece.kind == body_piece::bytes || piece.kind == body_piece::borrowed);
    if (memory_only) {
        std::string out;
        std::error_code ec;
        for (auto& piece : pieces) {
            if (!ec)
                ec = chain->run(piece.kind == body_piece::bytes ? std::string_view(piece.data)
                                                                : piece.view,
                                boundary::none, out);
            piece.finish({});
        }
        pieces.clear();
        if (!ec) ec = chain->run(memory, end, out);
        memory = std::move(out);
        return ec;
    }
    std::deque<body_piece> inputs;
    for (auto& piece : pieces)
        inputs.push_back(std::move(piece));
    pieces.clear();
    if (!memory.empty()) {
        body_piece tail;
        tail.kind = body_piece::bytes;
        tail.data = std::move(memory);
        inputs.push_back(std::move(tail));
        memory.clear();
    }
    body_piece transformed;
    transformed.kind = body_piece::source;
    transformed.src = std::make_shared<transforming_source>(std::move(inputs), chain, end);
    pieces.push_back(std::move(transformed));
    return {};
}

} // namespace wharf::detail
