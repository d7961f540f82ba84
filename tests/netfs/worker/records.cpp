// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "records.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace locknix::netfs {

namespace {

std::int64_t clock_ns(clockid_t clock) {
    struct timespec t {};
    ::clock_gettime(clock, &t);
    return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// Writes all of `data`; false on an error other than EINTR.
bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

} // namespace

std::string append_line(const std::string& path, const std::string& line) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return "open " + path + ": " + std::strerror(errno);
    std::string error;
    if (!write_all(fd, line + "\n"))
        error = "append to " + path + ": " + std::strerror(errno);
    if (::close(fd) != 0 && error.empty())
        error = "close " + path + ": " + std::strerror(errno);
    return error;
}

void say(const std::string& line) {
    if (!write_all(1, line + "\n"))
        std::exit(3);
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

std::int64_t monotonic_ns() {
    return clock_ns(CLOCK_MONOTONIC);
}

std::int64_t wall_ns() {
    return clock_ns(CLOCK_REALTIME);
}

std::string host_and_pid() {
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    return std::string(name) + ":" + std::to_string(::getpid());
}

} // namespace locknix::netfs
