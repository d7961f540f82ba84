// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The modes that use the asynchronous front end: coroutines on one io_context run by one
// thread; the lock service makes the system calls on its own small pool.

#include "lock_setup.hpp"
#include "modes.hpp"
#include "records.hpp"
#include "section.hpp"

#include <locknix/async_file_lock.hpp>
#include <locknix/error.hpp>
#include <locknix/file_lock.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>

namespace locknix::netfs {

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Whether the lock file names `claim`, read through a lock object that never acquires.
bool names_claim(const file_lock& reader, const std::string& claim) {
    for (int tries = 0; tries < 5; ++tries) {
        error_code ec;
        const auto holder = reader.holder(ec);
        if (!ec)
            return holder && holder->claim == claim;
    }
    return false;
}

asio::awaitable<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    co_await timer.async_wait(use_tuple);
}

// Releases, trying again after a passing failure that left the lock held.
asio::awaitable<void> release_counted(async_file_lock& lock, tally& t, const std::string& tag) {
    for (int tries = 0; tries < 5; ++tries) {
        const auto [ec] = co_await lock.async_release(use_tuple);
        if (!ec)
            co_return;
        if (ec == errc::lock_lost || ec == errc::not_locked) {
            ++t.lost;
            std::cerr << tag << ": release: " << error_name(ec) << "\n";
            co_return;
        }
        ++t.release_errors;
        std::cerr << tag << ": release: " << error_name(ec) << " (" << ec.message() << ")\n";
        co_await pause(20ms);
    }
}

// Runs `io` until `finished()`, then on until it runs out of work by itself: the destroyed
// locks remove their claim files on the service's pool meanwhile. io_context::run() is expected
// to return once every lock is gone; `settle` bounds that wait. Returns whether it did return;
// either way the context is stopped, and destroying it lets the pool finish what it has.
bool run_and_settle(asio::io_context& io, const std::function<bool()>& finished,
                    std::chrono::milliseconds settle) {
    while (!finished() && !io.stopped())
        io.run_one();
    const auto deadline = std::chrono::steady_clock::now() + settle;
    while (!io.stopped() && std::chrono::steady_clock::now() < deadline)
        io.run_one_until(deadline);
    const bool settled = io.stopped();
    io.stop();
    return settled;
}

std::chrono::milliseconds settle_time(const arguments& args) {
    return args.millis("settle-ms", 5000);
}

std::string settled_field(bool settled) {
    return std::string(" io_settled=") + (settled ? "1" : "0");
}

} // namespace

int run_async_hammer(const arguments& args) {
    tally t;
    const lock_options options = make_options(args, t);
    const std::string path = args.get("lock");
    const std::string base_tag = args.get("tag", host_and_pid() + ":async");
    const long coroutines = args.number("coroutines", 8);
    const long iterations = args.number("iterations", 1);
    const auto timeout = args.millis("timeout-ms", 300000);
    const bool verify = args.number("verify", 0) != 0;
    const bool new_lock = args.number("new-lock", 0) != 0;
    asio::io_context io(1);

    auto one = [&](long id) -> asio::awaitable<void> {
        const section_spec spec{args.get("dir"), args.get("journal", ""),
                                base_tag + ":" + std::to_string(id)};
        const auto executor = co_await asio::this_coro::executor;
        auto lock = std::make_unique<async_file_lock>(executor, path, options);
        std::optional<file_lock> reader;
        if (verify)
            reader.emplace(path, options);
        for (long i = 0; i < iterations; ++i) {
            if (new_lock && i > 0)
                lock = std::make_unique<async_file_lock>(executor, path, options);
            ++t.ops;
            const auto [ec] = co_await lock->async_acquire(timeout, use_tuple);
            if (ec) {
                ++t.failed;
                std::cerr << spec.tag << ": acquire: " << error_name(ec) << " (" << ec.message()
                          << ")\n";
                if (reader && names_claim(*reader, lock->claim_path()))
                    ++t.orphans;
                continue;
            }
            ++t.ok;
            if (reader && !names_claim(*reader, lock->claim_path()))
                ++t.unverified;
            const auto r = run_section(spec);
            t.overlaps += r.overlap ? 1 : 0;
            t.section_errors += r.error.empty() ? 0 : 1;
            co_await release_counted(*lock, t, spec.tag);
        }
    };
    long running = coroutines;
    for (long id = 0; id < coroutines; ++id) {
        asio::co_spawn(io, one(id), [&t, &running](std::exception_ptr e) {
            --running;
            if (!e)
                return;
            ++t.failed;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                std::cerr << "async coroutine: " << x.what() << "\n";
            }
        });
    }
    const bool settled = run_and_settle(
        io, [&] { return running == 0; }, settle_time(args));
    say(t.summary() + settled_field(settled));
    return 0;
}

int run_async_hold(const arguments& args) {
    tally t;
    const lock_options options = make_options(args, t);
    const std::string dir = args.get("dir");
    const std::string state = args.get("state");
    const std::string go = args.get("go");
    const std::string tag = args.get("tag", host_and_pid() + ":hold");
    asio::io_context io(1);
    std::optional<error_code> told; // what async_wait_lost completed with
    bool finished = false;

    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            async_file_lock lock(co_await asio::this_coro::executor, args.get("lock"), options);
            const auto [ec] =
                co_await lock.async_acquire(args.millis("timeout-ms", 300000), use_tuple);
            if (ec) {
                append_line(state, "failed " + error_name(ec));
                co_return;
            }
            if (args.number("increment", 0) != 0) {
                const std::string error = increment_counter(dir);
                if (!error.empty())
                    append_line(state, "increment-error " + error);
            }
            lock.keep_alive(true);
            lock.async_wait_lost([&](error_code lost) {
                told = lost;
                if (lost != errc::lock_lost)
                    return; // released by us, or the wait was cancelled
                ++t.lost;
                append_line(state, "lost " + error_name(lost));
            });
            append_line(state, "held " + lock.claim_path());

            while (!exists(go))
                co_await pause(50ms);
            if (told && *told == errc::lock_lost) {
                append_line(state, "skipped-write");
            } else {
                const std::string error = append_line(dir + "/late", "late write by " + tag);
                append_line(state, error.empty() ? "wrote" : "write-error " + error);
            }
            const auto [released] = co_await lock.async_release(use_tuple);
            append_line(state, "released " + error_name(released));
        },
        [&](std::exception_ptr e) {
            finished = true;
            if (e)
                append_line(state, "exception");
        });
    const bool settled = run_and_settle(
        io, [&] { return finished; }, settle_time(args));
    say(t.summary() + settled_field(settled));
    return 0;
}

} // namespace locknix::netfs
