// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Behaviours of the async front end that are wrong today. Each case states what the design or
// the API promises and fails until the library is fixed; then it moves to its suite. Built only
// with -DLOCKNIX_ASYNC_KNOWN_BUGS=ON, never part of ctest.

#include "support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <future>
#include <optional>
#include <vector>

namespace locknix::test {
namespace {

using namespace std::chrono_literals;

} // namespace

BOOST_AUTO_TEST_SUITE(known_bugs)

// Design, algorithm requirement 8: "Many waiters on one path in one process cost one prober's
// syscalls, not one per waiter." lock_service::finish() ends with promote(), which cancels the
// poll timer of a polling first waiter whenever the path has no holder in this process, so that
// it probes at once. Any waiter behind it that is cancelled (or times out, or is destroyed)
// therefore costs one more probe of the lock: N cancelled waiters, N probes.
BOOST_AUTO_TEST_CASE(cancelling_parked_waiters_costs_no_system_call) {
    temp_dir dir;
    const auto path = dir / "lock";
    auto fs = std::make_shared<fault_fs>();
    plant_lock(path, "elsewhere", 4242, whole_second_now() + 1h);
    auto options = test_options(fs);
    options.min_poll = options.max_poll = 1h; // the first waiter probes once, then waits
    // On the event loop, everything a cancellation sets off has run when poll() returns.
    const async_options on_loop{syscall_mode::event_loop};
    asio::io_context io;

    constexpr std::size_t parked = 10;
    auto prober = std::make_unique<async_file_lock>(io.get_executor(), path, options, on_loop);
    std::vector<std::unique_ptr<async_file_lock>> waiters;
    std::vector<asio::cancellation_signal> signals(parked);
    std::vector<std::optional<error_code>> results(parked);
    prober->async_acquire(1h, [](error_code) {});
    for (std::size_t i = 0; i < parked; ++i) {
        waiters.push_back(
            std::make_unique<async_file_lock>(io.get_executor(), path, options, on_loop));
        waiters[i]->async_acquire(
            1h, asio::bind_cancellation_slot(signals[i].slot(),
                                             [&results, i](error_code ec) { results[i] = ec; }));
    }
    io.restart();
    io.poll();
    BOOST_TEST_INFO("one probe by the first waiter");
    BOOST_TEST(fs->count(fs_op::link) == 1u);

    for (std::size_t i = 0; i < parked; ++i) {
        signals[i].emit(asio::cancellation_type::terminal);
        io.restart();
        io.poll();
        BOOST_TEST((results[i] == error_code(asio::error::operation_aborted)));
    }
    BOOST_TEST_INFO("cancelled parked waiters make no system call");
    BOOST_TEST(fs->count(fs_op::link) == 1u);

    waiters.clear();
    prober.reset();
    drain(io);
}

// The inotify fix (lock_service::unwatch cancels the read when no directory is watched) intends
// that run() returns once every wait is over. promote() keeps a path's entry, and its watch,
// while an object of this process holds the lock, even with no waiter left: a lock acquired
// after a wait with inotify (the default) keeps run() from returning for as long as it is held.
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

// Design, layer 5 and requirement 8: inotify wakes the prober of a local path. The service adds
// its inotify watch on the pool after the probe that found the lock held (lock_service::watch,
// called from wait_then_attempt) and never probes again once the watch is in place. A release
// between that probe and inotify_add_watch goes unseen until the next poll (up to max_poll;
// here an hour). file_lock looks once more right after placing its watch. Both pool threads are
// kept busy here so that the watch is added only after the release.
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
