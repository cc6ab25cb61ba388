// SPDX-License-Identifier: MIT
#include "wharf/error.hpp"

#include <string>

namespace wharf {
namespace {

class category final : public std::error_category {
  public:
    const char* name() const noexcept override { return "wharf"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::ok:
            return "success";
        case errc::canceled:
            return "operation canceled";
        case errc::closed:
            return "connection closed";
        case errc::connection_reset:
            return "connection reset by peer";
        case errc::timed_out:
            return "timed out";
        case errc::no_memory:
            return "out of memory or buffer limit reached";
        case errc::busy:
            return "another operation is pending";
        case errc::invalid_argument:
            return "invalid argument";
        case errc::address_in_use:
            return "address already in use";
        case errc::permission_denied:
            return "permission denied";
        case errc::too_many_files:
            return "too many open files";
        case errc::would_block:
            return "operation would block";
        }
        return "unknown wharf error";
    }
};

} // namespace

const std::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace wharf
