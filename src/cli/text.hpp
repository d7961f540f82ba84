// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Turning untrusted names and times into output text. Host names and claim paths come from files
// in a shared directory, so they are escaped before they reach a terminal or a JSON reader.

#ifndef LOCKNIX_CLI_TEXT_HPP
#define LOCKNIX_CLI_TEXT_HPP

#include <chrono>
#include <string>
#include <string_view>

namespace locknix::cli {

/// The text with control characters (newlines, escape sequences) written as `\xNN`, so that a
/// message stays one line and cannot drive the terminal.
std::string printable(std::string_view text);

/// A JSON string literal, quotes included. Bytes that are not valid UTF-8 become U+FFFD.
std::string json_string(std::string_view text);

/// "2026-01-02T03:04:05Z": ISO 8601 in UTC, whole seconds (rounded down).
std::string iso8601_utc(std::chrono::system_clock::time_point t);

/// Seconds since the Unix epoch with three decimals (rounded down), e.g. "1767323045.123".
std::string epoch_seconds(std::chrono::system_clock::time_point t);

/// A signed number of seconds with three decimals (rounded down), e.g. "12.345".
std::string decimal_seconds(std::chrono::nanoseconds d);

} // namespace locknix::cli

#endif
