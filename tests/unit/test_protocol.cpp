// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The protocol core (protocol.cpp), one attempt at a time, through the fault-injecting seam:
// the on-disk format, what counts as acquired, which errors end an acquisition, breaking, and
// release and refresh. Nothing here waits: time moves by the fake clocks only.

#include "protocol.hpp"

#include "test_support.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>

using namespace std::chrono_literals;
using boost::system::error_code;
using locknix::errc;
using locknix::lock_options;
using locknix::detail::attempt_outcome;
using locknix::test::fs_op;

namespace {

namespace lt = locknix::test;
using core = locknix::detail::protocol;

struct core_fixture {
    lt::temp_dir dir;
    std::string lock_path = dir / "x.lck";
    std::shared_ptr<lt::fault_fs> fs = lt::make_host("here", 1000);
    std::vector<std::string> logged;

    lock_options options() {
        auto o = lt::test_options(fs);
        o.log = [this](locknix::log_level, std::string_view m) {
            logged.emplace_back(m);
        };
        return o;
    }

    std::unique_ptr<core> make(lock_options o) {
        error_code ec;
        auto p = std::make_unique<core>(lock_path, std::move(o), ec);
        BOOST_REQUIRE_MESSAGE(!ec, "protocol: " << ec.message());
        return p;
    }

    std::unique_ptr<core> make() { return make(options()); }

    // A lock left by a process "there"/2000 that is gone, expiring at `expiry`.
    std::string plant_other(std::chrono::system_clock::time_point expiry) {
        return lt::plant_lock(lock_path, "there", 2000, expiry);
    }

    bool logged_containing(const std::string& part) const {
        for (const auto& m : logged)
            if (m.find(part) != std::string::npos)
                return true;
        return false;
    }
};

bool only_digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

} // namespace

namespace locknix::detail {

std::ostream& boost_test_print_type(std::ostream& out, attempt_outcome o) {
    switch (o) {
    case attempt_outcome::acquired:
        return out << "acquired";
    case attempt_outcome::contended:
        return out << "contended";
    case attempt_outcome::retry:
        return out << "retry";
    case attempt_outcome::retry_now:
        return out << "retry_now";
    }
    return out << "?";
}

} // namespace locknix::detail

BOOST_AUTO_TEST_SUITE(protocol)

// --- On-disk format ------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(construction_touches_no_file, core_fixture) {
    auto p = make();
    BOOST_TEST(dir.names().empty());
    BOOST_TEST(fs->total_file_calls() == 0u);
    BOOST_TEST(p->lock_path() == lock_path);
}

BOOST_FIXTURE_TEST_CASE(a_claim_is_named_lock_host_pid_random, core_fixture) {
    auto p = make();
    const std::string prefix = lock_path + "|here|1000|";
    BOOST_TEST(p->claim_path().substr(0, prefix.size()) == prefix);
    BOOST_TEST(only_digits(std::string_view(p->claim_path()).substr(prefix.size())));
}

BOOST_FIXTURE_TEST_CASE(an_uncontended_attempt_links_the_claim_to_the_lock, core_fixture) {
    const auto now = lt::whole_second_now();
    fs->freeze_wall(now);
    auto o = options();
    o.lifetime = 42s;
    auto p = make(o);
    error_code ec;
    const auto r = p->attempt(ec);
    BOOST_TEST(!ec);
    BOOST_TEST(r.outcome == attempt_outcome::acquired);
    BOOST_TEST(p->held());

    // Held = the lock file is a hard link to the claim, whose content is its own path.
    BOOST_TEST(lt::inode(lock_path) == lt::inode(p->claim_path()));
    BOOST_TEST(lt::link_count(p->claim_path()) == 2u);
    BOOST_TEST(lt::read_file(lock_path) == p->claim_path());
    // The expiry is the mtime of the shared inode: acquisition time + lifetime.
    BOOST_TEST((lt::mtime(lock_path) == now + 42s));
    BOOST_TEST((p->expiry() == now + 42s));

    const std::vector<fs_op> expected = {fs_op::open, fs_op::write, fs_op::close, fs_op::set_times,
                                         fs_op::link};
    BOOST_TEST(fs->file_ops() == expected, boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(claims_are_created_exclusively_and_never_through_a_link, core_fixture) {
    plant_other(lt::whole_second_now() + 1h);
    auto p = make();
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::contended);
    for (const auto& c : fs->calls()) {
        if (c.op != fs_op::open)
            continue;
        BOOST_TEST_CONTEXT("open " << c.path) {
            BOOST_TEST((c.flags & O_NOFOLLOW) != 0);
            BOOST_TEST((c.flags & O_CLOEXEC) != 0);
            if (c.path == p->claim_path()) {
                BOOST_TEST((c.flags & O_CREAT) != 0);
                BOOST_TEST((c.flags & O_EXCL) != 0);
                BOOST_TEST((c.flags & O_ACCMODE) == O_WRONLY);
                BOOST_TEST(c.mode == 0666u);
            } else {
                BOOST_TEST(c.path == lock_path);
                BOOST_TEST((c.flags & O_CREAT) == 0);
                BOOST_TEST((c.flags & O_ACCMODE) == O_RDONLY);
            }
        }
    }
}

BOOST_FIXTURE_TEST_CASE(claim_files_follow_the_umask, core_fixture) {
    const mode_t old = ::umask(027);
    auto p = make();
    error_code ec;
    p->attempt(ec);
    ::umask(old);
    struct stat st {};
    BOOST_REQUIRE(::lstat(p->claim_path().c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0640u);
}

BOOST_FIXTURE_TEST_CASE(a_file_at_the_claim_name_is_never_reused_or_changed, core_fixture) {
    // Someone else put a file (or a symbolic link) at the name this object would use.
    auto p = make();
    const std::string planted_claim = p->claim_path();
    const std::string target = dir / "target";
    lt::write_file(target, "precious");
    lt::make_symlink(target, planted_claim);

    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    BOOST_TEST(!ec);
    BOOST_TEST(p->claim_path() != planted_claim);
    BOOST_TEST(lt::read_file(lock_path) == p->claim_path());
    BOOST_TEST(lt::read_file(target) == "precious");
    BOOST_TEST(lt::exists(planted_claim));

    p->close();
    BOOST_TEST(lt::read_file(target) == "precious");
    BOOST_TEST(lt::exists(planted_claim));
}

BOOST_FIXTURE_TEST_CASE(the_expiry_is_stamped_just_before_every_link, core_fixture) {
    const auto t = lt::whole_second_now();
    fs->freeze_wall(t);
    plant_other(t + 100h);
    auto o = options();
    o.lifetime = 15s;
    auto p = make(o);

    // Between attempts the wall clock moves on by a minute: a long wait.
    for (int i = 0; i < 3; ++i) {
        error_code ec;
        BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::contended);
        fs->advance_wall(1min);
    }
    lt::remove_file(lock_path); // the holder leaves
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);

    const auto calls = fs->calls();
    int links = 0;
    for (std::size_t i = 0; i < calls.size(); ++i) {
        if (calls[i].op != fs_op::link || calls[i].path != p->claim_path())
            continue;
        BOOST_REQUIRE(i > 0);
        BOOST_TEST(calls[i - 1].op == fs_op::set_times);
        BOOST_TEST(calls[i - 1].path == p->claim_path());
        BOOST_TEST((calls[i - 1].time == t + links * 1min + 15s));
        ++links;
    }
    BOOST_TEST(links == 4);
    // Acquired after a three-minute wait, yet not born expired.
    BOOST_TEST((lt::mtime(lock_path) == t + 3min + 15s));
    BOOST_TEST(p->state(ec) == locknix::lock_state::held_by_us);
}

// --- What counts as acquired -----------------------------------------------------------------

const int lost_reply_errnos[] = {EIO, ETIMEDOUT, EEXIST, ESTALE, EPERM};

BOOST_DATA_TEST_CASE_F(core_fixture, a_link_whose_reply_was_lost_counts_as_acquired,
                       boost::unit_test::data::make(lost_reply_errnos), e) {
    fs->lose_reply(fs_op::link, e, lt::path_is(lock_path));
    auto p = make();
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    BOOST_TEST(!ec);
    BOOST_TEST(p->held());
    BOOST_TEST(p->verify_held(ec));
    p->release(ec);
    BOOST_TEST(!ec);
    BOOST_TEST(!lt::exists(lock_path));
}

BOOST_FIXTURE_TEST_CASE(a_lost_reply_is_recognised_by_the_claims_link_count, core_fixture) {
    fs->lose_reply(fs_op::link, EEXIST, lt::path_is(lock_path));
    auto p = make();
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    // A link count of 2 on the claim settles it: the lock file is not even read.
    for (const auto& c : fs->calls())
        BOOST_TEST(!(c.op == fs_op::open && c.path == lock_path));
}

BOOST_FIXTURE_TEST_CASE(a_link_count_of_two_after_any_failure_is_acquired, core_fixture) {
    // The reply to a link that was made is lost and replaced by an errno nobody expects.
    fs->lose_reply(fs_op::link, EMLINK, lt::path_is(lock_path));
    auto p = make();
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    BOOST_TEST(!ec);
    BOOST_TEST(p->verify_held(ec));
}

BOOST_FIXTURE_TEST_CASE(enoent_from_link_while_the_claim_exists_is_tried_again, core_fixture) {
    // Some NFS clients report a stale handle as ENOENT; the claim shows the directory is there.
    fs->fail(fs_op::link, ENOENT, lt::path_is(lock_path));
    auto p = make();
    error_code ec;
    const auto r = p->attempt(ec);
    BOOST_TEST(!ec);
    BOOST_TEST(r.outcome != attempt_outcome::acquired);
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    BOOST_TEST(!ec);
}

BOOST_DATA_TEST_CASE_F(core_fixture, a_lost_reply_on_sshfs_counts_as_acquired_by_content,
                       boost::unit_test::data::make(lost_reply_errnos), e) {
    fs->set_sshfs(true);
    fs->lose_reply(fs_op::link, e, lt::path_is(lock_path));
    auto p = make();
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    BOOST_TEST(!ec);
    BOOST_TEST(p->verify_held(ec));
}

const int passing_errnos[] = {EIO, ETIMEDOUT, ESTALE};

BOOST_DATA_TEST_CASE_F(core_fixture, a_link_refused_before_it_was_made_is_tried_again,
                       boost::unit_test::data::make(passing_errnos), e) {
    fs->fail(fs_op::link, e, lt::path_is(lock_path));
    auto p = make();
    error_code ec;
    const auto r = p->attempt(ec);
    BOOST_TEST(!ec);
    BOOST_TEST((r.outcome == attempt_outcome::retry || r.outcome == attempt_outcome::retry_now));
    BOOST_TEST(!p->held());
    BOOST_TEST(!lt::exists(lock_path));
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    BOOST_TEST(!ec);
}

BOOST_FIXTURE_TEST_CASE(sshfs_reports_a_lost_race_as_eperm_and_it_is_contention, core_fixture) {
    fs->set_sshfs(true);
    const auto other = plant_other(lt::whole_second_now() + 1h);
    auto p = make();
    error_code ec;
    const auto r = p->attempt(ec);
    BOOST_TEST(!ec);
    BOOST_TEST(r.outcome == attempt_outcome::contended);
    BOOST_REQUIRE(r.holder);
    BOOST_TEST(r.holder->claim == other);
    // Contention on sshfs never turns into "hard links refused".
    for (int i = 0; i < 5; ++i)
        BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::contended);
    BOOST_TEST(!ec);
}

BOOST_FIXTURE_TEST_CASE(a_file_system_that_refuses_every_link_fails_instead_of_spinning,
                        core_fixture) {
    fs->add_rule({fs_op::link, EPERM, false, std::nullopt, 0, 0, lt::path_is(lock_path)});
    auto p = make();
    error_code ec;
    int attempts = 0;
    while (!ec && attempts < 10) {
        p->attempt(ec);
        ++attempts;
    }
    BOOST_TEST(lt::sys_errno(ec) == EPERM);
    BOOST_TEST(attempts <= 3);
    BOOST_TEST(p->failure().path == lock_path);
}

BOOST_FIXTURE_TEST_CASE(a_strange_link_count_is_contention_not_an_error, core_fixture) {
    // flufl.lock's test_unexpected_st_nlink: the claim reports three links once.
    plant_other(lt::whole_second_now() + 1h);
    auto p = make();
    fs->add_rule({fs_op::lstat, 0, false, 3u, 0, 1, lt::path_contains("|here|")});
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::contended);
    BOOST_TEST(!ec);
    BOOST_TEST(!p->held());
}

// --- Errors that end an acquisition ----------------------------------------------------------

struct errno_case {
    fs_op op;
    int error;
};

std::ostream& operator<<(std::ostream& out, const errno_case& c) {
    return out << c.op << " " << std::strerror(c.error);
}

const errno_case fatal_cases[] = {
    {fs_op::link, EACCES},     {fs_op::link, EROFS},        {fs_op::link, ENOSPC},
    {fs_op::link, EDQUOT},     {fs_op::link, ENAMETOOLONG}, {fs_op::link, ENOTDIR},
    {fs_op::link, ELOOP},      {fs_op::link, EMLINK},       {fs_op::link, EXDEV},
    {fs_op::open, EACCES},     {fs_op::open, EROFS},        {fs_op::open, ENOSPC},
    {fs_op::open, EDQUOT},     {fs_op::open, ENAMETOOLONG}, {fs_op::open, ENOTDIR},
    {fs_op::open, ELOOP},      {fs_op::open, ENOENT},       {fs_op::write, ENOSPC},
    {fs_op::write, EDQUOT},    {fs_op::close, ENOSPC},      {fs_op::close, EDQUOT},
    {fs_op::set_times, EROFS}, {fs_op::set_times, EACCES},  {fs_op::set_times, EPERM},
};

BOOST_DATA_TEST_CASE_F(core_fixture, errors_that_retrying_cannot_mend_end_the_acquisition,
                       boost::unit_test::data::make(fatal_cases), c) {
    fs->add_rule({c.op, c.error, false, std::nullopt, 0, 0, {}});
    auto p = make();
    error_code ec;
    p->attempt(ec);
    BOOST_TEST(lt::sys_errno(ec) == c.error);
    BOOST_TEST(!p->held());
    BOOST_TEST(!lt::exists(lock_path));
    // The failure names the path: the lock or its claim, which starts with the lock path.
    BOOST_TEST(p->failure().path.substr(0, lock_path.size()) == lock_path);
    BOOST_TEST(!p->failure().operation.empty());
    BOOST_TEST(p->failure().error == ec);
    // A half-written claim does not stay behind.
    if (c.op == fs_op::write || c.op == fs_op::close)
        BOOST_TEST(!lt::exists(p->claim_path()));
}

BOOST_FIXTURE_TEST_CASE(a_missing_directory_fails_and_names_the_path, core_fixture) {
    lock_path = dir / "missing/x.lck";
    auto p = make();
    error_code ec;
    p->attempt(ec);
    BOOST_TEST(lt::sys_errno(ec) == ENOENT);
    BOOST_TEST(p->failure().path.find(dir / "missing/x.lck") == 0u);
}

BOOST_FIXTURE_TEST_CASE(an_unexpected_errno_reading_the_lock_is_reported, core_fixture) {
    // flufl.lock's test_releasetime_weird_failure: stat of a contended lock fails oddly.
    plant_other(lt::whole_second_now() + 1h);
    fs->add_rule({fs_op::fstat, EOVERFLOW, false, std::nullopt, 0, 0, lt::path_is(lock_path)});
    auto p = make();
    error_code ec;
    p->attempt(ec);
    BOOST_TEST(lt::sys_errno(ec) == EOVERFLOW);
    BOOST_TEST(p->failure().path == lock_path);
}

BOOST_FIXTURE_TEST_CASE(a_passing_error_reading_the_lock_is_tried_again, core_fixture) {
    plant_other(lt::whole_second_now() + 1h);
    fs->add_rule({fs_op::open, EIO, false, std::nullopt, 0, 1, lt::path_is(lock_path)});
    auto p = make();
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::retry);
    BOOST_TEST(!ec);
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::contended);
}

// A holder on another host releases between our open() of the lock and the fstat() or read() of
// the open file: sshfs answers by path (ENOENT), GlusterFS and NFS with ESTALE. The lock is gone,
// not unreadable.
const int vanished_errnos[] = {ENOENT, ESTALE};

BOOST_DATA_TEST_CASE_F(core_fixture, a_lock_removed_while_it_is_read_counts_as_gone,
                       boost::unit_test::data::make(vanished_errnos), e) {
    const auto other = plant_other(lt::whole_second_now() + 1h);
    fs->add_hook(
        {fs_op::open, lt::hook_phase::after, lt::path_is(lock_path), 0, 1, [&](const lt::fs_call&) {
             lt::remove_file(lock_path);
             lt::remove_file(other);
         }});
    fs->fail(fs_op::fstat, e, lt::path_is(lock_path));
    auto p = make();
    error_code ec;
    BOOST_TEST((p->attempt(ec).outcome == attempt_outcome::retry_now));
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
}

BOOST_DATA_TEST_CASE_F(core_fixture, a_lock_removed_while_its_holder_is_read_is_no_holder,
                       boost::unit_test::data::make(vanished_errnos), e) {
    const auto other = plant_other(lt::whole_second_now() + 1h);
    fs->add_hook(
        {fs_op::open, lt::hook_phase::after, lt::path_is(lock_path), 0, 1, [&](const lt::fs_call&) {
             lt::remove_file(lock_path);
             lt::remove_file(other);
         }});
    fs->fail(fs_op::read, e, lt::path_is(lock_path));
    auto p = make();
    error_code ec;
    BOOST_TEST(!p->holder(ec).has_value());
    BOOST_TEST(!ec, ec.message());
}

BOOST_FIXTURE_TEST_CASE(a_lock_that_stays_stale_is_a_passing_error, core_fixture) {
    plant_other(lt::whole_second_now() + 1h);
    fs->fail(fs_op::fstat, ESTALE, lt::path_is(lock_path), 100);
    auto p = make();
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::retry);
    BOOST_TEST(!ec);
    p->holder(ec);
    BOOST_TEST(lt::sys_errno(ec) == ESTALE);
    BOOST_TEST(p->failure().path == lock_path);
}

// --- Claim files ------------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(the_claim_is_reused_across_acquisitions, core_fixture) {
    auto p = make();
    error_code ec;
    p->attempt(ec);
    const auto claim_inode = lt::inode(p->claim_path());
    p->release(ec);
    BOOST_TEST(!ec);
    BOOST_TEST(lt::exists(p->claim_path()));
    BOOST_TEST(lt::link_count(p->claim_path()) == 1u);

    fs->reset_counts();
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    p->release(ec);
    BOOST_TEST(!ec);
    BOOST_TEST(lt::inode(p->claim_path()) == claim_inode);
    // The whole uncontended cycle: stamp, link; check, unlink.
    const std::vector<fs_op> expected = {fs_op::set_times, fs_op::link, fs_op::lstat,
                                         fs_op::unlink};
    BOOST_TEST(fs->file_ops() == expected, boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(a_reused_claim_still_names_itself, core_fixture) {
    // flufl.lock's test_lock_state_with_corrupt_lockfile writes into a held lock, that is into
    // the claim's inode. The next acquisition must not link a claim that names something else.
    auto p = make();
    error_code ec;
    p->attempt(ec);
    lt::write_file(lock_path, "xxx");
    p->release(ec);
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    BOOST_TEST(lt::read_file(lock_path) == p->claim_path());
    BOOST_TEST(p->state(ec) == locknix::lock_state::held_by_us);
}

BOOST_FIXTURE_TEST_CASE(a_claim_overwritten_with_as_many_bytes_is_remade, core_fixture) {
    // The same length as the claim path: only the write's mtime gives it away.
    auto p = make();
    error_code ec;
    p->attempt(ec);
    lt::write_file(lock_path, std::string(p->claim_path().size(), 'x'));
    p->release(ec);
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    BOOST_TEST(lt::read_file(lock_path) == p->claim_path());
    BOOST_TEST(p->state(ec) == locknix::lock_state::held_by_us);
}

BOOST_FIXTURE_TEST_CASE(a_claim_removed_while_not_held_is_recreated, core_fixture) {
    auto p = make();
    error_code ec;
    p->attempt(ec);
    p->release(ec);
    lt::remove_file(p->claim_path());
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    BOOST_TEST(!ec);
    BOOST_TEST(lt::read_file(p->claim_path()) == p->claim_path());
    BOOST_TEST(lt::inode(lock_path) == lt::inode(p->claim_path()));
}

BOOST_FIXTURE_TEST_CASE(a_claim_removed_between_stamp_and_link_is_recreated, core_fixture) {
    auto p = make();
    fs->add_hook({fs_op::set_times, lt::hook_phase::after, {}, 0, 1, [](const lt::fs_call& c) {
                      lt::remove_file(c.path);
                  }});
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    BOOST_TEST(!ec);
    BOOST_TEST(lt::inode(lock_path) == lt::inode(p->claim_path()));
}

BOOST_FIXTURE_TEST_CASE(abandon_removes_the_claim_of_a_failed_acquisition, core_fixture) {
    plant_other(lt::whole_second_now() + 1h);
    auto p = make();
    error_code ec;
    p->attempt(ec);
    BOOST_TEST(lt::exists(p->claim_path()));
    p->abandon();
    BOOST_TEST(!lt::exists(p->claim_path()));
}

BOOST_FIXTURE_TEST_CASE(close_releases_and_removes_the_claim, core_fixture) {
    auto p = make();
    error_code ec;
    p->attempt(ec);
    p->close();
    BOOST_TEST(dir.names().empty());
}

// --- Contention and breaking -----------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(contention_reports_the_holder_and_when_it_becomes_breakable, core_fixture) {
    const auto expiry = lt::whole_second_now() + 1h;
    const auto other = plant_other(expiry);
    auto o = options();
    o.clock_slop = 7s;
    auto p = make(o);
    error_code ec;
    const auto r = p->attempt(ec);
    BOOST_TEST(!ec);
    BOOST_TEST(r.outcome == attempt_outcome::contended);
    BOOST_REQUIRE(r.holder);
    BOOST_TEST(r.holder->host == "there");
    BOOST_TEST(r.holder->pid == 2000);
    BOOST_TEST(r.holder->claim == other);
    BOOST_TEST((r.holder->expiry == expiry));
    BOOST_REQUIRE(r.breakable_at);
    BOOST_TEST((*r.breakable_at == expiry + 7s));
    BOOST_TEST(lt::read_file(lock_path) == other);
    BOOST_TEST(lt::link_count(other) == 2u);
}

BOOST_FIXTURE_TEST_CASE(an_expired_lock_is_not_broken_at_the_boundary, core_fixture) {
    const auto expiry = lt::whole_second_now() - 1h;
    const auto other = plant_other(expiry);
    auto o = options();
    o.clock_slop = 10s;
    auto p = make(o);
    fs->freeze_wall(expiry + 10s); // now == mtime + slop: not yet
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::contended);
    BOOST_TEST(p->state(ec) == locknix::lock_state::held_by_other);
    BOOST_TEST(lt::read_file(lock_path) == other);
    BOOST_TEST(fs->count(fs_op::rename) == 0u);
    BOOST_TEST(fs->count(fs_op::mkdir) == 0u);
}

BOOST_FIXTURE_TEST_CASE(an_expired_lock_is_broken_one_tick_past_the_boundary, core_fixture) {
    const auto expiry = lt::whole_second_now() - 1h;
    const auto other = plant_other(expiry);
    auto o = options();
    o.clock_slop = 10s;
    auto p = make(o);
    fs->freeze_wall(expiry + 10s + 1ns);
    error_code ec;
    BOOST_TEST(p->state(ec) == locknix::lock_state::held_by_other_breakable);
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::retry_now);
    BOOST_TEST(!ec);
    BOOST_TEST(!lt::exists(lock_path));
    // The broken holder's claim is a claim of this lock path, so it is removed too.
    BOOST_TEST(!lt::exists(other));
    BOOST_TEST(logged_containing("host there pid 2000"));
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    // Nothing of the breaking is left behind.
    const std::vector<std::string> left = {"x.lck", p->claim_path().substr(dir.path().size() + 1)};
    BOOST_TEST(dir.names() == left, boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(breaking_uses_the_breakers_clock_and_slop, core_fixture) {
    // The holder's clock is an hour ahead; what matters is the breaker's clock.
    auto holder_fs = lt::make_host("there", 2000);
    holder_fs->advance_wall(1h);
    auto ho = lt::test_options(holder_fs);
    ho.lifetime = 1s;
    error_code ec;
    auto holder = std::make_unique<core>(lock_path, ho, ec);
    BOOST_REQUIRE(!ec);
    BOOST_TEST(holder->attempt(ec).outcome == attempt_outcome::acquired);

    auto o = options();
    o.clock_slop = 0s;
    auto p = make(o);
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::contended);
    fs->advance_wall(1h + 2s);
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::retry_now);
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    holder->release(ec);
    BOOST_TEST(ec == errc::lock_lost);
}

BOOST_FIXTURE_TEST_CASE(breakers_are_serialised, core_fixture) {
    plant_other(lt::whole_second_now() - 1h);
    auto p = make();
    lt::make_dir(lock_path + ".break"); // another breaker at work
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::retry);
    BOOST_TEST(!ec);
    BOOST_TEST(lt::exists(lock_path));
    BOOST_TEST(fs->count(fs_op::rename) == 0u);
    BOOST_TEST(lt::exists(lock_path + ".break"));
}

BOOST_FIXTURE_TEST_CASE(a_breaker_mutex_left_by_a_crashed_breaker_is_removed, core_fixture) {
    const auto now = lt::whole_second_now();
    plant_other(now - 1h);
    auto o = options();
    o.clock_slop = 10s;
    auto p = make(o);
    lt::make_dir(lock_path + ".break");
    lt::set_mtime(lock_path + ".break", now - 21s); // stale after 2 * slop + 1 s
    fs->freeze_wall(now);
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::retry); // exactly at the limit: wait
    BOOST_TEST(lt::exists(lock_path + ".break"));
    fs->freeze_wall(now + 1ns);
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::retry_now);
    BOOST_TEST(!lt::exists(lock_path + ".break"));
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::retry_now); // broken
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    BOOST_TEST(!ec);
}

BOOST_FIXTURE_TEST_CASE(a_breaker_never_removes_a_live_breaker_mutex, core_fixture) {
    // Two breakers find the same stale mutex; the other one removes it and makes its own right
    // before this one acts on its judgement. The live mutex must survive.
    const auto now = lt::whole_second_now();
    plant_other(now - 1h);
    const std::string mutex = lock_path + ".break";
    lt::make_dir(mutex);
    lt::set_mtime(mutex, now - 1h); // left by a crashed breaker
    std::uint64_t live = 0;
    const auto other_breaker = [&](const lt::fs_call&) {
        if (live != 0)
            return;
        BOOST_REQUIRE(::rmdir(mutex.c_str()) == 0);
        lt::make_dir(mutex);
        live = lt::inode(mutex);
    };
    // Right after the judgement, whatever removal comes next (a rename aside or an rmdir).
    fs->add_hook({fs_op::lstat, lt::hook_phase::after, lt::path_is(mutex), 0, 1, other_breaker});
    auto p = make();
    error_code ec;
    const auto r = p->attempt(ec);
    BOOST_TEST(!ec);
    BOOST_REQUIRE(live != 0);
    BOOST_TEST(r.outcome != attempt_outcome::acquired);
    BOOST_REQUIRE(lt::exists(mutex));
    BOOST_TEST(lt::inode(mutex) == live);
    BOOST_TEST(lt::read_file(lock_path).find("|there|2000|") != std::string::npos);
}

// The stale mutex is moved to a name of this object's own before removal: that name must fit
// NAME_MAX whenever the claim name does (a lock name of 218 characters is accepted).
BOOST_FIXTURE_TEST_CASE(a_long_claim_name_can_still_remove_a_stale_breaker_mutex, core_fixture) {
    lock_path = dir / std::string(218, 'n');
    const auto now = lt::whole_second_now();
    lt::plant_lock(lock_path, "there", 2000, now - 1h);
    lt::make_dir(lock_path + ".break");
    lt::set_mtime(lock_path + ".break", now - 1h); // left by a crashed breaker
    auto p = make();
    error_code ec;
    bool acquired = false;
    for (int i = 0; i < 10 && !ec && !acquired; ++i)
        acquired = p->attempt(ec).outcome == attempt_outcome::acquired;
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(acquired, "the stale breaker mutex was never removed");
}

// A fresh lock replaces the expired one at the worst moment. `swap` runs in a hook.
struct race_case {
    const char* name;
    fs_op at;
    // 0: another holder took the lock; 1: the same holder re-acquired (same content, new
    // mtime); 2: the same holder refreshed (same inode, new mtime).
    int kind;
};

std::ostream& operator<<(std::ostream& out, const race_case& c) {
    return out << c.name;
}

const race_case race_cases[] = {
    {"another holder before the mutex", fs_op::mkdir, 0},
    {"re-acquired before the mutex", fs_op::mkdir, 1},
    {"refreshed before the mutex", fs_op::mkdir, 2},
    {"another holder before the rename", fs_op::rename, 0},
    {"re-acquired before the rename", fs_op::rename, 1},
    {"refreshed before the rename", fs_op::rename, 2},
};

BOOST_DATA_TEST_CASE_F(core_fixture, a_breaker_never_removes_a_lock_fresher_than_it_judged,
                       boost::unit_test::data::make(race_cases), c) {
    const auto now = lt::whole_second_now();
    const auto expired = plant_other(now - 1h);
    std::string fresh_claim = expired;
    const int kind = c.kind;
    fs->add_hook({c.at, lt::hook_phase::before, lt::path_contains(lock_path), 0, 1,
                  [&, kind](const lt::fs_call&) {
                      if (kind == 0) {
                          lt::remove_file(lock_path);
                          fresh_claim = lt::plant_lock(lock_path, "fresh", 3000, now + 1h, 777);
                      } else if (kind == 1) {
                          lt::remove_file(lock_path);
                          lt::make_link(expired, lock_path);
                          lt::set_mtime(expired, now + 1h);
                      } else {
                          lt::set_mtime(lock_path, now + 1h);
                      }
                  }});
    auto p = make();
    error_code ec;
    for (int i = 0; i < 4; ++i) {
        const auto r = p->attempt(ec);
        BOOST_TEST(!ec);
        BOOST_TEST(r.outcome != attempt_outcome::acquired);
    }
    // The fresh lock is in place, whole: same claim, linked, fresh expiry.
    BOOST_TEST(lt::read_file(lock_path) == fresh_claim);
    BOOST_TEST(lt::inode(lock_path) == lt::inode(fresh_claim));
    BOOST_TEST(lt::link_count(fresh_claim) == 2u);
    BOOST_TEST((lt::mtime(lock_path) == now + 1h));
    BOOST_TEST(p->state(ec) == locknix::lock_state::held_by_other);
    // No aside copy and no breaker mutex stay behind.
    for (const auto& name : dir.names()) {
        BOOST_TEST(name.find(".broken") == std::string::npos);
        BOOST_TEST(name.find(".break") == std::string::npos);
    }
}

BOOST_FIXTURE_TEST_CASE(a_breaker_stopped_by_permissions_says_so, core_fixture) {
    const auto other = plant_other(lt::whole_second_now() - 1h);
    fs->fail(fs_op::rename, EPERM, lt::path_is(lock_path));
    auto p = make();
    error_code ec;
    p->attempt(ec);
    BOOST_TEST(lt::sys_errno(ec) == EPERM);
    BOOST_TEST(p->failure().path == lock_path);
    BOOST_TEST(p->failure().operation.find("sticky") != std::string::npos);
    BOOST_TEST(lt::read_file(lock_path) == other);
    BOOST_TEST(!lt::exists(lock_path + ".break"));
}

BOOST_FIXTURE_TEST_CASE(a_claim_that_cannot_be_removed_does_not_stop_the_break, core_fixture) {
    // flufl.lock's test_break_lock_with_ununlinkable_winner.
    const auto other = plant_other(lt::whole_second_now() - 1h);
    fs->fail(fs_op::unlink, EACCES, lt::path_is(other));
    auto p = make();
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::retry_now);
    BOOST_TEST(!ec);
    BOOST_TEST(logged_containing(other));
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    BOOST_TEST(lt::read_file(lock_path) == p->claim_path());
}

BOOST_FIXTURE_TEST_CASE(a_breaker_removes_what_it_moved_aside_despite_passing_errors,
                        core_fixture) {
    const auto other = plant_other(lt::whole_second_now() - 1h);
    fs->fail(fs_op::unlink, EIO, lt::path_contains(".broken"));
    fs->fail(fs_op::rmdir, ESTALE, lt::path_is(lock_path + ".break"));
    fs->fail(fs_op::unlink, ETIMEDOUT, lt::path_is(other));
    auto p = make();
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::retry_now);
    BOOST_TEST(!ec);
    BOOST_TEST(dir.names().size() == 1u, "only our claim is left");
    BOOST_TEST(lt::exists(p->claim_path()));
}

BOOST_FIXTURE_TEST_CASE(a_moved_aside_lock_that_resists_is_removed_on_close, core_fixture) {
    plant_other(lt::whole_second_now() - 1h);
    fs->fail(fs_op::unlink, EIO, lt::path_contains(".broken"), 100);
    auto p = make();
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::retry_now);
    BOOST_TEST(logged_containing(".broken"));
    BOOST_TEST(lt::exists(p->claim_path() + ".broken"));
    fs->clear_rules();
    p->close();
    BOOST_TEST(dir.names().empty());
}

BOOST_FIXTURE_TEST_CASE(close_removes_the_claim_despite_passing_errors, core_fixture) {
    plant_other(lt::whole_second_now() + 1h);
    auto p = make();
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::contended);
    const auto claim = p->claim_path();
    fs->fail(fs_op::unlink, EIO, lt::path_is(claim));
    fs->lose_reply(fs_op::unlink, ESTALE, lt::path_is(claim));
    p->close();
    BOOST_TEST(!lt::exists(claim));
}

BOOST_FIXTURE_TEST_CASE(a_huge_clock_slop_never_breaks_a_fresh_lock, core_fixture) {
    const auto other = plant_other(lt::whole_second_now() + 1h);
    auto o = options();
    o.clock_slop = std::chrono::nanoseconds::max(); // "never break"
    auto p = make(o);
    fs->advance_wall(10 * 24h);
    error_code ec;
    BOOST_TEST(p->state(ec) == locknix::lock_state::held_by_other);
    const auto r = p->attempt(ec);
    BOOST_TEST(!ec);
    BOOST_TEST(r.outcome == attempt_outcome::contended);
    BOOST_TEST(lt::read_file(lock_path) == other);
}

BOOST_FIXTURE_TEST_CASE(a_huge_lifetime_is_not_born_expired, core_fixture) {
    auto o = options();
    o.lifetime = std::chrono::nanoseconds::max();
    auto p = make(o);
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    BOOST_TEST(p->state(ec) == locknix::lock_state::held_by_us);
    BOOST_TEST((lt::mtime(lock_path) > lt::whole_second_now() + 100 * 365 * 24h));
    p->refresh(ec);
    BOOST_TEST(!ec);
    BOOST_TEST(p->state(ec) == locknix::lock_state::held_by_us);
}

BOOST_FIXTURE_TEST_CASE(a_lock_expiring_after_2262_is_not_broken, core_fixture) {
    // Past the range of 64-bit nanoseconds: a hostile or mistaken mtime must stay in the future.
    const auto other = plant_other(lt::whole_second_now() + 1h);
    const struct timespec far = {10'500'000'000, 0}; // year 2302
    const struct timespec times[2] = {far, far};
    BOOST_REQUIRE(::utimensat(AT_FDCWD, other.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
    auto p = make();
    error_code ec;
    BOOST_TEST(p->state(ec) == locknix::lock_state::held_by_other);
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::contended);
    BOOST_TEST(!ec);
    BOOST_TEST(lt::read_file(lock_path) == other);
}

// --- Release and refresh ---------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(release_and_refresh_need_the_lock, core_fixture) {
    const auto other = plant_other(lt::whole_second_now() + 1h);
    auto p = make();
    error_code ec;
    p->release(ec);
    BOOST_TEST(ec == errc::not_locked);
    ec.clear();
    p->refresh(ec);
    BOOST_TEST(ec == errc::not_locked);
    BOOST_TEST(lt::read_file(lock_path) == other);
    BOOST_TEST(fs->count(fs_op::unlink) == 0u);
    BOOST_TEST(fs->count(fs_op::set_times) == 0u);
}

BOOST_FIXTURE_TEST_CASE(refresh_stamps_a_new_expiry_on_the_shared_inode, core_fixture) {
    const auto t = lt::whole_second_now();
    fs->freeze_wall(t);
    auto o = options();
    o.lifetime = 20s;
    auto p = make(o);
    error_code ec;
    p->attempt(ec);
    fs->advance_wall(11s);
    p->refresh(ec);
    BOOST_TEST(!ec);
    BOOST_TEST((lt::mtime(lock_path) == t + 31s));
    BOOST_TEST((p->expiry() == t + 31s));
}

BOOST_FIXTURE_TEST_CASE(an_expired_lock_is_released_under_the_breaker_mutex, core_fixture) {
    auto o = options();
    o.lifetime = 1s;
    auto p = make(o);
    error_code ec;
    p->attempt(ec);
    fs->advance_wall(2s);
    fs->reset_counts();
    p->release(ec);
    BOOST_TEST(!ec);
    BOOST_TEST(!lt::exists(lock_path));
    BOOST_TEST(fs->count(fs_op::mkdir) == 1u);
    BOOST_TEST(fs->count(fs_op::rmdir) == 1u);
    BOOST_TEST(!lt::exists(lock_path + ".break"));
}

BOOST_FIXTURE_TEST_CASE(an_expired_lock_being_broken_is_not_removed_by_its_holder, core_fixture) {
    auto o = options();
    o.lifetime = 1s;
    auto p = make(o);
    error_code ec;
    p->attempt(ec);
    fs->advance_wall(2s);
    lt::make_dir(lock_path + ".break"); // a breaker is judging it right now
    p->release(ec);
    BOOST_TEST(ec == errc::lock_lost);
    BOOST_TEST(fs->count(fs_op::unlink) == 0u);
    BOOST_TEST(lt::exists(lock_path + ".break"));
}

BOOST_FIXTURE_TEST_CASE(a_lost_reply_of_the_release_unlink_is_a_release, core_fixture) {
    auto p = make();
    error_code ec;
    p->attempt(ec);
    fs->lose_reply(fs_op::unlink, EIO, lt::path_is(lock_path));
    p->release(ec);
    BOOST_TEST(!ec);
    BOOST_TEST(!p->held());
    BOOST_TEST(!lt::exists(lock_path));
}

BOOST_FIXTURE_TEST_CASE(a_release_unlink_that_failed_keeps_the_lock_held, core_fixture) {
    // flufl.lock's test_unlock_with_unexpected_OSError, and a passing error that persists.
    for (const int e : {EIO, EACCES}) {
        auto p = make();
        error_code ec;
        p->attempt(ec);
        fs->fail(fs_op::unlink, e, lt::path_is(lock_path), 10);
        p->release(ec);
        BOOST_TEST(lt::sys_errno(ec) == e);
        BOOST_TEST(p->held());
        BOOST_TEST(lt::exists(lock_path));
        fs->clear_rules();
        ec.clear();
        p->release(ec);
        BOOST_TEST(!ec);
        BOOST_TEST(!lt::exists(lock_path));
        p->close();
    }
}

const int passing_release_errnos[] = {EIO, ETIMEDOUT, ESTALE};

BOOST_DATA_TEST_CASE_F(core_fixture, a_release_tries_again_after_passing_errors,
                       boost::unit_test::data::make(passing_release_errnos), e) {
    auto p = make();
    error_code ec;
    p->attempt(ec);
    // A look at the claim that fails, a refused removal, and one whose reply was lost.
    fs->fail(fs_op::unlink, e, lt::path_is(lock_path));
    fs->lose_reply(fs_op::unlink, e, lt::path_is(lock_path));
    fs->fail(fs_op::lstat, e, lt::path_is(p->claim_path()));
    p->release(ec);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(!p->held());
    BOOST_TEST(!lt::exists(lock_path));
    p->close();
    BOOST_TEST(dir.names().empty());
}

BOOST_DATA_TEST_CASE_F(core_fixture, a_release_tries_again_on_sshfs_without_link_counts,
                       boost::unit_test::data::make(passing_release_errnos), e) {
    fs->set_sshfs(true);
    auto p = make();
    error_code ec;
    p->attempt(ec);
    fs->fail(fs_op::unlink, e, lt::path_is(lock_path));
    p->release(ec);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(!lt::exists(lock_path), "the lock was removed, not taken as removed");
}

struct lost_case {
    const char* name;
    bool release;    // else refresh
    bool claim_kept; // the breaker could not remove our claim
    bool sshfs;
};

std::ostream& operator<<(std::ostream& out, const lost_case& c) {
    return out << c.name;
}

const lost_case lost_cases[] = {
    {"release", true, false, false},        {"release, claim kept", true, true, false},
    {"release, sshfs", true, false, true},  {"release, claim kept, sshfs", true, true, true},
    {"refresh", false, false, false},       {"refresh, claim kept", false, true, false},
    {"refresh, sshfs", false, false, true}, {"refresh, claim kept, sshfs", false, true, true},
};

BOOST_DATA_TEST_CASE_F(core_fixture, a_broken_lock_is_reported_lost_and_the_new_one_kept,
                       boost::unit_test::data::make(lost_cases), c) {
    fs->set_sshfs(c.sshfs);
    auto o = options();
    o.lifetime = 1s;
    auto p = make(o);
    error_code ec;
    BOOST_REQUIRE(p->attempt(ec).outcome == attempt_outcome::acquired);

    // Another host, an hour later on its clock, breaks the lock and takes it.
    auto other_fs = lt::make_host("there", 2000);
    other_fs->set_sshfs(c.sshfs);
    other_fs->advance_wall(1h);
    if (c.claim_kept)
        other_fs->fail(fs_op::unlink, EACCES, lt::path_is(p->claim_path()));
    auto other = std::make_unique<core>(lock_path, lt::test_options(other_fs), ec);
    BOOST_REQUIRE(!ec);
    for (int i = 0; i < 4 && !other->held(); ++i)
        other->attempt(ec);
    BOOST_REQUIRE(other->held());
    BOOST_TEST(lt::exists(p->claim_path()) == c.claim_kept);

    ec.clear();
    if (c.release)
        p->release(ec);
    else
        p->refresh(ec);
    BOOST_TEST(ec == errc::lock_lost);
    BOOST_TEST(!p->held());
    // The new holder's lock is untouched.
    BOOST_TEST(lt::read_file(lock_path) == other->claim_path());
    BOOST_TEST(lt::inode(lock_path) == lt::inode(other->claim_path()));
    ec.clear();
    BOOST_TEST(other->verify_held(ec));
    BOOST_TEST(!ec);
    // Whatever comes next sees "not locked", not a second "lost".
    p->release(ec);
    BOOST_TEST(ec == errc::not_locked);
}

BOOST_FIXTURE_TEST_CASE(sshfs_acquire_release_refresh_and_break, core_fixture) {
    fs->set_sshfs(true);
    auto o = options();
    o.lifetime = 5s;
    auto p = make(o);
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    BOOST_TEST(p->verify_held(ec));
    p->refresh(ec);
    BOOST_TEST(!ec);
    p->release(ec);
    BOOST_TEST(!ec);
    BOOST_TEST(!lt::exists(lock_path));

    // Break an expired lock of another host on sshfs.
    const auto other = plant_other(lt::whole_second_now() - 1h);
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::retry_now);
    BOOST_TEST(!lt::exists(other));
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    BOOST_TEST(!ec);
}

// --- Checks that read without changing anything --------------------------------------------

BOOST_FIXTURE_TEST_CASE(looking_at_the_lock_never_refreshes_or_changes_it, core_fixture) {
    auto p = make();
    error_code ec;
    p->attempt(ec);
    const auto before = lt::mtime(lock_path);
    fs->reset_counts();
    p->verify_held(ec);
    p->state(ec);
    p->holder(ec);
    for (const auto op : {fs_op::set_times, fs_op::link, fs_op::unlink, fs_op::rename, fs_op::mkdir,
                          fs_op::rmdir, fs_op::write})
        BOOST_TEST(fs->count(op) == 0u);
    BOOST_TEST((lt::mtime(lock_path) == before));
}

BOOST_FIXTURE_TEST_CASE(state_and_holder_report_unexpected_errnos, core_fixture) {
    // flufl.lock's test_details_weird_open_failure and test_read_unexpected_errors.
    plant_other(lt::whole_second_now() + 1h);
    auto p = make();
    fs->add_rule({fs_op::open, EOVERFLOW, false, std::nullopt, 0, 0, lt::path_is(lock_path)});
    error_code ec;
    p->state(ec);
    BOOST_TEST(lt::sys_errno(ec) == EOVERFLOW);
    ec.clear();
    BOOST_TEST(!p->holder(ec));
    BOOST_TEST(lt::sys_errno(ec) == EOVERFLOW);
}

BOOST_FIXTURE_TEST_CASE(unexpected_errnos_checking_the_claim_are_reported, core_fixture) {
    // flufl.lock's test_linkcount_weird_failure.
    auto p = make();
    error_code ec;
    p->attempt(ec);
    fs->add_rule({fs_op::lstat, EOVERFLOW, false, std::nullopt, 0, 2, lt::path_contains("|here|")});
    p->release(ec);
    BOOST_TEST(lt::sys_errno(ec) == EOVERFLOW);
    ec.clear();
    p->refresh(ec);
    BOOST_TEST(lt::sys_errno(ec) == EOVERFLOW);
    BOOST_TEST(p->held());
    ec.clear();
    p->release(ec);
    BOOST_TEST(!ec);
}

// --- A forked child (a change of pid) --------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(a_new_pid_owns_nothing_of_the_old_one, core_fixture) {
    auto p = make();
    error_code ec;
    p->attempt(ec);
    const std::string parent_claim = p->claim_path();
    fs->set_pid(1001); // what a forked child sees

    BOOST_TEST(!p->held());
    BOOST_TEST(!p->verify_held(ec));
    p->release(ec);
    BOOST_TEST(ec == errc::not_locked);
    ec.clear();
    BOOST_TEST(p->state(ec) == locknix::lock_state::held_by_other);
    BOOST_TEST(p->claim_path() != parent_claim);
    BOOST_TEST(p->claim_path().find("|here|1001|") != std::string::npos);
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::contended);
    p->abandon();
    p->close();
    BOOST_TEST(lt::read_file(lock_path) == parent_claim);
    BOOST_TEST(lt::link_count(parent_claim) == 2u);
}

BOOST_FIXTURE_TEST_CASE(close_in_a_child_that_did_nothing_leaves_the_parents_files, core_fixture) {
    auto p = make();
    error_code ec;
    p->attempt(ec);
    const std::string parent_claim = p->claim_path();
    fs->set_pid(1001);
    fs->reset_counts();
    p->close();
    BOOST_TEST(lt::read_file(lock_path) == parent_claim);
    BOOST_TEST(lt::link_count(parent_claim) == 2u);
    BOOST_TEST(fs->count(fs_op::unlink) == 0u);
}

// --- Construction ----------------------------------------------------------------------------

struct option_case {
    const char* name;
    lock_options options;
};

std::ostream& operator<<(std::ostream& out, const option_case& c) {
    return out << c.name;
}

lock_options with(void (*change)(lock_options&)) {
    lock_options o;
    change(o);
    return o;
}

const option_case bad_options[] = {
    {"zero lifetime", with([](lock_options& o) { o.lifetime = 0s; })},
    {"negative lifetime", with([](lock_options& o) { o.lifetime = -1s; })},
    {"negative slop", with([](lock_options& o) { o.clock_slop = -1ns; })},
    {"zero min poll", with([](lock_options& o) { o.min_poll = 0s; })},
    {"negative min poll", with([](lock_options& o) { o.min_poll = -1ms; })},
    {"max poll below min poll", with([](lock_options& o) {
         o.min_poll = 10ms;
         o.max_poll = 9ms;
     })},
};

BOOST_DATA_TEST_CASE_F(core_fixture, out_of_range_options_are_refused,
                       boost::unit_test::data::make(bad_options), c) {
    auto o = c.options;
    o.fs = fs;
    error_code ec;
    core p(lock_path, o, ec);
    BOOST_TEST(ec == errc::bad_option);
}

BOOST_FIXTURE_TEST_CASE(zero_slop_and_equal_polls_are_accepted, core_fixture) {
    auto o = options();
    o.clock_slop = 0s;
    o.min_poll = o.max_poll = 3ms;
    error_code ec;
    core p(lock_path, o, ec);
    BOOST_TEST(!ec);
}

BOOST_FIXTURE_TEST_CASE(unusable_host_names_are_refused, core_fixture) {
    for (const std::string& host :
         std::vector<std::string>{"", "a|b", "a/b", std::string("a\0b", 3)}) {
        fs->set_host_name(host);
        error_code ec;
        core p(lock_path, options(), ec);
        BOOST_TEST(ec == errc::bad_host_name);
    }
    fs->set_host_name("here");
    fs->fail(fs_op::host_name, EFAULT);
    error_code ec;
    core p(lock_path, options(), ec);
    BOOST_TEST(lt::sys_errno(ec) == EFAULT);
}

BOOST_FIXTURE_TEST_CASE(lock_paths_with_the_separator_are_refused, core_fixture) {
    error_code ec;
    core p(dir / "a|b.lck", options(), ec);
    BOOST_TEST(ec == errc::bad_lock_path);
}

BOOST_FIXTURE_TEST_CASE(claim_names_longer_than_name_max_are_refused, core_fixture) {
    lock_path = dir / std::string(230, 'n');
    error_code ec;
    core p(lock_path, options(), ec);
    BOOST_TEST(lt::sys_errno(ec) == ENAMETOOLONG);
    BOOST_TEST(p.failure().path == lock_path);
    BOOST_TEST(dir.names().empty());

    // A long host name counts as well.
    lock_path = dir / "x.lck";
    fs->set_host_name(std::string(220, 'h'));
    error_code ec2;
    core q(lock_path, options(), ec2);
    BOOST_TEST(lt::sys_errno(ec2) == ENAMETOOLONG);
}

BOOST_FIXTURE_TEST_CASE(a_name_that_fits_is_accepted, core_fixture) {
    lock_path = dir / std::string(200, 'n');
    auto p = make();
    error_code ec;
    BOOST_TEST(p->attempt(ec).outcome == attempt_outcome::acquired);
    BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(passing_errnos_are_the_nfs_ones) {
    using locknix::detail::is_transient;
    for (const int e : {EIO, ETIMEDOUT, ESTALE, EAGAIN})
        BOOST_TEST(is_transient(lt::sys_error(e)));
    for (const int e : {EACCES, EROFS, ENOSPC, EEXIST, EPERM, ENOENT})
        BOOST_TEST(!is_transient(lt::sys_error(e)));
    BOOST_TEST(!is_transient(errc::timed_out));
    BOOST_TEST(!is_transient(error_code()));
}

BOOST_AUTO_TEST_SUITE_END()
