// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// inotify, the service's wake-up for local file systems: a prober whose next poll is an hour
// away takes the lock as soon as another process removes it (once the watch is in place), and
// the descriptor's pending read does not keep io_context::run() going once every wait is over. A
// minute-long watchdog turns a missing wake-up into a failure instead of an hour-long wait.

#include "support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>

namespace locknix::test {
namespace {

using namespace std::chrono_literals;
namespace data = boost::unit_test::data;

struct where {
    const char* name;
    async_options options;
};

std::ostream& operator<<(std::ostream& out, const where& w) {
    return out << w.name;
}

const std::vector<where> modes{{"thread_pool", {syscall_mode::thread_pool}},
                               {"event_loop", {syscall_mode::event_loop}}};

/// The number of inotify watches of this process, from /proc/self/fdinfo. The service adds its
/// watch on the pool after the prober's first probe; the kernel is the only witness.
std::size_t inotify_watches() {
    std::size_t watches = 0;
    for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        if (std::filesystem::read_symlink(fd.path(), ec).string() != "anon_inode:inotify")
            continue;
        std::ifstream info("/proc/self/fdinfo/" + fd.path().filename().string());
        std::string line;
        while (std::getline(info, line))
            if (line.starts_with("inotify wd:"))
                ++watches;
    }
    return watches;
}

} // namespace

BOOST_AUTO_TEST_SUITE(inotify)

BOOST_DATA_TEST_CASE(prober_wakes_when_another_process_releases, data::make(modes), mode) {
    using namespace asio::experimental::awaitable_operators;
    temp_dir dir;
    const auto path = dir / "lock";
    const auto planted = plant_lock(path, "elsewhere", 4242, whole_second_now() + 1h);
    auto fs = std::make_shared<fault_fs>();
    auto counted = std::make_shared<counting_fs>(fs);
    auto options = test_options(fs);
    options.fs = counted;
    options.use_inotify = true;
    options.min_poll = options.max_poll = 1h; // only inotify can wake the prober in time
    asio::io_context io;

    // The first read of the steady clock after the first link decides the poll wait, on the
    // event loop, which then arms the poll timer (see the cancellation suite).
    std::atomic<bool> linked{false};
    async_event polling(io);
    fs->add_hook({fs_op::link, hook_phase::after, path_is(path), 0, 1, [&](const fs_call&) {
                      linked = true;
                  }});
    counted->on_steady_now([&] {
        if (linked.exchange(false))
            polling.notify();
    });

    {
        async_file_lock waiter(io.get_executor(), path, options, mode.options);
        run_coroutine(io, [&]() -> asio::awaitable<void> {
            asio::steady_timer watchdog(io, 1min);
            async_event acquired(io);
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    co_await polling.wait();
                    while (inotify_watches() == 0)
                        co_await asio::post(io, asio::use_awaitable);
                    remove_file(path);
                    remove_file(planted);
                },
                asio::detached);
            const auto first = co_await (waiter.async_acquire(2h, asio::use_awaitable) ||
                                         watchdog.async_wait(asio::use_awaitable));
            BOOST_TEST(first.index() == 0u, "woken by inotify, not by the watchdog");
            BOOST_TEST(read_file(path) == waiter.claim_path());
            co_await waiter.release();
        }());
    }
    counted->on_steady_now({});
    drain(io);
    BOOST_TEST(dir.names().empty());
}

BOOST_AUTO_TEST_CASE(run_returns_once_every_wait_is_over) {
    temp_dir dir;
    const auto path = dir / "lock";
    auto fs = std::make_shared<fault_fs>();
    const auto planted = plant_lock(path, "elsewhere", 4242, whole_second_now() + 1h);
    // The other process releases just before our second probe: we waited once, with inotify.
    fs->add_hook({fs_op::link, hook_phase::before, path_is(path), 1, 1, [&](const fs_call&) {
                      remove_file(path);
                      remove_file(planted);
                  }});
    auto options = test_options(fs);
    options.use_inotify = true;
    asio::io_context io;
    async_file_lock lock(io.get_executor(), path, options);

    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await lock.acquire(10s);
            co_await lock.release();
            done = true;
        },
        asio::detached);
    auto ran = std::async(std::launch::async, [&] { io.run(); });
    const bool returned = ran.wait_for(1min) == std::future_status::ready;
    if (!returned)
        io.stop();
    ran.wait();
    BOOST_TEST(done);
    BOOST_TEST(fs->count(fs_op::link) == 2u, "one wait between two probes");
    BOOST_TEST(returned, "run() returned once the wait was over");
}

// A lock acquired after a wait with inotify is held with no waiter left: the directory watch
// goes with the last waiter, so that run() returns while the lock is held.
BOOST_AUTO_TEST_CASE(run_returns_while_a_lock_acquired_after_a_wait_is_held) {
    temp_dir dir;
    const auto path = dir / "lock";
    auto fs = std::make_shared<fault_fs>();
    const auto planted = plant_lock(path, "elsewhere", 4242, whole_second_now() + 1h);
    // The other process releases just before our second probe: we waited once, with inotify.
    fs->add_hook({fs_op::link, hook_phase::before, path_is(path), 1, 1, [&](const fs_call&) {
                      remove_file(path);
                      remove_file(planted);
                  }});
    auto options = test_options(fs);
    options.use_inotify = true;
    asio::io_context io;
    async_file_lock lock(io.get_executor(), path, options);

    bool acquired = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await lock.acquire(10s);
            acquired = true;
        },
        asio::detached);
    auto ran = std::async(std::launch::async, [&] { io.run(); });
    const bool returned = ran.wait_for(1min) == std::future_status::ready;
    if (!returned)
        io.stop();
    ran.wait();
    BOOST_TEST(acquired);
    BOOST_TEST(returned, "run() returned once the wait was over");

    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await lock.release();
    }());
}

// The watch is added on the pool after the probe that found the lock held. A release between
// that probe and the watch raises no event, so the prober looks once more when the watch is in
// place, instead of sleeping until its next poll (an hour here). Both pool threads are kept
// busy so that the watch is added only after the release.
BOOST_AUTO_TEST_CASE(release_before_the_watch_is_in_place_is_not_missed) {
    using namespace asio::experimental::awaitable_operators;
    temp_dir dir;
    const auto path = dir / "lock";
    const auto planted = plant_lock(path, "elsewhere", 4242, whole_second_now() + 1h);
    auto fs = std::make_shared<fault_fs>();
    auto counted = std::make_shared<counting_fs>(fs);
    asio::io_context io;

    // Two objects on other paths whose links wait at a gate: they occupy the pool.
    gate busy;
    async_event pool_busy(io);
    std::atomic<int> blocked{0};
    fs->add_hook(
        {fs_op::link, hook_phase::before, path_contains("/busy-"), 0, 2, [&](const fs_call&) {
             if (++blocked == 2)
                 pool_busy.notify();
             busy.wait_here();
         }});
    async_file_lock busy0(io.get_executor(), dir / "busy-0", test_options(fs));
    async_file_lock busy1(io.get_executor(), dir / "busy-1", test_options(fs));

    // The waiter runs its own system calls on the loop, and waits an hour between polls.
    auto options = test_options(fs);
    options.fs = counted;
    options.use_inotify = true;
    options.min_poll = options.max_poll = 1h;
    async_file_lock waiter(io.get_executor(), path, options, {syscall_mode::event_loop});
    std::atomic<bool> linked{false};
    async_event polling(io);
    fs->add_hook({fs_op::link, hook_phase::after, path_is(path), 0, 1, [&](const fs_call&) {
                      linked = true;
                  }});
    counted->on_steady_now([&] {
        if (linked.exchange(false))
            polling.notify();
    });

    run_coroutine(io, [&]() -> asio::awaitable<void> {
        busy0.async_acquire(1s, [](error_code) {});
        busy1.async_acquire(1s, [](error_code) {});
        co_await pool_busy.wait();

        asio::steady_timer watchdog(io, 1min);
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                co_await polling.wait();
                remove_file(path); // released before the watch can be added
                remove_file(planted);
                busy.open();
            },
            asio::detached);
        const auto first = co_await (waiter.async_acquire(2h, asio::use_awaitable) ||
                                     watchdog.async_wait(asio::use_awaitable));
        BOOST_TEST(first.index() == 0u, "the release was seen, not slept through");
    }());
    counted->on_steady_now({});
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace locknix::test
