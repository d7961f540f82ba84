// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "dir_watch.hpp"

#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace locknix::detail {

dir_watch::dir_watch(const std::string& lock_path) {
    const auto slash = lock_path.rfind('/');
    const std::string dir = slash == 0 ? "/" : lock_path.substr(0, slash);
    name_ = lock_path.substr(slash + 1);

    fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0)
        return;
    if (::inotify_add_watch(fd_, dir.c_str(), IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR) < 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

dir_watch::~dir_watch() {
    if (fd_ >= 0)
        ::close(fd_);
}

bool dir_watch::drain_matches() {
    alignas(struct inotify_event) char buffer[8 * (sizeof(struct inotify_event) + NAME_MAX + 1)];
    bool matched = false;
    for (;;) {
        const ssize_t n = ::read(fd_, buffer, sizeof buffer);
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

void dir_watch::wait_for(std::chrono::nanoseconds duration) {
    using clock = std::chrono::steady_clock;
    const auto until = clock::now() + duration;
    for (;;) {
        const auto left = until - clock::now();
        if (left <= clock::duration::zero())
            return;
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(left);
        const struct timespec ts {
            static_cast<time_t>(secs.count()),
                static_cast<long>(std::chrono::nanoseconds(left - secs).count())
        };
        if (fd_ < 0) {
            ::nanosleep(&ts, nullptr);
            continue;
        }
        struct pollfd p {
            fd_, POLLIN, 0
        };
        const int r = ::ppoll(&p, 1, &ts, nullptr);
        if (r > 0 && drain_matches())
            return;
        if (r < 0 && errno != EINTR)
            return;
    }
}

} // namespace locknix::detail
