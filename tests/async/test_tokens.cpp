// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Completion tokens: the default (deferred, co_awaited), use_awaitable, a plain callback,
// use_future with the event loop on another thread, and as_tuple. Handlers never run inside the
// initiating call and run on their associated executor.

#include "support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/system_error.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <thread>

namespace locknix::test {
namespace {

using namespace std::chrono_literals;

struct fixture {
    temp_dir dir;
    std::string path = dir / "lock";
    asio::io_context io;
    std::optional<async_file_lock> storage{std::in_place, io.get_executor(), path,
                                           test_options(std::make_shared<fault_fs>())};
    async_file_lock& lock = *storage;

    // The destructor of the lock only schedules its clean-up; let it run.
    ~fixture() {
        storage.reset();
        drain(io);
    }
};

bool is_code(const boost::system::system_error& e, errc expected) {
    return e.code() == expected;
}

} // namespace

BOOST_AUTO_TEST_SUITE(tokens)

BOOST_FIXTURE_TEST_CASE(default_token_is_deferred_and_throws_in_a_coroutine, fixture) {
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await lock.acquire(1s);
        BOOST_TEST(lock.held());
        BOOST_TEST(read_file(path) == lock.claim_path());

        bool threw = false;
        try {
            co_await lock.acquire(1s);
        } catch (const boost::system::system_error& e) {
            threw = true;
            BOOST_TEST(is_code(e, errc::already_locked));
        }
        BOOST_TEST(threw);

        co_await lock.refresh();
        co_await lock.release();
        BOOST_TEST(!exists(path));

        // async_* without a token is the same deferred operation.
        co_await lock.async_acquire(0s);
        co_await lock.async_release();
        BOOST_TEST(!lock.held());
    }());
}

BOOST_FIXTURE_TEST_CASE(use_awaitable, fixture) {
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await lock.async_acquire(1s, asio::use_awaitable);
        BOOST_TEST(read_file(path) == lock.claim_path());
        co_await lock.async_release(asio::use_awaitable);
        BOOST_TEST(!exists(path));

        bool threw = false;
        try {
            co_await lock.async_release(asio::use_awaitable);
        } catch (const boost::system::system_error& e) {
            threw = true;
            BOOST_TEST(is_code(e, errc::not_locked));
        }
        BOOST_TEST(threw);
    }());
}

BOOST_FIXTURE_TEST_CASE(callback_never_runs_inside_the_initiating_call, fixture) {
    std::optional<error_code> acquired;
    lock.async_acquire(1s, [&](error_code ec) { acquired = ec; });
    BOOST_TEST(!acquired.has_value());
    run_until(io, [&] { return acquired.has_value(); });
    BOOST_TEST(*acquired == error_code{});

    // Failures known without any system call complete later too.
    std::optional<error_code> again;
    lock.async_acquire(1s, [&](error_code ec) { again = ec; });
    BOOST_TEST(!again.has_value());
    run_until(io, [&] { return again.has_value(); });
    BOOST_TEST(*again == errc::already_locked);

    std::optional<error_code> released;
    lock.async_release([&](error_code ec) { released = ec; });
    BOOST_TEST(!released.has_value());
    run_until(io, [&] { return released.has_value(); });
    BOOST_TEST(*released == error_code{});

    std::optional<error_code> not_held;
    lock.async_release([&](error_code ec) { not_held = ec; });
    BOOST_TEST(!not_held.has_value());
    std::optional<error_code> not_refreshed;
    lock.async_refresh([&](error_code ec) { not_refreshed = ec; });
    BOOST_TEST(!not_refreshed.has_value());
    std::optional<error_code> not_waited;
    lock.async_wait_lost([&](error_code ec) { not_waited = ec; });
    BOOST_TEST(!not_waited.has_value());
    run_until(io, [&] { return not_held && not_refreshed && not_waited; });
    BOOST_TEST(*not_held == errc::not_locked);
    BOOST_TEST(*not_refreshed == errc::not_locked);
    BOOST_TEST(*not_waited == errc::not_locked);
}

BOOST_FIXTURE_TEST_CASE(callback_runs_on_its_associated_executor, fixture) {
    auto strand = asio::make_strand(io);
    std::optional<bool> on_strand;
    lock.async_acquire(1s, asio::bind_executor(strand, [&](error_code ec) {
                           BOOST_TEST(ec == error_code{});
                           on_strand = strand.running_in_this_thread();
                       }));
    run_until(io, [&] { return on_strand.has_value(); });
    BOOST_TEST(*on_strand);
}

BOOST_FIXTURE_TEST_CASE(second_wait_of_one_object_is_refused, fixture) {
    // Another object holds the lock, so the first wait stays pending.
    async_file_lock holder(io.get_executor(), path, test_options(std::make_shared<fault_fs>()));
    std::optional<error_code> held, first, second;
    holder.async_acquire(1s, [&](error_code ec) { held = ec; });
    run_until(io, [&] { return held.has_value(); });
    BOOST_TEST(*held == error_code{});

    lock.async_acquire(1h, [&](error_code ec) { first = ec; });
    lock.async_acquire(1h, [&](error_code ec) { second = ec; });
    run_until(io, [&] { return second.has_value(); });
    BOOST_TEST(*second == boost::system::errc::operation_in_progress);
    BOOST_TEST(!first.has_value());

    holder.async_release([](error_code) {});
    run_until(io, [&] { return first.has_value(); });
    BOOST_TEST(*first == error_code{});
    BOOST_TEST(read_file(path) == lock.claim_path());
}

BOOST_AUTO_TEST_CASE(use_future_with_the_event_loop_on_another_thread) {
    temp_dir dir;
    const auto path = dir / "lock";
    asio::io_context io;
    auto work = asio::make_work_guard(io);
    std::thread loop([&] { io.run(); });
    {
        async_file_lock lock(io.get_executor(), path, test_options(std::make_shared<fault_fs>()));
        lock.async_acquire(1s, asio::use_future).get();
        BOOST_TEST(lock.held());
        BOOST_TEST(read_file(path) == lock.claim_path());

        auto again = lock.async_acquire(1s, asio::use_future);
        BOOST_CHECK_EXCEPTION(again.get(), boost::system::system_error,
                              [](const auto& e) { return is_code(e, errc::already_locked); });

        lock.async_refresh(asio::use_future).get();
        lock.async_release(asio::use_future).get();
        BOOST_TEST(!lock.held());
        BOOST_TEST(!exists(path));
        lock.async_acquire(0s, asio::use_future).get();
    }
    // The destructor released the lock in the background, on the event loop's thread.
    work.reset();
    loop.join();
    BOOST_TEST(!exists(path));
    BOOST_TEST(dir.names().empty());
}

BOOST_FIXTURE_TEST_CASE(as_tuple_reports_instead_of_throwing, fixture) {
    async_file_lock holder(io.get_executor(), path, test_options(std::make_shared<fault_fs>()));
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await holder.acquire(1s);

        const auto [timed_out] = co_await lock.async_acquire(0s, asio::as_tuple(asio::deferred));
        BOOST_TEST(timed_out == errc::timed_out);
        const auto [not_held] = co_await lock.async_release(asio::as_tuple(asio::use_awaitable));
        BOOST_TEST(not_held == errc::not_locked);

        co_await holder.release();
        const auto [acquired] =
            co_await lock.async_acquire(1s, asio::as_tuple(asio::use_awaitable));
        BOOST_TEST(acquired == error_code{});
        BOOST_TEST(read_file(path) == lock.claim_path());
    }());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace locknix::test
