// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Multi-process tests that show library bugs not fixed yet. They fail today, so they are not
// part of ctest: build with -DLOCKNIX_PROCESS_KNOWN_BUGS=ON and run locknix_process_known_bugs.
// When a fix lands, move the test into the file of its behaviour.

#define BOOST_TEST_MODULE process_known_bugs
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <cerrno>
#include <csignal>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

using namespace locknix::test;

std::vector<std::string> as_nobody(std::vector<std::string> args) {
    args.insert(args.begin(),
                {LOCKNIX_SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups"});
    return args;
}

bool can_switch_users() {
    return ::geteuid() == 0 && ::access(LOCKNIX_SETPRIV, X_OK) == 0;
}

// protocol.cpp, break_lock() -> remove_stale_breaker_mutex(): when the stale breaker mutex
// (`<lock>.break`, left by a breaker that was killed) belongs to another user in a sticky
// directory, rename() fails with EPERM, remove_stale_breaker_mutex() returns false and
// break_lock() reports "busy". The breaker then retries until its deadline and reports only
// `timed_out` (with no deadline, lock() waits forever), although its own expired lock is right
// there and nothing will ever remove the mutex. design.md: "Where a sticky directory or
// permissions stop a breaker (EPERM/EACCES on unlink), say so clearly". Expected: an EPERM error
// that names the path, as when the lock itself cannot be moved aside.
BOOST_AUTO_TEST_CASE(another_users_stale_breaker_mutex_is_reported,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                         return can_switch_users();
                     })) {
    temp_dir dir("stale-mutex-sticky");
    BOOST_TEST_REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    const auto shared = dir / "shared";
    BOOST_TEST_REQUIRE(::mkdir(shared.c_str(), 0777) == 0);
    BOOST_TEST_REQUIRE(::chmod(shared.c_str(), 01777) == 0);
    const auto lock_path = shared + "/app.lock";

    // nobody's own holder died with an expired lock; root's breaker died holding the mutex.
    child_process holder(
        as_nobody({worker_path(), "die", "--lock", lock_path, "--lifetime-ns", "1"}));
    BOOST_TEST_REQUIRE(holder.read_line().has_value());
    holder.kill(SIGKILL);
    holder.wait();
    const auto mutex = lock_path + ".break";
    BOOST_TEST_REQUIRE(::mkdir(mutex.c_str(), 0755) == 0);
    set_mtime(mutex, 946684800); // 2000-01-01, long stale

    child_process breaker(as_nobody(
        {worker_path(), "try", "--lock", lock_path, "--timeout-ms", "3000", "--slop-ms", "0"}));
    const auto result = breaker.read_line().value_or("(none)");
    const auto message = breaker.read_line().value_or("(none)");
    BOOST_TEST_REQUIRE(breaker.wait().ok());
    BOOST_TEST_MESSAGE("breaker behind another user's stale mutex: " << result << " / " << message);
    if (result != "acquired") {
        BOOST_TEST(result == "error value=" + std::to_string(EPERM) + " category=system");
        BOOST_TEST(message.find(shared) != std::string::npos, message);
    }
}

} // namespace
