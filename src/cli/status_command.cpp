// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "cli_error.hpp"
#include "commands.hpp"
#include "duration.hpp"
#include "lock_path.hpp"
#include "text.hpp"

#include <cstdio>
#include <string>

namespace locknix::cli {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;
using wall = std::chrono::system_clock;

constexpr std::string_view help = R"(Usage: locknix status [--json] [--slop DUR] LOCKFILE
Show what LOCKFILE holds: its state, the holder's host, pid and claim, the expiry and when the
lock becomes breakable. Takes no lock and changes no file.

Options:
  --json        print one JSON object (described in locknix(1))
  --slop DUR    the clock slop that decides when a lock is breakable; default 10s
  -h, --help    show this help

States: unlocked, held_by_other, held_by_other_breakable, not_a_lock.
Exit codes: 0 for any lock state, 65 when LOCKFILE is not a lock (the report is still printed),
64 usage, 66 no lock directory, 71 system error, 73 lock directory not searchable.
)";

struct status_options {
    bool json = false;
    bool help = false;
    nanoseconds slop = 10s;
    std::string_view lockfile;
};

status_options parse(arguments args) {
    status_options o;
    option_reader r("status", args);
    bool have_lockfile = false;
    while (!r.done()) {
        if (r.flag("--help", "-h")) {
            o.help = true;
        } else if (r.flag("--json")) {
            o.json = true;
        } else if (auto slop = r.duration("--slop")) {
            o.slop = *slop;
        } else if (r.at_option()) {
            r.reject_option();
        } else if (have_lockfile) {
            throw usage_error("status", "unexpected argument '" + printable(r.operand()) + "'");
        } else {
            o.lockfile = r.operand();
            have_lockfile = true;
        }
    }
    if (!o.help && !have_lockfile)
        throw usage_error("status", "missing LOCKFILE");
    check_at_most_a_year("status", "--slop", o.slop);
    return o;
}

// Everything the report says, computed once from one read of the lock path.
struct report {
    std::string path;
    lock_look look;
    nanoseconds slop;
    wall::time_point now;
    holder_process process = holder_process::unknown;
    bool local = false;
};

std::string json_or_null(bool present, const std::string& value) {
    return present ? value : "null";
}

std::string to_json(const report& r) {
    const bool held = r.look.holder.has_value();
    std::string holder = "null";
    nanoseconds to_expiry{};
    nanoseconds to_breakable{};
    if (held) {
        const holder_info& h = *r.look.holder;
        const char* running = r.process == holder_process::running ? "true"
                              : r.process == holder_process::gone  ? "false"
                                                                   : "null";
        holder = "{\"host\": " + json_string(h.host) + ", \"pid\": " + std::to_string(h.pid) +
                 ", \"claim\": " + json_string(h.claim) +
                 ", \"local\": " + (r.local ? "true" : "false") +
                 ", \"process_running\": " + running + "}";
        to_expiry = h.expiry - r.now;
        to_breakable = std::max(nanoseconds::zero(), nanoseconds(r.look.breakable_at - r.now));
    }
    const auto expiry = held ? r.look.holder->expiry : wall::time_point{};

    std::string out = "{\n";
    out += "  \"format\": 1,\n";
    out += "  \"path\": " + json_string(r.path) + ",\n";
    out += "  \"state\": " + json_string(to_string(r.look.state)) + ",\n";
    out += "  \"holder\": " + holder + ",\n";
    out += "  \"expiry\": " + json_or_null(held, json_string(iso8601_utc(expiry))) + ",\n";
    out += "  \"expiry_epoch\": " + json_or_null(held, epoch_seconds(expiry)) + ",\n";
    out +=
        "  \"breakable_at\": " + json_or_null(held, json_string(iso8601_utc(r.look.breakable_at))) +
        ",\n";
    out += "  \"breakable_at_epoch\": " + json_or_null(held, epoch_seconds(r.look.breakable_at)) +
           ",\n";
    out += "  \"seconds_until_expiry\": " + json_or_null(held, decimal_seconds(to_expiry)) + ",\n";
    out += "  \"seconds_until_breakable\": " + json_or_null(held, decimal_seconds(to_breakable)) +
           ",\n";
    out += "  \"clock_slop\": " + decimal_seconds(r.slop) + ",\n";
    out += "  \"checked_at\": " + json_string(iso8601_utc(r.now)) + ",\n";
    out += "  \"checked_at_epoch\": " + epoch_seconds(r.now) + "\n";
    out += "}\n";
    return out;
}

std::string relative(wall::time_point t, wall::time_point now) {
    if (t > now)
        return "in " + format_countdown(t - now);
    return format_countdown(now - t) + " ago";
}

std::string to_text(const report& r) {
    std::string out = "path:      " + printable(r.path) + "\n";
    out += "state:     " + std::string(to_string(r.look.state)) + "\n";
    if (r.look.state == lock_state::not_a_lock)
        out += "problem:   " + r.look.not_a_lock_reason + "\n";
    if (!r.look.holder)
        return out;

    const holder_info& h = *r.look.holder;
    const char* process = r.process == holder_process::running ? " (on this host, running)"
                          : r.process == holder_process::gone  ? " (on this host, not running)"
                                                               : "";
    out += "holder:    " + describe_holder(h) + process + "\n";
    out += "claim:     " + printable(h.claim) + "\n";
    out += "expiry:    " + iso8601_utc(h.expiry) + " (" + epoch_seconds(h.expiry) + "), " +
           relative(h.expiry, r.now) + "\n";
    out += "breakable: " + iso8601_utc(r.look.breakable_at) + " (" +
           epoch_seconds(r.look.breakable_at) + "), " +
           (r.look.state == lock_state::held_by_other_breakable
                ? std::string("now")
                : relative(r.look.breakable_at, r.now)) +
           "\n";
    return out;
}

} // namespace

int status_command(arguments args, reporter& out) {
    const status_options o = parse(args);
    if (o.help) {
        std::fputs(help.data(), stdout);
        return exit_code::success;
    }

    report r;
    r.path = checked_lock_path("status", o.lockfile, lock_access::read);
    r.slop = o.slop;
    lock_options options;
    options.clock_slop = o.slop;
    const auto lock = make_lock(r.path, options);
    r.now = wall::now();
    r.look = look_at(*lock, r.now);
    if (r.look.holder) {
        r.process = probe_holder_process(*r.look.holder);
        r.local = r.process != holder_process::unknown;
    }

    const std::string text = o.json ? to_json(r) : to_text(r);
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
    if (r.look.state == lock_state::not_a_lock) {
        out.error(not_a_lock_error(r.path, r.look).what());
        return exit_code::not_a_lock;
    }
    return exit_code::success;
}

} // namespace locknix::cli
