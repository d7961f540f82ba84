// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <fcntl.h>
#include <optional>
#include <stdexcept>

namespace locknix::test {

void run_until(asio::io_context& io, const std::function<bool()>& done) {
    io.restart();
    while (!done()) {
        if (io.run_one() == 0)
            throw std::logic_error("the io_context ran out of work before the awaited completion");
    }
}

void drain(asio::io_context& io) {
    io.restart();
    io.run();
}

void run_coroutine(asio::io_context& io, asio::awaitable<void> coroutine) {
    bool finished = false;
    std::exception_ptr error;
    asio::co_spawn(io, std::move(coroutine), [&](std::exception_ptr e) {
        finished = true;
        error = e;
    });
    run_until(io, [&] { return finished; });
    if (error)
        std::rethrow_exception(error);
}

void async_event::notify() {
    asio::post(io_, [this] {
        notified_ = true;
        timer_.cancel();
    });
}

asio::awaitable<void> async_event::wait() {
    while (!notified_) {
        timer_.expires_at(asio::steady_timer::time_point::max());
        co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

void gate::wait_here() {
    if (opened_.wait_for(std::chrono::minutes(1)) != std::future_status::ready)
        gave_up_ = true;
}

void gate::open() {
    std::call_once(once_, [this] { promise_.set_value(); });
}

asio::awaitable<void> service_round_trip(const std::string& dir) {
    async_file_lock idle(co_await asio::this_coro::executor, dir + "/service-round-trip");
    const auto [ec] = co_await idle.async_release(asio::as_tuple(asio::use_awaitable));
    if (ec != errc::not_locked)
        throw std::logic_error("an idle lock object's release did not report not_locked");
}

counting_fs::counts counting_fs::snapshot() const noexcept {
    counts c;
    c.open = open_.load();
    c.create = create_.load();
    c.lstat = lstat_.load();
    c.link = link_.load();
    c.unlink = unlink_.load();
    c.set_times = set_times_.load();
    c.all = all_.load();
    return c;
}

int counting_fs::open(const std::string& path, int flags, unsigned mode, error_code& ec) {
    ++open_;
    if ((flags & O_CREAT) != 0)
        ++create_;
    ++all_;
    return inner_->open(path, flags, mode, ec);
}

std::size_t counting_fs::read(int fd, void* buffer, std::size_t size, error_code& ec) {
    ++all_;
    return inner_->read(fd, buffer, size, ec);
}

std::size_t counting_fs::write(int fd, const void* data, std::size_t size, error_code& ec) {
    ++all_;
    return inner_->write(fd, data, size, ec);
}

void counting_fs::close(int fd, error_code& ec) {
    ++all_;
    inner_->close(fd, ec);
}

file_status counting_fs::fstat(int fd, error_code& ec) {
    ++all_;
    return inner_->fstat(fd, ec);
}

file_status counting_fs::lstat(const std::string& path, error_code& ec) {
    ++lstat_;
    ++all_;
    return inner_->lstat(path, ec);
}

void counting_fs::link(const std::string& from, const std::string& to, error_code& ec) {
    ++link_;
    ++all_;
    inner_->link(from, to, ec);
}

void counting_fs::unlink(const std::string& path, error_code& ec) {
    ++unlink_;
    ++all_;
    inner_->unlink(path, ec);
}

void counting_fs::rename(const std::string& from, const std::string& to, error_code& ec) {
    ++all_;
    inner_->rename(from, to, ec);
}

void counting_fs::mkdir(const std::string& path, error_code& ec) {
    ++all_;
    inner_->mkdir(path, ec);
}

void counting_fs::rmdir(const std::string& path, error_code& ec) {
    ++all_;
    inner_->rmdir(path, ec);
}

void counting_fs::set_times(const std::string& path, wall_clock::time_point time, error_code& ec) {
    ++set_times_;
    ++all_;
    inner_->set_times(path, time, ec);
}

file_system::steady_clock::time_point counting_fs::steady_now() {
    if (steady_callback_)
        steady_callback_();
    return inner_->steady_now();
}

std::ostream& operator<<(std::ostream& out, front_end_kind kind) {
    switch (kind) {
    case front_end_kind::blocking:
        return out << "blocking";
    case front_end_kind::async_thread_pool:
        return out << "async(thread_pool)";
    case front_end_kind::async_event_loop:
        return out << "async(event_loop)";
    }
    return out << "?";
}

namespace {

class blocking_lock final : public lock_under_test {
public:
    blocking_lock(const std::string& path, lock_options options)
        : lock_(path, std::move(options)) {}

    error_code acquire(std::chrono::nanoseconds timeout) override {
        error_code ec;
        lock_.acquire(timeout, ec);
        return ec;
    }
    error_code release() override {
        error_code ec;
        lock_.release(ec);
        return ec;
    }
    error_code refresh() override {
        error_code ec;
        lock_.refresh(ec);
        return ec;
    }
    const std::string& claim_path() const override { return lock_.claim_path(); }

private:
    file_lock lock_;
};

class async_lock final : public lock_under_test {
public:
    async_lock(asio::io_context& io, const std::string& path, lock_options options,
               syscall_mode mode)
        : io_(io),
          lock_(std::in_place, io.get_executor(), path, std::move(options), async_options{mode}) {}

    // The destructor of async_file_lock only schedules the release and the claim's removal.
    ~async_lock() override {
        lock_.reset();
        drain(io_);
    }

    error_code acquire(std::chrono::nanoseconds timeout) override {
        return complete([&](auto handler) { lock_->async_acquire(timeout, std::move(handler)); });
    }
    error_code release() override {
        return complete([&](auto handler) { lock_->async_release(std::move(handler)); });
    }
    error_code refresh() override {
        return complete([&](auto handler) { lock_->async_refresh(std::move(handler)); });
    }
    const std::string& claim_path() const override { return lock_->claim_path(); }

private:
    template <class Initiate>
    error_code complete(Initiate initiate) {
        std::optional<error_code> result;
        initiate([&result](error_code ec) { result = ec; });
        run_until(io_, [&] { return result.has_value(); });
        return *result;
    }

    asio::io_context& io_;
    std::optional<async_file_lock> lock_;
};

} // namespace

std::unique_ptr<lock_under_test> front_end::make(const std::string& path, lock_options options) {
    switch (kind_) {
    case front_end_kind::blocking:
        return std::make_unique<blocking_lock>(path, std::move(options));
    case front_end_kind::async_thread_pool:
        return std::make_unique<async_lock>(io_, path, std::move(options),
                                            syscall_mode::thread_pool);
    case front_end_kind::async_event_loop:
        return std::make_unique<async_lock>(io_, path, std::move(options),
                                            syscall_mode::event_loop);
    }
    throw std::logic_error("unknown front end");
}

std::size_t claims_in(const temp_dir& dir, const std::string& lock_name) {
    std::size_t n = 0;
    for (const auto& name : dir.names())
        if (name.starts_with(lock_name + "|"))
            ++n;
    return n;
}

} // namespace locknix::test
