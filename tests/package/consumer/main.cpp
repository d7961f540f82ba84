// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Takes and releases a lock through the installed headers and library.

#include <locknix/file_lock.hpp>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <unistd.h>

int main(int argc, char** argv) {
    using namespace std::chrono_literals;
    if (argc != 2) {
        std::fprintf(stderr, "usage: consumer LOCK_PATH\n");
        return 2;
    }
    try {
        locknix::file_lock lock(argv[1], {.lifetime = 10s, .clock_slop = 1s});
        lock.acquire(5s);
        const auto holder = lock.holder();
        if (!lock.is_held() || !holder || holder->pid != ::getpid()) {
            std::fprintf(stderr, "consumer: the lock is not ours after acquire\n");
            return 1;
        }
        lock.release();
        if (lock.state() != locknix::lock_state::unlocked) {
            std::fprintf(stderr, "consumer: the lock is still there after release\n");
            return 1;
        }
        {
            std::scoped_lock guard(lock); // TimedLockable
        }
        std::printf("consumer: took and released %s\n", lock.path().c_str());
    } catch (const boost::system::system_error& e) {
        std::fprintf(stderr, "consumer: %s\n", e.what());
        return 1;
    }
    return 0;
}
