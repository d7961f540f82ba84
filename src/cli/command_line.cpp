// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "command_line.hpp"

#include "cli_error.hpp"
#include "duration.hpp"
#include "text.hpp"

#include <string>

namespace locknix::cli {

arguments option_reader::take_rest() {
    const auto rest = args_.subspan(next_ + 1);
    next_ = args_.size();
    return rest;
}

bool option_reader::flag(std::string_view name, std::string_view short_name) {
    if (done())
        return false;
    const std::string_view arg = args_[next_];
    if (arg == name || (!short_name.empty() && arg == short_name)) {
        ++next_;
        return true;
    }
    if (arg.size() > name.size() && arg.substr(0, name.size()) == name && arg[name.size()] == '=')
        throw usage_error(command_, "option " + std::string(name) + " takes no value");
    return false;
}

std::optional<std::string_view> option_reader::value(std::string_view name) {
    if (done())
        return std::nullopt;
    const std::string_view arg = args_[next_];
    if (arg == name) {
        if (next_ + 1 == args_.size())
            throw usage_error(command_, "option " + std::string(name) + " needs a value");
        next_ += 2;
        return args_[next_ - 1];
    }
    if (arg.size() > name.size() && arg.substr(0, name.size()) == name && arg[name.size()] == '=') {
        ++next_;
        return arg.substr(name.size() + 1);
    }
    return std::nullopt;
}

std::optional<std::chrono::nanoseconds> option_reader::duration(std::string_view name) {
    const auto text = value(name);
    if (!text)
        return std::nullopt;
    const parsed_duration parsed = parse_duration(*text);
    if (!parsed.problem.empty())
        throw usage_error(command_,
                          std::string(name) + " '" + printable(*text) + "' " + parsed.problem);
    return parsed.value;
}

bool option_reader::at_option() const noexcept {
    return !done() && args_[next_].size() > 1 && args_[next_].front() == '-';
}

void option_reader::reject_option() const {
    throw usage_error(command_, "unknown option '" + printable(args_[next_]) + "'");
}

void check_at_most_a_year(std::string_view command, std::string_view option,
                          std::chrono::nanoseconds value) {
    if (value > max_lock_duration)
        throw usage_error(command, std::string(option) + " " + format_duration(value) +
                                       " is too long: at most " +
                                       format_duration(max_lock_duration) + " (a year)");
}

} // namespace locknix::cli
