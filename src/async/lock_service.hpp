// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The lock service of one execution context: the registry of waiters keyed by lock path, the
// prober of each path, in-process hand-off, keep-alive refreshes, inotify wake-ups, and the
// thread pool that runs the system calls. All of its state lives on one strand.

#ifndef LOCKNIX_SRC_ASYNC_LOCK_SERVICE_HPP
#define LOCKNIX_SRC_ASYNC_LOCK_SERVICE_HPP

#include "../protocol.hpp"
#include "../wait_policy.hpp"

#include <locknix/async_file_lock.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace locknix::detail {

class lock_service;

/// The service's strand, kept as its own type: copying it costs no allocation, where an
/// `any_io_executor` holding a strand allocates at every copy. Its timers hold it the same way.
using strand_executor = boost::asio::strand<boost::asio::any_io_executor>;
using strand_timer =
    boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                      boost::asio::wait_traits<std::chrono::steady_clock>,
                                      strand_executor>;

/// A completion handler, and the work it keeps counted on the lock's executor until it runs.
struct pending_handler {
    async_file_lock::completion_handler handler;
    boost::asio::any_io_executor work;
    boost::asio::cancellation_slot slot;
};

class async_lock_impl;

/// One pending acquisition.
struct acquire_op {
    enum class phase { parked, attempting, polling, done };

    acquire_op(std::shared_ptr<async_lock_impl> l, pending_handler h, wait_policy p,
               const strand_executor& strand)
        : lock(std::move(l)), handler(std::move(h)), policy(p), deadline(strand) {}

    std::shared_ptr<async_lock_impl> lock;
    pending_handler handler;
    wait_policy policy;
    strand_timer deadline;
    phase now = phase::parked;
    bool attempted = false;
    bool cancelled = false;
};

/// The state of one async_file_lock, shared with the work in flight for it.
class async_lock_impl {
public:
    async_lock_impl(lock_service& service, boost::asio::any_io_executor executor,
                    std::string_view path, lock_options options, async_options async,
                    boost::system::error_code& ec);
    ~async_lock_impl();

    lock_service& service;
    boost::asio::any_io_executor executor;
    async_options async;

    // The protocol runs on pool threads; one call at a time.
    std::mutex core_mutex;
    protocol core;

    // Read from any thread.
    std::atomic<bool> held_flag{false};
    // The expiry last stamped, in system_clock ticks; written under core_mutex.
    std::atomic<std::chrono::system_clock::rep> expiry_ticks{0};
    void note_expiry() { expiry_ticks = core.expiry().time_since_epoch().count(); }

    // Strand-only state.
    bool held = false;
    bool keep_alive = false;
    bool closing = false;
    std::shared_ptr<acquire_op> pending;
    // Made on the first keep-alive: most locks never have one.
    std::unique_ptr<strand_timer> refresher;
    std::list<pending_handler> lost_waiters;
};

class lock_service final : public boost::asio::execution_context::service {
public:
    using key_type = lock_service;
    static boost::asio::execution_context::id id;

    explicit lock_service(boost::asio::execution_context& context);
    ~lock_service() override;

    /// The strand of this service, made from the first executor that asks.
    const strand_executor& strand(const boost::asio::any_io_executor& executor);

    void acquire(std::shared_ptr<async_lock_impl> lock, std::chrono::nanoseconds timeout,
                 pending_handler handler);
    void release(std::shared_ptr<async_lock_impl> lock, pending_handler handler);
    void refresh(std::shared_ptr<async_lock_impl> lock, pending_handler handler);
    void wait_lost(std::shared_ptr<async_lock_impl> lock, pending_handler handler);
    void set_keep_alive(std::shared_ptr<async_lock_impl> lock, bool on);
    void close(std::shared_ptr<async_lock_impl> lock);

private:
    struct path_entry {
        std::list<std::shared_ptr<acquire_op>> queue;
        async_lock_impl* holder = nullptr;
        std::optional<strand_timer> poll;
        std::string dir;
        bool watching = false;
    };

    void shutdown() override;

    template <class Work, class Then>
    void offload(async_lock_impl& lock, Work work, Then then);

    path_entry& entry_of(const async_lock_impl& lock);
    void probe(const std::shared_ptr<acquire_op>& op, path_entry& entry);
    void begin_attempt(const std::shared_ptr<acquire_op>& op);
    void on_attempt(const std::shared_ptr<acquire_op>& op, attempt_result result,
                    boost::system::error_code ec);
    void wait_then_attempt(const std::shared_ptr<acquire_op>& op, path_entry& entry,
                           std::chrono::steady_clock::time_point until);
    void finish(const std::shared_ptr<acquire_op>& op, boost::system::error_code ec);
    void cancel(const std::shared_ptr<acquire_op>& op);
    // Hands the path on to its next waiter; `released` when a holder of this process let go.
    void promote(const std::string& path, bool released);
    void on_released(async_lock_impl& lock, boost::system::error_code ec);
    void tell_lost(async_lock_impl& lock);
    void arm_refresher(const std::shared_ptr<async_lock_impl>& lock, bool soon);
    void complete(pending_handler handler, boost::system::error_code ec);
    void watch(const std::string& dir);
    void unwatch(const std::string& dir);
    void read_events();

    std::mutex strand_mutex_;
    std::optional<strand_executor> strand_;
    boost::asio::thread_pool pool_{2};

    std::unordered_map<std::string, path_entry> entries_;
    std::mt19937_64 random_{std::random_device{}()};

    // inotify: one descriptor for the context, one watch per directory with waiters.
    std::optional<boost::asio::posix::stream_descriptor> inotify_;
    bool reading_ = false;
    struct dir_watch_state {
        int wd = -1;
        int users = 0;
    };
    std::unordered_map<std::string, dir_watch_state> dirs_;
    std::unordered_map<int, std::string> wds_;
    std::vector<char> events_;
};

} // namespace locknix::detail

#endif
