// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// How a worker leaves traces for the suite: lines appended to files (state files and journals
// on the machine's own disk, which every host shares), the summary line on stdout, and the two
// clocks a journal line carries.

#ifndef LOCKNIX_TESTS_NETFS_RECORDS_HPP
#define LOCKNIX_TESTS_NETFS_RECORDS_HPP

#include <cstdint>
#include <string>

namespace locknix::netfs {

/// Appends `line` and a newline with one write(2) on an O_APPEND descriptor, so that lines of
/// concurrent writers do not mix. Returns the error text, empty on success.
std::string append_line(const std::string& path, const std::string& line);

/// Writes `line` and a newline to stdout in one piece; exits with status 3 if it cannot.
void say(const std::string& line);

/// True if `path` exists (lstat).
bool exists(const std::string& path);

/// CLOCK_MONOTONIC in nanoseconds: the same clock on every host of the bed (one kernel), so
/// that the journal lines of all hosts can be put in one order.
std::int64_t monotonic_ns();

/// CLOCK_REALTIME in nanoseconds, unskewed.
std::int64_t wall_ns();

/// "host:pid" of this process.
std::string host_and_pid();

} // namespace locknix::netfs

#endif
