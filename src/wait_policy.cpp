// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "wait_policy.hpp"

#include <algorithm>

namespace locknix::detail {

using std::chrono::nanoseconds;

wait_policy::wait_policy(nanoseconds min_poll, nanoseconds max_poll, steady_time deadline) noexcept
    : min_poll_(min_poll), max_poll_(std::max(max_poll, min_poll)), deadline_(deadline) {}

wait_decision wait_policy::next(const attempt_result& last, steady_time now, wall_time wall_now,
                                double random) noexcept {
    using action = wait_decision::action;

    if (last.outcome == attempt_outcome::retry_now && immediate_ < max_immediate) {
        ++immediate_;
        return {action::attempt, now};
    }
    immediate_ = 0;
    if (now >= deadline_)
        return {action::give_up, now};

    // Full jitter: anywhere between the floor and a ceiling that doubles with each poll.
    nanoseconds ceiling = min_poll_;
    for (unsigned i = 0; i < polls_ && ceiling < max_poll_; ++i)
        ceiling = ceiling <= max_poll_ / 2 ? ceiling * 2 : max_poll_;
    ceiling = std::min(ceiling, max_poll_);
    if (ceiling < max_poll_)
        ++polls_;
    const auto span = static_cast<double>((ceiling - min_poll_).count());
    const auto delay = min_poll_ + nanoseconds(static_cast<nanoseconds::rep>(span * random));
    steady_time wake = now + delay;

    // Be there when the holder's lock becomes breakable: the protocol requires the wall clock to
    // be strictly past expiry plus slop, hence the millisecond.
    if (last.breakable_at) {
        const auto until_breakable = *last.breakable_at - wall_now + std::chrono::milliseconds(1);
        if (until_breakable < delay)
            wake = now + std::max(nanoseconds::zero(),
                                  std::chrono::duration_cast<nanoseconds>(until_breakable));
    }

    if (wake >= deadline_)
        wake = deadline_;
    return {action::wait, wake};
}

std::chrono::steady_clock::time_point deadline_after(std::chrono::steady_clock::time_point now,
                                                     nanoseconds timeout) noexcept {
    using tp = std::chrono::steady_clock::time_point;
    if (timeout >= tp::max() - now)
        return tp::max();
    return now + std::chrono::duration_cast<tp::duration>(timeout);
}

} // namespace locknix::detail
