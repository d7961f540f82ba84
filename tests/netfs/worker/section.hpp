// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The critical section every lock holder of the suite runs, whatever its front end: enter
// (create the marker `inside` with O_EXCL in the shared directory), add one to the shared
// counter, leave (remove the marker), and note the interval in a journal.
//
// Two overlap detectors: the marker, which a second holder cannot create while the first is
// inside; and the journal, whose lines carry CLOCK_MONOTONIC start and end times that are
// comparable across the bed's hosts (they share one kernel), so that the suite can check that
// no two sections of one lock ever overlapped in time.

#ifndef LOCKNIX_TESTS_NETFS_SECTION_HPP
#define LOCKNIX_TESTS_NETFS_SECTION_HPP

#include <string>

namespace locknix::netfs {

struct section_spec {
    /// The shared directory with `counter` and `inside`.
    std::string dir;
    /// A local file for the journal line; empty for none.
    std::string journal;
    /// Who is inside, e.g. "host2:1234:async".
    std::string tag;
};

struct section_result {
    /// The marker of another holder was there.
    bool overlap = false;
    /// A failed file operation, empty if none.
    std::string error;
};

/// One pass through the critical section; writes the journal line "START END WALL TAG"
/// (monotonic start and end, wall-clock start, all in nanoseconds).
section_result run_section(const section_spec& spec);

/// Adds one to the counter `dir/counter`: 20 decimal digits, always the same size, so that a
/// reader with a stale cached size still reads all of it. Read with O_DIRECT where allowed (on
/// GlusterFS a plain read returns what the host read up to a second ago, lock or no lock);
/// written with pwrite and fsync (on GlusterFS close() does not wait for written data:
/// write-behind with flush-behind). Returns the error text, empty on success.
std::string increment_counter(const std::string& dir);

} // namespace locknix::netfs

#endif
