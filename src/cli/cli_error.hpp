// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The exit codes of the tool and the error that carries one to main(). The man page (locknix.1)
// lists the codes; keep both in step.

#ifndef LOCKNIX_CLI_CLI_ERROR_HPP
#define LOCKNIX_CLI_CLI_ERROR_HPP

#include <boost/system/system_error.hpp>

#include <stdexcept>
#include <string>

namespace locknix::cli {

namespace exit_code {
inline constexpr int success = 0;
/// The command line is wrong: an unknown option, a malformed duration, a missing operand.
inline constexpr int usage = 64; // EX_USAGE
/// The file at LOCKFILE is not a lock (a directory, a symbolic link, other content).
inline constexpr int not_a_lock = 65; // EX_DATAERR
/// The directory of LOCKFILE does not exist or is not a directory.
inline constexpr int no_lock_directory = 66; // EX_NOINPUT
/// Any other failure of the operating system; the message carries the errno's text.
inline constexpr int system_error = 71; // EX_OSERR
/// The directory of LOCKFILE cannot be written or searched (permissions, read-only mount).
inline constexpr int lock_directory_denied = 73; // EX_CANTCREAT
/// The lock was not acquired in time (run), or is held and not expired (break).
inline constexpr int not_acquired = 75; // EX_TEMPFAIL
/// `run` lost the lock while COMMAND ran: another process broke or removed it.
inline constexpr int lock_lost = 76; // EX_PROTOCOL
/// COMMAND was found but could not be executed, or was not found (as in the shell).
inline constexpr int command_not_executable = 126;
inline constexpr int command_not_found = 127;
/// 128 + N: COMMAND died of signal N, or the wait was interrupted by signal N.
inline constexpr int signal_base = 128;
} // namespace exit_code

/// A failure the tool reports with one line on stderr and the exit code it carries. The message
/// starts with "locknix: ".
class cli_error : public std::runtime_error {
public:
    cli_error(int code, const std::string& message) : std::runtime_error(message), code_(code) {}

    int code() const noexcept { return code_; }

private:
    int code_;
};

/// A usage error of one command, with the hint to its --help.
cli_error usage_error(std::string_view command, const std::string& problem);

/// Maps a failure of the library to its exit code. The message names the operation and the path,
/// as the library does, followed by the text of the error (the errno's for system errors).
cli_error from_system_error(const boost::system::system_error& e);

/// Maps an error code reported without context; `what` says what failed ("cannot read /x").
cli_error from_error_code(boost::system::error_code ec, const std::string& what);

} // namespace locknix::cli

#endif
