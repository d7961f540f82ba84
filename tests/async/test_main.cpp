// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#define BOOST_TEST_MODULE locknix_async_tests
#include <boost/test/unit_test.hpp>
