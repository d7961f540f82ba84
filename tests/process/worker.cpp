// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// One process of a multi-process test. The test starts several of these on one lock and talks
// to each through its standard input and output:
//
//   hammer  --lock P --counter C --marker M --iterations N [--lifetime-ms L] [--slop-ms S]
//           [--journal J --tag T] [--hold-us U] [--pause-us P] [--barrier 1]
//           N times: acquire, enter the critical section, increment the counter (and append T
//           to the journal; stay U microseconds), leave, release (and pause P microseconds,
//           leaving the lock to slower pollers). With a barrier, prints
//           "ready" and first waits for the end of the pipe on descriptor 3. Prints
//           "iterations= overlaps= stale= breaks=".
//   die     --lock P --lifetime-ns L [--counter C --marker M]
//           Acquires, enters the critical section (if given), prints "held claim= breaks=
//           overlaps= stale=" and
//           waits to be killed.
//   breaker --lock P --counter C --marker M [--slop-ms S]
//           Prints "ready", waits for the end of the barrier pipe on descriptor 3, then does one
//           hammer iteration. Prints "overlaps= stale= breaks=".
//   try     --lock P --timeout-ms T [--slop-ms S]
//           One acquisition through the throwing API. Prints "acquired" or
//           "error value= category=" and the exception's message on the next line.
//   keep    --lock P --counter C --marker M --lifetime-ms L --hold-ms H
//           Acquires, starts the keep-alive, prints "held", then stays H milliseconds in the
//           critical section (several lifetimes), increments the counter, leaves and releases.
//           Prints "lost= release=" (1 if the keep-alive reported the lock lost; the release
//           error's value, 0 for none).
//   hold    --lock P --lifetime-ms L
//           Acquires, prints "held claim= pid=", waits for the end of its input, releases, and
//           prints "released" or "release-error value=".
//
// The critical section detects overlaps with a marker file created with O_EXCL that holds the
// pid of the process inside. Finding the marker of a live process is an overlap; finding the
// marker of a dead process (one killed inside the section) is "stale": it is taken over.

#include <locknix/file_lock.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;

struct arguments {
    std::string mode;
    std::map<std::string, std::string> values;

    const std::string& get(const std::string& key) const {
        const auto it = values.find(key);
        if (it == values.end()) {
            std::cerr << "worker: missing --" << key << "\n";
            std::exit(2);
        }
        return it->second;
    }
    bool has(const std::string& key) const { return values.count(key) != 0; }
    long number(const std::string& key, long fallback) const {
        return has(key) ? std::stol(get(key)) : fallback;
    }
};

arguments parse(int argc, char** argv) {
    arguments args;
    if (argc < 2) {
        std::cerr << "usage: worker MODE [--key value]...\n";
        std::exit(2);
    }
    args.mode = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string key = argv[i];
        if (key.rfind("--", 0) != 0) {
            std::cerr << "worker: unexpected argument " << key << "\n";
            std::exit(2);
        }
        args.values[key.substr(2)] = argv[i + 1];
    }
    return args;
}

void say(const std::string& line) {
    std::string data = line + "\n";
    std::string_view rest = data;
    while (!rest.empty()) {
        const ssize_t n = ::write(1, rest.data(), rest.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            std::exit(3);
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Blocks until the other end of `fd` is closed.
bool read_to_end(int fd) {
    char buffer[64];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n == 0)
            return true;
        if (n < 0 && errno != EINTR)
            return false;
    }
}

// Says "ready", then waits until the test closes the barrier pipe (descriptor 3), which
// releases every waiting process at once.
bool wait_for_barrier() {
    say("ready");
    if (!read_to_end(3)) {
        std::perror("worker: read the barrier");
        return false;
    }
    ::close(3);
    return true;
}

// Counts the breaks reported through the logger hook.
std::atomic<long> breaks{0};

locknix::lock_options options_from(const arguments& args) {
    locknix::lock_options o;
    if (args.has("lifetime-ns"))
        o.lifetime = std::chrono::nanoseconds(args.number("lifetime-ns", 0));
    else
        o.lifetime = std::chrono::milliseconds(args.number("lifetime-ms", 30000));
    o.clock_slop = std::chrono::milliseconds(args.number("slop-ms", 0));
    o.log = [](locknix::log_level level, std::string_view message) {
        if (level == locknix::log_level::info && message.find("broke") == 0)
            ++breaks;
        if (level == locknix::log_level::warning)
            std::cerr << "worker " << ::getpid() << ": " << message << "\n";
    };
    return o;
}

bool process_is_dead(pid_t pid) {
    if (::kill(pid, 0) != 0 && errno == ESRCH)
        return true;
    // A killed process that its parent has not reaped yet is a zombie.
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line))
        return true;
    const auto paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() &&
           (line[paren + 2] == 'Z' || line[paren + 2] == 'X');
}

struct section_result {
    bool own_marker = false;
    long overlaps = 0;
    long stale = 0;
};

section_result enter_section(const std::string& marker) {
    section_result r;
    for (;;) {
        const int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0) {
            const std::string pid = std::to_string(::getpid());
            if (::write(fd, pid.data(), pid.size()) != static_cast<ssize_t>(pid.size()))
                std::exit(3);
            ::close(fd);
            r.own_marker = true;
            return r;
        }
        if (errno != EEXIST) {
            std::perror("worker: create the marker");
            std::exit(3);
        }
        std::ifstream in(marker);
        long other = 0;
        in >> other;
        if (other > 0 && process_is_dead(static_cast<pid_t>(other))) {
            ++r.stale;
            ::unlink(marker.c_str());
            continue;
        }
        std::cerr << "worker " << ::getpid() << ": overlap with holder '" << other << "'\n";
        ++r.overlaps;
        return r;
    }
}

void leave_section(const std::string& marker, const section_result& r) {
    if (r.own_marker)
        ::unlink(marker.c_str());
}

long read_counter(const std::string& counter) {
    std::ifstream in(counter);
    long value = 0;
    in >> value;
    return value;
}

void write_counter(const std::string& counter, long value) {
    std::ofstream out(counter, std::ios::trunc);
    out << value;
}

// One hammer iteration: acquire, check the section, increment, leave, release.
section_result one_iteration(locknix::file_lock& lock, const arguments& args) {
    lock.lock();
    const auto r = enter_section(args.get("marker"));
    const std::string& counter = args.get("counter");
    write_counter(counter, read_counter(counter) + 1);
    if (args.has("journal")) {
        std::ofstream journal(args.get("journal"), std::ios::app);
        journal << args.get("tag");
    }
    if (args.has("hold-us"))
        std::this_thread::sleep_for(std::chrono::microseconds(args.number("hold-us", 0)));
    leave_section(args.get("marker"), r);
    lock.unlock();
    return r;
}

int hammer(const arguments& args) {
    locknix::file_lock lock(args.get("lock"), options_from(args));
    if (args.has("barrier") && !wait_for_barrier())
        return 3;
    const long iterations = args.number("iterations", 1);
    long overlaps = 0;
    long stale = 0;
    for (long i = 0; i < iterations; ++i) {
        const auto r = one_iteration(lock, args);
        overlaps += r.overlaps;
        stale += r.stale;
        if (args.has("pause-us"))
            std::this_thread::sleep_for(std::chrono::microseconds(args.number("pause-us", 0)));
    }
    say("iterations=" + std::to_string(iterations) + " overlaps=" + std::to_string(overlaps) +
        " stale=" + std::to_string(stale) + " breaks=" + std::to_string(breaks.load()));
    return 0;
}

int die(const arguments& args) {
    // Never destroyed: the process ends by SIGKILL with the lock held.
    auto* lock = new locknix::file_lock(args.get("lock"), options_from(args));
    lock->lock();
    section_result r;
    if (args.has("marker")) {
        r = enter_section(args.get("marker"));
        read_counter(args.get("counter"));
    }
    say("held claim=" + lock->claim_path() + " breaks=" + std::to_string(breaks.load()) +
        " overlaps=" + std::to_string(r.overlaps) + " stale=" + std::to_string(r.stale));
    for (;;)
        ::pause();
}

int breaker(const arguments& args) {
    locknix::file_lock lock(args.get("lock"), options_from(args));
    if (!wait_for_barrier())
        return 3;
    const auto r = one_iteration(lock, args);
    say("overlaps=" + std::to_string(r.overlaps) + " stale=" + std::to_string(r.stale) +
        " breaks=" + std::to_string(breaks.load()));
    return 0;
}

int try_once(const arguments& args) {
    try {
        locknix::file_lock lock(args.get("lock"), options_from(args));
        lock.acquire(std::chrono::milliseconds(args.number("timeout-ms", 0)));
        say("acquired");
        lock.release();
    } catch (const boost::system::system_error& e) {
        say("error value=" + std::to_string(e.code().value()) +
            " category=" + e.code().category().name());
        say(e.what());
    }
    return 0;
}

int keep(const arguments& args) {
    locknix::file_lock lock(args.get("lock"), options_from(args));
    std::atomic<int> lost{0};
    lock.lock();
    lock.keep_alive([&lost](boost::system::error_code) { lost = 1; });
    say("held");
    const auto r = enter_section(args.get("marker"));
    std::this_thread::sleep_for(std::chrono::milliseconds(args.number("hold-ms", 0)));
    const std::string& counter = args.get("counter");
    write_counter(counter, read_counter(counter) + 1);
    leave_section(args.get("marker"), r);
    boost::system::error_code ec;
    lock.release(ec);
    say("lost=" + std::to_string(lost.load()) + " release=" + std::to_string(ec.value()) +
        " overlaps=" + std::to_string(r.overlaps));
    return 0;
}

int hold(const arguments& args) {
    locknix::file_lock lock(args.get("lock"), options_from(args));
    lock.lock();
    say("held claim=" + lock.claim_path() + " pid=" + std::to_string(::getpid()));
    read_to_end(0);
    boost::system::error_code ec;
    lock.release(ec);
    if (ec)
        say("release-error value=" + std::to_string(ec.value()) +
            " category=" + ec.category().name());
    else
        say("released");
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    const auto args = parse(argc, argv);
    try {
        if (args.mode == "hammer")
            return hammer(args);
        if (args.mode == "die")
            return die(args);
        if (args.mode == "breaker")
            return breaker(args);
        if (args.mode == "try")
            return try_once(args);
        if (args.mode == "keep")
            return keep(args);
        if (args.mode == "hold")
            return hold(args);
    } catch (const std::exception& e) {
        std::cerr << "worker " << ::getpid() << ": " << e.what() << "\n";
        return 1;
    }
    std::cerr << "worker: unknown mode " << args.mode << "\n";
    return 2;
}
