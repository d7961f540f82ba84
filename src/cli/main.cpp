// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// locknix: the NFS-safe file lock from the shell. See locknix.1.

#include "cli_error.hpp"
#include "commands.hpp"
#include "reporter.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace locknix::cli {
namespace {

constexpr std::string_view help = R"(Usage: locknix COMMAND [OPTION]... LOCKFILE ...
An NFS-safe file lock with lifetimes, on the same files as Python's flufl.lock.

Commands:
  run [OPTION]... LOCKFILE -- COMMAND [ARG]...
                  take the lock, run COMMAND while keeping the lock alive, release it
  status [--json] [--slop DUR] LOCKFILE
                  show the state and the holder of the lock
  break [--force] [--slop DUR] LOCKFILE
                  break an expired lock (any lock with --force)

Options:
  -h, --help      show this help; 'locknix COMMAND --help' shows a command's
  --version       show the version

See locknix(1) for the exit codes and the JSON object of 'status --json'.
)";

int dispatch(arguments args, reporter& out) {
    if (args.empty())
        throw usage_error("", "missing command");
    const std::string_view command = args.front();
    const arguments rest = args.subspan(1);
    if (command == "run")
        return run_command(rest, out);
    if (command == "status")
        return status_command(rest, out);
    if (command == "break")
        return break_command(rest, out);
    if (command == "--help" || command == "-h" || command == "help") {
        std::fputs(help.data(), stdout);
        return exit_code::success;
    }
    if (command == "--version") {
        std::fputs("locknix " LOCKNIX_VERSION "\n", stdout);
        return exit_code::success;
    }
    if (command.size() > 1 && command.front() == '-')
        throw usage_error("", "unknown option '" + std::string(command) + "'");
    throw usage_error("", "unknown command '" + std::string(command) + "'");
}

} // namespace
} // namespace locknix::cli

int main(int argc, char** argv) {
    using namespace locknix::cli;
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    reporter out;
    try {
        const int code = dispatch(args, out);
        // A report that did not reach its reader is a failure, not a success.
        if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
            out.error(std::string("locknix: cannot write to standard output: ") +
                      std::strerror(errno));
            return exit_code::system_error;
        }
        return code;
    } catch (const cli_error& e) {
        out.error(e.what());
        return e.code();
    } catch (const boost::system::system_error& e) {
        const cli_error error = from_system_error(e);
        out.error(error.what());
        return error.code();
    } catch (const std::exception& e) {
        out.error(std::string("locknix: ") + e.what());
        return exit_code::system_error;
    }
}
