// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Claim names: `<absolute lock path>|<host>|<pid>|<random decimal>`, the format flufl.lock uses.
// A lock file's content is the holder's claim name, so this is also the lock-content parser.

#ifndef LOCKNIX_SRC_CLAIM_HPP
#define LOCKNIX_SRC_CLAIM_HPP

#include <locknix/lock_state.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace locknix::detail {

inline constexpr char claim_separator = '|';

/// The longest lock file content taken for a claim; anything longer is not a lock.
inline constexpr std::size_t max_claim_size = 4096;

/// A breaker moves the lock it judged expired to `<its own claim><aside_suffix>` before removing
/// it, so the longest claim name must leave room for the suffix.
inline constexpr std::string_view aside_suffix = ".broken";

/// The fields of a claim name.
struct claim_fields {
    std::string_view lock_path;
    std::string_view host;
    int pid = 0;
    std::string_view random;
};

/// Parses `content` strictly: four fields separated by '|', the first equal to `lock_path`, a
/// non-empty host without '/', a positive decimal pid that fits an int, and a non-empty decimal
/// random part. Nothing else is accepted: no whitespace, no sign, no trailing newline. Numbers no
/// writer makes (a leading zero, a random part of any length) are accepted: a claim refused here
/// would be "not a lock", which nobody may break.
std::optional<claim_fields> parse_claim(std::string_view content, std::string_view lock_path);

/// `holder_info` from a parsed claim and the lock's mtime.
holder_info to_holder(std::string_view content, const claim_fields& fields,
                      std::chrono::system_clock::time_point expiry);

/// Makes `path` absolute and lexically normal, and checks that it can name a lock: not empty, not
/// a directory name (ending in '/', "." or ".."), without '|'. Sets `ec` to
/// `errc::bad_lock_path` otherwise.
std::string absolute_lock_path(std::string_view path, boost::system::error_code& ec);

/// Checks that `host` can be written into a claim name: not empty, without '|', '/' or NUL.
bool is_usable_host_name(std::string_view host) noexcept;

/// `<lock_path>|<host>|<pid>|<random>`.
std::string make_claim_path(std::string_view lock_path, std::string_view host, int pid,
                            std::uint64_t random);

} // namespace locknix::detail

#endif
