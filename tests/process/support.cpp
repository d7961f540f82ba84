// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "support.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>

namespace locknix::test {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

void close_quietly(int& fd) {
    if (fd >= 0)
        ::close(fd);
    fd = -1;
}

} // namespace

temp_dir::temp_dir(std::string_view tag) {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base && *base ? base : "/tmp") + "/locknix-" + std::string(tag) + "-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
        throw_errno("mkdtemp " + pattern);
    path_ = pattern;
}

temp_dir::~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::string exit_status::describe() const {
    if (exited)
        return "exit code " + std::to_string(code);
    return "signal " + std::to_string(signal);
}

child_process::child_process(const std::vector<std::string>& argv, int inherit_fd) {
    int in[2];
    int out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
        throw_errno("pipe2");

    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    pid_ = ::fork();
    if (pid_ < 0)
        throw_errno("fork");
    if (pid_ == 0) {
        // Only async-signal-safe calls from here to exec. The descriptors are first copied out
        // of the way, so that none is overwritten before it is moved to its place.
        const int input = ::fcntl(in[0], F_DUPFD_CLOEXEC, 10);
        const int output = ::fcntl(out[1], F_DUPFD_CLOEXEC, 10);
        const int extra = inherit_fd >= 0 ? ::fcntl(inherit_fd, F_DUPFD_CLOEXEC, 10) : -1;
        if (input < 0 || output < 0 || (inherit_fd >= 0 && extra < 0))
            ::_exit(126);
        if (::dup2(input, 0) < 0 || ::dup2(output, 1) < 0)
            ::_exit(126);
        if (extra >= 0 && ::dup2(extra, 3) < 0)
            ::_exit(126);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    to_child_ = in[1];
    from_child_ = out[0];
}

child_process::child_process(child_process&& other) noexcept
    : pid_(other.pid_), to_child_(other.to_child_), from_child_(other.from_child_),
      buffer_(std::move(other.buffer_)), reaped_(other.reaped_), status_(other.status_) {
    other.pid_ = -1;
    other.to_child_ = -1;
    other.from_child_ = -1;
    other.reaped_ = true;
}

child_process::~child_process() {
    close_quietly(to_child_);
    close_quietly(from_child_);
    if (pid_ > 0 && !reaped_) {
        // A test that failed early: do not leave the child behind.
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
}

std::optional<std::string> child_process::read_line() {
    for (;;) {
        const auto newline = buffer_.find('\n');
        if (newline != std::string::npos) {
            std::string line = buffer_.substr(0, newline);
            buffer_.erase(0, newline + 1);
            return line;
        }
        if (from_child_ < 0)
            return std::nullopt;
        char chunk[512];
        const ssize_t n = ::read(from_child_, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw_errno("read from child");
        if (n == 0) {
            close_quietly(from_child_);
            if (buffer_.empty())
                return std::nullopt;
            std::string line = std::move(buffer_);
            buffer_.clear();
            return line;
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
    }
}

void child_process::write_line(std::string_view line) {
    std::string data(line);
    data.push_back('\n');
    std::string_view rest = data;
    while (!rest.empty()) {
        const ssize_t n = ::write(to_child_, rest.data(), rest.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw_errno("write to child");
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
}

void child_process::close_input() {
    close_quietly(to_child_);
}

void child_process::close_output() {
    close_quietly(from_child_);
}

void child_process::kill(int signal) {
    if (!reaped_ && ::kill(pid_, signal) != 0)
        throw_errno("kill");
}

exit_status child_process::wait() {
    if (reaped_)
        return status_;
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0) {
        if (errno != EINTR)
            throw_errno("waitpid");
    }
    reaped_ = true;
    status_.exited = WIFEXITED(status);
    status_.code = status_.exited ? WEXITSTATUS(status) : -1;
    status_.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return status_;
}

std::map<std::string, std::string> parse_fields(std::string_view line) {
    std::map<std::string, std::string> fields;
    while (!line.empty()) {
        const auto space = line.find(' ');
        const auto word = line.substr(0, space);
        const auto eq = word.find('=');
        if (eq != std::string_view::npos)
            fields[std::string(word.substr(0, eq))] = std::string(word.substr(eq + 1));
        if (space == std::string_view::npos)
            break;
        line.remove_prefix(space + 1);
    }
    return fields;
}

long field(const std::map<std::string, std::string>& fields, const std::string& key) {
    const auto it = fields.find(key);
    if (it == fields.end())
        throw std::runtime_error("missing field " + key);
    return std::stol(it->second);
}

std::string read_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        throw_errno("open " + path);
    std::string content;
    char chunk[4096];
    for (;;) {
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        content.append(chunk, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return content;
}

void write_file(const std::string& path, std::string_view content) {
    const int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        throw_errno("create " + path);
    while (!content.empty()) {
        const ssize_t n = ::write(fd, content.data(), content.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw_errno("write " + path);
        content.remove_prefix(static_cast<std::size_t>(n));
    }
    ::close(fd);
}

bool exists_no_follow(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

std::vector<std::string> list_dir(const std::string& dir) {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr)
        throw_errno("opendir " + dir);
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name != "." && name != "..")
            names.push_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

void set_mtime(const std::string& path, long seconds) {
    const struct timespec t { static_cast<time_t>(seconds), 0 };
    const struct timespec times[2] = {t, t};
    if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        throw_errno("utimensat " + path);
}

file_identity identify(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        throw_errno("lstat " + path);
    return {static_cast<unsigned long>(st.st_ino), static_cast<unsigned long>(st.st_nlink),
            static_cast<long>(st.st_mtim.tv_sec),  static_cast<long>(st.st_mtim.tv_nsec),
            static_cast<unsigned>(st.st_mode),     static_cast<unsigned>(st.st_uid)};
}

std::string worker_path() {
    return LOCKNIX_PROCESS_WORKER;
}

} // namespace locknix::test
