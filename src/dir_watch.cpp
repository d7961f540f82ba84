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

dir_watch::dir_watch(const std::string& lock_path, bool watch_dir, bool wakeable) {
    const auto slash = lock_path.rfind('/');
    const std::string dir = slash == 0 ? "/" : lock_path.substr(0, slash);
    name_ = lock_path.substr(slash + 1);

    if (wakeable)
        wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!watch_dir)
        return;
    inotify_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_ < 0)
        return;
    if (::inotify_add_watch(inotify_, dir.c_str(), IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR) < 0) {
        ::close(inotify_);
        inotify_ = -1;
    }
}

dir_watch::~dir_watch() {
    if (inotify_ >= 0)
        ::close(inotify_);
    if (wake_ >= 0)
        ::close(wake_);
}

void dir_watch::wake() noexcept {
    if (wake_ < 0)
        return;
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_, &one, sizeof one);
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
    for (;;) {
        const auto left = until - clock::now();
        if (left <= clock::duration::zero())
            return false;
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(left);
        const struct timespec ts {
            static_cast<time_t>(secs.count()),
                static_cast<long>(std::chrono::nanoseconds(left - secs).count())
        };
        struct pollfd fds[2] = {{wake_, POLLIN, 0}, {inotify_, POLLIN, 0}};
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
