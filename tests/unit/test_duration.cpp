// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// detail::to_timeout: every std::chrono duration becomes a timeout in nanoseconds, rounded up,
// negative values clamped to zero and huge ones to "forever".

#include <locknix/detail/duration.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <limits>
#include <ratio>

using namespace std::chrono_literals;
using locknix::detail::to_timeout;
using std::chrono::nanoseconds;

BOOST_AUTO_TEST_SUITE(duration)

BOOST_AUTO_TEST_CASE(integral_durations_convert_exactly) {
    BOOST_TEST(to_timeout(5ns).count() == 5);
    BOOST_TEST(to_timeout(7ms).count() == 7'000'000);
    BOOST_TEST(to_timeout(3s).count() == 3'000'000'000);
    BOOST_TEST(to_timeout(2min).count() == 120'000'000'000);
    BOOST_TEST(to_timeout(std::chrono::duration<unsigned>(4)).count() == 4'000'000'000);
}

BOOST_AUTO_TEST_CASE(floating_durations_are_accepted_and_rounded_up) {
    // 0.05 is not exact in binary: it becomes 50 ms, or 1 ns more when rounded up.
    const auto fifty = to_timeout(std::chrono::duration<double>(0.05));
    BOOST_TEST(fifty >= nanoseconds(50ms));
    BOOST_TEST(fifty <= nanoseconds(50ms) + 1ns);
    BOOST_TEST(to_timeout(std::chrono::duration<double>(0.25)).count() == 250'000'000);
    BOOST_TEST(to_timeout(std::chrono::duration<float, std::milli>(20.5f)).count() == 20'500'000);
    // Half a nanosecond is still a wait: never shorter than asked.
    BOOST_TEST(to_timeout(std::chrono::duration<double, std::nano>(0.5)).count() == 1);
    // A third of a second is 333333333.3 ns.
    BOOST_TEST(to_timeout(std::chrono::duration<long long, std::ratio<1, 3>>(1)).count() ==
               333'333'334);
}

BOOST_AUTO_TEST_CASE(zero_and_negative_mean_one_attempt) {
    BOOST_TEST(to_timeout(0s).count() == 0);
    BOOST_TEST(to_timeout(-1ns).count() == 0);
    BOOST_TEST(to_timeout(-5s).count() == 0);
    BOOST_TEST(to_timeout(std::chrono::duration<double>(-0.5)).count() == 0);
    BOOST_TEST(to_timeout(std::chrono::hours::min()).count() == 0);
    BOOST_TEST(to_timeout(std::chrono::duration<double>(-std::numeric_limits<double>::infinity()))
                   .count() == 0);
}

BOOST_AUTO_TEST_CASE(huge_durations_saturate_at_forever) {
    BOOST_TEST(to_timeout(std::chrono::hours::max()) == nanoseconds::max());
    BOOST_TEST(to_timeout(nanoseconds::max()) == nanoseconds::max());
    BOOST_TEST(to_timeout(std::chrono::seconds::max()) == nanoseconds::max());
    BOOST_TEST(to_timeout(std::chrono::duration<double>(1e300)) == nanoseconds::max());
    BOOST_TEST(to_timeout(std::chrono::duration<double>(std::numeric_limits<double>::infinity())) ==
               nanoseconds::max());
    BOOST_TEST(to_timeout(std::chrono::duration<long double, std::ratio<31556952>>(1000.0L)) ==
               nanoseconds::max());
    // 200 years fit in nanoseconds (292 years do not).
    BOOST_TEST(to_timeout(std::chrono::years(200)) == std::chrono::years(200));
}

BOOST_AUTO_TEST_CASE(nan_means_forever) {
    BOOST_TEST(to_timeout(std::chrono::duration<double>(
                   std::numeric_limits<double>::quiet_NaN())) == nanoseconds::max());
}

BOOST_AUTO_TEST_SUITE_END()
