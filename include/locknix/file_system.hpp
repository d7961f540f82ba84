// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#ifndef LOCKNIX_FILE_SYSTEM_HPP
#define LOCKNIX_FILE_SYSTEM_HPP

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace locknix {

/// What the protocol needs to know about a file.
struct file_status {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::uint64_t link_count = 0;
    std::uint64_t size = 0;
    bool regular = false;
    bool directory = false;
    bool symlink = false;
    std::chrono::system_clock::time_point mtime;
};

/// The seam between the lock protocol and the operating system. Every system call and clock
/// read of the protocol goes through one of these functions, so that tests can inject errors,
/// lost replies and clock jumps, and simulations can run several "hosts" in one process.
///
/// Each call reports failure through `ec` (the errno in `boost::system::system_category()`) and
/// never throws. Implementations retry EINTR themselves and must be safe to call from several
/// threads at once.
class file_system {
public:
    using wall_clock = std::chrono::system_clock;
    using steady_clock = std::chrono::steady_clock;

    virtual ~file_system() = default;

    /// open(2); returns the descriptor, or -1 with `ec` set.
    virtual int open(const std::string& path, int flags, unsigned mode,
                     boost::system::error_code& ec) = 0;

    /// One read(2); returns the bytes read (0 at end of file).
    virtual std::size_t read(int fd, void* buffer, std::size_t size,
                             boost::system::error_code& ec) = 0;

    /// One write(2); returns the bytes written, which may be fewer than asked.
    virtual std::size_t write(int fd, const void* data, std::size_t size,
                              boost::system::error_code& ec) = 0;

    /// close(2); an error here can mean that written data did not reach the server.
    virtual void close(int fd, boost::system::error_code& ec) = 0;

    virtual file_status fstat(int fd, boost::system::error_code& ec) = 0;

    /// lstat(2): never follows a symbolic link.
    virtual file_status lstat(const std::string& path, boost::system::error_code& ec) = 0;

    /// link(2): never follows a symbolic link at `from`.
    virtual void link(const std::string& from, const std::string& to,
                      boost::system::error_code& ec) = 0;

    virtual void unlink(const std::string& path, boost::system::error_code& ec) = 0;

    virtual void rename(const std::string& from, const std::string& to,
                        boost::system::error_code& ec) = 0;

    /// mkdir(2) with mode 0777, reduced by the umask.
    virtual void mkdir(const std::string& path, boost::system::error_code& ec) = 0;

    virtual void rmdir(const std::string& path, boost::system::error_code& ec) = 0;

    /// Sets the access and modification times of `path` (not following a symbolic link).
    virtual void set_times(const std::string& path, wall_clock::time_point time,
                           boost::system::error_code& ec) = 0;

    virtual wall_clock::time_point wall_now() = 0;
    virtual steady_clock::time_point steady_now() = 0;

    /// The name of this host, as written into claim names.
    virtual std::string host_name(boost::system::error_code& ec) = 0;

    /// The identifier of the calling process.
    virtual int process_id() = 0;
};

/// The seam to the real operating system (POSIX). One instance serves the whole process.
std::shared_ptr<file_system> posix_file_system();

} // namespace locknix

#endif
