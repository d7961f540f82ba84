// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include <locknix/error.hpp>

#include <string>

namespace locknix {
namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "locknix"; }

    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::timed_out:
            return "timed out waiting for the lock";
        case errc::already_locked:
            return "this lock object already holds the lock";
        case errc::not_locked:
            return "this lock object does not hold the lock";
        case errc::lock_lost:
            return "the lock was lost: another process broke or removed it";
        case errc::foreign_file:
            return "the file at the lock path is not a lock";
        case errc::bad_lock_path:
            return "the lock path cannot be used";
        case errc::bad_host_name:
            return "the host name cannot be used in a claim name";
        case errc::bad_option:
            return "a lock option is out of range";
        }
        return "unknown locknix error " + std::to_string(value);
    }
};

} // namespace

const boost::system::error_category& locknix_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace locknix
