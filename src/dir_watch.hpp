// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Early wake-ups for the blocking front end: inotify on the lock's directory reports the lock
// file's removal on a local file system. Network file systems do not report remote changes, so
// a waiter always polls as well; this only shortens the wait where it works.

#ifndef LOCKNIX_SRC_DIR_WATCH_HPP
#define LOCKNIX_SRC_DIR_WATCH_HPP

#include <chrono>
#include <string>

namespace locknix::detail {

class dir_watch {
public:
    /// With `watch_dir`, watches the directory of `lock_path` for the removal or renaming of its
    /// last component (if inotify is available). With `wakeable`, `wake` can end a wait from any
    /// thread.
    dir_watch(const std::string& lock_path, bool watch_dir, bool wakeable);
    ~dir_watch();

    dir_watch(const dir_watch&) = delete;
    dir_watch& operator=(const dir_watch&) = delete;

    /// Waits for `duration`, until the lock file is removed, or until woken, whichever comes
    /// first. Returns true when woken.
    bool wait_for(std::chrono::nanoseconds duration);

    /// Ends the current or the next wait. Async-signal-safe.
    void wake() noexcept;

private:
    bool drain_matches();

    int inotify_ = -1;
    int wake_ = -1;
    std::string name_;
};

} // namespace locknix::detail

#endif
