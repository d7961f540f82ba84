// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The production seam (posix_file_system.cpp) on real files: what it reports, that it never
// follows a symbolic link where the protocol relies on that, errnos in the system category, file
// times at the ends of the clock's range, and the process id across fork().

#include "test_support.hpp"

#include <locknix/file_system.hpp>

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <climits>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;
using boost::system::error_code;

namespace {

namespace lt = locknix::test;

struct real_fs {
    lt::temp_dir dir;
    std::shared_ptr<locknix::file_system> fs = locknix::posix_file_system();
};

} // namespace

BOOST_AUTO_TEST_SUITE(posix_file_system)

BOOST_FIXTURE_TEST_CASE(one_instance_serves_the_process, real_fs) {
    BOOST_TEST(fs.get() == locknix::posix_file_system().get());
}

BOOST_FIXTURE_TEST_CASE(status_reports_what_the_protocol_needs, real_fs) {
    const std::string a = dir / "a";
    lt::write_file(a, "12345");
    lt::make_link(a, dir / "b");
    const auto t = lt::whole_second_now() - 1h + 123456789ns;
    lt::set_mtime(a, t);
    error_code ec;
    const auto s = fs->lstat(a, ec);
    BOOST_TEST(!ec);
    BOOST_TEST(s.regular);
    BOOST_TEST(!s.directory);
    BOOST_TEST(!s.symlink);
    BOOST_TEST(s.size == 5u);
    BOOST_TEST(s.link_count == 2u);
    BOOST_TEST(s.inode == lt::inode(a));
    BOOST_TEST((s.mtime == t));

    const int fd = fs->open(a, O_RDONLY | O_CLOEXEC, 0, ec);
    BOOST_REQUIRE(fd >= 0);
    const auto f = fs->fstat(fd, ec);
    BOOST_TEST(f.inode == s.inode);
    BOOST_TEST(f.device == s.device);
    char buffer[16];
    BOOST_TEST(fs->read(fd, buffer, sizeof buffer, ec) == 5u);
    BOOST_TEST(fs->read(fd, buffer, sizeof buffer, ec) == 0u);
    fs->close(fd, ec);
    BOOST_TEST(!ec);

    lt::make_dir(dir / "d");
    BOOST_TEST(fs->lstat(dir / "d", ec).directory);
    lt::make_symlink(a, dir / "s");
    BOOST_TEST(fs->lstat(dir / "s", ec).symlink);
}

BOOST_FIXTURE_TEST_CASE(failures_carry_their_errno_in_the_system_category, real_fs) {
    error_code ec;
    fs->lstat(dir / "missing", ec);
    BOOST_TEST(lt::sys_errno(ec) == ENOENT);
    ec.clear();
    fs->unlink(dir / "missing", ec);
    BOOST_TEST(lt::sys_errno(ec) == ENOENT);
    ec.clear();
    lt::write_file(dir / "a", "");
    fs->link(dir / "a", dir / "a", ec);
    BOOST_TEST(lt::sys_errno(ec) == EEXIST);
    ec.clear();
    BOOST_TEST(fs->open(dir / "a", O_WRONLY | O_CREAT | O_EXCL, 0644, ec) == -1);
    BOOST_TEST(lt::sys_errno(ec) == EEXIST);
    ec.clear();
    fs->mkdir(dir / "d", ec);
    fs->mkdir(dir / "d", ec);
    BOOST_TEST(lt::sys_errno(ec) == EEXIST);
    ec.clear();
    lt::write_file(dir / "d/f", "");
    fs->rmdir(dir / "d", ec);
    BOOST_TEST(lt::sys_errno(ec) == ENOTEMPTY);
    ec.clear();
    fs->rename(dir / "missing", dir / "x", ec);
    BOOST_TEST(lt::sys_errno(ec) == ENOENT);
    ec.clear();
    fs->close(-1, ec);
    BOOST_TEST(lt::sys_errno(ec) == EBADF);
}

BOOST_FIXTURE_TEST_CASE(symbolic_links_are_never_followed, real_fs) {
    const std::string target = dir / "target";
    const std::string link = dir / "link";
    lt::write_file(target, "precious");
    const auto target_time = lt::mtime(target);
    lt::make_symlink(target, link);
    error_code ec;

    // open with O_NOFOLLOW refuses it.
    BOOST_TEST(fs->open(link, O_RDONLY | O_NOFOLLOW, 0, ec) == -1);
    BOOST_TEST(lt::sys_errno(ec) == ELOOP);
    ec.clear();
    // link() links the symbolic link itself, not its target.
    fs->link(link, dir / "second", ec);
    BOOST_TEST(!ec);
    BOOST_TEST(fs->lstat(dir / "second", ec).symlink);
    BOOST_TEST(lt::link_count(target) == 1u);
    // set_times stamps the link, not the target.
    fs->set_times(link, lt::whole_second_now() + 1h, ec);
    BOOST_TEST(!ec);
    BOOST_TEST((lt::mtime(target) == target_time));
    BOOST_TEST((lt::mtime(link) == lt::whole_second_now() + 1h));
}

BOOST_FIXTURE_TEST_CASE(set_times_stamps_to_the_nanosecond, real_fs) {
    const std::string a = dir / "a";
    lt::write_file(a, "");
    error_code ec;
    const auto t = lt::whole_second_now() + 15s + 987654321ns;
    fs->set_times(a, t, ec);
    BOOST_TEST(!ec);
    BOOST_TEST((fs->lstat(a, ec).mtime == t));
    // Before 1970 too.
    const auto old = std::chrono::system_clock::time_point(-100s - 250ms);
    fs->set_times(a, old, ec);
    BOOST_TEST((fs->lstat(a, ec).mtime == old));
}

BOOST_FIXTURE_TEST_CASE(file_times_beyond_the_clock_saturate, real_fs) {
    // 64-bit nanoseconds end in 2262; a file may say 2302.
    const std::string a = dir / "a";
    lt::write_file(a, "");
    const struct timespec far = {10'500'000'000, 0};
    const struct timespec times[2] = {far, far};
    BOOST_REQUIRE(::utimensat(AT_FDCWD, a.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
    error_code ec;
    const auto s = fs->lstat(a, ec);
    BOOST_TEST(!ec);
    BOOST_TEST((s.mtime > std::chrono::system_clock::now() + 200 * 365 * 24h));
}

BOOST_FIXTURE_TEST_CASE(directories_follow_the_umask, real_fs) {
    const mode_t old = ::umask(022);
    error_code ec;
    fs->mkdir(dir / "d", ec);
    ::umask(old);
    struct stat st {};
    BOOST_REQUIRE(::lstat((dir / "d").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0755u);
}

BOOST_FIXTURE_TEST_CASE(clocks_are_the_system_ones, real_fs) {
    const auto w0 = std::chrono::system_clock::now();
    const auto s0 = std::chrono::steady_clock::now();
    const auto w = fs->wall_now();
    const auto s = fs->steady_now();
    BOOST_TEST((w >= w0));
    BOOST_TEST((w <= std::chrono::system_clock::now()));
    BOOST_TEST((s >= s0));
    BOOST_TEST((s <= std::chrono::steady_clock::now()));
}

BOOST_FIXTURE_TEST_CASE(host_name_is_gethostname, real_fs) {
    char name[HOST_NAME_MAX + 1] = {};
    BOOST_REQUIRE(::gethostname(name, sizeof name - 1) == 0);
    error_code ec;
    BOOST_TEST(fs->host_name(ec) == std::string(name));
    BOOST_TEST(!ec);
}

BOOST_FIXTURE_TEST_CASE(the_process_id_is_renewed_in_a_forked_child, real_fs) {
    BOOST_TEST(fs->process_id() == static_cast<int>(::getpid()));
    const pid_t child = ::fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0)
        ::_exit(fs->process_id() == static_cast<int>(::getpid()) ? 0 : 1);
    int status = 0;
    BOOST_REQUIRE(::waitpid(child, &status, 0) == child);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 0);
    BOOST_TEST(fs->process_id() == static_cast<int>(::getpid()));
}

BOOST_AUTO_TEST_SUITE_END()
