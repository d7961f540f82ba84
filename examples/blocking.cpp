// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The blocking front end, as in the README.
//
//   blocking [DIR]
//
// append_report() appends a line to DIR/reports.txt under DIR/reports.lock: it waits up to 5 s
// for the lock, keeps it alive while it writes, and releases it, checking that nobody broke it
// meanwhile. with_guard() holds DIR/jobs.lock through std::unique_lock (file_lock is
// TimedLockable) and asks the lock who holds it. DIR defaults to a temporary directory, removed
// at the end.
// Errors are thrown as boost::system::system_error, whose message names the lock path.

#include <locknix/file_lock.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>

using namespace std::chrono_literals;

void append_report(const std::string& dir, const std::string& line) {
    locknix::lock_options opts; // every field has a default
    opts.lifetime = 30s;
    opts.clock_slop = 10s;
    locknix::file_lock lk{dir + "/reports.lock", opts};

    lk.acquire(5s); // waits up to 5 s; throws with code() == locknix::errc::timed_out
    lk.keep_alive([](boost::system::error_code ec) {
        // Another process broke the lock (we held it past lifetime + slop without a refresh):
        // stop writing.
        std::fprintf(stderr, "lost the reports lock: %s\n", ec.message().c_str());
    });
    std::ofstream(dir + "/reports.txt", std::ios::app) << line << '\n';
    lk.release(); // checks that we still hold it; errc::lock_lost if not
}

void with_guard(const std::string& dir) {
    locknix::file_lock lk{dir + "/jobs.lock"};
    std::unique_lock guard{lk}; // lock(), try_lock_for(), unlock() ...
    if (auto h = lk.holder()) {
        const auto left = std::chrono::duration_cast<std::chrono::seconds>(
            h->expiry - std::chrono::system_clock::now());
        std::printf("%s is held by %s pid %d for %lld s more\n  claim %s\n", lk.path().c_str(),
                    h->host.c_str(), h->pid, static_cast<long long>(left.count()),
                    h->claim.c_str());
    }
}

int main(int argc, char** argv) {
    std::string dir = argc > 1 ? argv[1] : "";
    const bool temporary = dir.empty(); // removed at the end
    if (temporary) {
        char pattern[] = "/tmp/locknix-blocking-XXXXXX";
        if (::mkdtemp(pattern) == nullptr) {
            std::perror("mkdtemp");
            return 1;
        }
        dir = pattern;
    }
    int status = 0;
    try {
        append_report(dir, "nightly report done");
        std::printf("appended a line to %s/reports.txt\n", dir.c_str());
        with_guard(dir);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "blocking: %s\n", e.what());
        status = 1;
    }
    if (temporary)
        std::filesystem::remove_all(dir);
    return status;
}
