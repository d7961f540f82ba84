// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "dir_watch.hpp"

#include <cerrno>
#include <climits>
#include <cstdint>
#include <ctime>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace locknix::detail {

dir_watch::dir_watch(const std::string& lock_path) {
    const auto slash = lock_path.rfind('/');
    dir_ = slash == 0 ? "/" : lock_path.substr(0, slash);
    name_ = lock_path.substr(slash + 1);
}

dir_watch::~dir_watch() {
    close_all();
}

void dir_watch::close_all() noexcept {
    if (inotify_ >= 0)
        ::close(inotify_);
    if (wake_ >= 0)
        ::close(wake_);
    inotify_ = watch_ = wake_ = -1;
}

void dir_watch::arm(bool watch_dir, bool wakeable) {
    const int pid = static_cast<int>(::getpid());
    if (pid != owner_pid_) {
        // Descriptors inherited over a fork share their queues with the parent: a read here
        // would take the parent's events. Closing them here leaves the parent's open.
        close_all();
        inotify_failed_ = false;
        owner_pid_ = pid;
    }

    if (wakeable && wake_ < 0)
        wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    drain_wakes();

    if (!watch_dir)
        return;
    if (inotify_ < 0 && !inotify_failed_) {
        inotify_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        inotify_failed_ = inotify_ < 0; // the per-user limit of instances: poll only
    }
    if (inotify_ < 0)
        return;
    drain_matches(); // the events of earlier waits
    if (watch_ < 0)
        watch_ =
            ::inotify_add_watch(inotify_, dir_.c_str(), IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR);
}

void dir_watch::disarm() noexcept {
    if (watch_ >= 0 && inotify_ >= 0 && owner_pid_ == static_cast<int>(::getpid()))
        ::inotify_rm_watch(inotify_, watch_);
    watch_ = -1;
}

void dir_watch::wake() noexcept {
    if (wake_ < 0)
        return;
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_, &one, sizeof one);
}

void dir_watch::drain_wakes() noexcept {
    if (wake_ < 0)
        return;
    std::uint64_t count = 0;
    [[maybe_unused]] const auto n = ::read(wake_, &count, sizeof count);
}

bool dir_watch::drain_matches() {
    alignas(struct inotify_event) char buffer[8 * (sizeof(struct inotify_event) + NAME_MAX + 1)];
    bool matched = false;
    for (;;) {
        const ssize_t n = ::read(inotify_, buffer, sizeof buffer);
        if (n <= 0)
            return matched;
        for (ssize_t at = 0; at < n;) {
            const auto* event = reinterpret_cast<const struct inotify_event*>(buffer + at);
            if ((event->mask & IN_Q_OVERFLOW) || (event->len > 0 && name_ == event->name))
                matched = true;
            at += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
        }
    }
}

bool dir_watch::wait_for(std::chrono::nanoseconds duration) {
    using clock = std::chrono::steady_clock;
    const auto until = clock::now() + duration;
    const int watched = watch_ >= 0 ? inotify_ : -1;
    for (;;) {
        const auto left = until - clock::now();
        if (left <= clock::duration::zero())
            return false;
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(left);
        const struct timespec ts {
            static_cast<time_t>(secs.count()),
                static_cast<long>(std::chrono::nanoseconds(left - secs).count())
        };
        struct pollfd fds[2] = {{wake_, POLLIN, 0}, {watched, POLLIN, 0}};
        // poll(2) ignores negative descriptors, so this sleeps when neither is open.
        const int r = ::ppoll(fds, 2, &ts, nullptr);
        if (r < 0 && errno != EINTR)
            return false;
        if (r > 0 && (fds[0].revents & POLLIN))
            return true;
        if (r > 0 && (fds[1].revents & POLLIN) && drain_matches())
            return false;
    }
}

} // namespace locknix::detail
