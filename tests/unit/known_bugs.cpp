// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Tests that show library bugs and doubtful behaviours not fixed yet. They fail today, so they
// are not part of locknix_unit_tests or of ctest; build them with -DLOCKNIX_UNIT_KNOWN_BUGS=ON and
// run locknix_unit_known_bugs. When a fix lands, move its test into the file that mirrors the
// fixed source file.

#include "claim.hpp"
#include "protocol.hpp"
#include "wait_policy.hpp"

#include "test_support.hpp"

#include <locknix/file_lock.hpp>

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <future>
#include <optional>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;
using boost::system::error_code;
using locknix::errc;
using locknix::lock_state;
using locknix::test::fs_op;

namespace {

namespace lt = locknix::test;

struct fixture {
    lt::temp_dir dir;
    std::string lock_path = dir / "x.lck";
    std::shared_ptr<lt::fault_fs> fs = lt::make_host("here", 1000);
    std::shared_ptr<lt::fault_fs> other_fs = lt::make_host("there", 2000);
};

// Restores the working directory when a test changed it.
struct cwd_guard {
    std::filesystem::path saved = std::filesystem::current_path();
    ~cwd_guard() { std::filesystem::current_path(saved); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(known_bugs)

// claim.cpp, absolute_lock_path: the separator is looked for in the path as given, before it is
// made absolute, so a relative path in a directory whose name contains '|' is accepted and the
// claim name gets five '|'-separated fields, which flufl.lock cannot split (design.md: "a path
// that contains it is refused at construction").
BOOST_FIXTURE_TEST_CASE(a_relative_path_under_a_directory_with_the_separator_is_refused, fixture) {
    lt::make_dir(dir / "a|b");
    cwd_guard guard;
    std::filesystem::current_path(dir / "a|b");
    error_code ec;
    const auto path = locknix::detail::absolute_lock_path("x.lck", ec);
    BOOST_TEST(ec == errc::bad_lock_path, "accepted as " << path);
}

// wait_policy.cpp, next(): the clamp `deadline_ - now <= delay` compares the deadline with the
// backoff delay, not with the breakable wake-up chosen just before, so a wake-up at the holder's
// breakable time is replaced by the (later) deadline whenever the deadline is nearer than the
// drawn backoff. Here: backoff 500 ms, lock breakable in 100 ms, deadline in 300 ms: the waiter
// sleeps to the deadline instead of breaking the lock at 101 ms.
BOOST_AUTO_TEST_CASE(the_breakable_wake_up_survives_a_near_deadline) {
    using clock = std::chrono::steady_clock;
    const auto now = clock::time_point(1000s);
    const auto wall = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
    locknix::detail::wait_policy p(500ms, 500ms, now + 300ms);
    const locknix::detail::attempt_result contended{locknix::detail::attempt_outcome::contended,
                                                    std::nullopt, wall + 100ms};
    const auto d = p.next(contended, now, wall, 0.5);
    BOOST_TEST(
        (d.until == now + 101ms),
        "waits " << std::chrono::duration_cast<std::chrono::milliseconds>(d.until - now).count()
                 << " ms");
}

// wait_policy.cpp, next(): `min_poll_ * (1 << polls_)` is computed for polls_ up to 29 and
// overflows for a minimum poll above about 17 s (1 min * 2^28 > INT64_MAX ns): undefined
// behaviour, in practice a negative ceiling and a negative delay, that is a busy retry.
BOOST_AUTO_TEST_CASE(a_large_minimum_poll_does_not_overflow_the_ceiling) {
    using clock = std::chrono::steady_clock;
    const auto now = clock::time_point(1000s);
    const auto wall = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
    locknix::detail::wait_policy p(1min, 10min, now + 1000h);
    const locknix::detail::attempt_result contended{locknix::detail::attempt_outcome::contended,
                                                    std::nullopt, std::nullopt};
    for (int i = 0; i < 40; ++i) {
        const auto d = p.next(contended, now, wall, 0.5);
        BOOST_TEST_CONTEXT("poll " << i) {
            BOOST_TEST((d.until >= now + 1min));
            BOOST_TEST((d.until <= now + 10min));
        }
    }
}

// protocol.cpp, after_failed_link(): only EEXIST, EPERM, EIO, ETIMEDOUT and ESTALE are verified;
// any other errno ends the acquisition at once without looking at the claim's link count, although
// design.md says "after any failure of link(), the claim's link count is 2" means acquired. When
// the link was in fact made, abandon() then removes the claim and leaves the lock file behind,
// linked to nobody's claim: every other process waits for lifetime + slop.
BOOST_FIXTURE_TEST_CASE(a_made_link_reported_with_another_errno_is_acquired_or_undone, fixture) {
    fs->lose_reply(fs_op::link, EMLINK, lt::path_is(lock_path));
    locknix::file_lock lock(lock_path, lt::test_options(fs));
    error_code ec;
    lock.acquire(0s, ec);
    BOOST_TEST((!ec || !lt::exists(lock_path)),
               "error " << ec.message() << " and a lock file left behind");
}

// protocol.cpp, attempt(): ENOENT from link() while the claim exists fails the acquisition with
// "is the directory there?"; the directory is there (the claim is in it). flufl.lock treats ENOENT
// like ESTALE (LP: #977999, some Linux NFS clients return ENOENT for a stale handle) and tries
// again; its test_os_link_unexpected_OSError expects [ENOENT, ESTALE, success] to acquire.
BOOST_FIXTURE_TEST_CASE(enoent_from_link_while_the_claim_exists_is_tried_again, fixture) {
    fs->fail(fs_op::link, ENOENT, lt::path_is(lock_path), 1);
    fs->fail(fs_op::link, ESTALE, lt::path_is(lock_path), 1);
    locknix::file_lock lock(lock_path, lt::test_options(fs));
    error_code ec;
    lock.acquire(1h, ec);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(lock.is_held());
}

// protocol.cpp, after_failed_link() / state(): `mtime + clock_slop` overflows for a large slop
// (nanoseconds::max() as "never break"), wraps to a time long past, and a fresh lock of another
// host is broken at once. The constructor accepts the value.
BOOST_FIXTURE_TEST_CASE(a_huge_clock_slop_never_breaks_a_fresh_lock, fixture) {
    auto oo = lt::test_options(other_fs);
    oo.lifetime = 1h;
    locknix::file_lock other(lock_path, oo);
    other.acquire(0s);
    auto o = lt::test_options(fs);
    o.clock_slop = std::chrono::nanoseconds::max();
    try {
        locknix::file_lock lock(lock_path, o);
        BOOST_TEST(lock.state() == lock_state::held_by_other);
        BOOST_TEST(!lock.try_acquire());
        BOOST_TEST(other.is_held());
    } catch (const boost::system::system_error& e) {
        BOOST_TEST(e.code() == errc::bad_option); // refusing it is fine too
    }
}

// protocol.cpp, attempt(): `wall_now() + lifetime` overflows for a large lifetime (the
// constructor only checks that it is positive): the lock is born expired, with an mtime before
// 1970, and anyone may break it at once.
BOOST_FIXTURE_TEST_CASE(a_huge_lifetime_is_not_born_expired, fixture) {
    auto o = lt::test_options(fs);
    o.lifetime = std::chrono::nanoseconds::max();
    try {
        locknix::file_lock lock(lock_path, o);
        lock.acquire(0s);
        BOOST_TEST(lock.state() == lock_state::held_by_us);
        other_fs->advance_wall(1h);
        locknix::file_lock other(lock_path, lt::test_options(other_fs));
        BOOST_TEST(!other.try_acquire());
    } catch (const boost::system::system_error& e) {
        BOOST_TEST(e.code() == errc::bad_option); // refusing it is fine too
    }
}

// posix_file_system.cpp, to_status(): seconds(st_mtim.tv_sec) + nanoseconds(...) overflows
// int64 nanoseconds for mtimes after 2262 (undefined behaviour; UBSan reports it). A lock whose
// mtime someone set far into the future (touch -d 2300-01-01, a hostile file in /tmp) wraps to
// a time long past and is broken at once, instead of being held_by_other.
BOOST_FIXTURE_TEST_CASE(a_lock_expiring_after_2262_is_not_broken, fixture) {
    const auto claim = lt::plant_lock(lock_path, "there", 2000, lt::whole_second_now() + 1h);
    const struct timespec far = {10'500'000'000, 0}; // year 2302
    const struct timespec times[2] = {far, far};
    BOOST_REQUIRE(::utimensat(AT_FDCWD, claim.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
    locknix::file_lock lock(lock_path, lt::test_options(fs));
    BOOST_TEST(lock.state() == lock_state::held_by_other);
    BOOST_TEST(!lock.try_acquire());
    BOOST_TEST(lt::read_file(lock_path) == claim);
}

// protocol.cpp, break_expired(): a stale breaker mutex is checked with lstat and then removed
// with rmdir; between the two, another breaker may remove the stale one and create its own,
// which this breaker then removes: two breakers "hold" the mutex at once. The race is hit here
// by a hook that plays the other breaker right before this breaker's rmdir.
BOOST_FIXTURE_TEST_CASE(a_breaker_never_removes_a_live_breaker_mutex, fixture) {
    const auto now = lt::whole_second_now();
    lt::plant_lock(lock_path, "there", 2000, now - 1h);
    const std::string mutex = lock_path + ".break";
    lt::make_dir(mutex);
    lt::set_mtime(mutex, now - 1h); // left by a crashed breaker
    std::uint64_t live_inode = 0;
    fs->add_hook(
        {fs_op::rmdir, lt::hook_phase::before, lt::path_is(mutex), 0, 1, [&](const lt::fs_call&) {
             // The other breaker found it stale too, removed it and took its own.
             BOOST_REQUIRE(::rmdir(mutex.c_str()) == 0);
             lt::make_dir(mutex);
             live_inode = lt::inode(mutex);
         }});
    error_code ec;
    locknix::detail::protocol p(lock_path, lt::test_options(fs), ec);
    BOOST_REQUIRE(!ec);
    p.attempt(ec);
    BOOST_REQUIRE(live_inode != 0);
    BOOST_TEST(lt::exists(mutex), "the other breaker's mutex was removed");
}

// file_lock.cpp, is_held(): errors are swallowed and reported as "not held". On sshfs (no link
// counts) one passing EIO reading the lock file makes a holder believe it lost the lock. The
// header says "checked on disk"; a caller cannot tell "not held" from "could not check".
BOOST_FIXTURE_TEST_CASE(is_held_does_not_turn_a_passing_error_into_not_held, fixture) {
    fs->set_sshfs(true);
    locknix::file_lock lock(lock_path, lt::test_options(fs));
    lock.acquire(0s);
    fs->fail(fs_op::open, EIO, lt::path_is(lock_path), 1);
    BOOST_TEST(lock.is_held());
}

// protocol.cpp, ensure_claim() / attempt(): a reused claim is never checked or rewritten. When
// something wrote into the lock file while it was held (the shared inode is the claim), every
// later acquisition through this object links a claim whose content is not its own path: the
// lock it holds reads as "not a lock" to everyone, itself included. flufl.lock rewrites its claim
// on every acquisition; its test_lock_state_with_corrupt_lockfile writes into a held lock.
BOOST_FIXTURE_TEST_CASE(a_reused_claim_still_names_itself, fixture) {
    locknix::file_lock lock(lock_path, lt::test_options(fs));
    lock.acquire(0s);
    lt::write_file(lock_path, "xxx");
    error_code ec;
    lock.release(ec);
    lock.acquire(0s);
    BOOST_TEST(lt::read_file(lock_path) == lock.claim_path());
    BOOST_TEST(lock.state() == lock_state::held_by_us);
}

// file_lock.cpp, ~file_lock() -> stop_refresher() and the impl mutex: after fork(), the child's
// copy of a kept-alive lock refers to the parent's keep-alive thread, which does not exist in the
// child. If that thread held the object's mutex (during a refresh) or the refresher mutex (right
// after keep_alive() started it) at the fork, the child's destructor waits for it forever. The
// header promises that a child's destructor "does nothing of that". Here the fork happens while
// a refresh is in progress (held in a hook); the child must exit before its alarm.
BOOST_FIXTURE_TEST_CASE(a_forked_child_can_destroy_a_kept_alive_lock, fixture) {
    auto seam = std::make_shared<lt::fault_fs>();
    auto o = lt::test_options(seam);
    o.lifetime = 150ms;
    std::optional<locknix::file_lock> lock;
    lock.emplace(lock_path, o);
    lock->acquire(0s);
    std::promise<void> refreshing;
    std::promise<void> forked;
    auto forked_future = forked.get_future().share();
    seam->add_hook({fs_op::set_times, lt::hook_phase::before, {}, 0, 1, [&](const lt::fs_call&) {
                        refreshing.set_value();
                        forked_future.wait();
                    }});
    lock->keep_alive();
    refreshing.get_future().wait();
    const pid_t child = ::fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) {
        ::alarm(5);
        lock.reset();
        ::_exit(0);
    }
    int status = 0;
    BOOST_REQUIRE(::waitpid(child, &status, 0) == child);
    forked.set_value();
    BOOST_TEST(WIFEXITED(status), "child killed by signal " << WTERMSIG(status));
    BOOST_TEST(lock->is_held());
}

BOOST_AUTO_TEST_SUITE_END()
