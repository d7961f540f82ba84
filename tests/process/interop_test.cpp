// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// locknix and Python's flufl.lock (Debian's python3-flufl.lock) on one lock path: each blocks
// the other, reads the other's holder details, and breaks the other's expired lock; mixed
// processes of both increment one counter without ever overlapping.

#define BOOST_TEST_MODULE interop_flufl
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <locknix/file_lock.hpp>

#include <csignal>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using namespace locknix::test;
using namespace std::chrono_literals;
using locknix::errc;

std::vector<std::string> flufl(std::vector<std::string> args) {
    args.insert(args.begin(), {LOCKNIX_PYTHON, LOCKNIX_FLUFL_HELPER});
    return args;
}

std::map<std::string, std::string> expect_line(child_process& p, std::string_view first_word) {
    const auto line = p.read_line();
    if (!line)
        BOOST_FAIL("flufl.lock helper ended early: " << p.wait().describe());
    BOOST_TEST_REQUIRE(line->substr(0, line->find(' ')) == first_word, *line);
    return parse_fields(*line);
}

std::string local_host_name() {
    char name[256] = {};
    BOOST_TEST_REQUIRE(::gethostname(name, sizeof name - 1) == 0);
    return name;
}

locknix::lock_options lifetime(std::chrono::nanoseconds l) {
    locknix::lock_options o;
    o.lifetime = l;
    return o;
}

BOOST_AUTO_TEST_CASE(flufl_holder_blocks_locknix) {
    temp_dir dir("interop");
    const auto lock_path = dir / "shared.lock";
    child_process python(flufl({"hold", lock_path, "60"}));
    const auto held = expect_line(python, "held");

    locknix::file_lock lock(lock_path, lifetime(60s));
    boost::system::error_code ec;
    BOOST_TEST(!lock.try_acquire());
    lock.acquire(300ms, ec);
    BOOST_TEST(ec == errc::timed_out);
    BOOST_TEST(lock.state() == locknix::lock_state::held_by_other);

    // The holder as flufl.lock wrote it: Python's socket.getfqdn() and the helper's pid.
    const auto holder = lock.holder();
    BOOST_TEST_REQUIRE(holder.has_value());
    BOOST_TEST_MESSAGE("flufl.lock holder seen by locknix: host " << holder->host << ", pid "
                                                                  << holder->pid);
    BOOST_TEST(holder->host == held.at("host"));
    BOOST_TEST(holder->pid == python.pid());
    BOOST_TEST(holder->pid == field(held, "pid"));
    BOOST_TEST(holder->claim == held.at("claim"));

    python.close_input();
    expect_line(python, "released");
    BOOST_TEST(python.wait().ok());
    lock.acquire(10s);
    BOOST_TEST(lock.holder()->pid == ::getpid());
}

BOOST_AUTO_TEST_CASE(locknix_holder_blocks_flufl) {
    temp_dir dir("interop");
    const auto lock_path = dir / "shared.lock";
    locknix::file_lock lock(lock_path, lifetime(60s));
    lock.acquire(0s);

    {
        child_process python(flufl({"try", lock_path}));
        expect_line(python, "timed-out");
        const auto details = expect_line(python, "details");
        BOOST_TEST(python.wait().ok());
        BOOST_TEST_MESSAGE("locknix holder seen by flufl.lock: host "
                           << details.at("host") << ", pid " << details.at("pid") << ", lock file "
                           << details.at("lockfile"));
        BOOST_TEST(details.at("host") == local_host_name());
        BOOST_TEST(field(details, "pid") == ::getpid());
        BOOST_TEST(details.at("lockfile") == lock_path);
    }
    BOOST_TEST(lock.is_held());
    BOOST_TEST(read_file(lock_path) == lock.claim_path());

    lock.release();
    child_process python(flufl({"try", lock_path}));
    expect_line(python, "acquired");
    BOOST_TEST(python.wait().ok());
}

BOOST_AUTO_TEST_CASE(locknix_breaks_expired_flufl_lock) {
    temp_dir dir("interop");
    const auto lock_path = dir / "shared.lock";
    child_process python(flufl({"hold", lock_path, "1"}));
    const auto held = expect_line(python, "held");

    // flufl.lock's holder stays alive but does not refresh; its lifetime is 1 s.
    auto o = lifetime(60s);
    o.clock_slop = 100ms;
    locknix::file_lock lock(lock_path, o);
    lock.acquire(30s);
    BOOST_TEST(lock.is_held());
    BOOST_TEST(!exists_no_follow(held.at("claim")), "flufl.lock's claim was not removed");

    // flufl.lock finds its lock gone and leaves ours alone.
    python.close_input();
    expect_line(python, "not-locked");
    BOOST_TEST(python.wait().ok());
    BOOST_TEST(lock.is_held());
    BOOST_TEST(read_file(lock_path) == lock.claim_path());
    lock.release();
    BOOST_TEST(list_dir(dir.path()).size() == 1u); // our claim, kept for the next acquisition
}

// A flufl.lock holder killed long ago (its lock's mtime is set far into the past): one attempt
// (timeout 0) breaks it, which flufl.lock itself never does with timeout 0.
BOOST_AUTO_TEST_CASE(locknix_breaks_dead_flufl_lock_in_one_try) {
    temp_dir dir("interop");
    const auto lock_path = dir / "shared.lock";
    child_process python(flufl({"hold", lock_path, "60"}));
    const auto held = expect_line(python, "held");
    python.kill(SIGKILL);
    python.wait();
    set_mtime(lock_path, 1);

    locknix::file_lock lock(lock_path, lifetime(60s));
    BOOST_TEST(lock.state() == locknix::lock_state::held_by_other_breakable);
    BOOST_TEST(lock.try_acquire());
    BOOST_TEST(lock.holder()->pid == ::getpid());
    BOOST_TEST(!exists_no_follow(held.at("claim")), "flufl.lock's claim was not removed");
    lock.release();
}

BOOST_AUTO_TEST_CASE(flufl_breaks_expired_locknix_lock) {
    temp_dir dir("interop");
    const auto lock_path = dir / "shared.lock";
    locknix::file_lock lock(lock_path, lifetime(1s));
    lock.acquire(0s);
    const auto our_claim = lock.claim_path();

    // flufl.lock breaks after the lifetime plus its fixed slop of 10 s, then one of its polls.
    child_process python(flufl({"wait", lock_path, "60"}));
    const auto acquired = expect_line(python, "acquired");
    BOOST_TEST(!lock.is_held());
    BOOST_TEST(!exists_no_follow(our_claim), "flufl.lock did not remove the broken claim");
    BOOST_TEST(read_file(lock_path) == acquired.at("claim"));
    BOOST_TEST(lock.state() == locknix::lock_state::held_by_other);
    BOOST_TEST(lock.holder()->pid == python.pid());

    // We are told that the lock was lost, and the new holder's lock stays.
    boost::system::error_code ec;
    lock.release(ec);
    BOOST_TEST(ec == errc::lock_lost);
    BOOST_TEST(read_file(lock_path) == acquired.at("claim"));

    python.close_input();
    expect_line(python, "released");
    BOOST_TEST(python.wait().ok());
    BOOST_TEST(!exists_no_follow(lock_path));
}

// The number of times the journal changes from one implementation to the other.
long switches(const std::string& journal) {
    long n = 0;
    for (std::size_t i = 1; i < journal.size(); ++i)
        n += journal[i] != journal[i - 1];
    return n;
}

BOOST_AUTO_TEST_CASE(mixed_counter) {
    constexpr int locknix_processes = 3;
    constexpr long locknix_iterations = 25;
    constexpr int flufl_processes = 3;
    constexpr long flufl_iterations = 6;
    const std::string hold_us = "3000";
    temp_dir dir("interop-mixed");
    const auto lock_path = dir / "counter.lock";

    // Everyone starts at once (flufl.lock's Python starts much slower), each holder stays a
    // few milliseconds in the critical section, and locknix workers pause between iterations
    // (flufl.lock polls every 0.01-2.01 s and would otherwise wait until they are all done),
    // so that the two kinds of holders interleave.
    int barrier[2];
    BOOST_TEST_REQUIRE(::pipe2(barrier, O_CLOEXEC) == 0);
    std::vector<child_process> workers;
    for (int i = 0; i < flufl_processes; ++i)
        workers.emplace_back(
            flufl({"hammer", lock_path, dir / "counter", dir / "marker",
                   std::to_string(flufl_iterations), dir / "journal", "F", hold_us}),
            barrier[0]);
    for (int i = 0; i < locknix_processes; ++i)
        workers.emplace_back(
            std::vector<std::string>{worker_path(),  "hammer",
                                     "--lock",       lock_path,
                                     "--counter",    dir / "counter",
                                     "--marker",     dir / "marker",
                                     "--iterations", std::to_string(locknix_iterations),
                                     "--journal",    dir / "journal",
                                     "--tag",        "L",
                                     "--hold-us",    hold_us,
                                     "--pause-us",   "40000",
                                     "--barrier",    "1"},
            barrier[0]);
    ::close(barrier[0]);
    for (auto& w : workers)
        BOOST_TEST_REQUIRE(w.read_line().value_or("(end)") == "ready");
    ::close(barrier[1]);

    long overlaps = 0;
    long iterations = 0;
    for (auto& w : workers) {
        const auto line = w.read_line();
        const auto status = w.wait();
        BOOST_TEST_REQUIRE(status.ok(), "worker " << w.pid() << ": " << status.describe());
        BOOST_TEST_REQUIRE(line.has_value());
        const auto fields = parse_fields(*line);
        overlaps += field(fields, "overlaps");
        iterations += field(fields, "iterations");
        BOOST_TEST(field(fields, "stale") == 0);
    }

    const long expected =
        locknix_processes * locknix_iterations + flufl_processes * flufl_iterations;
    const auto journal = read_file(dir / "journal");
    BOOST_TEST_MESSAGE("mixed flufl.lock and locknix: count "
                       << read_file(dir / "counter") << " of " << expected << ", overlaps "
                       << overlaps << ", hand-overs between the two " << switches(journal)
                       << ", journal " << journal);
    BOOST_TEST(iterations == expected);
    BOOST_TEST(std::stol(read_file(dir / "counter")) == expected);
    BOOST_TEST(journal.size() == static_cast<std::size_t>(expected));
    BOOST_TEST(overlaps == 0);
    BOOST_TEST(list_dir(dir.path()) == (std::vector<std::string>{"counter", "journal"}),
               boost::test_tools::per_element());
}

} // namespace
