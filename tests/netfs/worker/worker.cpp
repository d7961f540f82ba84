// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The worker of the multi-host suite (tests/netfs/suite.sh). One program, run on the bed's hosts
// in these modes; every lock mode prints a last line "result ops= ok= failed= overlaps= ..."
// (see lock_setup.hpp). Times are in milliseconds.
//
//   section --dir D [--journal J] [--tag T]
//       One pass through the critical section (section.hpp), no lock: the COMMAND of
//       `locknix run`. The tag defaults to "host:PPID:cli", PPID being locknix run's pid.
//       Exit 0; 3 if another holder was inside; 4 if a file operation failed.
//   victim --dir D --state S --go G [--increment 1] [--journal J] [--tag T]
//       A COMMAND of `locknix run` that holds on: adds one to the counter (with --increment),
//       appends "entered" to S, then waits. On SIGTERM/SIGINT/SIGHUP it appends "signalled
//       SIGNAME" and exits 128+N; once the local file G exists it appends a line to D/late (the
//       write a holder must never make after losing the lock), then "wrote", and exits 0.
//   hammer --lock P --dir D [--iterations N] [--timeout-ms T] [--journal J] [--tag T]
//          [--verify 1] [--say-acquired 1] [--new-lock 1] [lock options]
//       N times with file_lock: acquire, section, release. --verify checks after each
//       acquisition that the lock file names our claim, and after each failure that it does not.
//       --say-acquired prints "acquired wall_ns=" (on the worker's own, maybe skewed, clock).
//       --new-lock makes a new lock object (so a new claim file) for each acquisition.
//   hold-lifetime --lock P --state S [--timeout-ms T] [lock options]
//       Acquires with file_lock (no keep-alive), appends "held expiry_ns=" to S, holds until its
//       own clock has passed the acquisition plus the lifetime, then checks that it still holds
//       the lock and releases it. Prints "result held_at_end=0|1 release=NAME breaks=".
//   async --lock P --dir D [--coroutines C] [--iterations N] [--timeout-ms T] [--journal J]
//         [--tag T] [--verify 1] [--new-lock 1] [lock options]
//       C coroutines on one io_context run by one thread, each with its own async_file_lock on P,
//       each N times: co_await acquire, section, co_await release. --verify and --new-lock as
//       for hammer.
//   hold --lock P --dir D --state S --go G [--increment 1] [--timeout-ms T] [lock options]
//       Acquires with async_file_lock, turns the keep-alive on, appends "held" to S and waits for
//       async_wait_lost in the background. Appends "lost NAME" when told the lock is lost. Once
//       the local file G exists it writes to D/late only if it was not told ("wrote"), else
//       appends "skipped-write"; then releases ("released NAME").
//   Both async modes add "io_settled=0|1" to the result: whether io_context::run() ran out of
//   work by itself within --settle-ms (5000) after the last coroutine ended and its locks were
//   destroyed. It should; if not, the worker stops the context itself.
//   check-journal --journal J
//       Sorts the journal lines by start and prints "sections=N overlaps=M": M sections started
//       before an earlier one had ended.
//
// Lock options: --lifetime-ms (10000), --slop-ms (5000), --min-poll-ms, --max-poll-ms,
// --inotify (1; 0 turns it off), --skew-ms (the worker's wall clock is off by this much: a
// skewed_file_system seam).

#include "arguments.hpp"
#include "modes.hpp"

#include <exception>
#include <iostream>
#include <map>

int main(int argc, char** argv) {
    using namespace locknix::netfs;
    const arguments args(argc, argv);
    const std::map<std::string, int (*)(const arguments&)> modes = {
        {"section", run_section_once},        {"victim", run_victim},      {"hammer", run_hammer},
        {"hold-lifetime", run_hold_lifetime}, {"async", run_async_hammer}, {"hold", run_async_hold},
        {"check-journal", run_check_journal},
    };
    const auto mode = modes.find(args.mode());
    if (mode == modes.end()) {
        std::cerr << "locknix_netfs_worker: unknown mode '" << args.mode() << "'\n";
        return 2;
    }
    try {
        return mode->second(args);
    } catch (const std::exception& e) {
        std::cerr << "locknix_netfs_worker " << args.mode() << ": " << e.what() << "\n";
        return 5;
    }
}
