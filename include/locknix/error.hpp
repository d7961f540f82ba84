// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#ifndef LOCKNIX_ERROR_HPP
#define LOCKNIX_ERROR_HPP

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <type_traits>

namespace locknix {

/// Conditions that are specific to the lock protocol. Failures of the operating system keep their
/// errno and are reported in `boost::system::system_category()`.
enum class errc {
    /// The wait ended at its deadline without the lock.
    timed_out = 1,
    /// The lock object already holds the lock; acquiring again would deadlock.
    already_locked,
    /// The operation needs the lock, and the object does not hold it.
    not_locked,
    /// The object held the lock, but another process broke it (it expired) or removed it.
    lock_lost,
    /// The file at the lock path is not a lock of this protocol; it is never deleted.
    foreign_file,
    /// The lock path cannot be used (empty, names a directory, contains the separator `|`).
    bad_lock_path,
    /// The host name cannot be used in a claim name (empty, or contains `|` or `/`).
    bad_host_name,
    /// An option is out of range (a lifetime that is not positive, a negative slop, ...).
    bad_option,
};

/// The category of `errc` values; its name is "locknix".
const boost::system::error_category& locknix_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), locknix_category()};
}

} // namespace locknix

namespace boost::system {
template <>
struct is_error_code_enum<locknix::errc> : std::true_type {};
} // namespace boost::system

#endif
