// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Keep-alive: the service refreshes a held lock every third of its lifetime, so that a lock held
// past its lifetime is not breakable; async_wait_lost tells the holder when another party broke
// the lock (errc::lock_lost), and completes with operation_aborted when the lock was released or
// the wait cancelled.

#include "support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cerrno>
#include <optional>

namespace locknix::test {
namespace {

using namespace std::chrono_literals;

struct fixture {
    temp_dir dir;
    std::string path = dir / "lock";
    asio::io_context io;
    std::shared_ptr<fault_fs> fs = std::make_shared<fault_fs>();

    /// A lifetime short enough for the keep-alive to refresh within the test (every 50 ms).
    lock_options options() const {
        auto o = test_options(fs);
        o.lifetime = 150ms;
        return o;
    }

    ~fixture() { drain(io); }
};

/// A wall-clock time as printable nanoseconds since the epoch.
long long ns(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

/// Records the completion of async_wait_lost.
struct lost_wait {
    explicit lost_wait(asio::io_context& io) : done(io) {}
    std::optional<error_code> result;
    async_event done;
    auto handler() {
        return [this](error_code ec) {
            result = ec;
            done.notify();
        };
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(keep_alive)

BOOST_FIXTURE_TEST_CASE(refreshes_keep_the_lock_from_being_broken, fixture) {
    const auto start = whole_second_now();
    fs->freeze_wall(start);
    async_file_lock lock(io.get_executor(), path, options());

    // A refresh stamped after our clock jumped an hour ahead.
    async_event refreshed(io);
    fs->add_hook({fs_op::set_times, hook_phase::after, path_is(lock.claim_path()), 0, 0,
                  [&, start](const fs_call& call) {
                      if (call.time >= start + 1h && !call.result)
                          refreshed.notify();
                  }});

    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await lock.acquire(1s);
        lock.keep_alive();
        BOOST_TEST(ns(mtime(path)) == ns(start + 150ms));

        fs->advance_wall(1h);
        co_await refreshed.wait();
        BOOST_TEST(ns(mtime(path)) == ns(start + 1h + 150ms));

        // A party whose clock is an hour ahead would break the lock stamped at acquisition; the
        // refreshed one is not breakable for it.
        auto other = make_host("elsewhere", 4242);
        other->freeze_wall(start + 1h);
        file_lock breaker(path, test_options(other));
        BOOST_TEST(!breaker.try_acquire());
        BOOST_TEST(read_file(path) == lock.claim_path());
        BOOST_TEST(lock.held());

        co_await lock.release();
        BOOST_TEST(!exists(path));
    }());
}

BOOST_FIXTURE_TEST_CASE(stays_on_for_later_acquisitions, fixture) {
    async_file_lock lock(io.get_executor(), path, options());
    std::atomic<int> stamps{0};
    async_event refreshed_twice(io);
    fs->add_hook({fs_op::set_times, hook_phase::after, path_is(lock.claim_path()), 0, 0,
                  [&](const fs_call&) {
                      // The acquisition's stamp, then two refreshes.
                      if (++stamps == 3)
                          refreshed_twice.notify();
                  }});

    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await lock.acquire(1s);
        lock.keep_alive();
        co_await lock.release();

        stamps = 0;
        co_await lock.acquire(1s);
        co_await refreshed_twice.wait();
        BOOST_TEST(lock.held());
        BOOST_TEST(read_file(path) == lock.claim_path());
        co_await lock.release();
    }());
}

BOOST_FIXTURE_TEST_CASE(wait_lost_reports_a_break_by_another_party, fixture) {
    async_file_lock lock(io.get_executor(), path, options());
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await lock.acquire(1s);
        lock.keep_alive();
        lost_wait lost(io);
        lock.async_wait_lost(lost.handler());
        co_await service_round_trip(dir.path());
        BOOST_TEST(!lost.result.has_value());

        // Another host whose clock is past our lock's expiry plus slop breaks it.
        auto other = make_host("elsewhere", 4242);
        other->advance_wall(1h);
        file_lock breaker(path, test_options(other));
        error_code ec;
        breaker.acquire(5s, ec);
        BOOST_TEST(ec == error_code{});

        co_await lost.done.wait();
        BOOST_TEST(*lost.result == errc::lock_lost);
        BOOST_TEST(!lock.held());
        BOOST_TEST(read_file(path) == breaker.claim_path(), "the new holder's lock is untouched");

        const auto [released] = co_await lock.async_release(asio::as_tuple(asio::use_awaitable));
        BOOST_TEST(released == errc::not_locked);
        BOOST_TEST(read_file(path) == breaker.claim_path());
    }());
}

// While a holder of this process holds the lock, its other waiters are parked and do not probe
// (see the README's limitations); its keep-alive finding the lock broken hands the path on.
BOOST_FIXTURE_TEST_CASE(parked_waiter_proceeds_once_the_keep_alive_finds_the_lock_broken, fixture) {
    async_file_lock holder(io.get_executor(), path, options());
    async_file_lock waiter(io.get_executor(), path, options());
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await holder.acquire(1s);
        holder.keep_alive();
        lost_wait lost(io), wait(io);
        holder.async_wait_lost(lost.handler());
        waiter.async_acquire(1h, wait.handler());
        co_await service_round_trip(dir.path());

        {
            auto other = make_host("elsewhere", 4242);
            other->advance_wall(1h);
            file_lock breaker(path, test_options(other));
            error_code ec;
            breaker.acquire(5s, ec);
            BOOST_TEST(ec == error_code{});
        }
        co_await lost.done.wait();
        BOOST_TEST(*lost.result == errc::lock_lost);
        co_await wait.done.wait();
        BOOST_TEST(*wait.result == error_code{});
        BOOST_TEST(read_file(path) == waiter.claim_path());
        co_await waiter.release();
    }());
}

// A keep-alive that cannot refresh (EACCES on every stamp) tells the holder lock_lost once the
// lock has expired, without pretending it was released: the lock is still on disk and held.
BOOST_FIXTURE_TEST_CASE(refresh_failure_is_reported_as_lost_not_as_released, fixture) {
    async_file_lock lock(io.get_executor(), path, options());
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await lock.acquire(1s);
        lock.keep_alive();
        lost_wait lost(io);
        lock.async_wait_lost(lost.handler());
        fs->fail(fs_op::set_times, EACCES, path_is(lock.claim_path()), 0);

        co_await lost.done.wait();
        BOOST_TEST(*lost.result == errc::lock_lost);
        BOOST_TEST(read_file(path) == lock.claim_path(), "the lock is still on disk");
        BOOST_TEST(lock.held());
        fs->clear_rules();
        co_await lock.release();
        BOOST_TEST(!exists(path));
    }());
}

BOOST_FIXTURE_TEST_CASE(wait_lost_is_aborted_by_a_release, fixture) {
    async_file_lock lock(io.get_executor(), path, options());
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await lock.acquire(1s);
        lock.keep_alive();
        lost_wait lost(io);
        lock.async_wait_lost(lost.handler());
        co_await lock.release();
        co_await lost.done.wait();
        BOOST_TEST(*lost.result == asio::error::operation_aborted);
        BOOST_TEST(!exists(path));
    }());
}

BOOST_FIXTURE_TEST_CASE(wait_lost_can_be_cancelled, fixture) {
    async_file_lock lock(io.get_executor(), path, options());
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await lock.acquire(1s);
        asio::cancellation_signal signal;
        lost_wait lost(io);
        lock.async_wait_lost(asio::bind_cancellation_slot(signal.slot(), lost.handler()));
        co_await service_round_trip(dir.path());

        signal.emit(asio::cancellation_type::terminal);
        co_await lost.done.wait();
        BOOST_TEST(*lost.result == asio::error::operation_aborted);
        BOOST_TEST(lock.held(), "cancelling the wait does not release the lock");
        BOOST_TEST(read_file(path) == lock.claim_path());
        co_await lock.release();
    }());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace locknix::test
