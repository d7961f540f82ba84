// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Tests that show library bugs not fixed yet. They fail today, so they are not part of
// locknix_unit_tests or of ctest; build them with -DLOCKNIX_UNIT_KNOWN_BUGS=ON and run
// locknix_unit_known_bugs. When a fix lands, move the test into the file that mirrors the fixed
// source file.

#include "test_support.hpp"

#include <locknix/file_lock.hpp>

#include <boost/test/unit_test.hpp>

#include <cerrno>

using namespace std::chrono_literals;

namespace {

namespace lt = locknix::test;

struct fixture {
    lt::temp_dir dir;
    std::string lock_path = dir / "x.lck";
    std::shared_ptr<lt::fault_fs> fs = lt::make_host("here", 1000);
};

} // namespace

BOOST_AUTO_TEST_SUITE(known_bugs)

// protocol.cpp, ensure_claim(): when the reply to the exclusive create of the claim is lost (the
// file was made, the client saw EIO), the attempt is retried, the next create of that name fails
// with EEXIST, and the object moves to a new name. The empty claim file it made under the first
// name is never removed, not even by the destructor: one orphan `<lock>|host|pid|random` per
// lost create reply, left in a shared directory for good (design.md: claim files are "removed
// when the object is destroyed").
BOOST_FIXTURE_TEST_CASE(a_claim_whose_create_reply_was_lost_is_not_left_behind, fixture) {
    fs->lose_reply(lt::fs_op::open, EIO, lt::path_contains("|here|"));
    {
        locknix::file_lock lock(lock_path, lt::test_options(fs));
        lock.acquire(1h);
        BOOST_TEST(lock.is_held());
        lock.release();
    }
    const auto left = dir.names();
    BOOST_TEST(left.empty(), "left behind: " << (left.empty() ? "" : left.front()));
}

BOOST_AUTO_TEST_SUITE_END()
