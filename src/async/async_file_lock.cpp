// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include <locknix/async_file_lock.hpp>

#include "lock_service.hpp"

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/query.hpp>

namespace locknix {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

detail::pending_handler track(async_file_lock::completion_handler handler,
                              const asio::any_io_executor& fallback) {
    // Move-construct, never move-assign: Boost 1.81's any_completion_handler move assignment
    // wraps the handler in itself without end.
    auto slot = asio::get_associated_cancellation_slot(handler);
    return detail::pending_handler{
        std::move(handler), asio::prefer(fallback, asio::execution::outstanding_work.tracked),
        slot};
}

detail::lock_service& service_of(const asio::any_io_executor& executor) {
    return asio::use_service<detail::lock_service>(asio::query(executor, asio::execution::context));
}

} // namespace

async_file_lock::async_file_lock(executor_type executor, std::string_view path,
                                 lock_options options, async_options async) {
    auto& service = service_of(executor);
    service.strand(executor);
    error_code ec;
    impl_ = std::make_shared<detail::async_lock_impl>(service, std::move(executor), path,
                                                      std::move(options), async, ec);
    if (ec) {
        const auto& failure = impl_->core.failure();
        throw boost::system::system_error(ec, "locknix: cannot " + failure.operation + " " +
                                                  failure.path);
    }
}

async_file_lock::~async_file_lock() {
    impl_->service.close(impl_);
}

async_file_lock::executor_type async_file_lock::get_executor() const noexcept {
    return impl_->executor;
}

void async_file_lock::start_acquire(std::chrono::nanoseconds timeout, completion_handler handler) {
    impl_->service.acquire(impl_, timeout, track(std::move(handler), impl_->executor));
}

void async_file_lock::start_release(completion_handler handler) {
    impl_->service.release(impl_, track(std::move(handler), impl_->executor));
}

void async_file_lock::start_refresh(completion_handler handler) {
    impl_->service.refresh(impl_, track(std::move(handler), impl_->executor));
}

void async_file_lock::start_wait_lost(completion_handler handler) {
    impl_->service.wait_lost(impl_, track(std::move(handler), impl_->executor));
}

void async_file_lock::keep_alive(bool on) {
    impl_->service.set_keep_alive(impl_, on);
}

bool async_file_lock::held() const noexcept {
    return impl_->held_flag;
}

const std::string& async_file_lock::path() const noexcept {
    return impl_->core.lock_path();
}

const std::string& async_file_lock::claim_path() const noexcept {
    return impl_->core.claim_path();
}

} // namespace locknix
