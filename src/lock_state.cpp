// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include <locknix/lock_state.hpp>

namespace locknix {

std::string_view to_string(lock_state state) noexcept {
    switch (state) {
    case lock_state::unlocked:
        return "unlocked";
    case lock_state::held_by_us:
        return "held_by_us";
    case lock_state::held_by_us_expired:
        return "held_by_us_expired";
    case lock_state::held_by_other:
        return "held_by_other";
    case lock_state::held_by_other_breakable:
        return "held_by_other_breakable";
    case lock_state::not_a_lock:
        return "not_a_lock";
    }
    return "unknown";
}

} // namespace locknix
