// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// When to try again. Pure: it reads no clock and makes no system call, so the same decisions
// drive the blocking and the asynchronous front ends and can be tested step by step.

#ifndef LOCKNIX_SRC_WAIT_POLICY_HPP
#define LOCKNIX_SRC_WAIT_POLICY_HPP

#include "protocol.hpp"

#include <chrono>

namespace locknix::detail {

struct wait_decision {
    enum class action {
        /// Attempt again at once.
        attempt,
        /// Wait until `until` (or an earlier wake-up), then attempt again.
        wait,
        /// The deadline has passed after an attempt: fail with `errc::timed_out`.
        give_up,
    };
    action what = action::give_up;
    std::chrono::steady_clock::time_point until{};
};

/// Backoff with full jitter between `min_poll` and a ceiling that doubles with every poll up to
/// `max_poll`; a wake-up exactly when the seen holder's lock becomes breakable; never a wait past
/// the deadline, and one last attempt at the deadline itself.
class wait_policy {
public:
    using steady_time = std::chrono::steady_clock::time_point;
    using wall_time = std::chrono::system_clock::time_point;

    /// The number of immediate attempts allowed in a row (after a break, a vanished lock, a
    /// recreated claim) before the policy insists on a pause.
    static constexpr unsigned max_immediate = 3;

    wait_policy(std::chrono::nanoseconds min_poll, std::chrono::nanoseconds max_poll,
                steady_time deadline) noexcept;

    /// The next step after an attempt that did not acquire. `random` is uniform in [0, 1).
    wait_decision next(const attempt_result& last, steady_time now, wall_time wall_now,
                       double random) noexcept;

    steady_time deadline() const noexcept { return deadline_; }

private:
    std::chrono::nanoseconds min_poll_;
    std::chrono::nanoseconds max_poll_;
    steady_time deadline_;
    unsigned polls_ = 0;
    unsigned immediate_ = 0;
};

/// `now + timeout`, saturating at the largest time point.
std::chrono::steady_clock::time_point deadline_after(std::chrono::steady_clock::time_point now,
                                                     std::chrono::nanoseconds timeout) noexcept;

} // namespace locknix::detail

#endif
