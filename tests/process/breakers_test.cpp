// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Many processes find the same expired lock of a dead holder at the same moment. Exactly one of
// them breaks it, they take the lock one at a time, and the dead claim is removed.

#define BOOST_TEST_MODULE process_breakers
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <csignal>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

using namespace locknix::test;

// A holder that takes the lock with a lifetime of 1 ns and is killed: its lock is expired as
// soon as it exists. Returns the dead holder's claim path.
std::string leave_expired_lock(const temp_dir& dir) {
    child_process holder(
        {worker_path(), "die", "--lock", dir / "counter.lock", "--lifetime-ns", "1"});
    const auto line = holder.read_line();
    BOOST_TEST_REQUIRE(line.has_value());
    holder.kill(SIGKILL);
    BOOST_TEST_REQUIRE(holder.wait().signal == SIGKILL);
    const auto claim = parse_fields(*line).at("claim");
    BOOST_TEST_REQUIRE(read_file(dir / "counter.lock") == claim);
    return claim;
}

BOOST_AUTO_TEST_CASE(simultaneous_breakers) {
    constexpr int rounds = 60;
    constexpr int breakers = 10;
    temp_dir dir("breakers");
    long total_overlaps = 0;

    for (int round = 0; round < rounds; ++round) {
        BOOST_TEST_CONTEXT("round " << round) {
            const auto dead_claim = leave_expired_lock(dir);

            // The barrier: every breaker blocks reading a pipe until the test closes its
            // write end, which releases them all at once.
            int barrier[2];
            BOOST_TEST_REQUIRE(::pipe2(barrier, O_CLOEXEC) == 0);
            std::vector<child_process> group;
            for (int i = 0; i < breakers; ++i)
                group.emplace_back(std::vector<std::string>{worker_path(), "breaker", "--lock",
                                                            dir / "counter.lock", "--counter",
                                                            dir / "counter", "--marker",
                                                            dir / "marker"},
                                   barrier[0]);
            ::close(barrier[0]);
            for (auto& b : group)
                BOOST_TEST_REQUIRE(b.read_line().value_or("(end)") == "ready");
            ::close(barrier[1]);

            long breaks = 0;
            long overlaps = 0;
            for (auto& b : group) {
                const auto line = b.read_line();
                const auto status = b.wait();
                BOOST_TEST_REQUIRE(status.ok(), "breaker " << b.pid() << ": " << status.describe());
                BOOST_TEST_REQUIRE(line.has_value());
                const auto fields = parse_fields(*line);
                breaks += field(fields, "breaks");
                overlaps += field(fields, "overlaps");
                BOOST_TEST(field(fields, "stale") == 0);
            }
            total_overlaps += overlaps;

            BOOST_TEST(breaks == 1);
            BOOST_TEST(overlaps == 0);
            BOOST_TEST(std::stol(read_file(dir / "counter")) == (round + 1) * breakers);
            BOOST_TEST(!exists_no_follow(dead_claim), "dead claim left: " << dead_claim);
            BOOST_TEST(list_dir(dir.path()) == std::vector<std::string>{"counter"},
                       boost::test_tools::per_element());
        }
    }
    BOOST_TEST_MESSAGE("simultaneous breakers: " << rounds << " rounds of " << breakers
                                                 << ", count " << read_file(dir / "counter")
                                                 << ", overlaps " << total_overlaps);
}

// A breaker killed while it held the breaker mutex (a directory next to the lock) leaves the
// mutex behind. The next breakers must find it stale and go on, not wait for it forever.
BOOST_AUTO_TEST_CASE(breaker_killed_holding_the_breaker_mutex) {
    constexpr int breakers = 6;
    temp_dir dir("stale-mutex");
    const auto dead_claim = leave_expired_lock(dir);
    BOOST_TEST_REQUIRE(::mkdir((dir / "counter.lock.break").c_str(), 0777) == 0);

    int barrier[2];
    BOOST_TEST_REQUIRE(::pipe2(barrier, O_CLOEXEC) == 0);
    std::vector<child_process> group;
    for (int i = 0; i < breakers; ++i)
        group.emplace_back(std::vector<std::string>{worker_path(), "breaker", "--lock",
                                                    dir / "counter.lock", "--counter",
                                                    dir / "counter", "--marker", dir / "marker"},
                           barrier[0]);
    ::close(barrier[0]);
    for (auto& b : group)
        BOOST_TEST_REQUIRE(b.read_line().value_or("(end)") == "ready");
    ::close(barrier[1]);

    long breaks = 0;
    long overlaps = 0;
    for (auto& b : group) {
        const auto line = b.read_line();
        const auto status = b.wait();
        BOOST_TEST_REQUIRE(status.ok(), "breaker " << b.pid() << ": " << status.describe());
        BOOST_TEST_REQUIRE(line.has_value());
        const auto fields = parse_fields(*line);
        breaks += field(fields, "breaks");
        overlaps += field(fields, "overlaps");
    }
    BOOST_TEST_MESSAGE("after a stale breaker mutex: count "
                       << read_file(dir / "counter") << ", breaks " << breaks << ", overlaps "
                       << overlaps);
    BOOST_TEST(breaks == 1);
    BOOST_TEST(overlaps == 0);
    BOOST_TEST(std::stol(read_file(dir / "counter")) == breakers);
    BOOST_TEST(!exists_no_follow(dead_claim));
    BOOST_TEST(list_dir(dir.path()) == std::vector<std::string>{"counter"},
               boost::test_tools::per_element());
}

} // namespace
