// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The modes that use the blocking front end, file_lock.

#include "lock_setup.hpp"
#include "modes.hpp"
#include "records.hpp"
#include "section.hpp"

#include <locknix/error.hpp>
#include <locknix/file_lock.hpp>
#include <locknix/file_system.hpp>

#include <boost/system/system_error.hpp>

#include <chrono>
#include <iostream>
#include <optional>
#include <thread>

namespace locknix::netfs {

namespace {

using namespace std::chrono_literals;
using boost::system::error_code;

std::int64_t since_epoch_ns(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// Whether the lock file names `lock`'s claim, read through the lock; a failing read (an
// injected fault, a passing NFS error) is tried again a few times.
bool names_our_claim(const file_lock& lock) {
    for (int tries = 0;; ++tries) {
        error_code ec;
        const auto holder = lock.holder(ec);
        if (!ec)
            return holder && holder->claim == lock.claim_path();
        if (tries == 4) {
            std::cerr << "cannot read the holder of " << lock.path() << ": " << ec.message()
                      << "\n";
            return false;
        }
        std::this_thread::sleep_for(20ms);
    }
}

// Releases; a release that fails for a passing reason leaves the lock held, so it is tried
// again, as a careful program would.
void release_counted(file_lock& lock, tally& t, const std::string& tag) {
    for (int tries = 0; tries < 5; ++tries) {
        error_code ec;
        lock.release(ec);
        if (!ec)
            return;
        if (ec == errc::lock_lost || ec == errc::not_locked) {
            ++t.lost;
            std::cerr << tag << ": release: " << error_name(ec) << "\n";
            return;
        }
        ++t.release_errors;
        std::cerr << tag << ": release: " << error_name(ec) << " (" << ec.message() << ")\n";
        std::this_thread::sleep_for(20ms);
    }
}

} // namespace

int run_hammer(const arguments& args) {
    tally t;
    const lock_options options = make_options(args, t);
    const auto fs = options.fs ? options.fs : posix_file_system();
    const bool new_lock = args.number("new-lock", 0) != 0;
    std::optional<file_lock> lock(std::in_place, args.get("lock"), options);
    const section_spec spec{args.get("dir"), args.get("journal", ""),
                            args.get("tag", host_and_pid() + ":sync")};
    const long iterations = args.number("iterations", 1);
    const auto timeout = args.millis("timeout-ms", 300000);
    const bool verify = args.number("verify", 0) != 0;
    const bool say_acquired = args.number("say-acquired", 0) != 0;

    for (long i = 0; i < iterations; ++i) {
        if (new_lock && i > 0)
            lock.emplace(args.get("lock"), options);
        ++t.ops;
        // The throwing overload: its message names the operation and the path that failed.
        error_code ec;
        std::string what;
        try {
            lock->acquire(timeout);
        } catch (const boost::system::system_error& e) {
            ec = e.code();
            what = e.what();
        }
        if (ec) {
            ++t.failed;
            std::cerr << spec.tag << ": acquire: " << error_name(ec) << " (" << what << ")\n";
            if (verify && names_our_claim(*lock))
                ++t.orphans;
            continue;
        }
        ++t.ok;
        if (say_acquired)
            say("acquired wall_ns=" + std::to_string(since_epoch_ns(fs->wall_now())));
        if (verify && !names_our_claim(*lock))
            ++t.unverified;

        const auto r = run_section(spec);
        t.overlaps += r.overlap ? 1 : 0;
        t.section_errors += r.error.empty() ? 0 : 1;
        release_counted(*lock, t, spec.tag);
    }
    say(t.summary());
    return 0;
}

int run_hold_lifetime(const arguments& args) {
    tally t;
    const lock_options options = make_options(args, t);
    const auto fs = options.fs ? options.fs : posix_file_system();
    file_lock lock(args.get("lock"), options);
    const std::string state = args.get("state");

    error_code ec;
    lock.acquire(args.millis("timeout-ms", 300000), ec);
    if (ec) {
        append_line(state, "failed " + error_name(ec));
        say("result held_at_end=0 release=not-acquired acquire=" + error_name(ec));
        return 1;
    }
    // The lock was stamped before this read of the clock: holding until `until` holds it for
    // its whole lifetime on this worker's clock.
    const auto until = fs->wall_now() + options.lifetime;
    const auto holder = lock.holder(ec);
    append_line(state,
                "held expiry_ns=" + std::to_string(holder ? since_epoch_ns(holder->expiry) : 0) +
                    " until_ns=" + std::to_string(since_epoch_ns(until)));

    for (auto now = fs->wall_now(); now < until; now = fs->wall_now())
        std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(until - now, 20ms));

    const bool held = lock.is_held(ec);
    const std::string checked = error_name(ec);
    lock.release(ec);
    const std::string released = error_name(ec);
    append_line(state, "end held=" + std::to_string(held ? 1 : 0) + " release=" + released);
    say("result held_at_end=" + std::to_string(held ? 1 : 0) + " check=" + checked +
        " release=" + released + " breaks=" + std::to_string(t.breaks));
    return 0;
}

} // namespace locknix::netfs
