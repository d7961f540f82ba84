// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "cli_error.hpp"
#include "command_process.hpp"
#include "commands.hpp"
#include "duration.hpp"
#include "lock_path.hpp"
#include "signal_pipe.hpp"
#include "text.hpp"
#include "wait_for_lock.hpp"

#include <locknix/error.hpp>
#include <locknix/file_lock.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace locknix::cli {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

constexpr std::string_view help = R"(Usage: locknix run [OPTION]... LOCKFILE -- COMMAND [ARG]...
Take the lock LOCKFILE, run COMMAND while keeping the lock alive, and release it when COMMAND
ends. Exits with COMMAND's status (128+N if signal N killed it), also when the release after
COMMAND fails (said on stderr; the lock then expires within its lifetime).

Options:
  --timeout DUR     give up after DUR without the lock (exit 75); 0 tries once;
                    default: wait for ever
  --lifetime DUR    how long each refresh keeps the lock alive; at least 3s; the lock is
                    refreshed every third of it; default 15s
  --slop DUR        clock difference tolerated between hosts: a lock is broken only when
                    expired by more than this; default 10s
  --kill-after DUR  when the lock is lost, COMMAND gets SIGTERM, then SIGKILL after DUR;
                    default 5s
  --verbose         say who holds the lock while waiting (a live line on a terminal), and
                    when the lock is taken and released
  -h, --help        show this help

DUR: 250ms, 5s, 2m, 1h, or a number of seconds such as 1.5.
Exit codes: 64 usage, 65 not a lock, 66 no lock directory, 71 system error, 73 lock directory
not writable, 75 timed out, 76 lock lost, 126/127 COMMAND cannot run, 128+N signal N.
)";

constexpr nanoseconds min_lifetime = 3s;

struct run_options {
    nanoseconds timeout = nanoseconds::max();
    nanoseconds lifetime = 15s;
    nanoseconds slop = 10s;
    nanoseconds kill_after = 5s;
    bool verbose = false;
    bool help = false;
    std::string_view lockfile;
    arguments command;
};

run_options parse(arguments args) {
    run_options o;
    option_reader r("run", args);
    bool have_lockfile = false;
    bool have_separator = false;
    while (!r.done()) {
        if (r.at_separator()) {
            o.command = r.take_rest();
            have_separator = true;
        } else if (r.flag("--help", "-h")) {
            o.help = true;
        } else if (r.flag("--verbose")) {
            o.verbose = true;
        } else if (auto timeout = r.duration("--timeout")) {
            o.timeout = *timeout;
        } else if (auto lifetime = r.duration("--lifetime")) {
            o.lifetime = *lifetime;
        } else if (auto slop = r.duration("--slop")) {
            o.slop = *slop;
        } else if (auto kill_after = r.duration("--kill-after")) {
            o.kill_after = *kill_after;
        } else if (r.at_option()) {
            r.reject_option();
        } else if (have_lockfile) {
            throw usage_error("run",
                              "missing '--' before COMMAND '" + printable(r.operand()) + "'");
        } else {
            o.lockfile = r.operand();
            have_lockfile = true;
        }
    }
    if (o.help)
        return o;

    if (!have_lockfile)
        throw usage_error("run", "missing LOCKFILE");
    if (!have_separator)
        throw usage_error("run", "missing '--' before COMMAND");
    if (o.command.empty())
        throw usage_error("run", "missing COMMAND after '--'");
    if (o.command.front().empty())
        throw usage_error("run", "COMMAND is empty");
    if (o.lifetime < min_lifetime)
        throw usage_error("run", "--lifetime " + format_duration(o.lifetime) +
                                     " is too short: it must be at least " +
                                     format_duration(min_lifetime) +
                                     " (the lock is refreshed every third of it)");
    check_at_most_a_year("run", "--lifetime", o.lifetime);
    check_at_most_a_year("run", "--slop", o.slop);
    return o;
}

lock_options options_for(const run_options& o, reporter& out) {
    lock_options options;
    options.lifetime = o.lifetime;
    options.clock_slop = o.slop;
    if (o.verbose)
        options.log = [&out](log_level level, std::string_view message) {
            if (level != log_level::debug)
                out.event(message);
        };
    return options;
}

// Releases the lock after COMMAND; true if the lock turned out to be lost.
bool release(file_lock& lock, bool lost, reporter& out) {
    try {
        lock.release();
        out.event("released " + lock.path());
        return false;
    } catch (const boost::system::system_error& e) {
        if (e.code() == errc::lock_lost || e.code() == errc::not_locked) {
            if (!lost)
                out.error("locknix: lost the lock " + lock.path() +
                          " while COMMAND ran: " + e.code().message());
            return true;
        }
        // COMMAND's work is done: a script must not take this for a failure and do it again.
        // The lock is no longer refreshed, and expires within its lifetime.
        out.error(std::string(from_system_error(e).what()) +
                  "; COMMAND's status stands, and the lock expires within its lifetime");
        return false;
    }
}

int run_locked(file_lock& lock, const run_options& o, signal_pipe& signals, loss_alarm& alarm,
               reporter& out) {
    int spawn_error = 0;
    const pid_t child = spawn_command(o.command, spawn_error);
    if (child < 0) {
        boost::system::error_code ignored;
        lock.release(ignored);
        out.error("locknix: cannot run " + printable(o.command.front()) + ": " +
                  std::strerror(spawn_error));
        return spawn_error == ENOENT ? exit_code::command_not_found
                                     : exit_code::command_not_executable;
    }
    out.event("started COMMAND (pid " + std::to_string(child) + ")");

    boost::system::error_code ec;
    lock.keep_alive([&alarm](boost::system::error_code lost) { alarm.raise(lost); }, ec);
    if (ec)
        alarm.raise(ec);

    const command_outcome outcome =
        supervise(child, signals, alarm, o.kill_after, lock.path(), out);
    out.event("COMMAND " + describe_status(outcome.wait_status));

    const bool lost = release(lock, outcome.lock_lost, out) || outcome.lock_lost;
    if (lost)
        return exit_code::lock_lost;
    return shell_status(outcome.wait_status);
}

} // namespace

int run_command(arguments args, reporter& out) {
    const run_options o = parse(args);
    if (o.help) {
        std::fputs(help.data(), stdout);
        return exit_code::success;
    }

    const std::string path = checked_lock_path("run", o.lockfile, lock_access::write);
    out.set_verbose(o.verbose);

    // The alarm outlives the lock, whose keep-alive thread raises it.
    loss_alarm alarm;
    const auto lock = make_lock(path, options_for(o, out));
    // A first look, so that a file that is not a lock is named before any wait. A system error
    // here is left to the acquisition, which tries passing ones again and reports lasting ones.
    lock_look look;
    try {
        look = look_at(*lock, std::chrono::system_clock::now());
    } catch (const cli_error& e) {
        if (e.code() != exit_code::system_error)
            throw;
    }
    if (look.state == lock_state::not_a_lock)
        throw not_a_lock_error(path, look);

    signal_pipe signals;
    if (const auto s = wait_for_lock(*lock, o.timeout, signals, out)) {
        out.event("interrupted by " + signal_name(s->number) + " before COMMAND started");
        return exit_code::signal_base + s->number;
    }
    out.event("acquired " + path + " (lifetime " + format_duration(o.lifetime) +
              ", refreshed every " + format_duration(o.lifetime / 3) + ")");
    return run_locked(*lock, o, signals, alarm, out);
}

} // namespace locknix::cli
