// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// How Boost.Test prints the library's enumerations in failure messages.

#ifndef LOCKNIX_TESTS_UNIT_PRINTING_HPP
#define LOCKNIX_TESTS_UNIT_PRINTING_HPP

#include <locknix/error.hpp>
#include <locknix/lock_state.hpp>

#include <boost/system/error_code.hpp>

#include <ostream>

namespace locknix {

inline std::ostream& boost_test_print_type(std::ostream& out, errc e) {
    return out << "locknix:" << static_cast<int>(e) << " ("
               << boost::system::error_code(e).message() << ")";
}

inline std::ostream& boost_test_print_type(std::ostream& out, lock_state s) {
    return out << to_string(s);
}

} // namespace locknix

#endif
