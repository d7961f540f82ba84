// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "test_support.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace locknix::test {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
    throw std::runtime_error("test setup: " + what + " " + path + ": " + std::strerror(errno));
}

struct stat lstat_of(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        fail("lstat", path);
    return st;
}

} // namespace

temp_dir::temp_dir() {
    const char* base = std::getenv("TMPDIR");
    // mkdtemp replaces the six trailing 'X'.
    std::string pattern =
        std::string(base && *base ? base : "/tmp") + "/locknix-unit-" + std::string(6, 'X');
    if (::mkdtemp(pattern.data()) == nullptr)
        fail("mkdtemp", pattern);
    // Resolve symbolic links so that paths compare equal to the library's absolute ones.
    path_ = std::filesystem::canonical(pattern).string();
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::vector<std::string> temp_dir::names() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path_))
        names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

std::string read_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        fail("open", path);
    std::string content;
    char buffer[8192];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0) {
            ::close(fd);
            fail("read", path);
        }
        if (n == 0)
            break;
        content.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return content;
}

void write_file(const std::string& path, const std::string& content) {
    const int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        fail("create", path);
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0) {
            ::close(fd);
            fail("write", path);
        }
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

std::uint64_t link_count(const std::string& path) {
    return lstat_of(path).st_nlink;
}

std::uint64_t inode(const std::string& path) {
    return lstat_of(path).st_ino;
}

std::chrono::system_clock::time_point mtime(const std::string& path) {
    const struct stat st = lstat_of(path);
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(st.st_mtim.tv_sec) +
            std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

void set_mtime(const std::string& path, std::chrono::system_clock::time_point t) {
    const auto since = t.time_since_epoch();
    const auto secs = std::chrono::floor<std::chrono::seconds>(since);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(since - secs);
    const struct timespec ts { static_cast<time_t>(secs.count()), static_cast<long>(ns.count()) };
    const struct timespec times[2] = {ts, ts};
    if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        fail("utimensat", path);
}

void remove_file(const std::string& path) {
    if (::unlink(path.c_str()) != 0)
        fail("unlink", path);
}

void make_link(const std::string& from, const std::string& to) {
    if (::link(from.c_str(), to.c_str()) != 0)
        fail("link", to);
}

void make_symlink(const std::string& target, const std::string& path) {
    if (::symlink(target.c_str(), path.c_str()) != 0)
        fail("symlink", path);
}

void make_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0755) != 0)
        fail("mkdir", path);
}

std::chrono::system_clock::time_point whole_second_now() {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::string plant_lock(const std::string& lock_path, const std::string& host, int pid,
                       std::chrono::system_clock::time_point expiry, std::uint64_t random) {
    const std::string claim =
        lock_path + "|" + host + "|" + std::to_string(pid) + "|" + std::to_string(random);
    write_file(claim, claim);
    make_link(claim, lock_path);
    set_mtime(claim, expiry);
    return claim;
}

std::shared_ptr<fault_fs> make_host(const std::string& host, int pid) {
    auto fs = std::make_shared<fault_fs>();
    fs->set_host_name(host);
    fs->set_pid(pid);
    return fs;
}

lock_options test_options(std::shared_ptr<fault_fs> fs) {
    lock_options o;
    o.min_poll = std::chrono::milliseconds(1);
    o.max_poll = std::chrono::milliseconds(4);
    o.use_inotify = false;
    o.fs = std::move(fs);
    return o;
}

int sys_errno(const boost::system::error_code& ec) {
    return ec.category() == boost::system::system_category() ? ec.value() : -1;
}

boost::system::error_code sys_error(int e) {
    return {e, boost::system::system_category()};
}

} // namespace locknix::test
