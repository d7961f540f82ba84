// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The commands of the tool. Each takes the arguments after its name and returns the exit code;
// a failure it reports with one line is thrown as cli_error.

#ifndef LOCKNIX_CLI_COMMANDS_HPP
#define LOCKNIX_CLI_COMMANDS_HPP

#include "command_line.hpp"
#include "reporter.hpp"

namespace locknix::cli {

/// `locknix run [OPTION]... LOCKFILE -- COMMAND [ARG]...`
int run_command(arguments args, reporter& out);

/// `locknix status [--json] [--slop DUR] LOCKFILE`
int status_command(arguments args, reporter& out);

/// `locknix break [--force] [--slop DUR] LOCKFILE`
int break_command(arguments args, reporter& out);

} // namespace locknix::cli

#endif
