// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Destroying an async_file_lock that holds the lock: the destructor returns at once, without
// waiting for the file system (the release is held at a gate until the destructor has
// returned); the lock is then released in the background, handed to the next waiter of this
// process, and the claim removed, even if the event loop never runs again. Destroying a waiter
// completes its wait with operation_aborted and removes its claim.

#include "support.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <future>
#include <optional>

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

struct fixture {
    temp_dir dir;
    std::string path = dir / "lock";
    asio::io_context io;
    std::shared_ptr<fault_fs> fs = std::make_shared<fault_fs>();

    /// Holds the first system call of the release of `claim` (the check of the claim) at `g`.
    void hold_release_at(gate& g, const std::string& claim) {
        fs->add_hook({fs_op::lstat, hook_phase::before, path_is(claim), 0, 1, [&g](const fs_call&) {
                          g.wait_here();
                      }});
    }

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

BOOST_AUTO_TEST_SUITE(destruction)

BOOST_DATA_TEST_CASE_F(fixture, destroying_the_holder_hands_the_lock_on, data::make(modes), mode) {
    auto holder =
        std::make_unique<async_file_lock>(io.get_executor(), path, test_options(fs), mode.options);
    async_file_lock next(io.get_executor(), path, test_options(fs), mode.options);
    const auto holder_claim = holder->claim_path();
    gate release;
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await holder->acquire(1s);
        completion waiter(io);
        next.async_acquire(1h, waiter.handler());
        co_await service_round_trip(dir.path());
        BOOST_TEST(!waiter.result.has_value());

        hold_release_at(release, holder_claim);
        holder.reset();
        BOOST_TEST(read_file(path) == holder_claim, "the destructor returned before releasing");
        release.open();

        co_await waiter.done.wait();
        BOOST_TEST(!release.gave_up(), "the destructor waited for the file system");
        BOOST_TEST(*waiter.result == error_code{});
        BOOST_TEST(read_file(path) == next.claim_path());
        BOOST_TEST(!exists(holder_claim), "the destroyed holder's claim is removed");
        co_await next.release();
    }());
}

BOOST_DATA_TEST_CASE_F(fixture, destroying_the_only_holder_frees_the_lock, data::make(modes),
                       mode) {
    auto holder =
        std::make_unique<async_file_lock>(io.get_executor(), path, test_options(fs), mode.options);
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await holder->acquire(1s);
    }());

    gate release;
    hold_release_at(release, holder->claim_path());
    holder.reset();
    BOOST_TEST(exists(path), "the destructor returned before releasing");
    release.open();

    drain(io);
    BOOST_TEST(!release.gave_up(), "the destructor waited for the file system");
    BOOST_TEST(!exists(path));
    BOOST_TEST(dir.names().empty(), "neither the lock nor the claim is left");
}

BOOST_DATA_TEST_CASE_F(fixture, released_even_if_the_event_loop_never_runs_again, data::make(modes),
                       mode) {
    auto holder =
        std::make_unique<async_file_lock>(io.get_executor(), path, test_options(fs), mode.options);
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await holder->acquire(1s);
    }());

    // The claim's removal is the last step of the clean-up.
    const auto claim = holder->claim_path();
    std::promise<void> removed;
    fs->add_hook({fs_op::unlink, hook_phase::after, path_is(claim), 0, 1, [&](const fs_call&) {
                      removed.set_value();
                  }});
    holder.reset();
    BOOST_TEST((removed.get_future().wait_for(1min) == std::future_status::ready));
    BOOST_TEST(!exists(path));
    BOOST_TEST(!exists(claim));
}

BOOST_DATA_TEST_CASE_F(fixture, destroying_a_parked_waiter_aborts_its_wait, data::make(modes),
                       mode) {
    async_file_lock holder(io.get_executor(), path, test_options(fs), mode.options);
    auto waiter =
        std::make_unique<async_file_lock>(io.get_executor(), path, test_options(fs), mode.options);
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await holder.acquire(1s);
        completion wait(io);
        waiter->async_acquire(1h, wait.handler());
        co_await service_round_trip(dir.path());

        waiter.reset();
        co_await wait.done.wait();
        BOOST_TEST(*wait.result == asio::error::operation_aborted);
        BOOST_TEST(read_file(path) == holder.claim_path());

        // The queue is empty again: the release leaves the lock free.
        co_await holder.release();
        BOOST_TEST(!exists(path));
    }());
}

BOOST_DATA_TEST_CASE_F(fixture, destroying_a_prober_aborts_its_wait_and_removes_its_claim,
                       data::make(modes), mode) {
    const auto planted = plant_lock(path, "elsewhere", 4242, whole_second_now() + 1h);
    auto counted = std::make_shared<counting_fs>(fs);
    auto options = test_options(fs);
    options.fs = counted;
    options.min_poll = options.max_poll = 1h;
    auto waiter = std::make_unique<async_file_lock>(io.get_executor(), path, options, mode.options);
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
        BOOST_TEST(exists(claim));

        waiter.reset();
        co_await wait.done.wait();
        BOOST_TEST(*wait.result == asio::error::operation_aborted);
    }());
    counted->on_steady_now({});
    drain(io);
    BOOST_TEST(!exists(claim));
    BOOST_TEST(read_file(path) == planted);
    BOOST_TEST(dir.names().size() == 2u, "the planted lock and its claim only");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace locknix::test
