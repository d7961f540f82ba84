// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The wait of `locknix run`: one blocking acquisition, and beside it a watcher thread that ends
// it when a signal arrives and keeps the live line current.

#ifndef LOCKNIX_CLI_WAIT_FOR_LOCK_HPP
#define LOCKNIX_CLI_WAIT_FOR_LOCK_HPP

#include "reporter.hpp"
#include "signal_pipe.hpp"

#include <locknix/file_lock.hpp>

#include <chrono>
#include <optional>

namespace locknix::cli {

/// Waits up to `timeout` (nanoseconds::max() for ever) for `lock`. With --verbose, shows who
/// holds the lock meanwhile: a live line on a terminal, else a line per new holder.
///
/// Returns the signal (one of signal_pipe::forwarded) that ended the wait, or nothing when the
/// lock is held. A signal that arrives while the lock is being taken still ends the wait, and the
/// lock is released. Throws cli_error with exit_code::not_acquired at the deadline, and cli_error
/// for any other failure. The claim file is created once for the whole wait, and a wait that ends
/// without the lock leaves none behind.
///
/// The watcher thread exists only during the call: the process has one thread again when it
/// returns, as spawn_command needs.
std::optional<received_signal> wait_for_lock(file_lock& lock, std::chrono::nanoseconds timeout,
                                             signal_pipe& signals, reporter& out);

} // namespace locknix::cli

#endif
