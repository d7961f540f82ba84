// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#ifndef LOCKNIX_DETAIL_DURATION_HPP
#define LOCKNIX_DETAIL_DURATION_HPP

#include <chrono>
#include <cmath>
#include <type_traits>

namespace locknix::detail {

/// Converts any duration (integral or floating, any period) to nanoseconds, rounding up so that
/// a wait is never shorter than asked, clamping negative values to zero and huge ones (or NaN)
/// to "forever".
template <class Rep, class Period>
std::chrono::nanoseconds to_timeout(std::chrono::duration<Rep, Period> d) noexcept {
    using std::chrono::nanoseconds;
    using wide = std::chrono::duration<long double, std::nano>;

    const wide w = std::chrono::duration_cast<wide>(d);
    if constexpr (std::is_floating_point_v<Rep>) {
        if (std::isnan(w.count()))
            return nanoseconds::max();
    }
    if (w.count() <= 0)
        return nanoseconds::zero();
    if (w.count() >= static_cast<long double>(nanoseconds::max().count()))
        return nanoseconds::max();
    return nanoseconds(static_cast<nanoseconds::rep>(std::ceil(w.count())));
}

} // namespace locknix::detail

#endif
