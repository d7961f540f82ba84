// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Signals of `locknix run`, turned into bytes on a pipe (the self-pipe trick): the handler only
// writes, and the main loop polls the pipe next to its other work.

#ifndef LOCKNIX_CLI_SIGNAL_PIPE_HPP
#define LOCKNIX_CLI_SIGNAL_PIPE_HPP

#include <iterator>
#include <optional>
#include <signal.h>
#include <string>

namespace locknix::cli {

/// One signal that arrived.
struct received_signal {
    int number = 0;
    /// Sent by the terminal to its whole foreground process group (Ctrl-C, hang-up), so COMMAND,
    /// which shares that group, got it too.
    bool from_terminal = false;
};

/// Catches the forwarded signals and SIGCHLD for the life of the object, and makes SIGPIPE
/// harmless (a closed stderr must not kill the process that holds a lock). A signal that was
/// ignored when the tool started stays ignored, for the tool and for COMMAND, as `nohup`
/// expects. One object per process.
class signal_pipe {
public:
    signal_pipe();
    ~signal_pipe();

    signal_pipe(const signal_pipe&) = delete;
    signal_pipe& operator=(const signal_pipe&) = delete;

    /// Readable when a signal has arrived.
    int fd() const noexcept { return read_fd_; }

    /// The next signal that arrived, if any; never blocks.
    std::optional<received_signal> next();

    /// In a child between fork and exec: the caught signals back to their default action, so
    /// that none reaches this object's pipe. Async-signal-safe.
    static void reset_in_child() noexcept;

    /// The signals whose arrival ends a wait or is passed on to COMMAND.
    static constexpr int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

private:
    int read_fd_ = -1;
    int write_fd_ = -1;
    // The signals caught: the forwarded ones, SIGCHLD to reap COMMAND, and SIGPIPE.
    static constexpr int handled_[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT,
                                       SIGUSR1, SIGUSR2, SIGCHLD, SIGPIPE};
    // The dispositions found at start, restored on destruction.
    struct sigaction saved_[std::size(handled_)] = {};
};

/// "SIGINT", "SIGTERM", "SIGHUP", ... or "signal N".
std::string signal_name(int number);

} // namespace locknix::cli

#endif
