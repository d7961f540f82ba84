// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "lock_path.hpp"

#include "text.hpp"

#include <locknix/error.hpp>
#include <locknix/file_system.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace locknix::cli {
namespace {

std::string errno_text(int e) {
    return std::strerror(e);
}

// What a file that is not a lock is, for the message.
std::string what_is_at(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        return "its content is not a claim for this lock path";
    if (S_ISDIR(st.st_mode))
        return "it is a directory";
    if (S_ISLNK(st.st_mode))
        return "it is a symbolic link";
    if (!S_ISREG(st.st_mode))
        return "it is not a regular file";
    return "its content is not a claim for this lock path";
}

} // namespace

std::string checked_lock_path(std::string_view command, std::string_view operand,
                              lock_access access) {
    namespace fs = std::filesystem;
    if (operand.empty())
        throw usage_error(command, "the lock file path is empty");
    if (operand.find('|') != std::string_view::npos)
        throw usage_error(command, "the lock file path '" + printable(operand) +
                                       "' contains '|', which separates the fields of claim names");

    std::error_code ec;
    const fs::path absolute = fs::absolute(fs::path(operand), ec).lexically_normal();
    if (ec)
        throw cli_error(exit_code::no_lock_directory,
                        "locknix: cannot resolve the lock file path '" + printable(operand) +
                            "' against the current directory: " + ec.message());
    const std::string path = absolute.string();

    const auto name = absolute.filename();
    if (name.empty() || name == "." || name == "..") {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            throw cli_error(exit_code::not_a_lock,
                            "locknix: " + printable(path) + " is a directory, not a lock file");
        throw usage_error(command,
                          "the lock file path '" + printable(operand) + "' does not name a file");
    }

    const std::string directory = absolute.parent_path().string();
    struct stat st {};
    if (::stat(directory.c_str(), &st) != 0) {
        const int e = errno;
        const int code = (e == ENOENT || e == ENOTDIR) ? exit_code::no_lock_directory
                         : (e == EACCES)               ? exit_code::lock_directory_denied
                                                       : exit_code::system_error;
        throw cli_error(code, "locknix: cannot use the lock directory " + printable(directory) +
                                  ": " + errno_text(e));
    }
    if (!S_ISDIR(st.st_mode))
        throw cli_error(exit_code::no_lock_directory, "locknix: the lock directory " +
                                                          printable(directory) +
                                                          " is not a directory");

    const int mode = access == lock_access::write ? (W_OK | X_OK) : X_OK;
    if (::faccessat(AT_FDCWD, directory.c_str(), mode, AT_EACCESS) != 0) {
        const int e = errno;
        const char* what =
            access == lock_access::write ? " is not writable: " : " is not searchable: ";
        throw cli_error(exit_code::lock_directory_denied, "locknix: the lock directory " +
                                                              printable(directory) + what +
                                                              errno_text(e));
    }
    return path;
}

std::unique_ptr<file_lock> make_lock(const std::string& path, lock_options options) {
    try {
        return std::make_unique<file_lock>(path, std::move(options));
    } catch (const boost::system::system_error& e) {
        throw from_system_error(e);
    }
}

lock_look look_at(const file_lock& lock, std::chrono::system_clock::time_point now) {
    lock_look look;
    boost::system::error_code ec;
    auto holder = lock.holder(ec);
    if (ec == errc::foreign_file) {
        look.state = lock_state::not_a_lock;
        look.not_a_lock_reason = what_is_at(lock.path());
        return look;
    }
    if (ec)
        throw from_error_code(ec, "cannot read the lock file " + lock.path());
    if (!holder)
        return look;

    look.breakable_at = holder->expiry + lock.options().clock_slop;
    look.state =
        now > look.breakable_at ? lock_state::held_by_other_breakable : lock_state::held_by_other;
    look.holder = std::move(holder);
    return look;
}

cli_error not_a_lock_error(const std::string& path, const lock_look& look) {
    return cli_error(exit_code::not_a_lock, "locknix: " + printable(path) + " is not a lock (" +
                                                look.not_a_lock_reason + "); it is left as it is");
}

std::string describe_holder(const holder_info& holder) {
    return "host " + printable(holder.host) + " pid " + std::to_string(holder.pid);
}

holder_process probe_holder_process(const holder_info& holder) {
    boost::system::error_code ec;
    const std::string here = posix_file_system()->host_name(ec);
    if (ec || here != holder.host)
        return holder_process::unknown;
    if (::kill(holder.pid, 0) == 0 || errno == EPERM)
        return holder_process::running;
    return holder_process::gone;
}

} // namespace locknix::cli
