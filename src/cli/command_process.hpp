// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// COMMAND of `locknix run`: starting it, passing signals on, and stopping it when the lock is
// lost.

#ifndef LOCKNIX_CLI_COMMAND_PROCESS_HPP
#define LOCKNIX_CLI_COMMAND_PROCESS_HPP

#include "command_line.hpp"
#include "reporter.hpp"
#include "signal_pipe.hpp"

#include <boost/system/error_code.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <sys/types.h>

namespace locknix::cli {

/// Starts COMMAND (searched in PATH) with the tool's environment, standard streams and signal
/// mask. It inherits no descriptor of the lock: the library keeps none open while it holds a
/// lock, and the tool's own are close-on-exec. COMMAND gets SIGTERM if the tool dies (even of
/// SIGKILL), since nothing keeps the lock alive then. Returns the process id, or -1 with `error`
/// set to the errno of the failed start (ENOENT: not found). Must be called while the process
/// has a single thread (before the keep-alive starts).
pid_t spawn_command(arguments command, int& error);

/// Carries the news of a lost lock from the keep-alive thread to the loop that supervises
/// COMMAND, through a pipe that loop polls.
class loss_alarm {
public:
    loss_alarm();
    ~loss_alarm();

    loss_alarm(const loss_alarm&) = delete;
    loss_alarm& operator=(const loss_alarm&) = delete;

    /// Called once on the keep-alive thread with the error that ended the refreshing.
    void raise(boost::system::error_code ec) noexcept;

    /// Readable once the alarm went off.
    int fd() const noexcept { return read_fd_; }

    boost::system::error_code error() const;

private:
    int read_fd_ = -1;
    int write_fd_ = -1;
    mutable std::mutex mutex_;
    boost::system::error_code error_;
};

/// How COMMAND ended.
struct command_outcome {
    /// As waitpid(2) reports it.
    int wait_status = 0;
    /// The lock was lost while COMMAND ran, and COMMAND was told to stop.
    bool lock_lost = false;
};

/// Waits for COMMAND to end. The signals of signal_pipe::forwarded that reach the tool are passed
/// on to COMMAND, except those the terminal sent to the whole process group, which COMMAND got
/// itself.
/// When the alarm goes off, COMMAND gets SIGTERM, and SIGKILL if it still runs `kill_after`
/// later.
command_outcome supervise(pid_t child, signal_pipe& signals, const loss_alarm& alarm,
                          std::chrono::nanoseconds kill_after, const std::string& lock_path,
                          reporter& out);

/// The status a shell reports for COMMAND: its exit code, or 128 + the signal that killed it.
int shell_status(int wait_status);

/// "exited with status 3", "was killed by signal 15 (Terminated)".
std::string describe_status(int wait_status);

} // namespace locknix::cli

#endif
