// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#ifndef LOCKNIX_FILE_LOCK_HPP
#define LOCKNIX_FILE_LOCK_HPP

#include <locknix/detail/duration.hpp>
#include <locknix/error.hpp>
#include <locknix/lock_options.hpp>
#include <locknix/lock_state.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

namespace locknix {

/// An NFS-safe file lock with a lifetime, driven by blocking calls.
///
/// The lock is held while the lock file is a hard link to this object's claim file
/// (`<path>|<host>|<pid>|<random>` in the same directory). Every acquisition stamps the claim's
/// mtime with `now + lifetime`; once `lifetime + clock_slop` has passed without a refresh, any
/// other process may break the lock. The on-disk protocol is the one of Python's flufl.lock, so
/// both exclude each other on the same path.
///
/// Ownership belongs to the object: two objects on one path exclude each other, even in one
/// process. After `fork()` the child does not own the parent's lock, and its destructor leaves
/// the parent's lock and claim alone.
///
/// Errors: the overloads with a `boost::system::error_code&` report through it and never throw
/// for lock or system failures; the others throw `boost::system::system_error` whose message
/// names the operation and the path. Lock conditions are `locknix::errc` values; system failures
/// keep their errno.
///
/// Thread safety: one object may be used from several threads; its operations are serialised by
/// an internal mutex. A wait in `acquire` holds that mutex, so other calls on the same object wait
/// for it to end.
///
/// Satisfies the standard's TimedLockable, so `std::unique_lock` and `std::scoped_lock` work.
/// `lock()` waits without a deadline.
class file_lock {
public:
    /// Prepares a lock on `path`, made absolute against the current directory. Touches no file:
    /// the claim file is created by the first acquisition.
    ///
    /// Throws `boost::system::system_error` when the path is empty, ends in '/', contains '|',
    /// when the host name cannot be used in a claim name, when a claim name would be longer than
    /// NAME_MAX, or when an option is out of range.
    explicit file_lock(std::string_view path, lock_options options = {});

    /// Stops the keep-alive, releases the lock if this object holds it, and removes the claim
    /// file. Does nothing of that in a forked child.
    ~file_lock();

    file_lock(const file_lock&) = delete;
    file_lock& operator=(const file_lock&) = delete;

    /// Waits up to `timeout` for the lock. Any duration is accepted; zero or negative means one
    /// attempt, which still breaks an expired lock. An expired lock of another holder is broken
    /// as soon as it is breakable. Errors: `errc::timed_out`, `errc::already_locked`,
    /// `errc::foreign_file`, and the errno of a failure that retrying cannot mend (a missing
    /// directory, EACCES, EROFS, ENOSPC, ...).
    template <class Rep, class Period>
    void acquire(std::chrono::duration<Rep, Period> timeout) {
        boost::system::error_code ec;
        acquire_for(detail::to_timeout(timeout), ec);
        throw_on_error(ec, "acquire");
    }

    template <class Rep, class Period>
    void acquire(std::chrono::duration<Rep, Period> timeout, boost::system::error_code& ec) {
        acquire_for(detail::to_timeout(timeout), ec);
    }

    /// As above, and a stop request through `stop` ends the wait at once with
    /// `boost::system::errc::operation_canceled` (distinct from `errc::timed_out`), leaving no
    /// claim file. The request may come from any thread.
    template <class Rep, class Period>
    void acquire(std::chrono::duration<Rep, Period> timeout, std::stop_token stop) {
        boost::system::error_code ec;
        acquire_for(detail::to_timeout(timeout), std::move(stop), ec);
        throw_on_error(ec, "acquire");
    }

    template <class Rep, class Period>
    void acquire(std::chrono::duration<Rep, Period> timeout, std::stop_token stop,
                 boost::system::error_code& ec) {
        acquire_for(detail::to_timeout(timeout), std::move(stop), ec);
    }

    /// One attempt; true if this object now holds the lock. Breaks an expired lock first.
    bool try_acquire();
    bool try_acquire(boost::system::error_code& ec);

    /// Releases the lock after checking that this object still holds it. If the lock was broken
    /// meanwhile, reports `errc::lock_lost` and removes nothing of the new holder's.
    void release();
    void release(boost::system::error_code& ec);

    /// Extends the lock to `now + lifetime` after checking that this object still holds it.
    /// Errors: `errc::not_locked`, `errc::lock_lost`.
    void refresh();
    void refresh(boost::system::error_code& ec);

    /// Starts a background thread that refreshes the lock every third of its lifetime until the
    /// lock is released. If a refresh finds the lock lost (or fails for a lifetime), `on_lost` is
    /// called once on that thread with the error, and refreshing stops. Errors:
    /// `errc::not_locked` if the lock is not held.
    void keep_alive(std::function<void(boost::system::error_code)> on_lost = {});
    void keep_alive(std::function<void(boost::system::error_code)> on_lost,
                    boost::system::error_code& ec);

    /// True if this object holds the lock, checked on disk (the claim's link count, or the lock
    /// file's content where the file system reports no link counts). Does not refresh. When the
    /// check itself fails (a passing NFS error), the overload with `ec` reports it; both then
    /// answer what the object believes, which is the answer of its last successful check.
    bool is_held() const;
    bool is_held(boost::system::error_code& ec) const;

    /// The current holder of the lock, whoever it is; empty when the lock file does not exist.
    /// Errors: `errc::foreign_file` if the file at the lock path is not a lock.
    std::optional<holder_info> holder() const;
    std::optional<holder_info> holder(boost::system::error_code& ec) const;

    /// Breaks the lock held by `holder` (as returned by `holder()`), expired or not: for operators
    /// who know that holder is gone. Breakers are serialised as for expired locks, and only that
    /// holder's lock is removed, with its claim file: if the lock changed hands since `holder` was
    /// read, nothing is removed and the error is `errc::not_locked`; a file that is not a lock is
    /// reported as `errc::foreign_file` and left alone. While another process is breaking the
    /// lock (its breaker mutex stays taken over three tries), the error is
    /// `boost::system::errc::resource_unavailable_try_again` and nothing is removed.
    void break_lock(const holder_info& holder);
    void break_lock(const holder_info& holder, boost::system::error_code& ec);

    /// The current lock's expiry (its mtime), whoever holds it; empty when unlocked.
    std::optional<std::chrono::system_clock::time_point> expiration() const;

    /// What the lock path holds, seen by this object.
    lock_state state() const;
    lock_state state(boost::system::error_code& ec) const;

    /// The absolute lock path and this object's claim path.
    const std::string& path() const noexcept;
    const std::string& claim_path() const noexcept;
    const lock_options& options() const noexcept;

    // TimedLockable.
    void lock() { acquire(std::chrono::nanoseconds::max()); }
    bool try_lock() { return try_acquire(); }
    void unlock() { release(); }

    template <class Rep, class Period>
    bool try_lock_for(std::chrono::duration<Rep, Period> timeout) {
        boost::system::error_code ec;
        acquire_for(detail::to_timeout(timeout), ec);
        if (ec == errc::timed_out)
            return false;
        throw_on_error(ec, "acquire");
        return true;
    }

    template <class Clock, class Duration>
    bool try_lock_until(std::chrono::time_point<Clock, Duration> deadline) {
        return try_lock_for(deadline - Clock::now());
    }

private:
    void acquire_for(std::chrono::nanoseconds timeout, boost::system::error_code& ec) {
        acquire_for(timeout, std::stop_token(), ec);
    }
    void acquire_for(std::chrono::nanoseconds timeout, std::stop_token stop,
                     boost::system::error_code& ec);
    [[noreturn]] void throw_error(boost::system::error_code ec, const char* operation) const;
    void throw_on_error(boost::system::error_code ec, const char* operation) const {
        if (ec)
            throw_error(ec, operation);
    }

    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace locknix

#endif
