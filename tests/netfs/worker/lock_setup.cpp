// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "lock_setup.hpp"

#include "skewed_file_system.hpp"

#include <locknix/error.hpp>
#include <locknix/file_system.hpp>

#include <boost/asio/error.hpp>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>

namespace locknix::netfs {

std::string tally::summary() const {
    std::ostringstream out;
    out << "result ops=" << ops << " ok=" << ok << " failed=" << failed << " overlaps=" << overlaps
        << " unverified=" << unverified << " orphans=" << orphans
        << " section_errors=" << section_errors << " release_errors=" << release_errors
        << " lost=" << lost << " breaks=" << breaks;
    return out.str();
}

lock_options make_options(const arguments& args, tally& t) {
    lock_options o;
    o.lifetime = args.millis("lifetime-ms", 10000);
    o.clock_slop = args.millis("slop-ms", 5000);
    if (args.has("min-poll-ms"))
        o.min_poll = args.millis("min-poll-ms", 5);
    if (args.has("max-poll-ms"))
        o.max_poll = args.millis("max-poll-ms", 500);
    o.use_inotify = args.number("inotify", 1) != 0;
    if (args.has("skew-ms"))
        o.fs = std::make_shared<skewed_file_system>(posix_file_system(), args.millis("skew-ms", 0));
    const std::string who = args.get("tag", "worker");
    o.log = [&t, who](log_level level, std::string_view message) {
        if (level == log_level::info && message.rfind("broke", 0) == 0) {
            ++t.breaks;
            std::cerr << who << ": " << message << "\n";
        }
        if (level == log_level::warning)
            std::cerr << who << ": warning: " << message << "\n";
    };
    return o;
}

std::string error_name(const boost::system::error_code& ec) {
    if (!ec)
        return "ok";
    if (ec.category() == locknix_category()) {
        switch (static_cast<errc>(ec.value())) {
        case errc::timed_out:
            return "timed_out";
        case errc::already_locked:
            return "already_locked";
        case errc::not_locked:
            return "not_locked";
        case errc::lock_lost:
            return "lock_lost";
        case errc::foreign_file:
            return "foreign_file";
        case errc::bad_lock_path:
            return "bad_lock_path";
        case errc::bad_host_name:
            return "bad_host_name";
        case errc::bad_option:
            return "bad_option";
        }
    }
    if (ec == boost::asio::error::operation_aborted)
        return "operation_aborted";
    if (ec.category() == boost::system::system_category()) {
        const char* name = ::strerrorname_np(ec.value());
        if (name != nullptr)
            return name;
    }
    return ec.category().name() + std::string(":") + std::to_string(ec.value());
}

} // namespace locknix::netfs
