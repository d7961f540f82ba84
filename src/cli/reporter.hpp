// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Everything the tool writes on stderr.

#ifndef LOCKNIX_CLI_REPORTER_HPP
#define LOCKNIX_CLI_REPORTER_HPP

#include <mutex>
#include <string>
#include <string_view>

namespace locknix::cli {

/// Writes error lines and, with --verbose, event lines and a live status line on stderr. The live
/// line is drawn only when stderr is a terminal; it is cleared before any other line, so the
/// lines never mix. Safe to use from several threads (the keep-alive thread logs through it).
class reporter {
public:
    reporter();

    reporter(const reporter&) = delete;
    reporter& operator=(const reporter&) = delete;

    void set_verbose(bool verbose) noexcept { verbose_ = verbose; }
    bool verbose() const noexcept { return verbose_; }

    /// True when --verbose is on and stderr is a terminal.
    bool live() const noexcept { return verbose_ && terminal_; }

    /// One error line; `message` starts with "locknix: ". Always written.
    void error(std::string_view message);

    /// One line prefixed with "locknix: ", written only with --verbose.
    void event(std::string_view message);

    /// Replaces the live line (only on a terminal, with --verbose). Cut to the terminal width.
    void live_line(std::string_view message);

    /// Removes the live line, if one is shown.
    void clear_live_line();

private:
    void write_line(std::string_view line);
    void clear_locked();

    std::mutex mutex_;
    bool verbose_ = false;
    bool terminal_ = false;
    bool shown_ = false;
    std::string last_;
};

} // namespace locknix::cli

#endif
