// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "cli_error.hpp"
#include "commands.hpp"
#include "duration.hpp"
#include "lock_path.hpp"
#include "text.hpp"

#include <locknix/error.hpp>

#include <cstdio>
#include <string>

namespace locknix::cli {
namespace {

using namespace std::chrono_literals;
using boost::system::error_code;
using std::chrono::nanoseconds;
using steady = std::chrono::steady_clock;
using wall = std::chrono::system_clock;

constexpr std::string_view help = R"(Usage: locknix break [--force] [--slop DUR] LOCKFILE
Break the lock LOCKFILE if it has expired: take it (which breaks the expired lock, safely
against other breakers and waiters) and release it at once. Says whose lock was broken, or that
nothing needed breaking.

Options:
  --force       break the lock even if it has not expired: remove the lock file if it still
                holds the same holder's claim, and that holder's claim file; the holder finds
                its lock lost at its next refresh
  --slop DUR    the clock slop that decides when a lock is breakable; default 10s
  -h, --help    show this help

Exit codes: 0 broken or nothing to break, 75 held and not expired (without --force),
64 usage, 65 not a lock (left as it is), 66 no lock directory, 71 system error, 73 lock
directory not writable.
)";

// How long to keep trying while another process is breaking the same expired lock.
constexpr auto break_patience = 2s;
constexpr auto slice = 100ms;

// What break_lock reports when another breaker held the breaker mutex at each of its tries.
constexpr auto another_breaker = boost::system::errc::resource_unavailable_try_again;

struct break_options {
    bool force = false;
    bool help = false;
    nanoseconds slop = 10s;
    std::string_view lockfile;
};

break_options parse(arguments args) {
    break_options o;
    option_reader r("break", args);
    bool have_lockfile = false;
    while (!r.done()) {
        if (r.flag("--help", "-h")) {
            o.help = true;
        } else if (r.flag("--force")) {
            o.force = true;
        } else if (auto slop = r.duration("--slop")) {
            o.slop = *slop;
        } else if (r.at_option()) {
            r.reject_option();
        } else if (have_lockfile) {
            throw usage_error("break", "unexpected argument '" + printable(r.operand()) + "'");
        } else {
            o.lockfile = r.operand();
            have_lockfile = true;
        }
    }
    if (!o.help && !have_lockfile)
        throw usage_error("break", "missing LOCKFILE");
    check_at_most_a_year("break", "--slop", o.slop);
    return o;
}

void say(const std::string& line) {
    std::fputs(("locknix: " + line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

std::string lock_of(const file_lock& lock, const holder_info& holder) {
    return printable(lock.path()) + " of " + describe_holder(holder);
}

// Breaks the expired lock of `judged` by taking the lock and releasing it.
int break_expired(file_lock& lock, const holder_info& judged) {
    const auto give_up = steady::now() + break_patience;
    for (nanoseconds step = 0s;; step = slice) {
        bool acquired = false;
        try {
            acquired = lock.try_lock_for(step);
            if (acquired)
                lock.release();
        } catch (const boost::system::system_error& e) {
            throw from_system_error(e);
        }
        if (acquired) {
            say("broke the expired lock " + lock_of(lock, judged));
            return exit_code::success;
        }

        const lock_look look = look_at(lock, wall::now());
        if (look.state == lock_state::not_a_lock)
            throw not_a_lock_error(lock.path(), look);
        if (!look.holder || look.holder->claim != judged.claim) {
            std::string line = "the expired lock " + lock_of(lock, judged) + " is gone";
            if (look.holder)
                line += "; it is now held by " + describe_holder(*look.holder);
            say(line);
            return exit_code::success;
        }
        if (steady::now() >= give_up)
            throw cli_error(exit_code::not_acquired,
                            "locknix: cannot break the expired lock " + lock_of(lock, judged) +
                                " now: another process is breaking it; try again");
    }
}

// Breaks a lock that has not expired, through the library: under the breaker mutex that the
// breakers of expired locks take too, and only if the lock is still the one judged (the same
// claim, the same expiry). When it is not, or another breaker is at work, the lock is judged
// again.
int break_forced(file_lock& lock, holder_info judged) {
    for (int tries = 0; tries < 3; ++tries) {
        error_code ec;
        try {
            lock.break_lock(judged);
            say("broke the lock " + lock_of(lock, judged) + " (forced: it was not expired)");
            return exit_code::success;
        } catch (const boost::system::system_error& e) {
            ec = e.code();
            if (ec != errc::not_locked && ec != errc::foreign_file && ec != another_breaker)
                throw from_system_error(e);
        }

        const lock_look look = look_at(lock, wall::now());
        if (look.state == lock_state::not_a_lock)
            throw not_a_lock_error(lock.path(), look);
        if (!look.holder) {
            say("nothing to break: " + printable(lock.path()) + " was released meanwhile");
            return exit_code::success;
        }
        if (look.state == lock_state::held_by_other_breakable)
            return break_expired(lock, *look.holder);
        if (ec == another_breaker && look.holder->claim == judged.claim)
            throw cli_error(exit_code::not_acquired,
                            "locknix: cannot break the lock " + lock_of(lock, judged) +
                                " now: another process is breaking it; try again");
        judged = *look.holder;
    }
    throw cli_error(exit_code::not_acquired,
                    "locknix: " + lock.path() + " changed hands at every try; nothing was broken");
}

} // namespace

int break_command(arguments args, reporter&) {
    const break_options o = parse(args);
    if (o.help) {
        std::fputs(help.data(), stdout);
        return exit_code::success;
    }

    const std::string path = checked_lock_path("break", o.lockfile, lock_access::write);
    lock_options options;
    options.clock_slop = o.slop;
    const auto lock = make_lock(path, options);

    const auto now = wall::now();
    const lock_look look = look_at(*lock, now);
    if (look.state == lock_state::not_a_lock)
        throw not_a_lock_error(path, look);
    if (!look.holder) {
        say("nothing to break: " + printable(path) + " is not locked");
        return exit_code::success;
    }
    if (look.state == lock_state::held_by_other_breakable)
        return break_expired(*lock, *look.holder);
    if (o.force)
        return break_forced(*lock, *look.holder);
    throw cli_error(exit_code::not_acquired, "locknix: the lock " + lock_of(*lock, *look.holder) +
                                                 " is not breakable yet: it becomes breakable in " +
                                                 format_countdown(look.breakable_at - now) +
                                                 " (after " + iso8601_utc(look.breakable_at) +
                                                 "); use --force to break it anyway");
}

} // namespace locknix::cli
