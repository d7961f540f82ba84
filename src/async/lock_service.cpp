// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "lock_service.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <climits>
#include <cstring>
#include <sys/inotify.h>
#include <unistd.h>

namespace locknix::detail {

namespace asio = boost::asio;
using boost::system::error_code;
using std::chrono::nanoseconds;

asio::execution_context::id lock_service::id;

namespace {

// A timeout this long never ends in practice; no deadline timer is armed for it.
constexpr auto forever = std::chrono::hours(24 * 365 * 100);

std::string dir_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == 0 ? "/" : path.substr(0, slash);
}

} // namespace

async_lock_impl::async_lock_impl(lock_service& s, asio::any_io_executor ex, std::string_view path,
                                 lock_options options, async_options a, error_code& ec)
    : service(s), executor(std::move(ex)), async(a), core(path, std::move(options), ec) {}

async_lock_impl::~async_lock_impl() = default;

lock_service::lock_service(asio::execution_context& context)
    : asio::execution_context::service(context) {
    // Services shut down in the reverse order of their creation. The strand service must outlive
    // this one's shutdown, which waits for the pool's calls, and they post back to the strand.
    asio::use_service<asio::detail::strand_executor_service>(context);
}

lock_service::~lock_service() = default;

const strand_executor& lock_service::strand(const asio::any_io_executor& executor) {
    std::lock_guard guard(strand_mutex_);
    if (!strand_)
        strand_.emplace(asio::make_strand(executor));
    return *strand_;
}

void lock_service::shutdown() {
    // Let the system calls already handed to the pool finish: among them are the releases of
    // destroyed locks.
    pool_.join();
    for (auto& [path, entry] : entries_) {
        for (auto& op : entry.queue)
            op->lock->pending.reset();
        entry.queue.clear();
    }
    entries_.clear();
    inotify_.reset();
    // The strand belongs to a service that is destroyed before this one.
    std::lock_guard guard(strand_mutex_);
    strand_.reset();
}

template <class Work, class Then>
void lock_service::offload(async_lock_impl& lock, Work work, Then then) {
    // The tracked executor keeps the context's run() going while the call is on the pool.
    auto back = asio::prefer(*strand_, asio::execution::outstanding_work.tracked);
    if (lock.async.syscalls == syscall_mode::event_loop) {
        asio::post(*strand_,
                   [work = std::move(work), then = std::move(then)]() mutable { then(work()); });
        return;
    }
    asio::post(pool_,
               [back = std::move(back), work = std::move(work), then = std::move(then)]() mutable {
                   auto result = work();
                   asio::post(back, [then = std::move(then), result = std::move(result)]() mutable {
                       then(std::move(result));
                   });
               });
}

void lock_service::complete(pending_handler h, error_code ec) {
    if (h.slot.is_connected())
        h.slot.clear();
    if (!h.handler)
        return;
    // Leave the strand first, then run the handler on its own executor.
    auto work = std::move(h.work);
    asio::post(work, [handler = std::move(h.handler), ec]() mutable {
        const auto executor = asio::get_associated_executor(handler);
        asio::dispatch(executor,
                       [handler = std::move(handler), ec]() mutable { std::move(handler)(ec); });
    });
}

lock_service::path_entry& lock_service::entry_of(const async_lock_impl& lock) {
    auto& entry = entries_[lock.core.lock_path()];
    if (entry.dir.empty())
        entry.dir = dir_of(lock.core.lock_path());
    return entry;
}

void lock_service::acquire(std::shared_ptr<async_lock_impl> lock, nanoseconds timeout,
                           pending_handler h) {
    // The operation and its cancellation handler exist before the initiating call returns, so
    // that a cancellation emitted right after it is not lost: it is posted behind the
    // registration below.
    auto& fs = lock->core.fs();
    const auto& o = lock->core.options();
    wait_policy policy(o.min_poll, o.max_poll, deadline_after(fs.steady_now(), timeout));
    auto op = std::make_shared<acquire_op>(std::move(lock), std::move(h), policy, *strand_);
    if (op->handler.slot.is_connected()) {
        std::weak_ptr<acquire_op> weak = op;
        op->handler.slot.assign([this, weak](asio::cancellation_type) {
            asio::post(*strand_, [this, weak] {
                if (auto alive = weak.lock())
                    cancel(alive);
            });
        });
    }

    asio::post(*strand_, [this, op, timeout] {
        auto& l = *op->lock;
        if (l.held || l.pending || l.closing) {
            op->now = acquire_op::phase::done;
            return complete(std::move(op->handler),
                            l.held ? error_code(errc::already_locked)
                                   : boost::system::errc::make_error_code(
                                         boost::system::errc::operation_in_progress));
        }
        l.pending = op;

        auto& entry = entry_of(l);
        entry.queue.push_back(op);
        if (entry.queue.front() == op)
            return probe(op, entry); // a prober ends through its policy
        if (timeout >= forever)
            return;
        // Parked behind another waiter, it ends here, after one attempt of its own if it never
        // made one: every wait tries at least once. A parked waiter that becomes the prober
        // ends through its policy instead.
        op->deadline.expires_after(timeout);
        op->deadline.async_wait([this, op](error_code ec) {
            if (ec || op->now != acquire_op::phase::parked)
                return;
            if (op->attempted)
                finish(op, errc::timed_out);
            else
                begin_attempt(op);
        });
    });
}

void lock_service::probe(const std::shared_ptr<acquire_op>& op, path_entry& entry) {
    if (!entry.holder || entry.holder == op->lock.get())
        return begin_attempt(op);

    // Behind a holder of this process, nobody can take the lock before that holder's expiry plus
    // slop unless it releases, and a release here hands over at once: look then, not before.
    auto& fs = op->lock->core.fs();
    const auto deadline = op->policy.deadline();
    const auto now = fs.steady_now();
    using wall = std::chrono::system_clock;
    const wall::time_point expiry(wall::duration(entry.holder->expiry_ticks.load()));
    const auto slop =
        std::min<nanoseconds>(op->lock->core.options().clock_slop, std::chrono::hours(24 * 365));
    const auto left = expiry - fs.wall_now() + slop + std::chrono::milliseconds(1);
    auto until = now;
    if (left >= deadline - now)
        until = deadline;
    else if (left > nanoseconds::zero())
        until = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(left);
    wait_then_attempt(op, entry, until);
}

void lock_service::begin_attempt(const std::shared_ptr<acquire_op>& op) {
    op->now = acquire_op::phase::attempting;
    op->attempted = true;
    offload(
        *op->lock,
        [lock = op->lock] {
            std::lock_guard guard(lock->core_mutex);
            error_code ec;
            auto result = lock->core.attempt(ec);
            lock->note_expiry();
            return std::make_pair(std::move(result), ec);
        },
        [this, op](std::pair<attempt_result, error_code> r) {
            on_attempt(op, std::move(r.first), r.second);
        });
}

void lock_service::on_attempt(const std::shared_ptr<acquire_op>& op, attempt_result result,
                              error_code ec) {
    auto& lock = *op->lock;
    const bool acquired = !ec && result.outcome == attempt_outcome::acquired;

    if (op->cancelled) {
        // Cancelled while the attempt was in flight: give back what it may have won. The phase
        // stays "attempting" until then, so that the deadline cannot end the wait as timed out.
        if (acquired) {
            offload(
                lock,
                [l = op->lock] {
                    std::lock_guard guard(l->core_mutex);
                    error_code e;
                    l->core.release(e);
                    return e;
                },
                [this, op](error_code) { finish(op, asio::error::operation_aborted); });
            return;
        }
        finish(op, asio::error::operation_aborted);
        return;
    }
    if (ec) {
        finish(op, ec);
        return;
    }
    if (acquired) {
        lock.held = true;
        lock.held_flag = true;
        entry_of(lock).holder = &lock;
        finish(op, {});
        if (lock.keep_alive)
            arm_refresher(op->lock, false);
        return;
    }

    auto& fs = lock.core.fs();
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    const auto next = op->policy.next(result, fs.steady_now(), fs.wall_now(), uniform(random_));
    switch (next.what) {
    case wait_decision::action::give_up:
        op->now = acquire_op::phase::parked;
        finish(op, errc::timed_out);
        return;
    case wait_decision::action::attempt:
        begin_attempt(op);
        return;
    case wait_decision::action::wait:
        wait_then_attempt(op, entry_of(lock), next.until);
        return;
    }
}

void lock_service::wait_then_attempt(const std::shared_ptr<acquire_op>& op, path_entry& entry,
                                     std::chrono::steady_clock::time_point until) {
    const auto& o = op->lock->core.options();
    if (o.use_inotify && !entry.watching) {
        entry.watching = true;
        watch(entry.dir);
    }
    op->now = acquire_op::phase::polling;
    if (!entry.poll)
        entry.poll.emplace(*strand_);
    entry.poll->expires_after(until - op->lock->core.fs().steady_now());
    // Also woken early (cancelled) by an inotify event for the lock file.
    entry.poll->async_wait([this, op](error_code) {
        if (op->now == acquire_op::phase::polling && !op->cancelled)
            begin_attempt(op);
    });
}

void lock_service::finish(const std::shared_ptr<acquire_op>& op, error_code ec) {
    if (op->now == acquire_op::phase::done)
        return;
    const bool was_polling = op->now == acquire_op::phase::polling;
    op->now = acquire_op::phase::done;
    op->deadline.cancel();

    auto& lock = *op->lock;
    const std::string& path = lock.core.lock_path();
    auto& entry = entry_of(lock);
    if (was_polling && entry.poll)
        entry.poll->cancel();
    entry.queue.remove(op);
    if (lock.pending == op)
        lock.pending.reset();

    if (!ec || !op->attempted) {
        complete(std::move(op->handler), ec);
    } else {
        // No claim file outlives a failed wait.
        offload(
            lock,
            [l = op->lock] {
                std::lock_guard guard(l->core_mutex);
                l->core.abandon();
                return 0;
            },
            [this, op, ec](int) { complete(std::move(op->handler), ec); });
    }
    // A waiter that leaves changes nothing on disk: the prober, if still there, keeps its pace.
    promote(path, false);
}

void lock_service::cancel(const std::shared_ptr<acquire_op>& op) {
    if (op->now == acquire_op::phase::done)
        return;
    if (op->now == acquire_op::phase::attempting) {
        op->cancelled = true;
        return;
    }
    finish(op, asio::error::operation_aborted);
}

void lock_service::promote(const std::string& path, bool released) {
    const auto it = entries_.find(path);
    if (it == entries_.end())
        return;
    auto& entry = it->second;
    if (!entry.queue.empty()) {
        // The first waiter probes, also behind another object of this process that holds the
        // lock (which may lose it to a breaker elsewhere); on a release here it tries at once.
        const auto& head = entry.queue.front();
        if (head->now == acquire_op::phase::parked)
            probe(head, entry);
        else if (released && head->now == acquire_op::phase::polling && !entry.holder && entry.poll)
            entry.poll->cancel(); // try at once
        return;
    }
    // No waiter left: nothing needs the watch, and a pending read on it would keep the context's
    // run() going. The entry stays while an object of this process holds the lock.
    if (entry.watching) {
        entry.watching = false;
        unwatch(entry.dir);
    }
    if (!entry.holder)
        entries_.erase(it);
}

void lock_service::arm_refresher(const std::shared_ptr<async_lock_impl>& lock, bool soon) {
    const auto& o = lock->core.options();
    const auto period = o.lifetime / 3;
    if (!lock->refresher)
        lock->refresher = std::make_unique<strand_timer>(*strand_);
    lock->refresher->expires_after(soon ? std::max<nanoseconds>(o.min_poll, period / 10) : period);
    lock->refresher->async_wait([this, lock](error_code ec) {
        if (ec || !lock->held || !lock->keep_alive)
            return;
        offload(
            *lock,
            [lock] {
                std::lock_guard guard(lock->core_mutex);
                error_code e;
                lock->core.refresh(e);
                lock->note_expiry();
                const bool expired = lock->core.fs().wall_now() >= lock->core.expiry();
                return std::make_pair(e, expired);
            },
            [this, lock](std::pair<error_code, bool> r) {
                if (!lock->held)
                    return;
                const auto [e, expired] = r;
                if (!e) {
                    arm_refresher(lock, false);
                } else if (e == errc::lock_lost) {
                    on_released(*lock, e);
                } else if (!expired) {
                    arm_refresher(lock, true); // try again soon, until the lock would expire
                } else {
                    // Still ours on disk, but past its expiry: anyone may break it now. Tell
                    // the holder; release() still removes it if it is still ours.
                    tell_lost(*lock);
                }
            });
    });
}

void lock_service::tell_lost(async_lock_impl& lock) {
    auto waiters = std::move(lock.lost_waiters);
    lock.lost_waiters.clear();
    for (auto& w : waiters)
        complete(std::move(w), errc::lock_lost);
}

void lock_service::on_released(async_lock_impl& lock, error_code why) {
    lock.held = false;
    lock.held_flag = false;
    if (lock.refresher)
        lock.refresher->cancel();
    auto waiters = std::move(lock.lost_waiters);
    lock.lost_waiters.clear();
    const error_code told =
        why == errc::lock_lost ? why : error_code(asio::error::operation_aborted);
    for (auto& w : waiters)
        complete(std::move(w), told);

    auto& entry = entry_of(lock);
    if (entry.holder == &lock)
        entry.holder = nullptr;
    promote(lock.core.lock_path(), true);
}

void lock_service::release(std::shared_ptr<async_lock_impl> lock, pending_handler h) {
    asio::post(*strand_, [this, lock = std::move(lock), h = std::move(h)]() mutable {
        if (!lock->held)
            return complete(std::move(h), errc::not_locked);
        offload(
            *lock,
            [lock] {
                std::lock_guard guard(lock->core_mutex);
                error_code e;
                lock->core.release(e);
                return std::make_pair(e, lock->core.held());
            },
            [this, lock, h = std::move(h)](std::pair<error_code, bool> r) mutable {
                // A failure that left the lock in place (the unlink failed) keeps it held.
                if (!r.second)
                    on_released(*lock, r.first == errc::lock_lost ? r.first : error_code{});
                complete(std::move(h), r.first);
            });
    });
}

void lock_service::refresh(std::shared_ptr<async_lock_impl> lock, pending_handler h) {
    asio::post(*strand_, [this, lock = std::move(lock), h = std::move(h)]() mutable {
        if (!lock->held)
            return complete(std::move(h), errc::not_locked);
        offload(
            *lock,
            [lock] {
                std::lock_guard guard(lock->core_mutex);
                error_code e;
                lock->core.refresh(e);
                lock->note_expiry();
                return e;
            },
            [this, lock, h = std::move(h)](error_code e) mutable {
                if (e == errc::lock_lost && lock->held)
                    on_released(*lock, e);
                complete(std::move(h), e);
            });
    });
}

void lock_service::wait_lost(std::shared_ptr<async_lock_impl> lock, pending_handler h) {
    asio::post(*strand_, [this, lock = std::move(lock), h = std::move(h)]() mutable {
        if (!lock->held)
            return complete(std::move(h), errc::not_locked);
        lock->lost_waiters.push_back(std::move(h));
        auto it = std::prev(lock->lost_waiters.end());
        if (it->slot.is_connected()) {
            std::weak_ptr<async_lock_impl> weak = lock;
            it->slot.assign([this, weak, it](asio::cancellation_type) {
                asio::post(*strand_, [this, weak, it] {
                    auto l = weak.lock();
                    if (!l)
                        return;
                    for (auto i = l->lost_waiters.begin(); i != l->lost_waiters.end(); ++i) {
                        if (i == it) {
                            auto w = std::move(*i);
                            l->lost_waiters.erase(i);
                            complete(std::move(w), asio::error::operation_aborted);
                            return;
                        }
                    }
                });
            });
        }
    });
}

void lock_service::set_keep_alive(std::shared_ptr<async_lock_impl> lock, bool on) {
    asio::post(*strand_, [this, lock = std::move(lock), on] {
        const bool was = lock->keep_alive;
        lock->keep_alive = on;
        if (on && !was && lock->held)
            arm_refresher(lock, false);
        if (!on && lock->refresher)
            lock->refresher->cancel();
    });
}

void lock_service::close(std::shared_ptr<async_lock_impl> lock) {
    // Release the lock and remove the claim on the pool at once, whether or not the event loop
    // still runs; then settle the registry on the strand and hand the lock on.
    auto back = asio::prefer(*strand_, asio::execution::outstanding_work.tracked);
    asio::post(pool_, [this, lock = std::move(lock), back = std::move(back)]() mutable {
        {
            std::lock_guard guard(lock->core_mutex);
            lock->core.close();
        }
        asio::post(back, [this, lock = std::move(lock)] {
            lock->closing = true;
            lock->keep_alive = false;
            if (auto pending = lock->pending) // finish() resets the member
                cancel(pending);
            for (auto& w : lock->lost_waiters)
                complete(std::move(w), asio::error::operation_aborted);
            lock->lost_waiters.clear();
            if (lock->refresher)
                lock->refresher->cancel();
            if (lock->held)
                on_released(*lock, {});
        });
    });
}

void lock_service::watch(const std::string& dir) {
    auto& state = dirs_[dir];
    if (state.users++ > 0)
        return;
    if (!inotify_) {
        const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd < 0)
            return;
        inotify_.emplace(*strand_, fd);
        events_.resize(16 * (sizeof(struct inotify_event) + NAME_MAX + 1));
    }
    if (!reading_)
        read_events();
    // Resolving the directory may block on a network file system: do it on the pool.
    const int fd = inotify_->native_handle();
    asio::post(pool_, [this, fd, dir,
                       back = asio::prefer(*strand_, asio::execution::outstanding_work.tracked)] {
        const int wd = ::inotify_add_watch(fd, dir.c_str(), IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR);
        asio::post(back, [this, dir, wd] {
            if (wd < 0)
                return;
            const auto it = dirs_.find(dir);
            if (it == dirs_.end() || it->second.users == 0) {
                if (inotify_)
                    ::inotify_rm_watch(inotify_->native_handle(), wd);
                return;
            }
            it->second.wd = wd;
            wds_[wd] = dir;
            // A release between the probe that found the lock held and this watch raised no
            // event: each prober in the directory looks once more, now that none will be missed.
            for (auto& [path, entry] : entries_) {
                if (entry.dir == dir && !entry.queue.empty() && entry.poll &&
                    entry.queue.front()->now == acquire_op::phase::polling)
                    entry.poll->cancel();
            }
        });
    });
}

void lock_service::unwatch(const std::string& dir) {
    const auto it = dirs_.find(dir);
    if (it == dirs_.end() || --it->second.users > 0)
        return;
    if (it->second.wd >= 0 && inotify_) {
        ::inotify_rm_watch(inotify_->native_handle(), it->second.wd);
        wds_.erase(it->second.wd);
    }
    dirs_.erase(it);
    // A pending read would keep the context's run() going with no waiter left.
    if (dirs_.empty() && inotify_)
        inotify_->cancel();
}

void lock_service::read_events() {
    reading_ = true;
    inotify_->async_read_some(asio::buffer(events_), [this](error_code ec, std::size_t n) {
        reading_ = false;
        if (ec) {
            if (ec == asio::error::operation_aborted && !dirs_.empty())
                read_events(); // cancelled when the last watch went, and a new one came since
            return;
        }
        for (std::size_t at = 0; at + sizeof(struct inotify_event) <= n;) {
            struct inotify_event event;
            std::memcpy(&event, events_.data() + at, sizeof event);
            const char* name = events_.data() + at + sizeof event;
            at += sizeof event + event.len;

            const auto dir = wds_.find(event.wd);
            if (dir == wds_.end() || event.len == 0)
                continue;
            const std::string path = (dir->second == "/" ? "" : dir->second) + "/" + name;
            const auto entry = entries_.find(path);
            if (entry == entries_.end() || entry->second.queue.empty())
                continue;
            if (entry->second.queue.front()->now == acquire_op::phase::polling &&
                entry->second.poll)
                entry->second.poll->cancel();
        }
        if (!dirs_.empty())
            read_events();
    });
}

} // namespace locknix::detail
