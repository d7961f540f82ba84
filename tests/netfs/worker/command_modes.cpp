// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The modes that take no lock: the COMMANDs of `locknix run`, and the journal check.

#include "modes.hpp"
#include "records.hpp"
#include "section.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>
#include <vector>

namespace locknix::netfs {

namespace {

constexpr int exit_overlap = 3;
constexpr int exit_section_error = 4;

std::string tag_of(const arguments& args, const char* front_end) {
    return args.get("tag", host_and_pid() + ":" + front_end);
}

} // namespace

int run_section_once(const arguments& args) {
    // The parent is `locknix run`, whose pid is in its claim: "host:ppid:cli" ties the section
    // to that run.
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    const std::string tag =
        args.get("tag", std::string(host) + ":" + std::to_string(::getppid()) + ":cli");
    const auto r = run_section({args.get("dir"), args.get("journal", ""), tag});
    if (r.overlap)
        return exit_overlap;
    return r.error.empty() ? 0 : exit_section_error;
}

int run_victim(const arguments& args) {
    const std::string dir = args.get("dir");
    const std::string state = args.get("state");
    const std::string go = args.get("go");
    const std::string journal = args.get("journal", "");
    const std::string tag = tag_of(args, "victim");

    // The signals are taken with sigtimedwait, between looks at the go file.
    sigset_t signals;
    sigemptyset(&signals);
    for (const int s : {SIGTERM, SIGINT, SIGHUP})
        sigaddset(&signals, s);
    sigprocmask(SIG_BLOCK, &signals, nullptr);

    const auto start = monotonic_ns();
    const auto start_wall = wall_ns();
    auto note = [&](const std::string& line) {
        const std::string error = append_line(state, line);
        if (!error.empty())
            std::cerr << "victim: " << error << "\n";
    };
    auto journal_line = [&] {
        if (!journal.empty())
            append_line(journal, std::to_string(start) + " " + std::to_string(monotonic_ns()) +
                                     " " + std::to_string(start_wall) + " " + tag);
    };

    if (args.number("increment", 0) != 0) {
        const std::string error = increment_counter(dir);
        if (!error.empty()) {
            note("increment-error " + error);
            return exit_section_error;
        }
    }
    note("entered " + tag);

    for (;;) {
        const struct timespec poll = {0, 50 * 1000 * 1000};
        siginfo_t info{};
        const int s = sigtimedwait(&signals, &info, &poll);
        if (s > 0) {
            journal_line();
            note(std::string("signalled ") + sigabbrev_np(s));
            return 128 + s;
        }
        if (exists(go)) {
            const std::string error = append_line(dir + "/late", "late write by " + tag);
            note(error.empty() ? "wrote" : "write-error " + error);
            journal_line();
            return 0;
        }
    }
}

int run_check_journal(const arguments& args) {
    struct interval {
        std::int64_t start = 0;
        std::int64_t end = 0;
        std::string tag;
    };
    std::vector<interval> sections;
    std::ifstream in(args.get("journal"));
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        interval i;
        std::int64_t wall = 0;
        if (fields >> i.start >> i.end >> wall >> i.tag)
            sections.push_back(i);
        else if (!line.empty())
            std::cerr << "check-journal: malformed line '" << line << "'\n";
    }
    std::sort(sections.begin(), sections.end(),
              [](const interval& a, const interval& b) { return a.start < b.start; });

    long overlaps = 0;
    const interval* latest = nullptr; // the section that ended last so far
    for (const auto& s : sections) {
        if (latest != nullptr && s.start <= latest->end) {
            ++overlaps;
            std::cerr << "OVERLAP in time: " << s.tag << " entered "
                      << (latest->end - s.start) / 1000 << " us before " << latest->tag
                      << " left\n";
        }
        if (latest == nullptr || s.end > latest->end)
            latest = &s;
    }
    say("sections=" + std::to_string(sections.size()) + " overlaps=" + std::to_string(overlaps));
    return 0;
}

} // namespace locknix::netfs
