// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The lock options every mode builds from its command line, and the tally it reports.

#ifndef LOCKNIX_TESTS_NETFS_LOCK_SETUP_HPP
#define LOCKNIX_TESTS_NETFS_LOCK_SETUP_HPP

#include "arguments.hpp"

#include <locknix/lock_options.hpp>

#include <boost/system/error_code.hpp>

#include <atomic>
#include <string>

namespace locknix::netfs {

/// What a worker counts; printed as the summary line "result ops=... ok=... ...".
struct tally {
    std::atomic<long> ops{0};        // acquisitions tried
    std::atomic<long> ok{0};         // acquisitions that got the lock
    std::atomic<long> failed{0};     // acquisitions that reported an error (timeout included)
    std::atomic<long> overlaps{0};   // sections that found another holder inside
    std::atomic<long> unverified{0}; // acquired, but the lock file named another claim
    std::atomic<long> orphans{0};    // failed, but the lock file named our claim
    std::atomic<long> section_errors{0};
    std::atomic<long> release_errors{0};
    std::atomic<long> lost{0};   // lock_lost reported (refresh, release, keep-alive)
    std::atomic<long> breaks{0}; // expired locks this worker broke (from the logger)

    std::string summary() const;
};

/// --lifetime-ms (default 10000), --slop-ms (5000), --min-poll-ms, --max-poll-ms, --inotify
/// (1; 0 turns it off), --skew-ms (a skewed_file_system when given); the logger counts breaks into
/// `t.breaks` and prints warnings on stderr.
lock_options make_options(const arguments& args, tally& t);

/// "EIO", "lock_lost", "timed_out", ...: short names for the summary and state files.
std::string error_name(const boost::system::error_code& ec);

} // namespace locknix::netfs

#endif
