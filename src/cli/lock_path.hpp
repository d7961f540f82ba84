// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The LOCKFILE operand: where it is, whether its directory can be used, and what lies there.
// All of this is checked before the tool creates any file.

#ifndef LOCKNIX_CLI_LOCK_PATH_HPP
#define LOCKNIX_CLI_LOCK_PATH_HPP

#include "cli_error.hpp"

#include <locknix/file_lock.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace locknix::cli {

enum class lock_access {
    /// `status`: the directory must exist and be searchable.
    read,
    /// `run`, `break`: the directory must also be writable.
    write,
};

/// Resolves LOCKFILE against the current directory as the library does, and checks its directory:
/// it must exist and be a directory, and for `write` be writable and searchable by this process.
/// Throws cli_error: usage (empty path, '|' in it), not_a_lock (a directory), no_lock_directory,
/// lock_directory_denied.
std::string checked_lock_path(std::string_view command, std::string_view operand,
                              lock_access access);

/// A lock object on `path`; touches no file. Throws cli_error.
std::unique_ptr<file_lock> make_lock(const std::string& path, lock_options options);

/// What one read of the lock path found.
struct lock_look {
    /// unlocked, held_by_other, held_by_other_breakable or not_a_lock.
    lock_state state = lock_state::unlocked;
    /// The holder, when the state is held_by_other or held_by_other_breakable.
    std::optional<holder_info> holder;
    /// When that holder's lock becomes breakable: expiry + slop.
    std::chrono::system_clock::time_point breakable_at{};
    /// For not_a_lock: what the file is ("a directory", ...).
    std::string not_a_lock_reason;
};

/// Reads the lock path once through `lock` and judges it with the slop of `lock`'s options and
/// the wall clock at `now`. Throws cli_error for a failure to read it.
lock_look look_at(const file_lock& lock, std::chrono::system_clock::time_point now);

/// The error for a file at the lock path that is not a lock.
cli_error not_a_lock_error(const std::string& path, const lock_look& look);

/// "host H pid P", escaped for output.
std::string describe_holder(const holder_info& holder);

/// Whether the holder's process runs: only knowable when it ran on this host.
enum class holder_process { running, gone, unknown };
holder_process probe_holder_process(const holder_info& holder);

} // namespace locknix::cli

#endif
