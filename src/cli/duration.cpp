// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "duration.hpp"

#include <cstdint>
#include <limits>

namespace locknix::cli {
namespace {

using std::chrono::nanoseconds;

constexpr std::int64_t max_ns = std::numeric_limits<std::int64_t>::max();

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

// Nanoseconds per unit, or 0 for an unknown suffix.
std::int64_t unit_ns(std::string_view unit) noexcept {
    if (unit.empty() || unit == "s")
        return 1'000'000'000;
    if (unit == "ms")
        return 1'000'000;
    if (unit == "m")
        return 60'000'000'000;
    if (unit == "h")
        return 3'600'000'000'000;
    return 0;
}

parsed_duration problem(std::string text) {
    return {nanoseconds::zero(), std::move(text)};
}

} // namespace

parsed_duration parse_duration(std::string_view text) {
    const char* const malformed = "is not a duration (write e.g. 250ms, 5s, 2m, 1h or 1.5)";
    if (text.empty())
        return problem("is empty");
    if (text.front() == '-')
        return problem("is negative");

    std::size_t i = 0;
    std::int64_t whole = 0;
    bool overflow = false;
    for (; i < text.size() && is_digit(text[i]); ++i) {
        const int digit = text[i] - '0';
        if (whole > (max_ns - digit) / 10)
            overflow = true;
        else
            whole = whole * 10 + digit;
    }
    const std::size_t whole_digits = i;

    std::string_view fraction;
    if (i < text.size() && text[i] == '.') {
        const std::size_t start = ++i;
        while (i < text.size() && is_digit(text[i]))
            ++i;
        fraction = text.substr(start, i - start);
        if (fraction.empty())
            return problem(malformed);
    }
    if (whole_digits == 0 && fraction.empty())
        return problem(malformed);

    const std::int64_t unit = unit_ns(text.substr(i));
    if (unit == 0)
        return problem(malformed);
    if (overflow || whole > max_ns / unit)
        return problem("is too large");

    // Each fraction digit is worth a tenth of the previous one; the units are multiples of
    // 10^6 ns, so this is exact down to the nanosecond.
    std::int64_t total = whole * unit;
    std::int64_t scale = unit;
    for (const char c : fraction) {
        scale /= 10;
        if (scale == 0)
            break;
        const std::int64_t part = (c - '0') * scale;
        if (total > max_ns - part)
            return problem("is too large");
        total += part;
    }
    return {nanoseconds(total), {}};
}

std::string format_duration(nanoseconds d) {
    using namespace std::chrono;
    if (d == nanoseconds::max())
        return "forever";
    if (d < nanoseconds::zero())
        return "-" + format_duration(-d);
    if (d == nanoseconds::zero())
        return "0s";
    if (d < seconds(1)) {
        const auto ms = ceil<milliseconds>(d).count();
        return std::to_string(ms) + "ms";
    }

    const auto ms_total = ceil<milliseconds>(d).count();
    const auto h = ms_total / 3'600'000;
    const auto m = ms_total / 60'000 % 60;
    const auto s = ms_total / 1000 % 60;
    const auto ms = ms_total % 1000;

    std::string out;
    if (h > 0)
        out += std::to_string(h) + "h";
    if (m > 0)
        out += std::to_string(m) + "m";
    if (s > 0 || ms > 0) {
        out += std::to_string(s);
        if (ms > 0) {
            std::string frac = std::to_string(ms);
            frac.insert(0, 3 - frac.size(), '0');
            while (frac.back() == '0')
                frac.pop_back();
            out += "." + frac;
        }
        out += "s";
    }
    return out;
}

std::string format_countdown(nanoseconds d) {
    using namespace std::chrono;
    if (d <= nanoseconds::zero())
        return "0s";
    return format_duration(ceil<seconds>(d));
}

} // namespace locknix::cli
