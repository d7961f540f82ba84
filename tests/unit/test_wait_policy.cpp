// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The wait policy (wait_policy.cpp) is pure: it is driven here step by step with made-up clocks
// and random numbers.

#include "wait_policy.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cmath>
#include <vector>

using namespace std::chrono_literals;
using locknix::detail::attempt_outcome;
using locknix::detail::attempt_result;
using locknix::detail::deadline_after;
using locknix::detail::wait_decision;
using policy = locknix::detail::wait_policy;
using std::chrono::nanoseconds;

namespace {

using action = wait_decision::action;
using steady = std::chrono::steady_clock;
using wall = std::chrono::system_clock;

const steady::time_point t0 = steady::time_point(1000s);
const wall::time_point w0 = wall::time_point(std::chrono::seconds(1'700'000'000));
const double almost_one = std::nextafter(1.0, 0.0);

attempt_result contended(std::optional<wall::time_point> breakable_at = std::nullopt) {
    return {attempt_outcome::contended, std::nullopt, breakable_at};
}

attempt_result outcome(attempt_outcome o) {
    return {o, std::nullopt, std::nullopt};
}

nanoseconds delay_of(const wait_decision& d, steady::time_point now) {
    return std::chrono::duration_cast<nanoseconds>(d.until - now);
}

} // namespace

BOOST_AUTO_TEST_SUITE(wait_policy)

BOOST_AUTO_TEST_CASE(random_zero_waits_the_minimum) {
    policy p(10ms, 80ms, t0 + 1h);
    for (int i = 0; i < 8; ++i) {
        const auto d = p.next(contended(), t0, w0, 0.0);
        BOOST_TEST((d.what == action::wait));
        BOOST_TEST(delay_of(d, t0) == nanoseconds(10ms));
    }
}

BOOST_AUTO_TEST_CASE(random_almost_one_reaches_a_doubling_ceiling) {
    policy p(10ms, 80ms, t0 + 1h);
    const nanoseconds ceilings[] = {10ms, 20ms, 40ms, 80ms, 80ms, 80ms, 80ms};
    for (const auto ceiling : ceilings) {
        const auto d = p.next(contended(), t0, w0, almost_one);
        BOOST_TEST_CONTEXT("ceiling " << ceiling.count()) {
            BOOST_TEST((d.what == action::wait));
            BOOST_TEST(delay_of(d, t0) <= ceiling);
            BOOST_TEST(delay_of(d, t0) > ceiling - 1us);
        }
    }
}

BOOST_AUTO_TEST_CASE(full_jitter_stays_between_minimum_and_maximum) {
    for (const double r : {0.0, 0.1, 0.25, 0.5, 0.75, 0.9, almost_one}) {
        policy p(5ms, 500ms, t0 + 1h);
        for (int i = 0; i < 40; ++i) {
            const auto d = p.next(contended(), t0, w0, r);
            BOOST_TEST_CONTEXT("random " << r << " poll " << i) {
                BOOST_TEST((d.what == action::wait));
                BOOST_TEST(delay_of(d, t0) >= nanoseconds(5ms));
                BOOST_TEST(delay_of(d, t0) <= nanoseconds(500ms));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(the_middle_of_the_jitter_is_the_middle_of_the_span) {
    policy p(10ms, 10ms + 1s, t0 + 1h);
    for (int i = 0; i < 10; ++i)
        p.next(contended(), t0, w0, 0.0); // reach the ceiling
    const auto d = p.next(contended(), t0, w0, 0.5);
    BOOST_TEST(delay_of(d, t0) == nanoseconds(10ms + 500ms));
}

BOOST_AUTO_TEST_CASE(equal_minimum_and_maximum_wait_exactly_that) {
    policy p(7ms, 7ms, t0 + 1h);
    for (const double r : {0.0, 0.5, almost_one})
        BOOST_TEST(delay_of(p.next(contended(), t0, w0, r), t0) == nanoseconds(7ms));
}

BOOST_AUTO_TEST_CASE(a_maximum_below_the_minimum_is_the_minimum) {
    policy p(20ms, 5ms, t0 + 1h);
    BOOST_TEST(delay_of(p.next(contended(), t0, w0, almost_one), t0) == nanoseconds(20ms));
}

BOOST_AUTO_TEST_CASE(wakes_one_millisecond_after_the_lock_becomes_breakable) {
    policy p(100ms, 100ms, t0 + 1h);
    const auto d = p.next(contended(w0 + 3ms), t0, w0, 0.5);
    BOOST_TEST((d.what == action::wait));
    BOOST_TEST(delay_of(d, t0) == nanoseconds(4ms));
}

BOOST_AUTO_TEST_CASE(a_breakable_time_beyond_the_backoff_does_not_delay_the_poll) {
    policy p(10ms, 10ms, t0 + 1h);
    const auto d = p.next(contended(w0 + 1s), t0, w0, 0.5);
    BOOST_TEST(delay_of(d, t0) == nanoseconds(10ms));
}

BOOST_AUTO_TEST_CASE(a_breakable_time_in_the_past_means_now) {
    policy p(10ms, 10ms, t0 + 1h);
    const auto d = p.next(contended(w0 - 1s), t0, w0, 0.5);
    BOOST_TEST((d.what == action::wait));
    BOOST_TEST((d.until == t0));
}

BOOST_AUTO_TEST_CASE(never_waits_beyond_the_deadline) {
    for (const nanoseconds left :
         {nanoseconds(1), nanoseconds(1ms), nanoseconds(4ms), nanoseconds(5ms), nanoseconds(6ms),
          nanoseconds(99ms), nanoseconds(1s)}) {
        for (const double r : {0.0, 0.5, almost_one}) {
            policy p(5ms, 100ms, t0 + left);
            steady::time_point now = t0;
            for (int i = 0; i < 1000 && now < t0 + left; ++i) {
                const auto d = p.next(contended(w0 + 2h), now, w0, r);
                BOOST_TEST_CONTEXT("left " << left.count() << " random " << r << " poll " << i) {
                    BOOST_TEST((d.what == action::wait));
                    BOOST_TEST((d.until <= t0 + left));
                    BOOST_TEST((d.until > now));
                }
                now = d.until;
            }
            // The last wait ends exactly at the deadline, for one last attempt there.
            BOOST_TEST((now == t0 + left));
        }
    }
}

BOOST_AUTO_TEST_CASE(gives_up_only_after_an_attempt_at_or_after_the_deadline) {
    policy p(5ms, 100ms, t0 + 50ms);
    BOOST_TEST((p.next(contended(), t0 + 50ms - 1ns, w0, 0.5).what == action::wait));
    BOOST_TEST((p.next(contended(), t0 + 50ms - 1ns, w0, 0.5).until == t0 + 50ms));
    BOOST_TEST((p.next(contended(), t0 + 50ms, w0, 0.5).what == action::give_up));
    BOOST_TEST((p.next(contended(), t0 + 1h, w0, 0.5).what == action::give_up));
    BOOST_TEST(
        (p.next(outcome(attempt_outcome::retry), t0 + 50ms, w0, 0.5).what == action::give_up));
}

BOOST_AUTO_TEST_CASE(a_zero_timeout_gives_up_after_the_first_attempt) {
    policy p(5ms, 100ms, deadline_after(t0, 0ns));
    BOOST_TEST((p.next(contended(), t0, w0, 0.5).what == action::give_up));
}

BOOST_AUTO_TEST_CASE(retry_now_is_immediate_but_limited) {
    policy p(5ms, 100ms, t0 + 1h);
    for (unsigned i = 0; i < policy::max_immediate; ++i) {
        const auto d = p.next(outcome(attempt_outcome::retry_now), t0, w0, 0.5);
        BOOST_TEST((d.what == action::attempt));
        BOOST_TEST((d.until == t0));
    }
    // Then it insists on a pause ...
    BOOST_TEST((p.next(outcome(attempt_outcome::retry_now), t0, w0, 0.5).what == action::wait));
    // ... after which immediate attempts are allowed again.
    BOOST_TEST((p.next(outcome(attempt_outcome::retry_now), t0, w0, 0.5).what == action::attempt));
}

BOOST_AUTO_TEST_CASE(retry_now_at_the_deadline_attempts_before_giving_up) {
    policy p(5ms, 100ms, t0);
    for (unsigned i = 0; i < policy::max_immediate; ++i)
        BOOST_TEST(
            (p.next(outcome(attempt_outcome::retry_now), t0, w0, 0.5).what == action::attempt));
    BOOST_TEST((p.next(outcome(attempt_outcome::retry_now), t0, w0, 0.5).what == action::give_up));
}

BOOST_AUTO_TEST_CASE(retry_backs_off_like_contention) {
    policy p(10ms, 80ms, t0 + 1h);
    BOOST_TEST(delay_of(p.next(outcome(attempt_outcome::retry), t0, w0, 0.0), t0) ==
               nanoseconds(10ms));
    const auto d = p.next(outcome(attempt_outcome::retry), t0, w0, almost_one);
    BOOST_TEST(delay_of(d, t0) > nanoseconds(19ms));
    BOOST_TEST(delay_of(d, t0) <= nanoseconds(20ms));
}

BOOST_AUTO_TEST_CASE(deadline_after_adds_and_saturates) {
    BOOST_TEST((deadline_after(t0, 0ns) == t0));
    BOOST_TEST((deadline_after(t0, 5s) == t0 + 5s));
    BOOST_TEST((deadline_after(t0, nanoseconds::max()) == steady::time_point::max()));
    BOOST_TEST((deadline_after(t0, nanoseconds::max() - 1s) == steady::time_point::max()));
    policy p(5ms, 100ms, deadline_after(t0, nanoseconds::max()));
    const auto d = p.next(contended(), t0, w0, 0.5);
    BOOST_TEST((d.what == action::wait));
    BOOST_TEST(delay_of(d, t0) <= nanoseconds(100ms));
}

BOOST_AUTO_TEST_CASE(the_breakable_wake_up_survives_a_near_deadline) {
    // Backoff 500 ms, lock breakable in 100 ms, deadline in 300 ms: wake to break it at 101 ms.
    policy p(500ms, 500ms, t0 + 300ms);
    const auto d = p.next(contended(w0 + 100ms), t0, w0, 0.5);
    BOOST_TEST((d.what == action::wait));
    BOOST_TEST(delay_of(d, t0) == nanoseconds(101ms));
}

BOOST_AUTO_TEST_CASE(a_large_minimum_poll_does_not_overflow_the_ceiling) {
    // min_poll * 2^k overflows 64-bit nanoseconds for a minute and k = 28.
    policy p(1min, 10min, t0 + 1000h);
    for (int i = 0; i < 64; ++i) {
        const auto d = p.next(contended(), t0, w0, 0.5);
        BOOST_TEST_CONTEXT("poll " << i) {
            BOOST_TEST((d.until >= t0 + 1min));
            BOOST_TEST((d.until <= t0 + 10min));
        }
    }
}

BOOST_AUTO_TEST_CASE(the_largest_polls_do_not_overflow) {
    const auto huge = nanoseconds::max() / 4;
    policy p(huge, nanoseconds::max() / 2, steady::time_point::max());
    for (int i = 0; i < 8; ++i) {
        const auto d = p.next(contended(), t0, w0, almost_one);
        BOOST_TEST((d.what == action::wait));
        BOOST_TEST((d.until >= t0 + huge));
    }
}

BOOST_AUTO_TEST_SUITE_END()
