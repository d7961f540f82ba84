// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Durations on the command line and in messages.

#ifndef LOCKNIX_CLI_DURATION_HPP
#define LOCKNIX_CLI_DURATION_HPP

#include <chrono>
#include <string>
#include <string_view>

namespace locknix::cli {

/// The outcome of parsing a duration: the value, or why the text is not one.
struct parsed_duration {
    std::chrono::nanoseconds value{};
    /// Empty on success, else the problem in a few words ("is negative", ...).
    std::string problem;
};

/// Parses `250ms`, `5s`, `2m`, `1h` or a bare number of seconds. Each form takes a decimal
/// fraction (`1.5`, `0.25h`); digits finer than a nanosecond are dropped. Negative, empty and
/// malformed text, and values past about 292 years, are refused.
parsed_duration parse_duration(std::string_view text);

/// Writes a duration for people: "250ms", "5s", "1m30s", "2h", "1.5s".
std::string format_duration(std::chrono::nanoseconds d);

/// Like format_duration, rounded up to whole seconds; for countdowns.
std::string format_countdown(std::chrono::nanoseconds d);

} // namespace locknix::cli

#endif
