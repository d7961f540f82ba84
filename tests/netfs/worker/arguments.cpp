// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "arguments.hpp"

#include <cstdlib>
#include <iostream>

namespace locknix::netfs {

namespace {

[[noreturn]] void usage(const std::string& problem) {
    std::cerr << "locknix_netfs_worker: " << problem << " (see the modes in worker.cpp)\n";
    std::exit(2);
}

} // namespace

arguments::arguments(int argc, char** argv) {
    if (argc < 2)
        usage("missing MODE");
    mode_ = argv[1];
    for (int i = 2; i < argc; i += 2) {
        const std::string key = argv[i];
        if (key.rfind("--", 0) != 0 || i + 1 >= argc)
            usage("expected --key value, got '" + key + "'");
        values_[key.substr(2)] = argv[i + 1];
    }
}

const std::string& arguments::get(const std::string& key) const {
    const auto it = values_.find(key);
    if (it == values_.end())
        usage("missing --" + key);
    return it->second;
}

std::string arguments::get(const std::string& key, const std::string& fallback) const {
    return has(key) ? get(key) : fallback;
}

long arguments::number(const std::string& key, long fallback) const {
    if (!has(key))
        return fallback;
    const std::string& text = get(key);
    char* end = nullptr;
    const long value = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0')
        usage("--" + key + " needs a number, got '" + text + "'");
    return value;
}

} // namespace locknix::netfs
