// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// What the async tests share: driving an io_context until something happened, events that pool
// threads can signal to the event loop, a round trip through the lock service, a counting seam,
// and the adapter that runs one behaviour table through the blocking and the async front ends.

#ifndef LOCKNIX_TESTS_ASYNC_SUPPORT_HPP
#define LOCKNIX_TESTS_ASYNC_SUPPORT_HPP

#include "test_support.hpp"

#include <locknix/async_file_lock.hpp>
#include <locknix/file_lock.hpp>
#include <locknix/file_system.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>

namespace locknix::test {

namespace asio = boost::asio;
using boost::system::error_code;

/// Runs handlers of `io` one at a time until `done()` holds. Fails the test (throws) if the
/// context runs out of work first: the awaited completion would then never come.
void run_until(asio::io_context& io, const std::function<bool()>& done);

/// Runs `io` until it has no work left.
void drain(asio::io_context& io);

/// Runs the coroutine on `io` to its end and rethrows what it threw.
void run_coroutine(asio::io_context& io, asio::awaitable<void> coroutine);

/// An event that any thread may signal and a coroutine on the event loop may wait for.
class async_event {
public:
    explicit async_event(asio::io_context& io) : io_(io), timer_(io) {}

    /// Safe from any thread: the state changes on the event loop.
    void notify();

    /// Waits until notify() has been called (returns at once if it has been).
    asio::awaitable<void> wait();

    bool notified() const noexcept { return notified_; }

private:
    asio::io_context& io_;
    asio::steady_timer timer_;
    bool notified_ = false;
};

/// A gate at which a seam hook holds a system call, on a pool thread, until the test opens it.
/// A front end that waited for that call itself would deadlock; the gate then gives up after a
/// minute and says so (gave_up()), so that the test fails instead of hanging. Opens on
/// destruction, so that no pool thread is left blocked when a test fails early.
class gate {
public:
    gate() = default;
    ~gate() { open(); }
    gate(const gate&) = delete;
    gate& operator=(const gate&) = delete;

    void wait_here();
    void open();
    bool gave_up() const noexcept { return gave_up_; }

private:
    std::promise<void> promise_;
    std::shared_future<void> opened_ = promise_.get_future().share();
    std::once_flag once_;
    std::atomic<bool> gave_up_{false};
};

/// Completes after everything that was posted to the lock service of the calling coroutine's
/// executor before it: the release of an idle lock object (errc::not_locked) goes through the
/// service's strand like every operation. `dir` holds the idle object's (never created) files.
asio::awaitable<void> service_round_trip(const std::string& dir);

/// A seam over another that counts the calls a waiter makes (open, claims created, lstat, link,
/// and all file calls), and lets a test observe reads of the steady clock, which only the front
/// ends make.
class counting_fs final : public file_system {
public:
    explicit counting_fs(std::shared_ptr<file_system> inner) : inner_(std::move(inner)) {}

    struct counts {
        std::size_t open = 0;
        std::size_t create = 0; // opens with O_CREAT: claims made
        std::size_t lstat = 0;
        std::size_t link = 0;
        std::size_t unlink = 0;
        std::size_t set_times = 0;
        std::size_t all = 0;
        std::size_t probe() const noexcept { return open + lstat + link; }
    };
    counts snapshot() const noexcept;

    /// Called on every read of the steady clock, on the thread that reads it.
    void on_steady_now(std::function<void()> callback) { steady_callback_ = std::move(callback); }

    int open(const std::string& path, int flags, unsigned mode, error_code& ec) override;
    std::size_t read(int fd, void* buffer, std::size_t size, error_code& ec) override;
    std::size_t write(int fd, const void* data, std::size_t size, error_code& ec) override;
    void close(int fd, error_code& ec) override;
    file_status fstat(int fd, error_code& ec) override;
    file_status lstat(const std::string& path, error_code& ec) override;
    void link(const std::string& from, const std::string& to, error_code& ec) override;
    void unlink(const std::string& path, error_code& ec) override;
    void rename(const std::string& from, const std::string& to, error_code& ec) override;
    void mkdir(const std::string& path, error_code& ec) override;
    void rmdir(const std::string& path, error_code& ec) override;
    void set_times(const std::string& path, wall_clock::time_point time, error_code& ec) override;
    wall_clock::time_point wall_now() override { return inner_->wall_now(); }
    steady_clock::time_point steady_now() override;
    std::string host_name(error_code& ec) override { return inner_->host_name(ec); }
    int process_id() override { return inner_->process_id(); }

private:
    std::shared_ptr<file_system> inner_;
    std::function<void()> steady_callback_;
    std::atomic<std::size_t> open_{0}, create_{0}, lstat_{0}, link_{0}, unlink_{0}, set_times_{0},
        all_{0};
};

/// The front ends one behaviour table runs through.
enum class front_end_kind { blocking, async_thread_pool, async_event_loop };
std::ostream& operator<<(std::ostream& out, front_end_kind kind);
inline constexpr std::array all_front_ends{
    front_end_kind::blocking, front_end_kind::async_thread_pool, front_end_kind::async_event_loop};

/// One lock object driven through one front end, reporting through error codes. The async
/// adapter initiates the operation with a callback and runs the event loop until it completes.
class lock_under_test {
public:
    virtual ~lock_under_test() = default;
    virtual error_code acquire(std::chrono::nanoseconds timeout) = 0;
    virtual error_code release() = 0;
    virtual error_code refresh() = 0;
    virtual const std::string& claim_path() const = 0;
};

/// One process's lock objects of one front end: async objects share one io_context, hence one
/// lock service (its registry, hand-off and prober), as objects of one server would. Destroy the
/// objects before the front end.
class front_end {
public:
    explicit front_end(front_end_kind kind) : kind_(kind) {}
    std::unique_ptr<lock_under_test> make(const std::string& path, lock_options options);
    front_end_kind kind() const noexcept { return kind_; }

private:
    front_end_kind kind_;
    asio::io_context io_;
};

/// The claim-path prefix of `lock`'s claims: `<lock>|`.
inline std::string claim_prefix(const std::string& lock) {
    return lock + "|";
}

/// The names in `dir` that are claims of `lock` (the basenames starting with `<name>|`).
std::size_t claims_in(const temp_dir& dir, const std::string& lock_name);

} // namespace locknix::test

#endif
