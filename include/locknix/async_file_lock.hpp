// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#ifndef LOCKNIX_ASYNC_FILE_LOCK_HPP
#define LOCKNIX_ASYNC_FILE_LOCK_HPP

#include <locknix/detail/duration.hpp>
#include <locknix/error.hpp>
#include <locknix/lock_options.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace locknix {

namespace detail {
class async_lock_impl;
}

/// Where the asynchronous front end makes its system calls.
enum class syscall_mode {
    /// On a small thread pool owned by the `io_context`'s lock service (two threads), so that a
    /// network file system that blocks for seconds never blocks the event loop. The default.
    thread_pool,
    /// On the event loop itself. Cheaper for local disks, where the calls take microseconds.
    event_loop,
};

struct async_options {
    syscall_mode syscalls = syscall_mode::thread_pool;
};

/// An NFS-safe file lock with a lifetime, driven by Boost.Asio: the same protocol and on-disk
/// format as `file_lock`, waited on without a thread per wait.
///
/// All objects whose executors share an `execution_context` share one lock service: a registry
/// keyed by lock path in which one waiter per path probes the lock (the first in line) and every
/// other waiter of that path is parked on its own deadline timer, costing no system call. A
/// release inside the process hands the lock to the next waiter in FIFO order at once; inotify on
/// the lock's directory wakes the prober early on local file systems; polling with jittered
/// backoff always runs too, because network file systems report no remote changes.
///
/// Asynchronous operations take any completion token with the signature
/// `void(boost::system::error_code)`; the default is `boost::asio::deferred`, so `co_await
/// lock.acquire(timeout)` works in a `boost::asio::awaitable` and throws
/// `boost::system::system_error` on failure. Completion handlers run on their associated
/// executor (by default this object's), never inside the initiating call.
///
/// Thread safety: distinct objects may be used from any threads. One object's operations must be
/// initiated from one thread at a time (as with any Asio I/O object).
class async_file_lock {
public:
    using executor_type = boost::asio::any_io_executor;
    using completion_handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

    /// Prepares a lock on `path`, made absolute against the current directory; touches no file.
    /// Throws `boost::system::system_error` for the same bad input as `file_lock`'s constructor.
    async_file_lock(executor_type executor, std::string_view path, lock_options options = {},
                    async_options async = {});

    /// Cancels pending operations (they complete with `boost::asio::error::operation_aborted`),
    /// and releases the lock if held and removes the claim file in the background: the
    /// destructor never blocks on the file system.
    ~async_file_lock();

    async_file_lock(const async_file_lock&) = delete;
    async_file_lock& operator=(const async_file_lock&) = delete;

    executor_type get_executor() const noexcept;

    /// Waits up to `timeout` for the lock (any duration; zero means one attempt, which still
    /// breaks an expired lock).
    ///
    /// Completes with: success; `errc::timed_out`; `errc::already_locked` if this object holds
    /// the lock; `boost::system::errc::operation_in_progress` if this object is already waiting;
    /// `errc::foreign_file`; a system error that retrying cannot mend.
    ///
    /// Cancellation (terminal, partial or total, through the handler's cancellation slot or an
    /// awaitable operator `||`) completes the wait with `boost::asio::error::operation_aborted`,
    /// distinct from `errc::timed_out`. A cancelled wait leaves no claim file; if the attempt in
    /// flight when cancelled had won the lock, the lock is released before completion.
    template <class Rep, class Period, class CompletionToken = boost::asio::deferred_t>
    auto async_acquire(std::chrono::duration<Rep, Period> timeout, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
            [](auto handler, async_file_lock* self, std::chrono::nanoseconds t) {
                self->start_acquire(t, completion_handler(std::move(handler)));
            },
            token, this, detail::to_timeout(timeout));
    }

    /// Releases the lock after checking that this object still holds it; the next waiter of the
    /// same path in this process is handed the lock at once. Completes with success,
    /// `errc::not_locked`, `errc::lock_lost` (the lock was broken meanwhile; nothing of the new
    /// holder's is removed), or a system error. Not cancellable.
    template <class CompletionToken = boost::asio::deferred_t>
    auto async_release(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
            [](auto handler, async_file_lock* self) {
                self->start_release(completion_handler(std::move(handler)));
            },
            token, this);
    }

    /// Extends the lock to `now + lifetime` after checking that it is still held. Completes with
    /// success, `errc::not_locked`, `errc::lock_lost` or a system error. Not cancellable.
    template <class CompletionToken = boost::asio::deferred_t>
    auto async_refresh(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
            [](auto handler, async_file_lock* self) {
                self->start_refresh(completion_handler(std::move(handler)));
            },
            token, this);
    }

    /// Completes when this object stops holding the lock: with `errc::lock_lost` when another
    /// process broke or removed it, or a refresh of the keep-alive failed until expiry; with
    /// `boost::asio::error::operation_aborted` when this object released it, or when the wait is
    /// cancelled; at once with `errc::not_locked` if the lock is not held.
    template <class CompletionToken = boost::asio::deferred_t>
    auto async_wait_lost(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
            [](auto handler, async_file_lock* self) {
                self->start_wait_lost(completion_handler(std::move(handler)));
            },
            token, this);
    }

    /// The deferred forms, for `co_await`.
    template <class Rep, class Period>
    auto acquire(std::chrono::duration<Rep, Period> timeout) {
        return async_acquire(timeout, boost::asio::deferred);
    }
    auto release() { return async_release(boost::asio::deferred); }
    auto refresh() { return async_refresh(boost::asio::deferred); }
    auto wait_lost() { return async_wait_lost(boost::asio::deferred); }

    /// Has the service refresh the lock every third of its lifetime while it is held, until it
    /// is released or lost; `async_wait_lost` tells when it was lost. Call it after acquiring;
    /// it stays on for later acquisitions of this object.
    void keep_alive(bool on = true);

    /// True while this object holds the lock, as far as this process knows (no system call).
    bool held() const noexcept;

    const std::string& path() const noexcept;
    const std::string& claim_path() const noexcept;

private:
    void start_acquire(std::chrono::nanoseconds timeout, completion_handler handler);
    void start_release(completion_handler handler);
    void start_refresh(completion_handler handler);
    void start_wait_lost(completion_handler handler);

    std::shared_ptr<detail::async_lock_impl> impl_;
};

} // namespace locknix

#endif
