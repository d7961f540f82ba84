// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The locknix error category (error.cpp) and the names of lock states (lock_state.cpp).

#include "printing.hpp"

#include <locknix/error.hpp>
#include <locknix/lock_state.hpp>

#include <boost/system/system_error.hpp>
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>
#include <system_error>

using locknix::errc;
using locknix::lock_state;

namespace {

const errc all_errc[] = {errc::timed_out,     errc::already_locked, errc::not_locked,
                         errc::lock_lost,     errc::foreign_file,   errc::bad_lock_path,
                         errc::bad_host_name, errc::bad_option};

} // namespace

BOOST_AUTO_TEST_SUITE(error)

BOOST_AUTO_TEST_CASE(category_is_named_locknix) {
    BOOST_TEST(std::string(locknix::locknix_category().name()) == "locknix");
    const boost::system::error_code ec = errc::timed_out;
    BOOST_TEST(std::string(ec.category().name()) == "locknix");
    BOOST_TEST(&ec.category() == &locknix::locknix_category());
}

BOOST_AUTO_TEST_CASE(every_condition_is_a_true_error_with_its_own_message) {
    std::set<std::string> messages;
    for (const errc e : all_errc) {
        const boost::system::error_code ec = e;
        BOOST_TEST_CONTEXT("errc " << static_cast<int>(e)) {
            BOOST_TEST(static_cast<bool>(ec));
            BOOST_TEST(ec == e);
            BOOST_TEST(!ec.message().empty());
            BOOST_TEST(ec.message().find("unknown") == std::string::npos);
            messages.insert(ec.message());
        }
    }
    BOOST_TEST(messages.size() == std::size(all_errc));
}

BOOST_AUTO_TEST_CASE(messages_say_what_happened) {
    const auto message = [](errc e) {
        return boost::system::error_code(e).message();
    };
    BOOST_TEST(message(errc::timed_out).find("timed out") != std::string::npos);
    BOOST_TEST(message(errc::already_locked).find("already") != std::string::npos);
    BOOST_TEST(message(errc::not_locked).find("not hold") != std::string::npos);
    BOOST_TEST(message(errc::lock_lost).find("lost") != std::string::npos);
    BOOST_TEST(message(errc::foreign_file).find("not a lock") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unknown_values_are_named_as_such) {
    BOOST_TEST(locknix::locknix_category().message(999).find("unknown") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(conditions_are_distinct_from_system_errors) {
    const boost::system::error_code timed_out = errc::timed_out;
    BOOST_TEST(timed_out != boost::system::error_code(ETIMEDOUT, boost::system::system_category()));
    BOOST_TEST(timed_out != boost::system::errc::timed_out);
}

BOOST_AUTO_TEST_CASE(system_error_carries_the_code_and_message) {
    const boost::system::system_error e(errc::lock_lost, "locknix: cannot release /x.lck");
    BOOST_TEST(e.code() == errc::lock_lost);
    const std::string what = e.what();
    BOOST_TEST(what.find("/x.lck") != std::string::npos);
    BOOST_TEST(what.find(boost::system::error_code(errc::lock_lost).message()) !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(lock_states_have_their_enumerator_names) {
    BOOST_TEST(to_string(lock_state::unlocked) == "unlocked");
    BOOST_TEST(to_string(lock_state::held_by_us) == "held_by_us");
    BOOST_TEST(to_string(lock_state::held_by_us_expired) == "held_by_us_expired");
    BOOST_TEST(to_string(lock_state::held_by_other) == "held_by_other");
    BOOST_TEST(to_string(lock_state::held_by_other_breakable) == "held_by_other_breakable");
    BOOST_TEST(to_string(lock_state::not_a_lock) == "not_a_lock");
    BOOST_TEST(to_string(static_cast<lock_state>(77)) == "unknown");
}

BOOST_AUTO_TEST_SUITE_END()
