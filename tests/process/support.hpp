// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// What the multi-process tests share: a private temporary directory, child processes driven
// through pipes, and small file helpers. Every wait here is on an event (a line on a pipe, the
// end of a pipe, a process exit), never on the clock.

#ifndef LOCKNIX_TESTS_PROCESS_SUPPORT_HPP
#define LOCKNIX_TESTS_PROCESS_SUPPORT_HPP

#include <locknix/error.hpp>
#include <locknix/lock_state.hpp>

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace locknix {

// Lets Boost.Test print the library's enumerations in failed checks.
inline std::ostream& boost_test_print_type(std::ostream& os, lock_state state) {
    return os << to_string(state);
}
inline std::ostream& boost_test_print_type(std::ostream& os, errc e) {
    return os << make_error_code(e).message();
}

} // namespace locknix

namespace locknix::test {

/// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class temp_dir {
public:
    explicit temp_dir(std::string_view tag);
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::string& path() const noexcept { return path_; }
    std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

private:
    std::string path_;
};

/// How a child process ended.
struct exit_status {
    bool exited = false;
    int code = -1;
    int signal = 0;

    bool ok() const noexcept { return exited && code == 0; }
    std::string describe() const;
};

/// A child process whose standard input and output are pipes to the test. Standard error is
/// inherited, so a failing child explains itself in the test log.
class child_process {
public:
    /// Starts `argv[0]` (an absolute path) with `argv`. If `inherit_fd` is not negative, the child
    /// gets a copy of it as descriptor 3.
    explicit child_process(const std::vector<std::string>& argv, int inherit_fd = -1);
    ~child_process();
    child_process(child_process&& other) noexcept;
    child_process& operator=(child_process&&) = delete;
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    pid_t pid() const noexcept { return pid_; }

    /// The read end of the child's output, for poll(2); -1 once closed.
    int output_fd() const noexcept { return from_child_; }

    /// The next line of the child's output without its newline; empty at end of output.
    std::optional<std::string> read_line();

    /// Writes `line` and a newline to the child's input.
    void write_line(std::string_view line);

    /// Closes the child's input: it reads end of file.
    void close_input();

    /// Stops reading the child's output.
    void close_output();

    void kill(int signal);

    /// Waits for the child to end and reaps it; its output up to that point stays readable.
    exit_status wait();

private:
    pid_t pid_ = -1;
    int to_child_ = -1;
    int from_child_ = -1;
    std::string buffer_;
    bool reaped_ = false;
    exit_status status_;
};

/// `key=value` pairs of a line such as "iterations=5 overlaps=0".
std::map<std::string, std::string> parse_fields(std::string_view line);
long field(const std::map<std::string, std::string>& fields, const std::string& key);

std::string read_file(const std::string& path);
void write_file(const std::string& path, std::string_view content);
bool exists_no_follow(const std::string& path);

/// The names in `dir`, sorted, without "." and "..".
std::vector<std::string> list_dir(const std::string& dir);

/// Sets the access and modification times of `path` (not following a symbolic link) to
/// `seconds` after the epoch.
void set_mtime(const std::string& path, long seconds);

struct file_identity {
    unsigned long inode = 0;
    unsigned long links = 0;
    long mtime_sec = 0;
    long mtime_nsec = 0;
    unsigned mode = 0;
    unsigned uid = 0;

    bool operator==(const file_identity&) const = default;
};
file_identity identify(const std::string& path);

inline std::ostream& boost_test_print_type(std::ostream& os, const file_identity& f) {
    return os << "{inode " << f.inode << ", links " << f.links << ", mtime " << f.mtime_sec << "."
              << f.mtime_nsec << ", mode " << std::oct << f.mode << std::dec << ", uid " << f.uid
              << "}";
}

/// The worker program built next to the tests.
std::string worker_path();

} // namespace locknix::test

#endif
