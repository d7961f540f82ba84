// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "fault_fs.hpp"

#include <cerrno>
#include <type_traits>
#include <utility>

namespace locknix::test {
namespace {

using boost::system::error_code;

error_code sys(int e) {
    return {e, boost::system::system_category()};
}

bool is_file_op(fs_op op) {
    return op != fs_op::wall_now && op != fs_op::steady_now && op != fs_op::host_name &&
           op != fs_op::process_id;
}

bool matches(const path_predicate& p, const fs_call& call) {
    if (!p)
        return true;
    return p(call.path) || (!call.target.empty() && p(call.target));
}

// Counts a matching call against skip/times; true if the rule or hook fires now. `spent` is
// set when it will never fire again.
template <class Entry>
bool consume(Entry& e, bool& spent) {
    spent = false;
    if (e.skip > 0) {
        --e.skip;
        return false;
    }
    if (e.times > 0 && --e.times == 0)
        spent = true;
    return true;
}

} // namespace

std::string_view to_string(fs_op op) noexcept {
    switch (op) {
    case fs_op::open:
        return "open";
    case fs_op::read:
        return "read";
    case fs_op::write:
        return "write";
    case fs_op::close:
        return "close";
    case fs_op::fstat:
        return "fstat";
    case fs_op::lstat:
        return "lstat";
    case fs_op::link:
        return "link";
    case fs_op::unlink:
        return "unlink";
    case fs_op::rename:
        return "rename";
    case fs_op::mkdir:
        return "mkdir";
    case fs_op::rmdir:
        return "rmdir";
    case fs_op::set_times:
        return "set_times";
    case fs_op::wall_now:
        return "wall_now";
    case fs_op::steady_now:
        return "steady_now";
    case fs_op::host_name:
        return "host_name";
    case fs_op::process_id:
        return "process_id";
    }
    return "?";
}

std::ostream& operator<<(std::ostream& out, fs_op op) {
    return out << to_string(op);
}

path_predicate path_is(std::string path) {
    return [path = std::move(path)](const std::string& p) {
        return p == path;
    };
}

path_predicate path_contains(std::string part) {
    return [part = std::move(part)](const std::string& p) {
        return p.find(part) != std::string::npos;
    };
}

fault_fs::fault_fs() : real_(posix_file_system()) {}

void fault_fs::add_rule(fault_rule rule) {
    std::lock_guard guard(mutex_);
    rules_.push_back(std::move(rule));
}

void fault_fs::fail(fs_op op, int error, path_predicate p, unsigned times) {
    add_rule({op, error, false, std::nullopt, 0, times, std::move(p)});
}

void fault_fs::lose_reply(fs_op op, int error, path_predicate p, unsigned times) {
    add_rule({op, error, true, std::nullopt, 0, times, std::move(p)});
}

void fault_fs::clear_rules() {
    std::lock_guard guard(mutex_);
    rules_.clear();
}

void fault_fs::add_hook(call_hook hook) {
    std::lock_guard guard(mutex_);
    hooks_.push_back(std::move(hook));
}

void fault_fs::clear_hooks() {
    std::lock_guard guard(mutex_);
    hooks_.clear();
}

void fault_fs::set_sshfs(bool on) {
    std::lock_guard guard(mutex_);
    sshfs_ = on;
}

void fault_fs::set_dead(bool on) {
    std::lock_guard guard(mutex_);
    dead_ = on;
}

void fault_fs::advance(std::chrono::nanoseconds by) {
    std::lock_guard guard(mutex_);
    wall_offset_ += by;
    steady_offset_ += by;
}

void fault_fs::advance_wall(std::chrono::nanoseconds by) {
    std::lock_guard guard(mutex_);
    wall_offset_ += by;
}

void fault_fs::advance_steady(std::chrono::nanoseconds by) {
    std::lock_guard guard(mutex_);
    steady_offset_ += by;
}

void fault_fs::freeze_wall(wall_clock::time_point at) {
    std::lock_guard guard(mutex_);
    frozen_wall_ = at;
    wall_offset_ = {};
}

void fault_fs::set_host_name(std::string name) {
    std::lock_guard guard(mutex_);
    host_ = std::move(name);
}

void fault_fs::set_pid(int pid) {
    std::lock_guard guard(mutex_);
    pid_ = pid;
}

std::size_t fault_fs::count(fs_op op) const {
    std::lock_guard guard(mutex_);
    return counts_[static_cast<std::size_t>(op)];
}

std::size_t fault_fs::total_file_calls() const {
    std::lock_guard guard(mutex_);
    return trace_.size();
}

void fault_fs::reset_counts() {
    std::lock_guard guard(mutex_);
    counts_ = {};
    trace_.clear();
}

std::vector<fs_call> fault_fs::calls() const {
    std::lock_guard guard(mutex_);
    return trace_;
}

std::vector<fs_op> fault_fs::file_ops() const {
    std::lock_guard guard(mutex_);
    std::vector<fs_op> ops;
    for (const auto& c : trace_)
        ops.push_back(c.op);
    return ops;
}

fault_fs::decision fault_fs::enter(const fs_call& call) {
    std::lock_guard guard(mutex_);
    ++counts_[static_cast<std::size_t>(call.op)];
    if (dead_ && is_file_op(call.op))
        return {EIO, false, std::nullopt};

    for (auto it = rules_.begin(); it != rules_.end(); ++it) {
        if (it->op != call.op || !matches(it->matches, call))
            continue;
        bool spent = false;
        if (!consume(*it, spent))
            continue;
        decision d{it->error, it->after, it->link_count};
        if (spent)
            rules_.erase(it);
        return d;
    }
    return {};
}

void fault_fs::run_hooks(hook_phase phase, const fs_call& call) {
    std::vector<std::function<void(const fs_call&)>> due;
    {
        std::lock_guard guard(mutex_);
        for (auto it = hooks_.begin(); it != hooks_.end();) {
            bool spent = false;
            if (it->op == call.op && it->phase == phase && matches(it->matches, call) &&
                consume(*it, spent)) {
                due.push_back(it->action);
                if (spent) {
                    it = hooks_.erase(it);
                    continue;
                }
            }
            ++it;
        }
    }
    for (const auto& action : due)
        action(call);
}

void fault_fs::finish(fs_call call, const error_code& ec) {
    call.result = ec;
    {
        std::lock_guard guard(mutex_);
        trace_.push_back(call);
    }
    run_hooks(hook_phase::after, call);
}

std::string fault_fs::path_of(int fd) const {
    std::lock_guard guard(mutex_);
    const auto it = open_files_.find(fd);
    return it == open_files_.end() ? std::string() : it->second;
}

file_status fault_fs::adjust(file_status status, const decision& d) const {
    if (d.link_count)
        status.link_count = *d.link_count;
    std::lock_guard guard(mutex_);
    if (sshfs_)
        status.link_count = 1;
    return status;
}

template <class Real>
auto fault_fs::perform(fs_call call, error_code& ec, Real real) {
    using result_type = decltype(real(ec));
    run_hooks(hook_phase::before, call);
    const decision d = enter(call);

    const auto report = [&] {
        if (d.error && !d.link_count) {
            if (!d.after) {
                ec = sys(d.error);
                return false;
            }
        }
        return true;
    };
    const auto after_call = [&] {
        if (!ec && d.error && d.after)
            ec = sys(d.error);
    };

    if constexpr (std::is_void_v<result_type>) {
        if (report()) {
            real(ec);
            after_call();
        }
        finish(std::move(call), ec);
    } else {
        result_type result{};
        if (report()) {
            result = real(ec);
            after_call();
        }
        finish(std::move(call), ec);
        return std::pair<result_type, decision>{result, d};
    }
}

int fault_fs::open(const std::string& path, int flags, unsigned mode, error_code& ec) {
    fs_call call{fs_op::open, path, {}, flags, mode, {}, {}};
    bool lost = false;
    const auto [fd, d] = perform(call, ec, [&](error_code& e) {
        const int f = real_->open(path, flags, mode, e);
        if (!e) {
            std::lock_guard guard(mutex_);
            open_files_[f] = path;
        }
        lost = true;
        return f;
    });
    if (ec) {
        if (lost && fd >= 0) {
            // The file was opened (and maybe created) but the caller never learns the descriptor.
            error_code ignored;
            real_->close(fd, ignored);
            std::lock_guard guard(mutex_);
            open_files_.erase(fd);
        }
        return -1;
    }
    (void)d;
    return fd;
}

std::size_t fault_fs::read(int fd, void* buffer, std::size_t size, error_code& ec) {
    fs_call call{fs_op::read, path_of(fd), {}, 0, 0, {}, {}};
    const auto [n, d] =
        perform(call, ec, [&](error_code& e) { return real_->read(fd, buffer, size, e); });
    (void)d;
    return ec ? 0 : n;
}

std::size_t fault_fs::write(int fd, const void* data, std::size_t size, error_code& ec) {
    fs_call call{fs_op::write, path_of(fd), {}, 0, 0, {}, {}};
    const auto [n, d] =
        perform(call, ec, [&](error_code& e) { return real_->write(fd, data, size, e); });
    (void)d;
    return ec ? 0 : n;
}

void fault_fs::close(int fd, error_code& ec) {
    fs_call call{fs_op::close, path_of(fd), {}, 0, 0, {}, {}};
    bool closed = false;
    perform(call, ec, [&](error_code& e) {
        closed = true;
        real_->close(fd, e);
    });
    if (!closed) {
        // An injected failure before the call: close(2) releases the descriptor regardless.
        error_code ignored;
        real_->close(fd, ignored);
    }
    std::lock_guard guard(mutex_);
    open_files_.erase(fd);
}

file_status fault_fs::fstat(int fd, error_code& ec) {
    fs_call call{fs_op::fstat, path_of(fd), {}, 0, 0, {}, {}};
    const auto [status, d] = perform(call, ec, [&](error_code& e) { return real_->fstat(fd, e); });
    return ec ? file_status{} : adjust(status, d);
}

file_status fault_fs::lstat(const std::string& path, error_code& ec) {
    fs_call call{fs_op::lstat, path, {}, 0, 0, {}, {}};
    const auto [status, d] =
        perform(call, ec, [&](error_code& e) { return real_->lstat(path, e); });
    return ec ? file_status{} : adjust(status, d);
}

void fault_fs::link(const std::string& from, const std::string& to, error_code& ec) {
    fs_call call{fs_op::link, from, to, 0, 0, {}, {}};
    perform(call, ec, [&](error_code& e) {
        real_->link(from, to, e);
        std::lock_guard guard(mutex_);
        if (sshfs_ && e == boost::system::errc::file_exists)
            e = sys(EPERM);
    });
    std::lock_guard guard(mutex_);
    if (sshfs_ && ec == boost::system::errc::file_exists)
        ec = sys(EPERM);
}

void fault_fs::unlink(const std::string& path, error_code& ec) {
    perform(fs_call{fs_op::unlink, path, {}, 0, 0, {}, {}}, ec,
            [&](error_code& e) { real_->unlink(path, e); });
}

void fault_fs::rename(const std::string& from, const std::string& to, error_code& ec) {
    perform(fs_call{fs_op::rename, from, to, 0, 0, {}, {}}, ec,
            [&](error_code& e) { real_->rename(from, to, e); });
}

void fault_fs::mkdir(const std::string& path, error_code& ec) {
    perform(fs_call{fs_op::mkdir, path, {}, 0, 0, {}, {}}, ec,
            [&](error_code& e) { real_->mkdir(path, e); });
}

void fault_fs::rmdir(const std::string& path, error_code& ec) {
    perform(fs_call{fs_op::rmdir, path, {}, 0, 0, {}, {}}, ec,
            [&](error_code& e) { real_->rmdir(path, e); });
}

void fault_fs::set_times(const std::string& path, wall_clock::time_point time, error_code& ec) {
    perform(fs_call{fs_op::set_times, path, {}, 0, 0, time, {}}, ec,
            [&](error_code& e) { real_->set_times(path, time, e); });
}

file_system::wall_clock::time_point fault_fs::wall_now() {
    std::lock_guard guard(mutex_);
    ++counts_[static_cast<std::size_t>(fs_op::wall_now)];
    const auto base = frozen_wall_ ? *frozen_wall_ : wall_clock::now();
    return base + std::chrono::duration_cast<wall_clock::duration>(wall_offset_);
}

file_system::steady_clock::time_point fault_fs::steady_now() {
    std::lock_guard guard(mutex_);
    ++counts_[static_cast<std::size_t>(fs_op::steady_now)];
    return steady_clock::now() + std::chrono::duration_cast<steady_clock::duration>(steady_offset_);
}

std::string fault_fs::host_name(error_code& ec) {
    const fs_call call{fs_op::host_name, {}, {}, 0, 0, {}, {}};
    const decision d = enter(call);
    if (d.error) {
        ec = sys(d.error);
        return {};
    }
    {
        std::lock_guard guard(mutex_);
        if (host_)
            return *host_;
    }
    return real_->host_name(ec);
}

int fault_fs::process_id() {
    std::lock_guard guard(mutex_);
    ++counts_[static_cast<std::size_t>(fs_op::process_id)];
    return pid_ ? *pid_ : real_->process_id();
}

} // namespace locknix::test
