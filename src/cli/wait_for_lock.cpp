// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "wait_for_lock.hpp"

#include "cli_error.hpp"
#include "duration.hpp"
#include "lock_path.hpp"
#include "text.hpp"

#include <locknix/error.hpp>
#include <locknix/file_system.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <poll.h>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace locknix::cli {
namespace {

using boost::system::error_code;
using std::chrono::nanoseconds;
using steady = std::chrono::steady_clock;
using wall = std::chrono::system_clock;

// How often the watcher redraws the live line; the line counts whole seconds.
constexpr auto redraw_period = std::chrono::seconds(1);

bool ends_the_wait(const received_signal& s) {
    return std::ranges::find(signal_pipe::forwarded, s.number) != std::end(signal_pipe::forwarded);
}

std::optional<received_signal> pending_signal(signal_pipe& signals) {
    while (auto s = signals.next())
        if (ends_the_wait(*s))
            return s;
    return std::nullopt;
}

std::string whole_seconds(nanoseconds d) {
    return format_duration(std::chrono::floor<std::chrono::seconds>(d));
}

int milliseconds_until(steady::time_point t) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(t - steady::now());
    return static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
}

// A pipe that carries one message to the watcher: the acquisition has returned.
class wait_ended {
public:
    wait_ended() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
            throw cli_error(exit_code::system_error,
                            std::string("locknix: cannot make the pipe that ends the wait: ") +
                                std::strerror(errno));
        read_fd_ = fds[0];
        write_fd_ = fds[1];
    }

    ~wait_ended() {
        ::close(read_fd_);
        ::close(write_fd_);
    }

    wait_ended(const wait_ended&) = delete;
    wait_ended& operator=(const wait_ended&) = delete;

    int fd() const noexcept { return read_fd_; }

    void announce() noexcept {
        const char byte = 1;
        while (::write(write_fd_, &byte, 1) < 0 && errno == EINTR) {
        }
    }

private:
    int read_fd_ = -1;
    int write_fd_ = -1;
};

// Beside the blocking acquisition, on a thread of its own: reads the signal pipe, ends the wait
// through a stop request when a signal that ends it arrives, and draws the live line. It reads
// the lock through a lock object of its own, which never makes a claim: the waiting object holds
// its mutex until the wait ends.
class watcher {
public:
    // With `draw`, shows who holds the lock every redraw_period.
    watcher(const file_lock& lock, signal_pipe& signals, reporter& out, bool draw)
        : signals_(signals), out_(out), draw_(draw),
          reader_(make_lock(lock.path(), reading_options(lock))), pid_(::getpid()) {
        error_code ec;
        host_ = posix_file_system()->host_name(ec);
        try {
            thread_ = std::thread([this] { run(); });
        } catch (const std::system_error& e) {
            throw cli_error(exit_code::system_error,
                            "locknix: cannot start the thread that watches the wait for " +
                                lock.path() + ": " + e.code().message());
        }
    }

    ~watcher() { finish(); }

    watcher(const watcher&) = delete;
    watcher& operator=(const watcher&) = delete;

    std::stop_token token() const noexcept { return stop_.get_token(); }

    // Ends the watch once the acquisition has returned. Returns the signal that ended the wait.
    std::optional<received_signal> finish() noexcept {
        if (thread_.joinable()) {
            ended_.announce();
            thread_.join();
        }
        return ending_;
    }

    // The errno of a failed poll, which ended the wait as a stop request; 0 if none.
    int poll_error() const noexcept { return poll_error_; }

private:
    static lock_options reading_options(const file_lock& lock) {
        lock_options options = lock.options();
        options.log = {};
        return options;
    }

    void run() {
        auto next_draw = steady::now();
        bool first_look = true;
        for (;;) {
            if (draw_ && steady::now() >= next_draw) {
                show_holder(first_look);
                first_look = false;
                next_draw = steady::now() + redraw_period;
            }

            struct pollfd fds[2] = {{signals_.fd(), POLLIN, 0}, {ended_.fd(), POLLIN, 0}};
            const int r = ::poll(fds, 2, draw_ ? milliseconds_until(next_draw) : -1);
            if (r < 0 && errno != EINTR) {
                poll_error_ = errno;
                stop_.request_stop();
                return;
            }
            if (r > 0 && (fds[0].revents & POLLIN) != 0) {
                if (auto s = pending_signal(signals_)) {
                    ending_ = s;
                    stop_.request_stop();
                    return;
                }
            }
            if (r > 0 && (fds[1].revents & POLLIN) != 0)
                return;
        }
    }

    // Says who holds the lock: the live line on a terminal, else a line each time the holder
    // changes. The first look, taken while the first attempt may still be under way, shows only
    // another holder.
    void show_holder(bool first_look) {
        lock_look look;
        try {
            look = look_at(*reader_, wall::now());
        } catch (const cli_error&) {
            return; // the acquisition reports a lasting failure
        }
        if (look.state == lock_state::not_a_lock)
            return; // likewise
        if (look.holder && look.holder->pid == pid_ && look.holder->host == host_)
            return; // this process: the wait is ending with the lock

        const std::string waited = "waited " + whole_seconds(steady::now() - start_);
        const std::string subject = "waiting for " + reader_->path() + ": ";
        if (!look.holder) {
            if (!first_look)
                out_.live_line(subject + "free, trying again; " + waited);
            return;
        }

        const holder_info& holder = *look.holder;
        const auto now = wall::now();
        const std::string expiry = holder.expiry > now
                                       ? "expires in " + format_countdown(holder.expiry - now)
                                       : "expired " + whole_seconds(now - holder.expiry) + " ago";
        const std::string breakable =
            look.state == lock_state::held_by_other_breakable
                ? "breakable now"
                : "breakable in " + format_countdown(look.breakable_at - now);
        out_.live_line(subject + "held by " + describe_holder(holder) + ", " + expiry + ", " +
                       breakable + "; " + waited);

        if (!out_.live() && holder.claim != last_claim_) {
            out_.event(subject + "held by " + describe_holder(holder) + ", expiry " +
                       iso8601_utc(holder.expiry) + ", breakable after " +
                       iso8601_utc(look.breakable_at));
            last_claim_ = holder.claim;
        }
    }

    signal_pipe& signals_;
    reporter& out_;
    bool draw_;
    std::unique_ptr<file_lock> reader_;
    int pid_;
    std::string host_;
    const steady::time_point start_ = steady::now();
    std::string last_claim_;
    std::stop_source stop_;
    wait_ended ended_;
    std::optional<received_signal> ending_;
    int poll_error_ = 0;
    std::thread thread_; // last: it starts when everything it uses is in place
};

// The whole wait in one call. Returns its error, and in `failure` the error to report with the
// library's message, which names the step and the file that failed.
error_code acquire(file_lock& lock, nanoseconds timeout, std::stop_token stop,
                   std::optional<cli_error>& failure) {
    try {
        lock.acquire(timeout, std::move(stop));
        return {};
    } catch (const boost::system::system_error& e) {
        failure = from_system_error(e);
        return e.code();
    }
}

cli_error timed_out(const file_lock& lock, nanoseconds timeout) {
    std::string message =
        "locknix: timed out after " + format_duration(timeout) + " waiting for " + lock.path();
    try {
        const lock_look look = look_at(lock, wall::now());
        if (look.holder)
            message += ", held by " + describe_holder(*look.holder);
    } catch (const cli_error&) {
    }
    return cli_error(exit_code::not_acquired, message);
}

} // namespace

std::optional<received_signal> wait_for_lock(file_lock& lock, nanoseconds timeout,
                                             signal_pipe& signals, reporter& out) {
    error_code ec;
    std::optional<cli_error> failure;
    std::optional<received_signal> ending;
    int poll_error = 0;
    {
        // A single attempt (no timeout) is no wait to show.
        watcher watch(lock, signals, out, out.verbose() && timeout > nanoseconds::zero());
        ec = acquire(lock, timeout, watch.token(), failure);
        ending = watch.finish();
        poll_error = watch.poll_error();
    }
    out.clear_live_line();

    if (!ending)
        ending = pending_signal(signals);
    if (ending) {
        if (!ec) {
            error_code ignored;
            lock.release(ignored);
        }
        return ending;
    }
    if (ec == errc::timed_out)
        throw timed_out(lock, timeout);
    if (ec == boost::system::errc::operation_canceled && poll_error != 0)
        throw cli_error(exit_code::system_error,
                        "locknix: cannot watch for signals while waiting for " + lock.path() +
                            ": " + std::strerror(poll_error));
    if (ec)
        throw *failure;
    return std::nullopt;
}

} // namespace locknix::cli
