// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "wait_for_lock.hpp"

#include "cli_error.hpp"
#include "duration.hpp"
#include "lock_path.hpp"
#include "text.hpp"

#include <algorithm>
#include <string>

namespace locknix::cli {
namespace {

using std::chrono::nanoseconds;
using steady = std::chrono::steady_clock;
using wall = std::chrono::system_clock;

// The blocking acquisition cannot be interrupted, so the wait is cut into slices this long: it
// bounds how late a signal is noticed. Each slice keeps the library's own polling and wake-ups.
constexpr auto slice = std::chrono::milliseconds(100);

bool ends_the_wait(const received_signal& s) {
    return std::ranges::find(signal_pipe::forwarded, s.number) != std::end(signal_pipe::forwarded);
}

std::optional<received_signal> pending_signal(signal_pipe& signals) {
    while (auto s = signals.next())
        if (ends_the_wait(*s))
            return s;
    return std::nullopt;
}

std::string whole_seconds(nanoseconds d) {
    return format_duration(std::chrono::floor<std::chrono::seconds>(d));
}

// Says who holds the lock: the live line on a terminal, else a line each time the holder changes.
void show_holder(const file_lock& lock, reporter& out, steady::time_point start,
                 std::string& last_claim) {
    lock_look look;
    try {
        look = look_at(lock, wall::now());
    } catch (const cli_error&) {
        return; // the next attempt reports a lasting failure
    }
    const std::string waited = "waited " + whole_seconds(steady::now() - start);
    const std::string subject = "waiting for " + lock.path() + ": ";
    if (!look.holder) {
        out.live_line(subject + "free, trying again; " + waited);
        return;
    }

    const holder_info& holder = *look.holder;
    const auto now = wall::now();
    const std::string expiry = holder.expiry > now
                                   ? "expires in " + format_countdown(holder.expiry - now)
                                   : "expired " + whole_seconds(now - holder.expiry) + " ago";
    const std::string breakable = look.state == lock_state::held_by_other_breakable
                                      ? "breakable now"
                                      : "breakable in " + format_countdown(look.breakable_at - now);
    out.live_line(subject + "held by " + describe_holder(holder) + ", " + expiry + ", " +
                  breakable + "; " + waited);

    if (!out.live() && holder.claim != last_claim) {
        out.event(subject + "held by " + describe_holder(holder) + ", expiry " +
                  iso8601_utc(holder.expiry) + ", breakable after " +
                  iso8601_utc(look.breakable_at));
        last_claim = holder.claim;
    }
}

cli_error timed_out(const file_lock& lock, nanoseconds timeout) {
    std::string message =
        "locknix: timed out after " + format_duration(timeout) + " waiting for " + lock.path();
    try {
        const lock_look look = look_at(lock, wall::now());
        if (look.holder)
            message += ", held by " + describe_holder(*look.holder);
    } catch (const cli_error&) {
    }
    return cli_error(exit_code::not_acquired, message);
}

} // namespace

std::optional<received_signal> wait_for_lock(file_lock& lock, nanoseconds timeout,
                                             signal_pipe& signals, reporter& out) {
    const auto start = steady::now();
    const bool forever = timeout >= steady::time_point::max() - start;
    const auto deadline = forever ? steady::time_point::max()
                                  : start + std::chrono::duration_cast<steady::duration>(timeout);

    std::string last_claim;
    nanoseconds step = nanoseconds::zero(); // the first attempt does not wait
    for (;;) {
        if (auto s = pending_signal(signals)) {
            out.clear_live_line();
            return s;
        }

        bool acquired = false;
        try {
            acquired = lock.try_lock_for(std::min<nanoseconds>(step, deadline - steady::now()));
        } catch (const boost::system::system_error& e) {
            out.clear_live_line();
            throw from_system_error(e);
        }
        if (acquired) {
            out.clear_live_line();
            if (auto s = pending_signal(signals)) {
                boost::system::error_code ignored;
                lock.release(ignored);
                return s;
            }
            return std::nullopt;
        }
        if (steady::now() >= deadline) {
            out.clear_live_line();
            throw timed_out(lock, timeout);
        }

        step = slice;
        if (out.verbose())
            show_holder(lock, out, start, last_claim);
    }
}

} // namespace locknix::cli
