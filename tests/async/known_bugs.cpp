// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Behaviours of the async front end that are wrong today. Each case states what the API
// promises and fails (or crashes) until the library is fixed; then it moves to its suite. Built
// only with -DLOCKNIX_ASYNC_KNOWN_BUGS=ON, never part of ctest.

#include "support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
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

    ~fixture() { drain(io); }
};

struct completion {
    explicit completion(asio::io_context& io) : done(io) {}
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

BOOST_AUTO_TEST_SUITE(known_bugs)

// ~async_file_lock: "Cancels pending operations (they complete with operation_aborted)".
// lock_service::close() calls cancel(lock->pending) with a reference to the member; finish()
// resets lock->pending and then dereferences the now empty reference: a null pointer access.
BOOST_FIXTURE_TEST_CASE(destroying_a_parked_waiter_aborts_its_wait, fixture) {
    async_file_lock holder(io.get_executor(), path, test_options(fs));
    auto waiter = std::make_unique<async_file_lock>(io.get_executor(), path, test_options(fs));
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await holder.acquire(1s);
        completion wait(io);
        waiter->async_acquire(1h, wait.handler());
        co_await service_round_trip(dir.path());

        waiter.reset();
        co_await wait.done.wait();
        BOOST_TEST(*wait.result == asio::error::operation_aborted);
        BOOST_TEST(read_file(path) == holder.claim_path());
        co_await holder.release();
        BOOST_TEST(!exists(path));
    }());
}

// The same with a waiter that probes another process's lock (waiting on its poll timer).
BOOST_FIXTURE_TEST_CASE(destroying_a_prober_aborts_its_wait_and_removes_its_claim, fixture) {
    const auto planted = plant_lock(path, "elsewhere", 4242, whole_second_now() + 1h);
    auto counted = std::make_shared<counting_fs>(fs);
    auto options = test_options(fs);
    options.fs = counted;
    options.min_poll = options.max_poll = 1h;
    auto waiter = std::make_unique<async_file_lock>(io.get_executor(), path, options);
    const auto claim = waiter->claim_path();

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
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        completion wait(io);
        waiter->async_acquire(2h, wait.handler());
        co_await polling.wait();

        waiter.reset();
        co_await wait.done.wait();
        BOOST_TEST(*wait.result == asio::error::operation_aborted);
    }());
    drain(io);
    BOOST_TEST(!exists(claim));
    BOOST_TEST(read_file(path) == planted);
}

// async_acquire: "Cancellation ... through the handler's cancellation slot ... completes the wait
// with operation_aborted". lock_service::acquire() installs the slot's handler only when its
// posted registration runs on the strand; a signal emitted before that (right after the
// initiating call, as a parallel group or another handler may) finds no handler and is lost: the
// wait runs on to its timeout.
BOOST_FIXTURE_TEST_CASE(cancellation_right_after_initiation_is_not_lost, fixture) {
    async_file_lock holder(io.get_executor(), path, test_options(fs));
    async_file_lock waiter(io.get_executor(), path, test_options(fs));
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await holder.acquire(1s);
        asio::cancellation_signal signal;
        completion wait(io);
        waiter.async_acquire(300ms, asio::bind_cancellation_slot(signal.slot(), wait.handler()));
        signal.emit(asio::cancellation_type::terminal);
        co_await wait.done.wait();
        BOOST_TEST(*wait.result == asio::error::operation_aborted);
    }());
}

// Design, algorithm requirement 5: two objects of one process exclude each other like two
// processes; requirement 4: at least one attempt. While an object of this process holds the
// lock, the service lets no waiter of the path probe. When another process breaks that holder's
// expired lock and releases it, the lock is free, yet the waiters of this process stay parked
// until they time out (file_lock waiters would take it at once).
BOOST_FIXTURE_TEST_CASE(waiter_takes_a_lock_freed_behind_a_broken_holder, fixture) {
    async_file_lock holder(io.get_executor(), path, test_options(fs));
    async_file_lock waiter(io.get_executor(), path, test_options(fs));
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await holder.acquire(1s);
        completion wait(io);
        waiter.async_acquire(500ms, wait.handler());
        co_await service_round_trip(dir.path());

        auto other = make_host("elsewhere", 4242);
        other->advance_wall(1h);
        {
            file_lock breaker(path, test_options(other));
            BOOST_TEST(breaker.try_acquire());
        }
        BOOST_TEST(!exists(path), "the lock is free");

        co_await wait.done.wait();
        BOOST_TEST(*wait.result == error_code{});
    }());
}

// Requirement 4: "timeout 0 means try once, and that one try still breaks an expired lock".
// Behind a holder of this process, a zero timeout ends parked, with no attempt at all, even when
// the holder's lock is long expired (file_lock in the same situation breaks it).
BOOST_FIXTURE_TEST_CASE(zero_timeout_behind_an_expired_holder_of_this_process_breaks_it, fixture) {
    async_file_lock holder(io.get_executor(), path, test_options(fs));
    async_file_lock waiter(io.get_executor(), path, test_options(fs));
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await holder.acquire(1s);
        fs->advance_wall(1h); // the holder's lock is an hour past its expiry and slop
        const auto links = fs->count(fs_op::link);

        completion wait(io);
        waiter.async_acquire(0s, wait.handler());
        co_await wait.done.wait();
        BOOST_TEST(fs->count(fs_op::link) > links, "at least one attempt");
        BOOST_TEST(*wait.result == error_code{});
    }());
}

// async_wait_lost: lock_lost when "a refresh of the keep-alive failed until expiry";
// operation_aborted only when this object released the lock or the wait was cancelled. A
// keep-alive refresh failing with a non-transient error (EACCES here) reaches
// lock_service::on_released(lock, EACCES), which tells the waiters operation_aborted, and marks
// the lock not held while it is still on disk (file_lock's keep-alive reports the error).
BOOST_FIXTURE_TEST_CASE(keep_alive_failure_is_not_reported_as_a_release, fixture) {
    auto options = test_options(fs);
    options.lifetime = 150ms;
    async_file_lock lock(io.get_executor(), path, options);
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await lock.acquire(1s);
        lock.keep_alive();
        completion lost(io);
        lock.async_wait_lost(lost.handler());
        fs->fail(fs_op::set_times, EACCES, path_is(lock.claim_path()), 0);

        co_await lost.done.wait();
        BOOST_TEST(*lost.result != asio::error::operation_aborted);
        BOOST_TEST((*lost.result == errc::lock_lost || *lost.result == sys_error(EACCES)));
        BOOST_TEST(read_file(path) == lock.claim_path(), "the lock is still on disk");
        BOOST_TEST(lock.held() == exists(path));
    }());
}

// async_acquire: a cancelled wait completes with operation_aborted, distinct from timed_out.
// When the attempt in flight at cancellation had won the lock, on_attempt() sets the phase to
// `parked` while the lock is given back on the pool; if the wait's deadline passes meanwhile,
// the deadline handler finishes the operation with timed_out.
BOOST_FIXTURE_TEST_CASE(cancelled_win_reports_aborted_even_past_the_deadline, fixture) {
    async_file_lock waiter(io.get_executor(), path, test_options(fs));
    gate link_gate, unlink_gate;
    async_event linking(io), unlinking(io);
    fs->add_hook({fs_op::link, hook_phase::before, path_is(path), 0, 1, [&](const fs_call&) {
                      linking.notify();
                      link_gate.wait_here();
                  }});
    fs->add_hook({fs_op::unlink, hook_phase::before, path_is(path), 0, 1, [&](const fs_call&) {
                      unlinking.notify();
                      unlink_gate.wait_here();
                  }});

    run_coroutine(io, [&]() -> asio::awaitable<void> {
        constexpr auto timeout = 200ms;
        asio::steady_timer past_deadline(io, timeout + 300ms);
        asio::cancellation_signal signal;
        completion wait(io);
        waiter.async_acquire(timeout, asio::bind_cancellation_slot(signal.slot(), wait.handler()));

        co_await linking.wait();
        signal.emit(asio::cancellation_type::terminal);
        asio::post(io, [&] { link_gate.open(); });

        // The won lock is being given back; let the wait's deadline pass meanwhile.
        co_await unlinking.wait();
        co_await past_deadline.async_wait(asio::use_awaitable);
        unlink_gate.open();

        co_await wait.done.wait();
        BOOST_TEST(*wait.result == asio::error::operation_aborted);
        BOOST_TEST(!exists(path));
        BOOST_TEST(!exists(waiter.claim_path()));
    }());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace locknix::test
