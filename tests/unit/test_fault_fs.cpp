// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The test seam itself: the other suites trust it, so what it injects is checked here.

#include "fault_fs.hpp"
#include "test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

using namespace std::chrono_literals;
using boost::system::error_code;
using locknix::test::fs_op;

namespace {

namespace lt = locknix::test;

std::size_t open_descriptors() {
    std::size_t n = 0;
    DIR* d = ::opendir("/proc/self/fd");
    while (d && ::readdir(d))
        ++n;
    if (d)
        ::closedir(d);
    return n;
}

struct seam {
    lt::temp_dir dir;
    std::shared_ptr<lt::fault_fs> fs = std::make_shared<lt::fault_fs>();
    std::string a = dir / "a";
    std::string b = dir / "b";
};

} // namespace

BOOST_AUTO_TEST_SUITE(fault_fs)

BOOST_FIXTURE_TEST_CASE(passes_calls_through_to_real_files, seam) {
    error_code ec;
    const int fd = fs->open(a, O_WRONLY | O_CREAT | O_EXCL, 0644, ec);
    BOOST_REQUIRE(!ec);
    BOOST_TEST(fs->write(fd, "abc", 3, ec) == 3u);
    BOOST_TEST(fs->fstat(fd, ec).size == 3u);
    fs->close(fd, ec);
    BOOST_TEST(!ec);
    fs->link(a, b, ec);
    BOOST_TEST(!ec);
    BOOST_TEST(fs->lstat(a, ec).link_count == 2u);
    BOOST_TEST(lt::read_file(b) == "abc");
    fs->rename(b, dir / "c", ec);
    fs->unlink(dir / "c", ec);
    fs->mkdir(dir / "m", ec);
    BOOST_TEST(fs->lstat(dir / "m", ec).directory);
    fs->rmdir(dir / "m", ec);
    BOOST_TEST(!ec);
    const auto t = lt::whole_second_now() - 1h;
    fs->set_times(a, t, ec);
    BOOST_TEST((lt::mtime(a) == t));
    const std::vector<fs_op> expected = {
        fs_op::open,   fs_op::write,  fs_op::fstat, fs_op::close, fs_op::link,  fs_op::lstat,
        fs_op::rename, fs_op::unlink, fs_op::mkdir, fs_op::lstat, fs_op::rmdir, fs_op::set_times};
    BOOST_TEST(fs->file_ops() == expected, boost::test_tools::per_element());
    BOOST_TEST(fs->count(fs_op::lstat) == 2u);
}

BOOST_FIXTURE_TEST_CASE(an_error_before_the_call_does_nothing, seam) {
    lt::write_file(a, "x");
    fs->fail(fs_op::link, EIO);
    error_code ec;
    fs->link(a, b, ec);
    BOOST_TEST(lt::sys_errno(ec) == EIO);
    BOOST_TEST(!lt::exists(b));
    ec.clear();
    fs->link(a, b, ec); // the rule fired once
    BOOST_TEST(!ec);
    BOOST_TEST(lt::exists(b));
}

BOOST_FIXTURE_TEST_CASE(a_lost_reply_does_the_call_and_reports_the_error, seam) {
    lt::write_file(a, "x");
    fs->lose_reply(fs_op::link, ETIMEDOUT);
    error_code ec;
    fs->link(a, b, ec);
    BOOST_TEST(lt::sys_errno(ec) == ETIMEDOUT);
    BOOST_TEST(lt::link_count(a) == 2u);
}

BOOST_FIXTURE_TEST_CASE(a_lost_reply_of_open_leaks_no_descriptor, seam) {
    const auto before = open_descriptors();
    fs->lose_reply(fs_op::open, EIO);
    error_code ec;
    BOOST_TEST(fs->open(a, O_WRONLY | O_CREAT | O_EXCL, 0644, ec) == -1);
    BOOST_TEST(lt::sys_errno(ec) == EIO);
    BOOST_TEST(lt::exists(a));
    BOOST_TEST(open_descriptors() == before);
}

BOOST_FIXTURE_TEST_CASE(rules_skip_count_and_match_paths, seam) {
    lt::write_file(a, "x");
    lt::write_file(b, "y");
    fs->add_rule({fs_op::lstat, ENOENT, false, std::nullopt, 1, 2, lt::path_is(a)});
    error_code ec;
    const auto errno_of = [&](const std::string& p) {
        ec.clear();
        fs->lstat(p, ec);
        return lt::sys_errno(ec);
    };
    BOOST_TEST(errno_of(b) == 0); // other path: not matched, not counted
    BOOST_TEST(errno_of(a) == 0); // skipped
    BOOST_TEST(errno_of(a) == ENOENT);
    BOOST_TEST(errno_of(a) == ENOENT);
    BOOST_TEST(errno_of(a) == 0); // spent
    fs->add_rule({fs_op::lstat, EIO, false, std::nullopt, 0, 0, lt::path_contains("/b")});
    for (int i = 0; i < 5; ++i)
        BOOST_TEST(errno_of(b) == EIO);
    fs->clear_rules();
    BOOST_TEST(errno_of(b) == 0);
}

BOOST_FIXTURE_TEST_CASE(link_rules_match_either_path, seam) {
    lt::write_file(a, "x");
    fs->fail(fs_op::link, EIO, lt::path_is(b));
    error_code ec;
    fs->link(a, b, ec);
    BOOST_TEST(lt::sys_errno(ec) == EIO);
}

BOOST_FIXTURE_TEST_CASE(a_rule_can_report_another_link_count, seam) {
    lt::write_file(a, "x");
    fs->add_rule({fs_op::lstat, 0, false, 3u, 0, 1, {}});
    error_code ec;
    BOOST_TEST(fs->lstat(a, ec).link_count == 3u);
    BOOST_TEST(!ec);
    BOOST_TEST(fs->lstat(a, ec).link_count == 1u);
}

BOOST_FIXTURE_TEST_CASE(sshfs_mode_hides_link_counts_and_turns_eexist_into_eperm, seam) {
    lt::write_file(a, "x");
    fs->set_sshfs(true);
    error_code ec;
    fs->link(a, b, ec);
    BOOST_TEST(!ec);
    BOOST_TEST(fs->lstat(a, ec).link_count == 1u);
    const int fd = fs->open(a, O_RDONLY, 0, ec);
    BOOST_TEST(fs->fstat(fd, ec).link_count == 1u);
    fs->close(fd, ec);
    fs->link(a, b, ec);
    BOOST_TEST(lt::sys_errno(ec) == EPERM);
    ec.clear();
    fs->lose_reply(fs_op::link, EEXIST);
    fs->link(a, dir / "c", ec);
    BOOST_TEST(lt::sys_errno(ec) == EPERM);
    BOOST_TEST(lt::exists(dir / "c"));
}

BOOST_FIXTURE_TEST_CASE(a_dead_process_can_do_nothing, seam) {
    lt::write_file(a, "x");
    fs->set_dead(true);
    error_code ec;
    fs->unlink(a, ec);
    BOOST_TEST(lt::sys_errno(ec) == EIO);
    BOOST_TEST(lt::exists(a));
    fs->set_dead(false);
    ec.clear();
    fs->unlink(a, ec);
    BOOST_TEST(!ec);
}

BOOST_FIXTURE_TEST_CASE(clocks_jump_and_freeze, seam) {
    const auto real_wall = std::chrono::system_clock::now();
    fs->advance_wall(1h);
    BOOST_TEST((fs->wall_now() >= real_wall + 1h));
    const auto real_steady = std::chrono::steady_clock::now();
    fs->advance_steady(2h);
    BOOST_TEST((fs->steady_now() >= real_steady + 2h));
    const auto t = lt::whole_second_now();
    fs->freeze_wall(t);
    BOOST_TEST((fs->wall_now() == t));
    BOOST_TEST((fs->wall_now() == t));
    fs->advance_wall(1ns);
    BOOST_TEST((fs->wall_now() == t + 1ns));
    fs->advance(1s);
    BOOST_TEST((fs->wall_now() == t + 1s + 1ns));
    BOOST_TEST(fs->count(fs_op::wall_now) == 5u);
}

BOOST_FIXTURE_TEST_CASE(host_name_and_pid_are_settable, seam) {
    error_code ec;
    BOOST_TEST(fs->process_id() == static_cast<int>(::getpid()));
    fs->set_host_name("elsewhere");
    fs->set_pid(4242);
    BOOST_TEST(fs->host_name(ec) == "elsewhere");
    BOOST_TEST(fs->process_id() == 4242);
    fs->fail(fs_op::host_name, EFAULT);
    fs->host_name(ec);
    BOOST_TEST(lt::sys_errno(ec) == EFAULT);
}

BOOST_FIXTURE_TEST_CASE(hooks_run_before_and_after_matching_calls, seam) {
    lt::write_file(a, "x");
    std::vector<std::string> seen;
    fs->add_hook(
        {fs_op::unlink, lt::hook_phase::before, lt::path_is(a), 0, 1, [&](const lt::fs_call& c) {
             seen.push_back("before " + std::to_string(lt::exists(c.path)));
         }});
    fs->add_hook({fs_op::unlink, lt::hook_phase::after, {}, 0, 0, [&](const lt::fs_call& c) {
                      seen.push_back("after " + std::to_string(lt::exists(c.path)) + " " +
                                     std::to_string(c.result.value()));
                  }});
    error_code ec;
    fs->unlink(a, ec);
    fs->unlink(a, ec);
    const std::vector<std::string> expected = {"before 1", "after 0 0",
                                               "after 0 " + std::to_string(ENOENT)};
    BOOST_TEST(seen == expected, boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(the_trace_records_paths_flags_and_times, seam) {
    error_code ec;
    const int fd = fs->open(a, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600, ec);
    fs->fstat(fd, ec);
    fs->close(fd, ec);
    const auto t = lt::whole_second_now();
    fs->set_times(a, t, ec);
    const auto calls = fs->calls();
    BOOST_REQUIRE(calls.size() == 4u);
    BOOST_TEST(calls[0].path == a);
    BOOST_TEST((calls[0].flags & O_EXCL) != 0);
    BOOST_TEST(calls[0].mode == 0600u);
    BOOST_TEST(calls[1].path == a); // descriptor calls name the file
    BOOST_TEST((calls[3].time == t));
    fs->reset_counts();
    BOOST_TEST(fs->calls().empty());
    BOOST_TEST(fs->count(fs_op::open) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
