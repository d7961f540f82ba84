// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// A file-system seam for unit tests. It works on real files through the POSIX seam and adds what
// a test needs to reach the protocol's rare paths deterministically: errnos injected before a
// call or after it (a lost reply), an sshfs mode, clocks that jump without sleeping, a host name
// and process id of the test's choosing (so one process can play several hosts), hooks that run
// at a chosen call (to make another party act at exactly that moment), and call counters.

#ifndef LOCKNIX_TESTS_UNIT_FAULT_FS_HPP
#define LOCKNIX_TESTS_UNIT_FAULT_FS_HPP

#include <locknix/file_system.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace locknix::test {

enum class fs_op {
    open,
    read,
    write,
    close,
    fstat,
    lstat,
    link,
    unlink,
    rename,
    mkdir,
    rmdir,
    set_times,
    wall_now,
    steady_now,
    host_name,
    process_id,
};
inline constexpr std::size_t fs_op_count = 16;

std::string_view to_string(fs_op op) noexcept;
std::ostream& operator<<(std::ostream& out, fs_op op);

/// Chooses calls by path. For read, write, close and fstat the path is the one the descriptor
/// was opened with; for link and rename a rule or hook matches if either path matches.
using path_predicate = std::function<bool(const std::string& path)>;

/// Matches exactly `path`.
path_predicate path_is(std::string path);

/// Matches paths that contain `part`.
path_predicate path_contains(std::string part);

/// One call the seam received, as recorded for assertions and passed to hooks.
struct fs_call {
    fs_op op = fs_op::open;
    std::string path;
    /// The second path of link and rename.
    std::string target;
    /// open's flags and mode.
    int flags = 0;
    unsigned mode = 0;
    /// The time set_times was asked to stamp.
    std::chrono::system_clock::time_point time{};
    /// What the caller was told (empty in a `before` hook).
    boost::system::error_code result;
};

/// Makes matching calls fail, or report another link count.
struct fault_rule {
    fs_op op = fs_op::link;
    /// The errno to report.
    int error = 0;
    /// Do the call first, then report `error` if it succeeded: a lost reply.
    bool after = false;
    /// For lstat and fstat: do the call and report this link count instead of failing.
    std::optional<std::uint64_t> link_count;
    /// Matching calls let through before the rule fires.
    unsigned skip = 0;
    /// How many matching calls the rule fires on; 0 means every one.
    unsigned times = 1;
    /// Empty matches every path.
    path_predicate matches;
};

enum class hook_phase { before, after };

/// Runs `action` at matching calls, outside the seam's mutex. An action must not call back into
/// the same seam (use the POSIX seam or the helpers in test_support.hpp for side effects).
struct call_hook {
    fs_op op = fs_op::link;
    hook_phase phase = hook_phase::before;
    path_predicate matches;
    unsigned skip = 0;
    /// How many matching calls run the action; 0 means every one.
    unsigned times = 0;
    std::function<void(const fs_call&)> action;
};

class fault_fs final : public file_system {
public:
    fault_fs();

    /// Injection.
    void add_rule(fault_rule rule);
    void fail(fs_op op, int error, path_predicate matches = {}, unsigned times = 1);
    void lose_reply(fs_op op, int error, path_predicate matches = {}, unsigned times = 1);
    void clear_rules();
    void add_hook(call_hook hook);
    void clear_hooks();

    /// sshfs: lstat and fstat report a link count of 1, and a link refused with EEXIST reports
    /// EPERM.
    void set_sshfs(bool on);

    /// A dead process: every file operation fails with EIO and does nothing; clocks still run.
    void set_dead(bool on);

    /// Clocks: the real ones plus an offset, unless the wall clock is frozen.
    void advance(std::chrono::nanoseconds by); // both clocks
    void advance_wall(std::chrono::nanoseconds by);
    void advance_steady(std::chrono::nanoseconds by);
    /// The wall clock stands still at `at` (advance_wall still moves it).
    void freeze_wall(wall_clock::time_point at);

    /// Identity; unset means the real host name and pid.
    void set_host_name(std::string name);
    void set_pid(int pid);

    /// Observation. Counts include clock reads; the trace holds file operations only.
    std::size_t count(fs_op op) const;
    std::size_t total_file_calls() const;
    void reset_counts(); // also clears the trace
    std::vector<fs_call> calls() const;
    std::vector<fs_op> file_ops() const;

    // file_system
    int open(const std::string& path, int flags, unsigned mode,
             boost::system::error_code& ec) override;
    std::size_t read(int fd, void* buffer, std::size_t size,
                     boost::system::error_code& ec) override;
    std::size_t write(int fd, const void* data, std::size_t size,
                      boost::system::error_code& ec) override;
    void close(int fd, boost::system::error_code& ec) override;
    file_status fstat(int fd, boost::system::error_code& ec) override;
    file_status lstat(const std::string& path, boost::system::error_code& ec) override;
    void link(const std::string& from, const std::string& to,
              boost::system::error_code& ec) override;
    void unlink(const std::string& path, boost::system::error_code& ec) override;
    void rename(const std::string& from, const std::string& to,
                boost::system::error_code& ec) override;
    void mkdir(const std::string& path, boost::system::error_code& ec) override;
    void rmdir(const std::string& path, boost::system::error_code& ec) override;
    void set_times(const std::string& path, wall_clock::time_point time,
                   boost::system::error_code& ec) override;
    wall_clock::time_point wall_now() override;
    steady_clock::time_point steady_now() override;
    std::string host_name(boost::system::error_code& ec) override;
    int process_id() override;

private:
    struct decision {
        int error = 0;
        bool after = false;
        std::optional<std::uint64_t> link_count;
    };

    decision enter(const fs_call& call);
    void run_hooks(hook_phase phase, const fs_call& call);
    void finish(fs_call call, const boost::system::error_code& ec);
    std::string path_of(int fd) const;
    file_status adjust(file_status status, const decision& d) const;

    // Runs `real` under the rules: counts, hooks, injected errors, lost replies, the trace.
    template <class Real>
    auto perform(fs_call call, boost::system::error_code& ec, Real real);

    std::shared_ptr<file_system> real_;

    mutable std::mutex mutex_;
    std::vector<fault_rule> rules_;
    std::vector<call_hook> hooks_;
    bool sshfs_ = false;
    bool dead_ = false;
    std::optional<wall_clock::time_point> frozen_wall_;
    std::chrono::nanoseconds wall_offset_{};
    std::chrono::nanoseconds steady_offset_{};
    std::optional<std::string> host_;
    std::optional<int> pid_;
    std::array<std::size_t, fs_op_count> counts_{};
    std::vector<fs_call> trace_;
    std::map<int, std::string> open_files_;
};

} // namespace locknix::test

#endif
