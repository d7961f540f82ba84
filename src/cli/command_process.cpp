// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "command_process.hpp"

#include "cli_error.hpp"
#include "duration.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace locknix::cli {
namespace {

using steady = std::chrono::steady_clock;

int poll_timeout_ms(std::optional<steady::time_point> until) {
    if (!until)
        return -1;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(*until - steady::now());
    return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, 60'000));
}

// now + d, saturated: --kill-after may be centuries.
steady::time_point later(std::chrono::nanoseconds d) {
    const auto now = steady::now();
    if (d >= steady::time_point::max() - now)
        return steady::time_point::max();
    return now + std::chrono::duration_cast<steady::duration>(d);
}

std::string pid_text(pid_t pid) {
    return "COMMAND (pid " + std::to_string(pid) + ")";
}

} // namespace

pid_t spawn_command(arguments command, int& error) {
    std::vector<std::string> storage(command.begin(), command.end());
    std::vector<char*> argv;
    argv.reserve(storage.size() + 1);
    for (auto& arg : storage)
        argv.push_back(arg.data());
    argv.push_back(nullptr);

    // The child tells a failed exec through this pipe; a successful exec closes it.
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) {
        error = errno;
        return -1;
    }

    // No handler may run in the child before exec: block everything around the fork.
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
        // The tool is single-threaded until the keep-alive starts after this, so the child may
        // do more than async-signal-safe calls; it keeps to few anyway.
        ::close(report[0]);
        // Once the tool is gone, nothing keeps the lock alive: COMMAND must stop too.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent)
            ::_exit(exit_code::signal_base + SIGTERM);
        signal_pipe::reset_in_child();
        ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
        ::execvp(argv[0], argv.data());
        const int e = errno;
        [[maybe_unused]] const ssize_t n = ::write(report[1], &e, sizeof e);
        ::_exit(exit_code::command_not_found);
    }
    error = errno;
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    ::close(report[1]);
    if (pid < 0) {
        ::close(report[0]);
        return -1;
    }

    int exec_error = 0;
    ssize_t n = 0;
    do
        n = ::read(report[0], &exec_error, sizeof exec_error);
    while (n < 0 && errno == EINTR);
    ::close(report[0]);
    if (n == static_cast<ssize_t>(sizeof exec_error)) {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        error = exec_error;
        return -1;
    }
    error = 0;
    return pid;
}

loss_alarm::loss_alarm() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
        throw cli_error(exit_code::system_error,
                        std::string("locknix: cannot make a pipe: ") + std::strerror(errno));
    read_fd_ = fds[0];
    write_fd_ = fds[1];
}

loss_alarm::~loss_alarm() {
    ::close(read_fd_);
    ::close(write_fd_);
}

void loss_alarm::raise(boost::system::error_code ec) noexcept {
    {
        std::lock_guard guard(mutex_);
        error_ = ec;
    }
    const char byte = 1;
    [[maybe_unused]] const ssize_t n = ::write(write_fd_, &byte, 1);
}

boost::system::error_code loss_alarm::error() const {
    std::lock_guard guard(mutex_);
    return error_;
}

command_outcome supervise(pid_t child, signal_pipe& signals, const loss_alarm& alarm,
                          std::chrono::nanoseconds kill_after, const std::string& lock_path,
                          reporter& out) {
    command_outcome outcome;
    std::optional<steady::time_point> kill_at;
    for (;;) {
        const pid_t reaped = ::waitpid(child, &outcome.wait_status, WNOHANG);
        if (reaped == child)
            return outcome;
        if (reaped < 0 && errno != EINTR) {
            out.error(std::string("locknix: cannot wait for COMMAND: ") + std::strerror(errno));
            outcome.wait_status = exit_code::system_error << 8; // as if it exited with that code
            return outcome;
        }

        struct pollfd fds[2] = {{signals.fd(), POLLIN, 0}, {alarm.fd(), POLLIN, 0}};
        if (outcome.lock_lost)
            fds[1].fd = -1; // heard once is enough
        ::poll(fds, 2, poll_timeout_ms(kill_at));

        while (const auto s = signals.next()) {
            if (s->number == SIGCHLD)
                continue; // reaped at the top of the loop
            if (s->from_terminal)
                continue; // COMMAND shares the terminal's process group and got it too
            out.event("passing " + signal_name(s->number) + " on to " + pid_text(child));
            ::kill(child, s->number);
        }

        if (!outcome.lock_lost && (fds[1].revents & POLLIN) != 0) {
            outcome.lock_lost = true;
            out.error("locknix: lost the lock " + lock_path + ": " + alarm.error().message() +
                      "; stopping " + pid_text(child) + " with SIGTERM");
            ::kill(child, SIGTERM);
            kill_at = later(kill_after);
        }
        if (kill_at && steady::now() >= *kill_at) {
            out.error("locknix: " + pid_text(child) + " still runs " + format_duration(kill_after) +
                      " after SIGTERM; sending SIGKILL");
            ::kill(child, SIGKILL);
            kill_at.reset();
        }
    }
}

int shell_status(int wait_status) {
    if (WIFSIGNALED(wait_status))
        return exit_code::signal_base + WTERMSIG(wait_status);
    return WEXITSTATUS(wait_status);
}

std::string describe_status(int wait_status) {
    if (WIFSIGNALED(wait_status))
        return "was killed by signal " + std::to_string(WTERMSIG(wait_status)) + " (" +
               ::strsignal(WTERMSIG(wait_status)) + ")";
    return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
}

} // namespace locknix::cli
