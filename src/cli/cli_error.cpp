// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "cli_error.hpp"

#include <locknix/error.hpp>

#include <cerrno>

namespace locknix::cli {
namespace {

int exit_code_of(const boost::system::error_code& ec) {
    if (ec.category() == locknix_category()) {
        switch (static_cast<errc>(ec.value())) {
        case errc::timed_out:
            return exit_code::not_acquired;
        case errc::lock_lost:
            return exit_code::lock_lost;
        case errc::foreign_file:
            return exit_code::not_a_lock;
        case errc::bad_lock_path:
        case errc::bad_option:
            return exit_code::usage;
        default:
            return exit_code::system_error;
        }
    }
    if (ec.category() == boost::system::system_category()) {
        switch (ec.value()) {
        case ENOENT:
        case ENOTDIR:
            return exit_code::no_lock_directory;
        case EACCES:
        case EPERM:
        case EROFS:
            return exit_code::lock_directory_denied;
        default:
            break;
        }
    }
    return exit_code::system_error;
}

} // namespace

cli_error usage_error(std::string_view command, const std::string& problem) {
    std::string name = "locknix";
    if (!command.empty())
        name += " " + std::string(command);
    return cli_error(exit_code::usage, name + ": " + problem + " (try '" + name + " --help')");
}

cli_error from_system_error(const boost::system::system_error& e) {
    // Boost builds what() as "<context>: <ec.what()>", and ec.what() appends the category and
    // value to the message; keep the context and the plain message only.
    std::string context = e.what();
    const std::string suffix = ": " + e.code().what();
    if (context.size() >= suffix.size() &&
        context.compare(context.size() - suffix.size(), suffix.size(), suffix) == 0)
        context.resize(context.size() - suffix.size());
    if (context.rfind("locknix: ", 0) != 0)
        context = "locknix: " + context;
    return cli_error(exit_code_of(e.code()), context + ": " + e.code().message());
}

cli_error from_error_code(boost::system::error_code ec, const std::string& what) {
    return cli_error(exit_code_of(ec), "locknix: " + what + ": " + ec.message());
}

} // namespace locknix::cli
