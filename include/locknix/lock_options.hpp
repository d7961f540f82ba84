// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#ifndef LOCKNIX_LOCK_OPTIONS_HPP
#define LOCKNIX_LOCK_OPTIONS_HPP

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>

namespace locknix {

class file_system;

/// How much a diagnostic message matters.
enum class log_level { debug, info, warning };

/// Receives diagnostics: who holds a lock, when a lock is broken, when a lock is lost. The hook
/// may be called from any thread that runs an operation of the lock, including a keep-alive
/// thread; it must not call back into the lock.
using logger = std::function<void(log_level, std::string_view message)>;

/// Settings of one lock object. Every field has a default, so `lock_options{}` is valid and
/// designated initializers can name just the fields they change.
struct lock_options {
    /// How long an acquisition or refresh keeps the lock alive. Another process may break the
    /// lock once `lifetime + clock_slop` has passed without a refresh. Must be positive.
    std::chrono::nanoseconds lifetime = std::chrono::seconds(15);

    /// The clock difference tolerated between hosts. A lock is breakable only when the
    /// breaker's wall clock is past the expiry by more than this. Must not be negative.
    std::chrono::nanoseconds clock_slop = std::chrono::seconds(10);

    /// The shortest and the longest pause between two polls of a contended lock. Each pause is
    /// drawn at random (full jitter) between the two, growing with every poll up to the longest.
    std::chrono::nanoseconds min_poll = std::chrono::milliseconds(5);
    std::chrono::nanoseconds max_poll = std::chrono::milliseconds(500);

    /// Wake a waiter as soon as the lock file is removed on a local file system (inotify).
    /// Polling always runs as well, because network file systems do not report remote changes.
    bool use_inotify = true;

    /// Diagnostics; empty means silent.
    logger log;

    /// The file-system seam every system call goes through; empty means the real one. Tests and
    /// simulations substitute their own.
    std::shared_ptr<file_system> fs;
};

} // namespace locknix

#endif
