// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include <locknix/file_lock.hpp>

#include "dir_watch.hpp"
#include "protocol.hpp"
#include "wait_policy.hpp"

#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

namespace locknix {

using boost::system::error_code;

struct file_lock::impl {
    impl(std::string_view path, lock_options options, error_code& ec)
        : core(path, std::move(options), ec), random(std::random_device{}()),
          creator_pid(core.fs().process_id()) {}

    // Serialises the operations of the lock, including the keep-alive's refreshes.
    mutable std::mutex mutex;
    detail::protocol core;
    std::mt19937_64 random;
    int creator_pid;
    // The wake-ups of waits, kept from the first wait on (see dir_watch.hpp).
    std::optional<detail::dir_watch> watch;

    // The keep-alive thread and what it waits on.
    std::thread refresher;
    int refresher_pid = 0; // the process that started it: a forked child has no such thread
    std::mutex refresher_mutex;
    std::condition_variable refresher_wake;
    bool refresher_stop = false;

    void stop_refresher();
    void run_refresher(std::function<void(error_code)> on_lost);
};

void file_lock::impl::stop_refresher() {
    if (refresher.joinable() && refresher_pid != core.fs().process_id()) {
        // A forked child: the thread does not exist here, and the mutexes it may have held at
        // the fork stay locked forever. Touch neither.
        refresher.detach();
        return;
    }
    {
        std::lock_guard guard(refresher_mutex);
        refresher_stop = true;
    }
    refresher_wake.notify_all();
    if (!refresher.joinable())
        return;
    if (refresher.get_id() == std::this_thread::get_id()) {
        // Called from the on_lost callback: the thread ends when the callback returns.
        refresher.detach();
        return;
    }
    refresher.join();
}

void file_lock::impl::run_refresher(std::function<void(error_code)> on_lost) {
    const auto period = core.options().lifetime / 3;
    const auto retry = std::max<std::chrono::nanoseconds>(core.options().min_poll, period / 10);
    auto wait = period;
    std::unique_lock stop_guard(refresher_mutex);
    for (;;) {
        if (refresher_wake.wait_for(stop_guard, wait, [this] { return refresher_stop; }))
            return;
        stop_guard.unlock();

        error_code ec;
        bool expired = false;
        {
            std::lock_guard guard(mutex);
            core.refresh(ec);
            expired = core.fs().wall_now() >= core.expiry();
        }
        // A passing fault is retried sooner, until the lock would expire unrefreshed.
        const bool give_up = ec && (!detail::is_transient(ec) || expired);
        if (give_up) {
            if (on_lost)
                on_lost(ec);
            return;
        }
        wait = ec ? retry : period;
        stop_guard.lock();
    }
}

file_lock::file_lock(std::string_view path, lock_options options) {
    error_code ec;
    impl_ = std::make_unique<impl>(path, std::move(options), ec);
    if (ec)
        throw_error(ec, "prepare the lock");
}

file_lock::~file_lock() {
    if (impl_->core.fs().process_id() == impl_->creator_pid) {
        impl_->stop_refresher();
        std::lock_guard guard(impl_->mutex);
        impl_->core.close();
        return;
    }

    // A forked child of the process that made the object. The parent's threads do not exist
    // here, yet its mutexes and condition variable may still count them: locking could wait
    // forever, and glibc's pthread_cond_destroy does wait. Release what the child itself took,
    // if the mutex is free, and leave the memory to the process's exit.
    impl* inherited = impl_.release();
    if (inherited->refresher.joinable()) {
        if (inherited->refresher_pid == inherited->core.fs().process_id())
            inherited->stop_refresher(); // the child's own keep-alive
        else
            inherited->refresher.detach();
    }
    if (inherited->mutex.try_lock()) {
        inherited->core.close();
        inherited->mutex.unlock();
    }
}

void file_lock::acquire_for(std::chrono::nanoseconds timeout, std::stop_token stop,
                            error_code& ec) {
    ec.clear();
    std::lock_guard guard(impl_->mutex);
    auto& core = impl_->core;
    auto& fs = core.fs();
    const auto& o = core.options();
    const error_code cancelled(ECANCELED, boost::system::generic_category());
    if (stop.stop_requested()) {
        ec = cancelled;
        return;
    }

    struct waker {
        detail::dir_watch* watch;
        void operator()() const noexcept { watch->wake(); }
    };
    detail::wait_policy policy(o.min_poll, o.max_poll,
                               detail::deadline_after(fs.steady_now(), timeout));
    // Disarmed when the wait ends, however it ends; declared before the stop callback that uses it.
    struct disarm_at_end {
        std::optional<detail::dir_watch>* watch = nullptr;
        ~disarm_at_end() {
            if (watch && *watch)
                (*watch)->disarm();
        }
    } disarm;
    bool armed = false;
    std::optional<std::stop_callback<waker>> on_stop;
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (;;) {
        const auto result = core.attempt(ec);
        if (ec || result.outcome == detail::attempt_outcome::acquired) {
            if (ec && ec != errc::already_locked)
                core.abandon();
            return;
        }

        const auto next =
            policy.next(result, fs.steady_now(), fs.wall_now(), uniform(impl_->random));
        if (next.what == detail::wait_decision::action::give_up) {
            core.abandon();
            ec = errc::timed_out;
            return;
        }
        if (next.what == detail::wait_decision::action::attempt)
            continue;

        auto& watch = impl_->watch;
        if (!armed) {
            if (!watch)
                watch.emplace(core.lock_path());
            watch->arm(o.use_inotify, stop.stop_possible());
            disarm.watch = &watch;
            armed = true;
            if (stop.stop_possible())
                on_stop.emplace(stop, waker{&*watch});
            // The lock may have gone before the watch was in place: look once more first.
            if (o.use_inotify)
                continue;
        }
        if (watch->wait_for(next.until - fs.steady_now()) || stop.stop_requested()) {
            core.abandon();
            ec = cancelled;
            return;
        }
    }
}

bool file_lock::try_acquire() {
    error_code ec;
    const bool acquired = try_acquire(ec);
    if (ec && ec != errc::timed_out)
        throw_error(ec, "acquire");
    return acquired;
}

bool file_lock::try_acquire(error_code& ec) {
    acquire_for(std::chrono::nanoseconds::zero(), ec);
    if (ec == errc::timed_out) {
        ec.clear();
        return false;
    }
    return !ec;
}

void file_lock::release() {
    error_code ec;
    release(ec);
    throw_on_error(ec, "release");
}

void file_lock::release(error_code& ec) {
    ec.clear();
    impl_->stop_refresher();
    std::lock_guard guard(impl_->mutex);
    impl_->core.release(ec);
}

void file_lock::refresh() {
    error_code ec;
    refresh(ec);
    throw_on_error(ec, "refresh");
}

void file_lock::refresh(error_code& ec) {
    ec.clear();
    std::lock_guard guard(impl_->mutex);
    impl_->core.refresh(ec);
}

void file_lock::keep_alive(std::function<void(error_code)> on_lost) {
    error_code ec;
    keep_alive(std::move(on_lost), ec);
    throw_on_error(ec, "keep alive");
}

void file_lock::keep_alive(std::function<void(error_code)> on_lost, error_code& ec) {
    ec.clear();
    impl_->stop_refresher();
    {
        std::lock_guard guard(impl_->mutex);
        if (!impl_->core.held()) {
            ec = errc::not_locked;
            return;
        }
    }
    // The thread takes this mutex first, so it sees the assignment below complete.
    std::lock_guard starting(impl_->refresher_mutex);
    impl_->refresher_stop = false;
    impl_->refresher_pid = impl_->core.fs().process_id();
    impl_->refresher = std::thread(
        [this, on_lost = std::move(on_lost)]() mutable { impl_->run_refresher(on_lost); });
}

bool file_lock::is_held() const {
    error_code ignored;
    return is_held(ignored);
}

bool file_lock::is_held(error_code& ec) const {
    ec.clear();
    std::lock_guard guard(impl_->mutex);
    return impl_->core.verify_held(ec);
}

std::optional<holder_info> file_lock::holder() const {
    error_code ec;
    auto h = holder(ec);
    throw_on_error(ec, "read the holder");
    return h;
}

std::optional<holder_info> file_lock::holder(error_code& ec) const {
    ec.clear();
    std::lock_guard guard(impl_->mutex);
    return impl_->core.holder(ec);
}

void file_lock::break_lock(const holder_info& holder) {
    error_code ec;
    break_lock(holder, ec);
    throw_on_error(ec, "break the lock");
}

void file_lock::break_lock(const holder_info& holder, error_code& ec) {
    ec.clear();
    std::lock_guard guard(impl_->mutex);
    impl_->core.break_holder(holder, ec);
}

std::optional<std::chrono::system_clock::time_point> file_lock::expiration() const {
    auto h = holder();
    if (!h)
        return std::nullopt;
    return h->expiry;
}

lock_state file_lock::state() const {
    error_code ec;
    const auto s = state(ec);
    throw_on_error(ec, "read the state");
    return s;
}

lock_state file_lock::state(error_code& ec) const {
    ec.clear();
    std::lock_guard guard(impl_->mutex);
    return impl_->core.state(ec);
}

const std::string& file_lock::path() const noexcept {
    return impl_->core.lock_path();
}

const std::string& file_lock::claim_path() const noexcept {
    return impl_->core.claim_path();
}

const lock_options& file_lock::options() const noexcept {
    return impl_->core.options();
}

void file_lock::throw_error(error_code ec, const char* operation) const {
    std::string what = "locknix: cannot ";
    const auto& failure = impl_->core.failure();
    if (failure.error == ec && !failure.operation.empty())
        what += failure.operation + " " + failure.path;
    else
        what += std::string(operation) + " " + impl_->core.lock_path();
    throw boost::system::system_error(ec, what);
}

} // namespace locknix
