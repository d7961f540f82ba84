// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "text.hpp"

#include <cstdint>
#include <ctime>

namespace locknix::cli {
namespace {

const char hex_digits[] = "0123456789abcdef";

// The length of the valid UTF-8 sequence at the start of `s`, or 0 if it is not one.
std::size_t utf8_sequence(std::string_view s) noexcept {
    const auto byte = [&](std::size_t i) {
        return static_cast<unsigned char>(s[i]);
    };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (lead < 0x80)
        return 1;
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
        code = lead & 0x1fu;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        code = lead & 0x0fu;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        code = lead & 0x07u;
    } else {
        return 0;
    }
    if (s.size() < length)
        return 0;
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xc0u) != 0x80u)
            return 0;
        code = (code << 6) | (byte(i) & 0x3fu);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not valid.
    const std::uint32_t min_code[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < min_code[length] || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff)
        return 0;
    return length;
}

// Splits a time point into whole seconds and milliseconds, rounding down.
void split(std::chrono::nanoseconds d, std::int64_t& secs, std::int64_t& millis) {
    const auto ms = std::chrono::floor<std::chrono::milliseconds>(d).count();
    secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    millis = ms - secs * 1000;
}

std::string with_millis(std::int64_t secs, std::int64_t millis) {
    std::string frac = std::to_string(millis);
    frac.insert(0, 3 - frac.size(), '0');
    return std::to_string(secs) + "." + frac;
}

} // namespace

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            out += "\\x";
            out += hex_digits[byte >> 4];
            out += hex_digits[byte & 0xfu];
        } else {
            out += c;
        }
    }
    return out;
}

std::string json_string(std::string_view text) {
    std::string out = "\"";
    while (!text.empty()) {
        const auto byte = static_cast<unsigned char>(text.front());
        const std::size_t length = utf8_sequence(text);
        if (length == 0) {
            out += "\xef\xbf\xbd"; // U+FFFD
            text.remove_prefix(1);
            continue;
        }
        if (byte == '"' || byte == '\\') {
            out += '\\';
            out += text.front();
        } else if (byte < 0x20 || byte == 0x7f) {
            out += "\\u00";
            out += hex_digits[byte >> 4];
            out += hex_digits[byte & 0xfu];
        } else {
            out.append(text.substr(0, length));
        }
        text.remove_prefix(length);
    }
    out += '"';
    return out;
}

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
    std::int64_t secs = 0;
    std::int64_t millis = 0;
    split(t.time_since_epoch(), secs, millis);
    const auto when = static_cast<std::time_t>(secs);
    std::tm parts{};
    char buffer[64];
    if (::gmtime_r(&when, &parts) == nullptr ||
        std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &parts) == 0)
        return "@" + std::to_string(secs);
    return buffer;
}

std::string epoch_seconds(std::chrono::system_clock::time_point t) {
    return decimal_seconds(t.time_since_epoch());
}

std::string decimal_seconds(std::chrono::nanoseconds d) {
    std::int64_t secs = 0;
    std::int64_t millis = 0;
    split(d, secs, millis);
    if (secs < 0 && millis > 0) // -1.250 is secs -2, millis 750
        return "-" + with_millis(-(secs + 1), 1000 - millis);
    return with_millis(secs, millis);
}

} // namespace locknix::cli
