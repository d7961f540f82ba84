// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The command line of the suite's worker: a mode, then `--key value` pairs.

#ifndef LOCKNIX_TESTS_NETFS_ARGUMENTS_HPP
#define LOCKNIX_TESTS_NETFS_ARGUMENTS_HPP

#include <chrono>
#include <map>
#include <string>

namespace locknix::netfs {

class arguments {
public:
    arguments(int argc, char** argv);

    const std::string& mode() const noexcept { return mode_; }
    bool has(const std::string& key) const { return values_.count(key) != 0; }

    /// The value of `--key`; exits with status 2 when it is missing.
    const std::string& get(const std::string& key) const;
    std::string get(const std::string& key, const std::string& fallback) const;
    long number(const std::string& key, long fallback) const;
    std::chrono::milliseconds millis(const std::string& key, long fallback) const {
        return std::chrono::milliseconds(number(key, fallback));
    }

private:
    std::string mode_;
    std::map<std::string, std::string> values_;
};

} // namespace locknix::netfs

#endif
