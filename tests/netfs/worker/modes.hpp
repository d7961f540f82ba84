// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The worker's modes; worker.cpp says what each does.

#ifndef LOCKNIX_TESTS_NETFS_MODES_HPP
#define LOCKNIX_TESTS_NETFS_MODES_HPP

#include "arguments.hpp"

namespace locknix::netfs {

// Without a lock: the COMMAND of `locknix run`.
int run_section_once(const arguments& args);
int run_victim(const arguments& args);

// The blocking front end (file_lock).
int run_hammer(const arguments& args);
int run_hold_lifetime(const arguments& args);

// The asynchronous front end (async_file_lock), one thread.
int run_async_hammer(const arguments& args);
int run_async_hold(const arguments& args);

// The journal check.
int run_check_journal(const arguments& args);

} // namespace locknix::netfs

#endif
