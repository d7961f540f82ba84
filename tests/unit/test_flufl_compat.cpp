// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// flufl.lock's own test suite (tests/test_lock.py and docs/using.rst of flufl.lock 8.2), case by
// case, re-expressed for locknix where the case applies: each test names the flufl.lock test it
// comes from. Child processes of the flufl.lock tests are other hosts on their own fault_fs here,
// and their sleeps are jumps of the fake clocks.
//
// Not applicable: retry_errnos (locknix retries the NFS errnos itself), the repr tests, the
// separator option (locknix always uses '|'), the default_timeout constructor argument, and
// refresh(lifetime) / refresh(unconditionally=True): locknix fixes the lifetime at construction
// and reports an unheld refresh through the error_code overload instead of ignoring it.

#include "test_support.hpp"

#include <locknix/file_lock.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <cerrno>

using namespace std::chrono_literals;
using boost::system::error_code;
using locknix::errc;
using locknix::lock_state;
using locknix::test::fs_op;

namespace {

namespace lt = locknix::test;

// flufl.lock's tests use an errno no system defines.
constexpr int enines = 999;

struct flufl_fixture {
    lt::temp_dir dir;
    std::string lock_path = dir / "test.lck";
    std::shared_ptr<lt::fault_fs> fs = lt::make_host("here", 1000);
    std::shared_ptr<lt::fault_fs> child_fs = lt::make_host("child", 2000);
    std::vector<std::string> warnings;

    locknix::lock_options options() {
        auto o = lt::test_options(fs);
        o.log = [this](locknix::log_level level, std::string_view m) {
            if (level == locknix::log_level::warning)
                warnings.emplace_back(m);
        };
        return o;
    }

    // flufl.lock's child_locker: another process takes the lock with `lifetime`.
    std::unique_ptr<locknix::file_lock> child_locker(std::chrono::nanoseconds lifetime = 15s) {
        auto o = lt::test_options(child_fs);
        o.lifetime = lifetime;
        auto child = std::make_unique<locknix::file_lock>(lock_path, o);
        child->acquire(0s);
        BOOST_REQUIRE(child->is_held());
        return child;
    }

    std::size_t calls(fs_op op, const std::string& path) const {
        std::size_t n = 0;
        for (const auto& c : fs->calls())
            if (c.op == op && c.path == path)
                ++n;
        return n;
    }
};

template <class F>
error_code error_of(F f) {
    try {
        f();
    } catch (const boost::system::system_error& e) {
        return e.code();
    }
    return {};
}

} // namespace

BOOST_AUTO_TEST_SUITE(flufl_compat)

BOOST_FIXTURE_TEST_CASE(test_read_retries, flufl_fixture) {
    // A passing errno reading the lock file is tried again, three times here.
    auto child = child_locker();
    fs->fail(fs_op::open, EIO, lt::path_is(lock_path), 3);
    fs->add_hook({fs_op::link, lt::hook_phase::before, lt::path_is(lock_path), 4, 1,
                  [&](const lt::fs_call&) {
                      child->release();
                  }});
    locknix::file_lock lock(lock_path, options());
    lock.acquire(1h);
    BOOST_TEST(lock.is_held());
    std::size_t failed_reads = 0;
    for (const auto& c : fs->calls())
        if (c.op == fs_op::open && c.path == lock_path && lt::sys_errno(c.result) == EIO)
            ++failed_reads;
    BOOST_TEST(failed_reads == 3u);
}

BOOST_FIXTURE_TEST_CASE(test_read_unexpected_errors, flufl_fixture) {
    auto child = child_locker();
    fs->add_rule({fs_op::open, enines, false, std::nullopt, 0, 0, lt::path_is(lock_path)});
    locknix::file_lock lock(lock_path, options());
    BOOST_TEST(lt::sys_errno(error_of([&] { lock.acquire(1h); })) == enines);
    BOOST_TEST(lt::sys_errno(error_of([&] { (void)lock.state(); })) == enines);
}

BOOST_FIXTURE_TEST_CASE(test_is_locked_permission_error, flufl_fixture) {
    // flufl.lock answers "not locked" when it may not touch the claim; locknix reports the
    // error of the refresh and keeps the lock.
    locknix::file_lock lock(lock_path, options());
    lock.acquire(0s);
    fs->fail(fs_op::set_times, EPERM);
    BOOST_TEST(lt::sys_errno(error_of([&] { lock.refresh(); })) == EPERM);
    BOOST_TEST(lock.is_held());
}

BOOST_FIXTURE_TEST_CASE(test_nondefault_lifetime, flufl_fixture) {
    auto o = options();
    o.lifetime = 77s;
    locknix::file_lock lock(lock_path, o);
    BOOST_TEST(lock.options().lifetime == std::chrono::nanoseconds(77s));
    BOOST_TEST(locknix::file_lock(lock_path, options()).options().lifetime ==
               std::chrono::nanoseconds(15s));
}

BOOST_FIXTURE_TEST_CASE(test_lockfile_repr_does_not_refresh, flufl_fixture) {
    locknix::file_lock lock(lock_path, options());
    lock.acquire(0s);
    const auto expiration = lock.expiration();
    fs->advance_wall(1s);
    (void)lock.is_held();
    (void)lock.state();
    (void)lock.holder();
    BOOST_TEST((lock.expiration() == expiration));
}

BOOST_FIXTURE_TEST_CASE(test_details, flufl_fixture) {
    locknix::file_lock lock(lock_path, options());
    // No details are available if the lock is not locked.
    BOOST_TEST(!lock.holder());
    lock.acquire(0s);
    const auto h = lock.holder();
    BOOST_REQUIRE(h);
    BOOST_TEST(h->host == "here");
    BOOST_TEST(h->pid == 1000);
    BOOST_TEST(h->claim.substr(0, lock_path.size() + 1) == lock_path + "|");
    // The claim file name is also the content of the lock file.
    BOOST_TEST(lt::read_file(lock_path) == lock.claim_path());
}

BOOST_FIXTURE_TEST_CASE(test_details_of_another_process, flufl_fixture) {
    // using.rst: "Even if another process has acquired the lock, the details can be queried."
    auto child = child_locker(3s);
    locknix::file_lock lock(lock_path, options());
    BOOST_TEST(!lock.is_held());
    const auto h = lock.holder();
    BOOST_REQUIRE(h);
    BOOST_TEST(h->host == "child");
    BOOST_TEST(h->pid == 2000);
    BOOST_TEST(h->claim == child->claim_path());
}

BOOST_FIXTURE_TEST_CASE(test_expiration, flufl_fixture) {
    locknix::file_lock lock(lock_path, options());
    lock.acquire(0s);
    const auto expiration = *lock.expiration();
    fs->advance_wall(1s);
    lock.refresh();
    BOOST_TEST((*lock.expiration() > expiration));
    BOOST_TEST((*lock.expiration() > fs->wall_now() + 15s - 1s));
}

BOOST_FIXTURE_TEST_CASE(test_details_weird_open_failure, flufl_fixture) {
    locknix::file_lock lock(lock_path, options());
    lock.acquire(0s);
    fs->add_rule({fs_op::open, enines, false, std::nullopt, 0, 0, {}});
    error_code ec;
    BOOST_TEST(!lock.holder(ec));
    BOOST_TEST(lt::sys_errno(ec) == enines);
    BOOST_TEST(lt::sys_errno(error_of([&] { (void)lock.holder(); })) == enines);
}

BOOST_FIXTURE_TEST_CASE(test_details_with_corrupt_filename, flufl_fixture) {
    lt::write_file(lock_path, "bad claim file name");
    locknix::file_lock lock(lock_path, options());
    BOOST_TEST(error_of([&] { (void)lock.holder(); }) == errc::foreign_file);
    BOOST_TEST(error_of([&] { (void)lock.expiration(); }) == errc::foreign_file);
}

BOOST_FIXTURE_TEST_CASE(test_lifetime_property, flufl_fixture) {
    for (const auto lifetime : {15s, 31s, 42s}) {
        auto o = options();
        o.lifetime = lifetime;
        const auto t = lt::whole_second_now();
        fs->freeze_wall(t);
        locknix::file_lock lock(lock_path, o);
        lock.acquire(0s);
        BOOST_TEST((*lock.expiration() == t + lifetime));
    }
}

BOOST_FIXTURE_TEST_CASE(test_refresh, flufl_fixture) {
    locknix::file_lock lock(lock_path, options());
    BOOST_TEST(error_of([&] { lock.refresh(); }) == errc::not_locked);
    lock.acquire(0s);
    lock.refresh();
    lock.release();
    // "unconditionally": the error_code overload reports without throwing.
    error_code ec;
    lock.refresh(ec);
    BOOST_TEST(ec == errc::not_locked);
}

BOOST_FIXTURE_TEST_CASE(test_lock_with_explicit_timeout, flufl_fixture) {
    auto child = child_locker();
    locknix::file_lock lock(lock_path, options());
    BOOST_TEST(error_of([&] { lock.acquire(20ms); }) == errc::timed_out);
    BOOST_TEST(error_of([&] { lock.acquire(std::chrono::duration<double>(0.02)); }) ==
               errc::timed_out);
}

BOOST_FIXTURE_TEST_CASE(test_lock_state_with_corrupt_lockfile, flufl_fixture) {
    locknix::file_lock lock(lock_path, options());
    lock.acquire(0s);
    lt::write_file(lock_path, "xxx");
    BOOST_TEST(lock.state() == lock_state::not_a_lock);
}

BOOST_FIXTURE_TEST_CASE(test_lock_state_on_other_host, flufl_fixture) {
    locknix::file_lock lock(lock_path, options());
    lock.acquire(0s);
    const std::string foreign_claim = lock_path + "|   here   |1000|12345";
    lt::write_file(lock_path, foreign_claim);
    BOOST_TEST(lock.state() == lock_state::held_by_other);
    BOOST_TEST(lock.holder()->host == "   here   ");
}

BOOST_FIXTURE_TEST_CASE(test_os_link_expected_OSError, flufl_fixture) {
    fs->fail(fs_op::link, enines);
    locknix::file_lock lock(lock_path, options());
    BOOST_TEST(lt::sys_errno(error_of([&] { lock.acquire(1h); })) == enines);
    BOOST_TEST(!lt::exists(lock.claim_path()));
}

BOOST_FIXTURE_TEST_CASE(test_os_link_unexpected_OSError, flufl_fixture) {
    // link() fails with ENOENT (a stale handle on some NFS clients), then ESTALE; the third call
    // acquires.
    fs->fail(fs_op::link, ENOENT, lt::path_is(lock_path), 1);
    fs->fail(fs_op::link, ESTALE, lt::path_is(lock_path), 1);
    locknix::file_lock lock(lock_path, options());
    lock.acquire(1h);
    BOOST_TEST(lock.is_held());
    BOOST_TEST(calls(fs_op::link, lock.claim_path()) == 3u);
}

BOOST_FIXTURE_TEST_CASE(test_unexpected_st_nlink, flufl_fixture) {
    auto child = child_locker();
    locknix::file_lock lock(lock_path, options());
    fs->add_rule({fs_op::lstat, 0, false, 3u, 0, 1, lt::path_is(lock.claim_path())});
    fs->add_hook({fs_op::link, lt::hook_phase::before, lt::path_is(lock_path), 1, 1,
                  [&](const lt::fs_call&) {
                      child->release();
                  }});
    lock.acquire(1h);
    BOOST_TEST(lock.is_held());
}

BOOST_FIXTURE_TEST_CASE(test_unlock_unconditionally, flufl_fixture) {
    auto child = child_locker();
    locknix::file_lock lock(lock_path, options());
    BOOST_TEST(error_of([&] { lock.release(); }) == errc::not_locked);
    error_code ec;
    lock.release(ec);
    BOOST_TEST(ec == errc::not_locked);
    BOOST_TEST(child->is_held());
    BOOST_TEST(fs->count(fs_op::unlink) == 0u);
}

BOOST_FIXTURE_TEST_CASE(test_unlock_with_expected_OSError, flufl_fixture) {
    locknix::file_lock lock(lock_path, options());
    // The unlink was done, its reply lost: released.
    lock.acquire(0s);
    fs->lose_reply(fs_op::unlink, ESTALE, lt::path_is(lock_path));
    lock.release();
    BOOST_TEST(!lt::exists(lock_path));
    // The unlink was not done, once: tried again. Every time: reported, still held, and a second
    // release works.
    lock.acquire(0s);
    fs->fail(fs_op::unlink, ESTALE, lt::path_is(lock_path));
    lock.release();
    BOOST_TEST(!lt::exists(lock_path));
    lock.acquire(0s);
    fs->fail(fs_op::unlink, ESTALE, lt::path_is(lock_path), 10);
    BOOST_TEST(lt::sys_errno(error_of([&] { lock.release(); })) == ESTALE);
    fs->clear_rules();
    BOOST_TEST(lock.is_held());
    lock.release();
    BOOST_TEST(!lt::exists(lock_path));
}

BOOST_FIXTURE_TEST_CASE(test_unlock_with_unexpected_OSError, flufl_fixture) {
    locknix::file_lock lock(lock_path, options());
    lock.acquire(0s);
    fs->reset_counts();
    fs->fail(fs_op::unlink, enines);
    BOOST_TEST(lt::sys_errno(error_of([&] { lock.release(); })) == enines);
    BOOST_TEST(fs->count(fs_op::unlink) == 1u);
    BOOST_TEST(lock.is_held());
}

BOOST_FIXTURE_TEST_CASE(test_unlock_unconditionally_with_OSError, flufl_fixture) {
    // An unheld release touches no file, so no unlink errno can surface.
    locknix::file_lock lock(lock_path, options());
    fs->fail(fs_op::unlink, enines, {}, 0);
    error_code ec;
    lock.release(ec);
    BOOST_TEST(ec == errc::not_locked);
    BOOST_TEST(fs->count(fs_op::unlink) == 0u);
}

BOOST_FIXTURE_TEST_CASE(test_releasetime_weird_failure, flufl_fixture) {
    auto child = child_locker();
    fs->add_rule({fs_op::fstat, enines, false, std::nullopt, 0, 0, lt::path_is(lock_path)});
    locknix::file_lock lock(lock_path, options());
    BOOST_TEST(lt::sys_errno(error_of([&] { lock.acquire(1h); })) == enines);
}

BOOST_FIXTURE_TEST_CASE(test_linkcount_weird_failure, flufl_fixture) {
    locknix::file_lock lock(lock_path, options());
    lock.acquire(0s);
    fs->add_rule({fs_op::lstat, enines, false, std::nullopt, 0, 2, lt::path_is(lock.claim_path())});
    BOOST_TEST(lt::sys_errno(error_of([&] { lock.refresh(); })) == enines);
    BOOST_TEST(lt::sys_errno(error_of([&] { lock.release(); })) == enines);
    lock.release();
}

BOOST_FIXTURE_TEST_CASE(test_lock_constructor_with_timeout_override, flufl_fixture) {
    // The child's lifetime (5 s) runs out during a long wait (10 s): the lock is broken.
    auto child = child_locker(5s);
    locknix::file_lock lock(lock_path, options());
    fs->add_hook({fs_op::link, lt::hook_phase::after, lt::path_is(lock_path), 0, 1,
                  [this](const lt::fs_call&) {
                      fs->advance_wall(5s + 10s + 1s);
                  }});
    BOOST_TEST(error_of([&] { lock.acquire(10s); }) == error_code());
    BOOST_TEST(lock.is_held());
}

const std::chrono::seconds unrelated_lifetimes[] = {1s, 5s};

BOOST_DATA_TEST_CASE_F(flufl_fixture, test_use_unrelated_existing_lockfile,
                       boost::unit_test::data::make(unrelated_lifetimes), lifetime) {
    // flufl.lock issue 25: an existing file that is not a lock must never be destroyed.
    lt::write_file(lock_path, "save me");
    const auto past = lt::whole_second_now() - lifetime - 10s - 1s;
    lt::set_mtime(lock_path, past);
    auto o = options();
    o.lifetime = lifetime;
    locknix::file_lock lock(lock_path, o);
    // locknix does not wait for the timeout: a file that is not a lock never goes away.
    BOOST_TEST(error_of([&] { lock.acquire(3s); }) == errc::foreign_file);
    BOOST_TEST(lt::read_file(lock_path) == "save me");
    BOOST_TEST((lt::mtime(lock_path) == past));
}

BOOST_FIXTURE_TEST_CASE(test_break_lock, flufl_fixture) {
    auto child = child_locker(3s);
    const auto child_details = *child->holder();
    locknix::file_lock lock(lock_path, options());
    fs->advance_wall(5s + 10s); // the child slept past its lifetime and the slop
    lock.acquire(1h);
    BOOST_TEST(lock.is_held());
    BOOST_TEST(lock.holder()->claim != child_details.claim);
    BOOST_TEST(!child->is_held());
}

BOOST_FIXTURE_TEST_CASE(test_break_lock_with_ununlinkable_winner, flufl_fixture) {
    // flufl.lock raises the unlink error of the winner's claim; locknix breaks the lock, says
    // why the claim stays, and acquires.
    auto child = child_locker(3s);
    const std::string winner = child->claim_path();
    fs->fail(fs_op::unlink, enines, lt::path_is(winner), 0);
    fs->advance_wall(5s + 10s);
    locknix::file_lock lock(lock_path, options());
    lock.acquire(1h);
    BOOST_TEST(lock.is_held());
    BOOST_TEST(lt::exists(winner));
    BOOST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(warnings[0].find(winner) != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(using_lock_twice_is_an_error, flufl_fixture) {
    locknix::file_lock lock(lock_path, options());
    lock.acquire(0s);
    BOOST_TEST(error_of([&] { lock.acquire(0s); }) == errc::already_locked);
    lock.release();
    BOOST_TEST(!lock.is_held());
}

BOOST_FIXTURE_TEST_CASE(using_context_manager, flufl_fixture) {
    locknix::file_lock lock(lock_path, options());
    {
        std::lock_guard guard(lock);
        BOOST_TEST(lock.is_held());
    }
    BOOST_TEST(!lock.is_held());
}

BOOST_FIXTURE_TEST_CASE(using_the_lock_is_stolen_after_its_lifetime, flufl_fixture) {
    // "After the current lifetime expires, the lock is stolen from the parent process even if
    // the parent never unlocks it."
    auto o = options();
    o.lifetime = 2s;
    locknix::file_lock lock(lock_path, o);
    lock.acquire(0s);
    child_fs->advance_wall(2s + 10s + 1s);
    auto child = child_locker();
    BOOST_TEST(!lock.is_held());
    BOOST_TEST(error_of([&] { lock.release(); }) == errc::lock_lost);
}

BOOST_FIXTURE_TEST_CASE(using_a_refreshed_lock_is_not_stolen, flufl_fixture) {
    // "if the process holding the lock refreshes it, it can hold it for as long as it needs."
    auto o = options();
    o.lifetime = 2s;
    const auto t = lt::whole_second_now();
    fs->freeze_wall(t);
    locknix::file_lock lock(lock_path, o);
    lock.acquire(0s);
    fs->advance_wall(5s);
    lock.refresh(); // expires at t + 7 s
    child_fs->freeze_wall(t + 7s + 10s);
    locknix::file_lock child(lock_path, lt::test_options(child_fs));
    BOOST_TEST(!child.try_acquire());
    BOOST_TEST(lock.is_held());
}

BOOST_FIXTURE_TEST_CASE(using_lock_state, flufl_fixture) {
    auto o = options();
    o.lifetime = 1s;
    const auto t = lt::whole_second_now();
    fs->freeze_wall(t);
    locknix::file_lock lock(lock_path, o);
    BOOST_TEST(lock.state() == lock_state::unlocked);
    lock.acquire(0s);
    BOOST_TEST(lock.state() == lock_state::held_by_us); // "ours"
    fs->advance_wall(1500ms);
    BOOST_TEST(lock.state() == lock_state::held_by_us_expired); // "ours_expired"
    lock.release();

    // "unknown" (another live process) and "theirs_expired" / "stale".
    child_fs->freeze_wall(t);
    auto child = child_locker(2s);
    BOOST_TEST(lock.state() == lock_state::held_by_other);
    fs->freeze_wall(t + 2s + 10s + 1s);
    BOOST_TEST(lock.state() == lock_state::held_by_other_breakable);
}

BOOST_FIXTURE_TEST_CASE(an_unrelated_file_at_a_claim_like_path_survives, flufl_fixture) {
    // A file named like a claim of this lock, but not linked to it and not a claim: neither
    // acquiring, nor breaking, nor destruction touches it.
    const std::string look_alike = lock_path + "|here|1000|42";
    lt::write_file(look_alike, "unrelated");
    {
        locknix::file_lock lock(lock_path, options());
        lock.acquire(0s);
        lock.release();
        auto child = child_locker(1s);
        fs->advance_wall(1h);
        lock.acquire(0s); // breaks the child's lock
        BOOST_TEST(lock.is_held());
    }
    BOOST_TEST(lt::read_file(look_alike) == "unrelated");
}

BOOST_AUTO_TEST_SUITE_END()
