// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Reading the arguments of one command: long options with or without `=value`, operands, and
// the `--` that ends the options of `locknix run`.

#ifndef LOCKNIX_CLI_COMMAND_LINE_HPP
#define LOCKNIX_CLI_COMMAND_LINE_HPP

#include <chrono>
#include <optional>
#include <span>
#include <string_view>

namespace locknix::cli {

using arguments = std::span<const std::string_view>;

/// Walks the arguments of one command. Each call that matches consumes what it matched; errors
/// are usage errors that name the command.
class option_reader {
public:
    option_reader(std::string_view command, arguments args) : command_(command), args_(args) {}

    bool done() const noexcept { return next_ == args_.size(); }

    /// True if the next argument is `--`.
    bool at_separator() const noexcept { return !done() && args_[next_] == "--"; }

    /// Consumes `--` and everything after it.
    arguments take_rest();

    /// Consumes the option `name` (or one of its spellings) when it is next; it takes no value.
    bool flag(std::string_view name, std::string_view short_name = {});

    /// Consumes `name VALUE` or `name=VALUE` when it is next.
    std::optional<std::string_view> value(std::string_view name);

    /// Consumes `name DURATION` or `name=DURATION` when it is next, and parses the duration.
    std::optional<std::chrono::nanoseconds> duration(std::string_view name);

    /// True if the next argument looks like an option ("-x", "--x"; "-" alone is an operand).
    bool at_option() const noexcept;

    /// Fails with "unknown option" for the next argument.
    [[noreturn]] void reject_option() const;

    /// Consumes the next argument as an operand.
    std::string_view operand() { return args_[next_++]; }

    std::string_view command() const noexcept { return command_; }

private:
    std::string_view command_;
    arguments args_;
    std::size_t next_ = 0;
};

/// The longest lifetime or slop accepted: times on the wall clock past it would overflow.
inline constexpr std::chrono::hours max_lock_duration{24 * 365};

/// Fails with a usage error if the option's value is longer than max_lock_duration.
void check_at_most_a_year(std::string_view command, std::string_view option,
                          std::chrono::nanoseconds value);

} // namespace locknix::cli

#endif
