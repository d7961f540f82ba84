// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Several processes increment one counter under one lock; some holders are killed inside the
// critical section. The count must be exact and no two processes may ever be inside at once.

#define BOOST_TEST_MODULE process_hammer
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <csignal>
#include <poll.h>
#include <string>
#include <vector>

namespace {

using namespace locknix::test;

struct totals {
    long overlaps = 0;
    long stale = 0;
    long breaks = 0;
};

std::vector<std::string> hammer_args(const temp_dir& dir, long iterations) {
    return {worker_path(),  "hammer",
            "--lock",       dir / "counter.lock",
            "--counter",    dir / "counter",
            "--marker",     dir / "marker",
            "--iterations", std::to_string(iterations)};
}

// Waits for every worker, checks that it ended well, and adds up what it reported.
totals collect(std::vector<child_process>& workers, long iterations) {
    totals t;
    for (auto& w : workers) {
        const auto line = w.read_line();
        const auto status = w.wait();
        BOOST_TEST_REQUIRE(status.ok(), "worker " << w.pid() << ": " << status.describe());
        BOOST_TEST_REQUIRE(line.has_value());
        const auto fields = parse_fields(*line);
        BOOST_TEST(field(fields, "iterations") == iterations);
        t.overlaps += field(fields, "overlaps");
        t.stale += field(fields, "stale");
        t.breaks += field(fields, "breaks");
    }
    return t;
}

// Nothing but the counter may be left: no lock, no claim, no breaker mutex, no marker.
void check_clean(const temp_dir& dir) {
    const auto names = list_dir(dir.path());
    BOOST_TEST(names == std::vector<std::string>{"counter"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(hammer) {
    constexpr int processes = 6;
    constexpr long iterations = 150;
    temp_dir dir("hammer");

    std::vector<child_process> workers;
    for (int i = 0; i < processes; ++i)
        workers.emplace_back(hammer_args(dir, iterations));
    const auto t = collect(workers, iterations);

    BOOST_TEST_MESSAGE("hammer: count " << read_file(dir / "counter") << ", overlaps " << t.overlaps
                                        << ", breaks " << t.breaks);
    BOOST_TEST(std::stol(read_file(dir / "counter")) == processes * iterations);
    BOOST_TEST(t.overlaps == 0);
    BOOST_TEST(t.stale == 0);
    BOOST_TEST(t.breaks == 0);
    check_clean(dir);
}

BOOST_AUTO_TEST_CASE(holders_killed_in_the_critical_section) {
    constexpr int processes = 4;
    constexpr long iterations = 40;
    constexpr int victims = 3;
    temp_dir dir("sigkill");

    // Workers keep the lock for 30 s at most and break at once (no slop); victims take it for
    // 1 s, so each dead victim stops the others for about a second.
    std::vector<child_process> workers;
    for (int i = 0; i < processes; ++i)
        workers.emplace_back(hammer_args(dir, iterations));

    std::vector<child_process> dying;
    for (int i = 0; i < victims; ++i)
        dying.emplace_back(std::vector<std::string>{
            worker_path(), "die", "--lock", dir / "counter.lock", "--lifetime-ns", "1000000000",
            "--counter", dir / "counter", "--marker", dir / "marker"});

    // Kill each victim as soon as it reports being inside the critical section. A victim may
    // itself have broken the lock of an earlier one and taken over its marker.
    std::vector<std::string> dead_claims;
    totals victims_seen;
    for (int left = victims; left > 0;) {
        std::vector<pollfd> fds;
        for (auto& d : dying)
            fds.push_back({d.output_fd(), POLLIN, 0});
        BOOST_TEST_REQUIRE(::poll(fds.data(), fds.size(), -1) > 0);
        for (std::size_t i = 0; i < dying.size(); ++i) {
            if (fds[i].revents == 0 || dying[i].output_fd() < 0)
                continue;
            const auto line = dying[i].read_line();
            BOOST_TEST_REQUIRE(line.has_value(), "victim " << dying[i].pid() << " ended early");
            const auto fields = parse_fields(*line);
            dead_claims.push_back(fields.at("claim"));
            victims_seen.breaks += field(fields, "breaks");
            victims_seen.overlaps += field(fields, "overlaps");
            victims_seen.stale += field(fields, "stale");
            dying[i].kill(SIGKILL);
            const auto status = dying[i].wait();
            BOOST_TEST(status.signal == SIGKILL);
            dying[i].close_output();
            --left;
        }
    }

    auto t = collect(workers, iterations);

    // The last victim may have died after the workers ended: one more iteration breaks its lock.
    std::vector<child_process> sweeper;
    sweeper.emplace_back(hammer_args(dir, 1));
    const auto s = collect(sweeper, 1);
    t.overlaps += s.overlaps + victims_seen.overlaps;
    t.stale += s.stale + victims_seen.stale;
    t.breaks += s.breaks + victims_seen.breaks;

    BOOST_TEST_MESSAGE("killed holders: count " << read_file(dir / "counter") << ", overlaps "
                                                << t.overlaps << ", markers of dead holders "
                                                << t.stale << ", breaks " << t.breaks);
    BOOST_TEST(std::stol(read_file(dir / "counter")) == processes * iterations + 1);
    BOOST_TEST(t.overlaps == 0);
    BOOST_TEST(t.stale == victims);
    BOOST_TEST(t.breaks == victims);
    for (const auto& claim : dead_claims)
        BOOST_TEST(!exists_no_follow(claim), "dead claim left: " << claim);
    check_clean(dir);
}

// A holder that keeps its lock alive stays in the critical section for four lifetimes, twice
// the time after which the waiters would break an unrefreshed lock. None of them may get in
// before it leaves, and it must not be told that it lost the lock.
BOOST_AUTO_TEST_CASE(kept_alive_holder_outlives_its_lifetime) {
    constexpr int waiters = 3;
    temp_dir dir("keep-alive");
    child_process keeper({worker_path(), "keep", "--lock", dir / "counter.lock", "--counter",
                          dir / "counter", "--marker", dir / "marker", "--lifetime-ms", "1000",
                          "--hold-ms", "4000"});
    BOOST_TEST_REQUIRE(keeper.read_line().value_or("(end)") == "held");

    std::vector<child_process> workers;
    for (int i = 0; i < waiters; ++i) {
        auto args = hammer_args(dir, 1);
        args.insert(args.end(), {"--slop-ms", "1000"});
        workers.emplace_back(args);
    }
    const auto t = collect(workers, 1);

    const auto line = keeper.read_line();
    BOOST_TEST_REQUIRE(keeper.wait().ok());
    BOOST_TEST_REQUIRE(line.has_value());
    const auto fields = parse_fields(*line);
    BOOST_TEST_MESSAGE("kept-alive holder: " << *line << ", waiters' overlaps " << t.overlaps
                                             << ", breaks " << t.breaks);
    BOOST_TEST(field(fields, "lost") == 0);
    BOOST_TEST(field(fields, "release") == 0);
    BOOST_TEST(field(fields, "overlaps") == 0);
    BOOST_TEST(t.overlaps == 0);
    BOOST_TEST(t.breaks == 0);
    BOOST_TEST(std::stol(read_file(dir / "counter")) == waiters + 1);
    check_clean(dir);
}

} // namespace
