// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// FIFO hand-off between the waiters of one path in one process: coroutines queue on one lock and
// acquire it in the order in which they asked for it, one at a time, whether the lock was held
// by an object of this process (released: handed on at once, without polling) or by another
// process (its lock removed: the first waiter's probe finds it gone).

#include "support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <exception>
#include <optional>
#include <vector>

namespace locknix::test {
namespace {

using namespace std::chrono_literals;
namespace data = boost::unit_test::data;

enum class first_holder { this_process, other_process };

std::ostream& operator<<(std::ostream& out, first_holder h) {
    return out << (h == first_holder::this_process ? "this_process" : "other_process");
}

struct where {
    const char* name;
    async_options options;
};

std::ostream& operator<<(std::ostream& out, const where& w) {
    return out << w.name;
}

const std::vector<where> modes{{"thread_pool", {syscall_mode::thread_pool}},
                               {"event_loop", {syscall_mode::event_loop}}};

const std::vector<first_holder> holders{first_holder::this_process, first_holder::other_process};

} // namespace

BOOST_AUTO_TEST_SUITE(fifo)

BOOST_DATA_TEST_CASE(waiters_acquire_in_arrival_order, data::make(holders) * data::make(modes),
                     holder_kind, mode) {
    constexpr std::size_t waiters = 32;
    temp_dir dir;
    const auto path = dir / "lock";
    auto fs = std::make_shared<fault_fs>();
    asio::io_context io;

    async_file_lock holder(io.get_executor(), path, test_options(fs), mode.options);
    std::vector<std::unique_ptr<async_file_lock>> locks;
    for (std::size_t i = 0; i < waiters; ++i)
        locks.push_back(std::make_unique<async_file_lock>(io.get_executor(), path, test_options(fs),
                                                          mode.options));

    std::vector<std::size_t> arrivals, acquisitions;
    std::size_t inside = 0, overlaps = 0, finished = 0;
    std::exception_ptr failure;
    async_event all_done(io);

    auto waiter = [&](std::size_t i) -> asio::awaitable<void> {
        arrivals.push_back(i);
        co_await locks[i]->acquire(1h);
        acquisitions.push_back(i);
        if (inside++ != 0)
            ++overlaps;
        for (int turn = 0; turn < 3; ++turn)
            co_await asio::post(io, asio::use_awaitable);
        --inside;
        co_await locks[i]->release();
    };

    run_coroutine(io, [&]() -> asio::awaitable<void> {
        std::string planted;
        if (holder_kind == first_holder::this_process)
            co_await holder.acquire(1s);
        else
            planted = plant_lock(path, "elsewhere", 4242, whole_second_now() + 1h);

        for (std::size_t i = 0; i < waiters; ++i) {
            asio::co_spawn(io, waiter(i), [&](std::exception_ptr e) {
                if (e && !failure)
                    failure = e;
                if (++finished == waiters)
                    all_done.notify();
            });
        }
        while (arrivals.size() < waiters)
            co_await asio::post(io, asio::use_awaitable);
        co_await service_round_trip(dir.path());
        BOOST_TEST(acquisitions.empty());
        fs->reset_counts();

        if (holder_kind == first_holder::this_process) {
            co_await holder.release();
        } else {
            remove_file(path);
            remove_file(planted);
        }
        co_await all_done.wait();
    }());

    if (failure)
        std::rethrow_exception(failure);
    BOOST_TEST(acquisitions == arrivals, boost::test_tools::per_element());
    BOOST_TEST(overlaps == 0u);
    BOOST_TEST(!exists(path));
    if (holder_kind == first_holder::this_process) {
        // Handed on at once: every waiter linked exactly once, no waiter polled.
        BOOST_TEST(fs->count(fs_op::link) == waiters);
    }

    locks.clear();
    drain(io);
    const std::size_t holder_claims = holder_kind == first_holder::this_process ? 1 : 0;
    BOOST_TEST(claims_in(dir, "lock") == holder_claims, "only the idle holder's claim is left");
}

// Only the first waiter of a path probes; a waiter parked behind it ends on its own deadline,
// after one attempt of its own, while the prober waits on; the prober then gets the lock.
BOOST_DATA_TEST_CASE(a_parked_waiter_ends_on_its_own_deadline, data::make(modes), mode) {
    temp_dir dir;
    const auto path = dir / "lock";
    auto fs = std::make_shared<fault_fs>();
    asio::io_context io;
    async_file_lock prober(io.get_executor(), path, test_options(fs), mode.options);
    async_file_lock patient(io.get_executor(), path, test_options(fs), mode.options);
    async_file_lock hasty(io.get_executor(), path, test_options(fs), mode.options);
    const auto planted = plant_lock(path, "elsewhere", 4242, whole_second_now() + 1h);

    std::optional<error_code> probed, waited, tried;
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        prober.async_acquire(1h, [&](error_code ec) { probed = ec; });
        patient.async_acquire(30ms, [&](error_code ec) { waited = ec; });
        hasty.async_acquire(0s, [&](error_code ec) { tried = ec; });
        co_await service_round_trip(dir.path());
        fs->reset_counts();
        // Bounded, so that a parked waiter that never ends fails the test instead of hanging it.
        const auto bound = std::chrono::steady_clock::now() + 10s;
        while ((!waited || !tried) && std::chrono::steady_clock::now() < bound)
            co_await asio::post(io, asio::use_awaitable);
    }());
    BOOST_TEST_REQUIRE(waited.has_value());
    BOOST_TEST_REQUIRE(tried.has_value());
    BOOST_TEST(*waited == errc::timed_out);
    BOOST_TEST(*tried == errc::timed_out);
    BOOST_TEST(!probed.has_value(), "the prober waits on");
    const auto links_from = [&](const async_file_lock& lock) {
        std::size_t n = 0;
        for (const auto& call : fs->calls())
            n += call.op == fs_op::link && call.path == lock.claim_path() ? 1u : 0u;
        return n;
    };
    BOOST_TEST(links_from(patient) == 1u);
    BOOST_TEST(links_from(hasty) == 1u);
    BOOST_TEST(!exists(patient.claim_path()));
    BOOST_TEST(!exists(hasty.claim_path()));

    remove_file(path);
    remove_file(planted);
    run_until(io, [&] { return probed.has_value(); });
    BOOST_TEST(probed.value() == error_code());
    BOOST_TEST(prober.held());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace locknix::test
