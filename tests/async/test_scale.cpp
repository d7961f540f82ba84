// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Many waiters in one thread: 1,000 and then 10,000 coroutines wait on the same 100 lock files,
// each file held at first by another process. All of them acquire and release in the end, one at
// a time per file, in arrival order. A seam shared by every lock counts the system calls, and the
// counts are bounded by the structure of the service, not by time:
//   - while every file is held elsewhere, only one prober per file makes a claim and polls, at
//     most once per poll interval (min_poll = max_poll), so the probes are bounded by
//     files x polls whatever the number of waiters, and parked waiters make no call at all;
//   - once the files are free, each acquisition costs the same handful of calls (create the claim,
//     link, check it on release), the same for 1,000 and 10,000 waiters.

#include "support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <exception>
#include <vector>

namespace locknix::test {
namespace {

using namespace std::chrono_literals;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr std::size_t files = 100;
constexpr auto poll = 50ms;
constexpr auto held_elsewhere = 300ms;

struct run_figures {
    std::size_t waiters = 0;
    std::size_t acquired = 0;
    std::size_t failed = 0;
    std::size_t overlaps = 0;
    bool fifo = true;
    milliseconds waited{};
    counting_fs::counts waiting;  // while every file was held elsewhere
    counting_fs::counts handover; // from the other process's release to the last release
    double waiting_bound = 0;     // files x (polls that fit in `waited` + 2)

    double handover_per_acquisition() const {
        return static_cast<double>(handover.probe()) / static_cast<double>(waiters);
    }
};

counting_fs::counts minus(const counting_fs::counts& a, const counting_fs::counts& b) {
    counting_fs::counts d;
    d.open = a.open - b.open;
    d.create = a.create - b.create;
    d.lstat = a.lstat - b.lstat;
    d.link = a.link - b.link;
    d.unlink = a.unlink - b.unlink;
    d.set_times = a.set_times - b.set_times;
    d.all = a.all - b.all;
    return d;
}

run_figures run_waiters(std::size_t waiters) {
    temp_dir dir;
    auto counted = std::make_shared<counting_fs>(posix_file_system());
    lock_options options;
    options.min_poll = options.max_poll = poll;
    options.use_inotify = false;
    options.fs = counted;

    std::vector<std::string> paths, planted;
    for (std::size_t f = 0; f < files; ++f) {
        paths.push_back(dir / ("lock-" + std::to_string(f)));
        planted.push_back(plant_lock(paths.back(), "elsewhere", 4242, whole_second_now() + 1h));
    }

    run_figures r;
    r.waiters = waiters;
    std::vector<std::vector<std::size_t>> arrivals(files), acquisitions(files);
    std::vector<int> inside(files, 0);
    std::size_t arrived = 0, finished = 0;
    std::exception_ptr failure;
    asio::io_context io;
    async_event all_done(io);

    auto waiter = [&](std::size_t i) -> asio::awaitable<void> {
        const std::size_t f = i % files;
        async_file_lock lock(co_await asio::this_coro::executor, paths[f], options);
        arrivals[f].push_back(i);
        ++arrived;
        const auto [ec] = co_await lock.async_acquire(1h, asio::as_tuple(asio::use_awaitable));
        if (ec) {
            ++r.failed;
            co_return;
        }
        acquisitions[f].push_back(i);
        ++r.acquired;
        if (inside[f]++ != 0)
            ++r.overlaps;
        for (int turn = 0; turn < 2; ++turn)
            co_await asio::post(io, asio::use_awaitable);
        --inside[f];
        const auto [released] = co_await lock.async_release(asio::as_tuple(asio::use_awaitable));
        if (released)
            ++r.failed;
    };

    run_coroutine(io, [&]() -> asio::awaitable<void> {
        const auto start_counts = counted->snapshot();
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < waiters; ++i) {
            asio::co_spawn(io, waiter(i), [&](std::exception_ptr e) {
                if (e && !failure)
                    failure = e;
                if (++finished == waiters)
                    all_done.notify();
            });
        }
        while (arrived < waiters)
            co_await asio::post(io, asio::use_awaitable);
        co_await service_round_trip(dir.path());

        // A short fixed hold by the other process while everyone waits.
        asio::steady_timer hold(io, held_elsewhere);
        co_await hold.async_wait(asio::use_awaitable);

        const auto waited_counts = counted->snapshot();
        r.waited = duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
        r.waiting = minus(waited_counts, start_counts);
        r.waiting_bound =
            static_cast<double>(files) * (static_cast<double>(r.waited.count()) /
                                              static_cast<double>(milliseconds(poll).count()) +
                                          2);
        for (std::size_t f = 0; f < files; ++f) {
            remove_file(paths[f]);
            remove_file(planted[f]);
        }

        co_await all_done.wait();
        r.handover = minus(counted->snapshot(), waited_counts);
    }());
    drain(io);

    if (failure)
        std::rethrow_exception(failure);
    for (std::size_t f = 0; f < files; ++f)
        r.fifo = r.fifo && acquisitions[f] == arrivals[f];
    BOOST_TEST(dir.names().empty(), "every lock released and every claim removed");
    return r;
}

void report(const run_figures& r) {
    BOOST_TEST_MESSAGE(
        "waiters " << r.waiters << " over " << files << " files: while held " << r.waited.count()
                   << " ms elsewhere: claims made " << r.waiting.create << ", link "
                   << r.waiting.link << ", lstat " << r.waiting.lstat << ", open " << r.waiting.open
                   << " (bound on links " << r.waiting_bound << "); after: link " << r.handover.link
                   << ", lstat " << r.handover.lstat << ", open " << r.handover.open << " = "
                   << r.handover_per_acquisition() << " per acquisition");
}

void check(const run_figures& r) {
    BOOST_TEST(r.failed == 0u);
    BOOST_TEST(r.acquired == r.waiters);
    BOOST_TEST(r.overlaps == 0u, "one holder per file at a time");
    BOOST_TEST(r.fifo, "each file's waiters acquired in arrival order");

    // One prober per file: only probers make claims, and parked waiters make no call at all.
    BOOST_TEST(r.waiting.create == files);
    // The prober probes no more often than the poll interval.
    BOOST_TEST(static_cast<double>(r.waiting.link) <= r.waiting_bound);
    // A probe is a link, a look at our claim and a read of the lock; plus one claim per prober.
    BOOST_TEST(r.waiting.probe() <= 3 * r.waiting.link + files);

    // Each acquisition: create the claim, link, check the claim on release; the probers' last
    // probes against the other process's locks may land here too.
    BOOST_TEST(r.handover.probe() <= 3 * r.waiters + 3 * 2 * files);
}

} // namespace

BOOST_AUTO_TEST_SUITE(scale)

BOOST_AUTO_TEST_CASE(waiting_costs_grow_with_files_not_waiters) {
    const auto small = run_waiters(1000);
    report(small);
    check(small);

    const auto large = run_waiters(10000);
    report(large);
    check(large);

    // The same cost per acquisition, ten times the waiters.
    BOOST_TEST(large.handover_per_acquisition() <= small.handover_per_acquisition() + 0.5);
    BOOST_TEST(large.handover_per_acquisition() >= small.handover_per_acquisition() - 0.5);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace locknix::test
