// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Fuzz target for the lock-content parser, `locknix::detail::parse_claim`: whatever a hostile
// file at the lock path holds, the parser must not crash, and what it accepts must be a claim
// that `make_claim_path` writes back byte for byte.
//
// Input: `<lock path> NUL <content>`; without a NUL byte, the whole input is the content of the
// lock file at /var/lock/app.lock.

#include "claim.hpp"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using locknix::detail::claim_fields;

[[noreturn]] void violated(const char* what, std::string_view lock_path, std::string_view content) {
    const int shown = static_cast<int>(std::min<std::size_t>(content.size(), 200));
    std::fprintf(stderr, "claim fuzzer: %s\n  lock path: '%.*s'\n  content (%zu bytes): '%.*s'\n",
                 what, static_cast<int>(lock_path.size()), lock_path.data(), content.size(), shown,
                 content.data());
    std::abort();
}

bool all_digits(std::string_view s) {
    if (s.empty())
        return false;
    for (const char c : s)
        if (c < '0' || c > '9')
            return false;
    return true;
}

// The decimal text of a number as the writers (locknix and flufl.lock) produce it: no leading
// zero, and for the random part a value that fits the 64 bits make_claim_path takes.
bool canonical(std::string_view digits) {
    return digits.size() == 1 || digits.front() != '0';
}

// The pid as written, between the host and the random part.
std::string_view pid_text(std::string_view content, const claim_fields& f) {
    const std::size_t start = f.lock_path.size() + 1 + f.host.size() + 1;
    if (start + f.random.size() + 1 > content.size())
        return {};
    return content.substr(start, content.size() - start - f.random.size() - 1);
}

void check_accepted(std::string_view lock_path, std::string_view content, const claim_fields& f) {
    if (f.lock_path != lock_path)
        violated("the first field is not the lock path", lock_path, content);
    if (!locknix::detail::is_usable_host_name(f.host))
        violated("the host cannot be written into a claim", lock_path, content);
    if (f.pid <= 0)
        violated("the pid is not positive", lock_path, content);
    if (!all_digits(f.random))
        violated("the random part is not decimal", lock_path, content);
    if (content.size() > locknix::detail::max_claim_size)
        violated("content over the size cap was accepted", lock_path, content);

    const auto pid = pid_text(content, f);
    const char sep = locknix::detail::claim_separator;
    const std::string rebuilt = std::string(f.lock_path) + sep + std::string(f.host) + sep +
                                std::string(pid) + sep + std::string(f.random);
    if (rebuilt != content)
        violated("the fields do not cover the content", lock_path, content);

    std::uint64_t random = 0;
    const auto [end, err] =
        std::from_chars(f.random.data(), f.random.data() + f.random.size(), random);
    const bool writable = err == std::errc() && end == f.random.data() + f.random.size() &&
                          canonical(pid) && canonical(f.random);
    // A number no writer produces (a leading zero, a random part over 64 bits) is accepted on
    // purpose: refusing it would make the lock "not a lock", which nobody could ever break. Such a
    // claim is checked above; writing one back is checked only for numbers a writer makes.
    if (!writable)
        return;
    const auto remade = locknix::detail::make_claim_path(f.lock_path, f.host, f.pid, random);
    if (remade != content)
        violated("make_claim_path does not give back the parsed claim", lock_path, content);

    const auto holder = locknix::detail::to_holder(content, f, {});
    if (holder.claim != content || holder.host != f.host || holder.pid != f.pid)
        violated("to_holder does not keep the claim", lock_path, content);
}

// The other direction: any claim that make_claim_path writes for a usable host is parsed back
// into the same fields, as long as it fits the size cap.
void check_written(std::string_view lock_path, std::string_view host, int pid,
                   std::uint64_t random) {
    if (!locknix::detail::is_usable_host_name(host) || pid <= 0)
        return;
    const auto made = locknix::detail::make_claim_path(lock_path, host, pid, random);
    const auto parsed = locknix::detail::parse_claim(made, lock_path);
    if (made.size() > locknix::detail::max_claim_size) {
        if (parsed)
            violated("a claim over the size cap was accepted", lock_path, made);
        return;
    }
    if (!parsed || parsed->host != host || parsed->pid != pid ||
        parsed->random != std::to_string(random))
        violated("a written claim is not parsed back", lock_path, made);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    std::string_view lock_path = "/var/lock/app.lock";
    std::string_view content = input;
    if (const auto nul = content.find('\0'); nul != std::string_view::npos) {
        lock_path = content.substr(0, nul);
        content.remove_prefix(nul + 1);
    }

    // Copies of exactly the right size, so that AddressSanitizer sees any read past either end.
    const std::string lock_copy(lock_path);
    const std::string content_copy(content);
    if (const auto fields = locknix::detail::parse_claim(content_copy, lock_copy))
        check_accepted(lock_copy, content_copy, *fields);

    // Use the content as a host name, with a pid and a random part drawn from the input.
    std::uint64_t h = 1469598103934665603u;
    for (const char c : content)
        h = (h ^ static_cast<unsigned char>(c)) * 1099511628211u;
    const int pid = static_cast<int>(h % 2147483647u) + 1;
    check_written(lock_copy, content_copy, pid, h >> 1);
    check_written(lock_copy, content_copy, 2147483647, 18446744073709551615u);
    return 0;
}
