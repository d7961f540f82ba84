// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Early wake-ups for the blocking front end: inotify on the lock's directory reports the lock
// file's removal on a local file system. Network file systems do not report remote changes, so
// a waiter always polls as well; this only shortens the wait where it works.
//
// A lock object keeps its descriptors from its first wait to its destruction and only adds and
// removes the directory watch around each wait: closing an inotify descriptor waits for an RCU
// grace period (milliseconds), which would otherwise delay every acquisition after a wait.

#ifndef LOCKNIX_SRC_DIR_WATCH_HPP
#define LOCKNIX_SRC_DIR_WATCH_HPP

#include <chrono>
#include <string>

namespace locknix::detail {

class dir_watch {
public:
    explicit dir_watch(const std::string& lock_path);
    ~dir_watch();

    dir_watch(const dir_watch&) = delete;
    dir_watch& operator=(const dir_watch&) = delete;

    /// Starts a wait: with `watch_dir`, watches the directory for the removal or renaming of the
    /// lock file (if inotify is available); with `wakeable`, lets `wake` end it from any thread.
    /// Forgets the events and wake-ups of earlier waits. In a forked child, takes descriptors of
    /// its own first.
    void arm(bool watch_dir, bool wakeable);

    /// Ends a wait: removes the directory watch.
    void disarm() noexcept;

    /// Waits for `duration`, until the lock file is removed, or until woken, whichever comes
    /// first. Returns true when woken.
    bool wait_for(std::chrono::nanoseconds duration);

    /// Ends the current or the next wait. Async-signal-safe.
    void wake() noexcept;

private:
    bool drain_matches();
    void drain_wakes() noexcept;
    void close_all() noexcept;

    std::string dir_;
    std::string name_;
    int owner_pid_ = -1;
    int inotify_ = -1;
    int watch_ = -1;
    int wake_ = -1;
    bool inotify_failed_ = false;
};

} // namespace locknix::detail

#endif
