// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Cancellation of a wait in each of its phases: parked behind a holder of this process, probing
// (waiting on the poll timer against another process's lock), and with its system call in
// flight on the pool (the call held at a gate until the test has cancelled), with each
// cancellation type and through awaitable operator ||. A cancelled wait completes with
// operation_aborted (never timed_out), leaves no claim, and leaves the lock free or held by
// someone else; an attempt that won the lock while being cancelled gives it back first.

#include "support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace locknix::test {
namespace {

using namespace std::chrono_literals;
namespace data = boost::unit_test::data;

struct cancellation {
    const char* name;
    asio::cancellation_type type;
};

std::ostream& operator<<(std::ostream& out, const cancellation& c) {
    return out << c.name;
}

const std::vector<cancellation> types{{"terminal", asio::cancellation_type::terminal},
                                      {"partial", asio::cancellation_type::partial},
                                      {"total", asio::cancellation_type::total}};

struct where {
    const char* name;
    async_options options;
};

std::ostream& operator<<(std::ostream& out, const where& w) {
    return out << w.name;
}

const std::vector<where> modes{{"thread_pool", {syscall_mode::thread_pool}},
                               {"event_loop", {syscall_mode::event_loop}}};

struct fixture {
    temp_dir dir;
    std::string path = dir / "lock";
    asio::io_context io;
    std::shared_ptr<fault_fs> fault = std::make_shared<fault_fs>();
    std::shared_ptr<counting_fs> counted = std::make_shared<counting_fs>(fault);

    lock_options options() const {
        auto o = test_options(fault);
        o.fs = counted;
        return o;
    }

    ~fixture() { drain(io); }
};

/// The completion of one cancellable wait, and what the disk looked like when it completed.
struct outcome {
    std::optional<error_code> result;
    bool lock_exists = false;
    std::string lock_content;
    bool claim_exists = false;
};

/// A completion handler that records `out` (looking at `path` and the waiter's claim at the
/// moment of completion) and signals `done`.
auto recorder(outcome& out, async_event& done, const std::string& path,
              const async_file_lock& waiter) {
    return [&out, &done, &path, &waiter](error_code ec) {
        out.result = ec;
        out.lock_exists = exists(path);
        out.lock_content = out.lock_exists ? read_file(path) : std::string();
        out.claim_exists = exists(waiter.claim_path());
        done.notify();
    };
}

} // namespace

BOOST_AUTO_TEST_SUITE(cancellation)

BOOST_DATA_TEST_CASE_F(fixture, parked_behind_a_holder_of_this_process,
                       data::make(types) * data::make(modes), how, mode) {
    async_file_lock holder(io.get_executor(), path, options(), mode.options);
    async_file_lock waiter(io.get_executor(), path, options(), mode.options);
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await holder.acquire(1s);

        asio::cancellation_signal signal;
        outcome out;
        async_event done(io);
        waiter.async_acquire(
            1h, asio::bind_cancellation_slot(signal.slot(), recorder(out, done, path, waiter)));
        co_await service_round_trip(dir.path());
        BOOST_TEST(!out.result.has_value(), "the waiter is parked");

        signal.emit(how.type);
        co_await done.wait();
        BOOST_TEST(*out.result == asio::error::operation_aborted);
        BOOST_TEST(out.lock_content == holder.claim_path());
        BOOST_TEST(!out.claim_exists);
        BOOST_TEST(claims_in(dir, "lock") == 1u);

        // The cancelled waiter left the queue: the release leaves the lock free, and the waiter
        // may wait again.
        co_await holder.release();
        BOOST_TEST(!exists(path));
        co_await waiter.acquire(0s);
        BOOST_TEST(read_file(path) == waiter.claim_path());
        co_await waiter.release();
    }());
}

// A signal emitted right after the initiating call, before the service has seen the wait (as a
// parallel group or another handler may do), still cancels it, and nothing of the wait goes on
// in the background.
BOOST_DATA_TEST_CASE_F(fixture, right_after_initiation, data::make(types) * data::make(modes), how,
                       mode) {
    async_file_lock holder(io.get_executor(), path, options(), mode.options);
    async_file_lock waiter(io.get_executor(), path, options(), mode.options);
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await holder.acquire(1s);
        asio::cancellation_signal signal;
        outcome out;
        async_event done(io);
        waiter.async_acquire(
            1h, asio::bind_cancellation_slot(signal.slot(), recorder(out, done, path, waiter)));
        signal.emit(how.type);
        co_await done.wait();
        BOOST_TEST(*out.result == asio::error::operation_aborted);
        BOOST_TEST(!out.claim_exists);

        co_await holder.release();
        co_await service_round_trip(dir.path());
        BOOST_TEST(!waiter.held());
        BOOST_TEST(!exists(path), "the cancelled wait did not take the lock behind our back");
    }());
}

BOOST_DATA_TEST_CASE_F(fixture, probing_against_another_process,
                       data::make(types) * data::make(modes), how, mode) {
    const auto planted = plant_lock(path, "elsewhere", 4242, whole_second_now() + 1h);
    const auto planted_inode = inode(path);
    auto o = options();
    o.min_poll = o.max_poll = 1h; // after one attempt, the prober waits on its poll timer

    // Only the front end reads the steady clock; the first read after the first link is the one
    // that decides the poll wait, on the event loop, which then arms the poll timer.
    std::atomic<bool> linked{false};
    async_event polling(io);
    fault->add_hook({fs_op::link, hook_phase::after, path_is(path), 0, 1, [&](const fs_call&) {
                         linked = true;
                     }});
    counted->on_steady_now([&] {
        if (linked.exchange(false))
            polling.notify();
    });

    async_file_lock waiter(io.get_executor(), path, o, mode.options);
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        asio::cancellation_signal signal;
        outcome out;
        async_event done(io);
        waiter.async_acquire(
            2h, asio::bind_cancellation_slot(signal.slot(), recorder(out, done, path, waiter)));
        co_await polling.wait();
        BOOST_TEST(!out.result.has_value());
        BOOST_TEST(exists(waiter.claim_path()), "the prober made its claim");

        signal.emit(how.type);
        co_await done.wait();
        BOOST_TEST(*out.result == asio::error::operation_aborted);
        BOOST_TEST(out.lock_content == planted);
        BOOST_TEST(!out.claim_exists, "no claim outlives a cancelled wait");
        BOOST_TEST(inode(path) == planted_inode);
        BOOST_TEST(claims_in(dir, "lock") == 1u);
    }());
    counted->on_steady_now({});
}

/// The wait's link is held at a gate until the test has cancelled the wait. `other_holder`
/// plants a lock of another process first, so that the held link fails; otherwise it wins.
void cancel_with_syscall_in_flight(fixture& f, asio::cancellation_type type, bool other_holder) {
    const auto planted =
        other_holder ? plant_lock(f.path, "elsewhere", 4242, whole_second_now() + 1h) : "";

    gate held;
    async_event entered(f.io);
    f.fault->add_hook({fs_op::link, hook_phase::before, path_is(f.path), 0, 1, [&](const fs_call&) {
                           entered.notify();
                           held.wait_here();
                       }});

    async_file_lock waiter(f.io.get_executor(), f.path, f.options());
    async_file_lock next(f.io.get_executor(), f.path, f.options());
    run_coroutine(f.io, [&]() -> asio::awaitable<void> {
        asio::cancellation_signal signal;
        outcome out;
        async_event done(f.io);
        waiter.async_acquire(
            1h, asio::bind_cancellation_slot(signal.slot(), recorder(out, done, f.path, waiter)));

        // A second waiter queues behind: it must get the lock once the cancelled one is gone.
        std::optional<error_code> next_result;
        async_event next_done(f.io);
        next.async_acquire(1h, [&](error_code ec) {
            next_result = ec;
            next_done.notify();
        });

        co_await entered.wait();
        signal.emit(type);
        // The cancellation reached the service's strand before this runs.
        asio::post(f.io, [&] { held.open(); });

        co_await done.wait();
        BOOST_TEST(*out.result == asio::error::operation_aborted);
        BOOST_TEST(!out.claim_exists, "no claim outlives a cancelled wait");
        BOOST_TEST(!held.gave_up());
        if (other_holder) {
            BOOST_TEST(out.lock_content == planted);
            BOOST_TEST(!next_result.has_value());
            remove_file(f.path);
            remove_file(planted);
        } else {
            // The next waiter may have taken the lock by the time the cancelled wait completes.
            BOOST_TEST((!out.lock_exists || out.lock_content != waiter.claim_path()),
                       "the lock won in flight is released before completion");
            bool won = false, given_back = false;
            for (const auto& call : f.fault->calls()) {
                won = won || (call.op == fs_op::link && call.target == f.path && !call.result);
                given_back = given_back || (won && call.op == fs_op::unlink &&
                                            call.path == f.path && !call.result);
            }
            BOOST_TEST(won, "the held link did win the lock");
            BOOST_TEST(given_back);
        }

        co_await next_done.wait();
        BOOST_TEST(*next_result == error_code{});
        BOOST_TEST(read_file(f.path) == next.claim_path());
        co_await next.release();
    }());
}

BOOST_DATA_TEST_CASE_F(fixture, syscall_in_flight_that_wins, data::make(types), how) {
    cancel_with_syscall_in_flight(*this, how.type, false);
}

BOOST_DATA_TEST_CASE_F(fixture, syscall_in_flight_that_loses, data::make(types), how) {
    cancel_with_syscall_in_flight(*this, how.type, true);
}

// An attempt that won the lock while being cancelled gives it back; if the wait's deadline
// passes meanwhile, the wait is still reported as cancelled, not as timed out.
BOOST_FIXTURE_TEST_CASE(cancelled_win_is_not_a_timeout_even_past_the_deadline, fixture) {
    async_file_lock waiter(io.get_executor(), path, options());
    gate link_gate, unlink_gate;
    async_event linking(io), unlinking(io);
    fault->add_hook({fs_op::link, hook_phase::before, path_is(path), 0, 1, [&](const fs_call&) {
                         linking.notify();
                         link_gate.wait_here();
                     }});
    fault->add_hook({fs_op::unlink, hook_phase::before, path_is(path), 0, 1, [&](const fs_call&) {
                         unlinking.notify();
                         unlink_gate.wait_here();
                     }});

    run_coroutine(io, [&]() -> asio::awaitable<void> {
        constexpr auto timeout = 200ms;
        asio::steady_timer past_deadline(io, timeout + 300ms);
        asio::cancellation_signal signal;
        outcome out;
        async_event done(io);
        waiter.async_acquire(timeout, asio::bind_cancellation_slot(
                                          signal.slot(), recorder(out, done, path, waiter)));

        co_await linking.wait();
        signal.emit(asio::cancellation_type::terminal);
        asio::post(io, [&] { link_gate.open(); });

        // The won lock is being given back; the wait's deadline passes meanwhile.
        co_await unlinking.wait();
        co_await past_deadline.async_wait(asio::use_awaitable);
        unlink_gate.open();

        co_await done.wait();
        BOOST_TEST(*out.result == asio::error::operation_aborted);
        BOOST_TEST(!out.lock_exists);
        BOOST_TEST(!out.claim_exists);
        BOOST_TEST(!link_gate.gave_up());
        BOOST_TEST(!unlink_gate.gave_up());
    }());
}

BOOST_DATA_TEST_CASE_F(fixture, awaitable_or_with_a_timer_while_parked, data::make(modes), mode) {
    using namespace asio::experimental::awaitable_operators;
    async_file_lock holder(io.get_executor(), path, options(), mode.options);
    async_file_lock waiter(io.get_executor(), path, options(), mode.options);
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await holder.acquire(1s);
        asio::steady_timer timer(io, 20ms);
        const auto first = co_await (waiter.async_acquire(1h, asio::use_awaitable) ||
                                     timer.async_wait(asio::use_awaitable));
        BOOST_TEST(first.index() == 1u, "the timer won");
        BOOST_TEST(!waiter.held());
        BOOST_TEST(!exists(waiter.claim_path()));
        BOOST_TEST(read_file(path) == holder.claim_path());

        co_await holder.release();
        co_await waiter.acquire(0s);
        co_await waiter.release();
    }());
}

BOOST_DATA_TEST_CASE_F(fixture, awaitable_or_with_a_timer_while_probing, data::make(modes), mode) {
    using namespace asio::experimental::awaitable_operators;
    const auto planted = plant_lock(path, "elsewhere", 4242, whole_second_now() + 1h);
    async_file_lock waiter(io.get_executor(), path, options(), mode.options);
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(io, 20ms);
        const auto first = co_await (waiter.async_acquire(1h, asio::use_awaitable) ||
                                     timer.async_wait(asio::use_awaitable));
        BOOST_TEST(first.index() == 1u, "the timer won");
        BOOST_TEST(!exists(waiter.claim_path()));
        BOOST_TEST(read_file(path) == planted);

        // The operation is over: a new wait is accepted (not operation_in_progress).
        const auto [again] = co_await waiter.async_acquire(0s, asio::as_tuple(asio::use_awaitable));
        BOOST_TEST(again == errc::timed_out);
    }());
}

// Many waiters of one path cost one prober's system calls. A parked waiter that is cancelled
// changes nothing on disk, so it must not wake the prober: N cancelled waiters, no probe.
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

BOOST_AUTO_TEST_SUITE_END()

} // namespace locknix::test
