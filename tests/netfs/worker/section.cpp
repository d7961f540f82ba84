// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "section.hpp"

#include "records.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <unistd.h>

namespace locknix::netfs {

namespace {

constexpr std::size_t counter_digits = 20;

std::string failed(const std::string& what, const std::string& path) {
    return what + " " + path + ": " + std::strerror(errno);
}

// Reads the tag of the holder whose marker is in the way, for the message.
std::string read_marker(const std::string& marker) {
    const int fd = ::open(marker.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return "(unreadable: " + std::string(std::strerror(errno)) + ")";
    char buffer[256] = {};
    const ssize_t n = ::read(fd, buffer, sizeof buffer - 1);
    ::close(fd);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "(empty)";
}

// One pread of `path` from offset 0 into `buffer`; -1 with errno on failure.
ssize_t read_at_start(const std::string& path, int flags, char* buffer, std::size_t size) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | flags);
    if (fd < 0)
        return -1;
    const ssize_t n = ::pread(fd, buffer, size, 0);
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return n;
}

// Reads the counter with O_DIRECT where the file system allows it: GlusterFS's client (the
// kernel's page cache, quick-read) otherwise serves a host the content it read up to a second
// ago, lock or no lock. faultfs refuses O_DIRECT (EINVAL) and caches nothing: a plain read.
ssize_t read_counter(const std::string& path, char* text, std::size_t size) {
    constexpr std::size_t block = 4096;
    void* aligned = nullptr;
    if (::posix_memalign(&aligned, block, block) != 0)
        return -1;
    ssize_t n = read_at_start(path, O_DIRECT, static_cast<char*>(aligned), block);
    if (n >= 0)
        std::memcpy(text, aligned, std::min(static_cast<std::size_t>(n), size));
    std::free(aligned);
    if (n < 0 && errno == EINVAL)
        n = read_at_start(path, 0, text, size);
    return n < 0 ? n : std::min(n, static_cast<ssize_t>(size));
}

} // namespace

std::string increment_counter(const std::string& dir) {
    const std::string path = dir + "/counter";
    char buffer[64] = {};
    const ssize_t n = read_counter(path, buffer, sizeof buffer - 1);
    if (n < 0)
        return failed("read", path);
    long value = -1;
    if (static_cast<std::size_t>(n) != counter_digits ||
        std::sscanf(buffer, "%20ld", &value) != 1 || value < 0)
        return "malformed counter in " + path + ": '" + std::string(buffer) + "'";

    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return failed("open", path);
    std::string error;
    char digits[counter_digits + 1];
    std::snprintf(digits, sizeof digits, "%020ld", value + 1);
    if (::pwrite(fd, digits, counter_digits, 0) != static_cast<ssize_t>(counter_digits))
        error = failed("write", path);
    else if (::fsync(fd) != 0)
        error = failed("fsync", path);
    if (::close(fd) != 0 && error.empty())
        error = failed("close", path);
    return error;
}

section_result run_section(const section_spec& spec) {
    section_result r;
    const auto start = monotonic_ns();
    const auto start_wall = wall_ns();

    const std::string marker = spec.dir + "/inside";
    const int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    bool own_marker = false;
    if (fd >= 0) {
        own_marker = true;
        if (::write(fd, spec.tag.data(), spec.tag.size()) != static_cast<ssize_t>(spec.tag.size()))
            r.error = failed("write", marker);
        if (::close(fd) != 0 && r.error.empty())
            r.error = failed("close", marker);
    } else if (errno == EEXIST) {
        r.overlap = true;
        std::cerr << "OVERLAP: " << spec.tag << " entered the section while " << read_marker(marker)
                  << " was inside\n";
    } else {
        r.error = failed("create the marker", marker);
    }

    const std::string counted = increment_counter(spec.dir);
    if (r.error.empty())
        r.error = counted;

    if (own_marker && ::unlink(marker.c_str()) != 0 && r.error.empty())
        r.error = failed("remove the marker", marker);
    const auto end = monotonic_ns();

    if (!spec.journal.empty()) {
        const std::string journaled =
            append_line(spec.journal, std::to_string(start) + " " + std::to_string(end) + " " +
                                          std::to_string(start_wall) + " " + spec.tag);
        if (r.error.empty())
            r.error = journaled;
    }
    if (!r.error.empty())
        std::cerr << "section error (" << spec.tag << "): " << r.error << "\n";
    return r;
}

} // namespace locknix::netfs
