// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#ifndef LOCKNIX_LOCK_STATE_HPP
#define LOCKNIX_LOCK_STATE_HPP

#include <chrono>
#include <string>
#include <string_view>

namespace locknix {

/// Who holds a lock, as read from the lock file. The same for a lock held by locknix and by
/// flufl.lock, because both write the holder's claim path into the shared inode.
struct holder_info {
    /// The host name the holder wrote into its claim.
    std::string host;
    /// The holder's process identifier on that host.
    int pid = 0;
    /// The holder's claim file: `<lock path>|<host>|<pid>|<random>`.
    std::string claim;
    /// When the lock expires, on the holder's clock (the mtime of the shared inode).
    std::chrono::system_clock::time_point expiry;
};

/// What a look at the lock path finds, from the point of view of one lock object.
enum class lock_state {
    /// No file at the lock path.
    unlocked,
    /// This object holds the lock and it has not expired.
    held_by_us,
    /// This object holds the lock, but its expiry has passed: another process may break it once
    /// the clock slop has passed too. Refresh it.
    held_by_us_expired,
    /// Another claim holds the lock and it may not be broken yet.
    held_by_other,
    /// Another claim holds the lock and it is past expiry plus slop: the next waiter breaks it.
    held_by_other_breakable,
    /// The file at the lock path is not a lock (a symbolic link, a directory, or content that is
    /// not a claim of this lock path). It is never deleted.
    not_a_lock,
};

/// "unlocked", "held_by_us", ... as in the enumeration; used by diagnostics and the command line.
std::string_view to_string(lock_state state) noexcept;

} // namespace locknix

#endif
