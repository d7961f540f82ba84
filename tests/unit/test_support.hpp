// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// What the unit tests share: a temporary directory per test, direct file helpers that bypass the
// seam (so that a test's own setup is never counted or faulted), and "hosts": a fault_fs with a
// host name and pid of their own, to play other processes in this one.

#ifndef LOCKNIX_TESTS_UNIT_TEST_SUPPORT_HPP
#define LOCKNIX_TESTS_UNIT_TEST_SUPPORT_HPP

#include "fault_fs.hpp"
#include "printing.hpp"

#include <locknix/file_lock.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace locknix::test {

/// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::string& path() const noexcept { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

    /// The names in the directory, sorted.
    std::vector<std::string> names() const;

private:
    std::string path_;
};

/// Direct file access, not through any seam.
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);
bool exists(const std::string& path); // lstat: a dangling symbolic link exists
std::uint64_t link_count(const std::string& path);
std::uint64_t inode(const std::string& path);
std::chrono::system_clock::time_point mtime(const std::string& path);
void set_mtime(const std::string& path, std::chrono::system_clock::time_point t);
void remove_file(const std::string& path);
void make_link(const std::string& from, const std::string& to);
void make_symlink(const std::string& target, const std::string& path);
void make_dir(const std::string& path);

/// A whole-second wall-clock time near now, so that every file system stores it exactly.
std::chrono::system_clock::time_point whole_second_now();

/// A lock held by a process that is gone: a claim `<lock>|<host>|<pid>|<random>` whose content
/// is its own path, linked to the lock path, with the given expiry as mtime. What flufl.lock or
/// locknix leave behind when their holder dies. Returns the claim path.
std::string plant_lock(const std::string& lock_path, const std::string& host, int pid,
                       std::chrono::system_clock::time_point expiry,
                       std::uint64_t random = 123456789);

/// A seam that plays one process on one host.
std::shared_ptr<fault_fs> make_host(const std::string& host, int pid);

/// Options for tests: short polls, no inotify unless asked, the given seam.
lock_options test_options(std::shared_ptr<fault_fs> fs);

/// The errno of `ec` if it is in the system category (0 for no error), else -1.
int sys_errno(const boost::system::error_code& ec);

boost::system::error_code sys_error(int e);

} // namespace locknix::test

#endif
