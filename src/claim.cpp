// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "claim.hpp"

#include <locknix/error.hpp>

#include <charconv>
#include <filesystem>
#include <system_error>

namespace locknix::detail {
namespace {

bool all_digits(std::string_view s) noexcept {
    if (s.empty())
        return false;
    for (const char c : s)
        if (c < '0' || c > '9')
            return false;
    return true;
}

} // namespace

std::optional<claim_fields> parse_claim(std::string_view content, std::string_view lock_path) {
    if (content.size() > max_claim_size || content.size() <= lock_path.size())
        return std::nullopt;
    if (content.substr(0, lock_path.size()) != lock_path ||
        content[lock_path.size()] != claim_separator)
        return std::nullopt;

    std::string_view rest = content.substr(lock_path.size() + 1);
    std::string_view parts[3];
    for (int i = 0; i < 2; ++i) {
        const auto sep = rest.find(claim_separator);
        if (sep == std::string_view::npos)
            return std::nullopt;
        parts[i] = rest.substr(0, sep);
        rest.remove_prefix(sep + 1);
    }
    parts[2] = rest;
    if (parts[2].find(claim_separator) != std::string_view::npos)
        return std::nullopt;

    claim_fields fields;
    fields.lock_path = lock_path;
    fields.host = parts[0];
    if (!is_usable_host_name(fields.host))
        return std::nullopt;

    const std::string_view pid = parts[1];
    if (!all_digits(pid) || pid.size() > 10)
        return std::nullopt;
    const auto [end, err] = std::from_chars(pid.data(), pid.data() + pid.size(), fields.pid);
    if (err != std::errc() || end != pid.data() + pid.size() || fields.pid <= 0)
        return std::nullopt;

    fields.random = parts[2];
    if (!all_digits(fields.random))
        return std::nullopt;
    return fields;
}

holder_info to_holder(std::string_view content, const claim_fields& fields,
                      std::chrono::system_clock::time_point expiry) {
    return holder_info{std::string(fields.host), fields.pid, std::string(content), expiry};
}

std::string absolute_lock_path(std::string_view path, boost::system::error_code& ec) {
    if (path.empty() || path.back() == '/' || path.find('\0') != std::string_view::npos ||
        path.find(claim_separator) != std::string_view::npos) {
        ec = errc::bad_lock_path;
        return {};
    }
    std::error_code fs_ec;
    std::filesystem::path p = std::filesystem::absolute(std::filesystem::path(path), fs_ec);
    if (fs_ec) {
        ec.assign(fs_ec.value(), boost::system::system_category());
        return {};
    }
    p = p.lexically_normal();
    const auto name = p.filename();
    if (name.empty() || name == "." || name == ".." || p == p.root_path() ||
        p.native().find(claim_separator) != std::string::npos) {
        ec = errc::bad_lock_path;
        return {};
    }
    return p.string();
}

bool is_usable_host_name(std::string_view host) noexcept {
    if (host.empty())
        return false;
    for (const char c : host)
        if (c == claim_separator || c == '/' || c == '\0')
            return false;
    return true;
}

std::string make_claim_path(std::string_view lock_path, std::string_view host, int pid,
                            std::uint64_t random) {
    std::string claim;
    claim.reserve(lock_path.size() + host.size() + 40);
    claim.append(lock_path);
    claim.push_back(claim_separator);
    claim.append(host);
    claim.push_back(claim_separator);
    claim.append(std::to_string(pid));
    claim.push_back(claim_separator);
    claim.append(std::to_string(random));
    return claim;
}

} // namespace locknix::detail
