// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// Claim names and the lock-content parser (claim.cpp): the flufl.lock format
// `<lock path>|<host>|<pid>|<random>`, parsed strictly.

#include "claim.hpp"
#include "printing.hpp"

#include <locknix/error.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using locknix::detail::parse_claim;

const std::string lock = "/tmp/d/x.lck";

struct parse_case {
    const char* name;
    std::string content;
    // Expected fields when valid.
    bool valid = false;
    std::string host;
    int pid = 0;
    std::string random;
};

std::ostream& operator<<(std::ostream& out, const parse_case& c) {
    return out << c.name;
}

std::string sized_claim(std::size_t size) {
    // `<lock>|<h...h>|1|2` of exactly `size` characters.
    const std::size_t fixed = lock.size() + std::string("||1|2").size();
    return lock + "|" + std::string(size - fixed, 'h') + "|1|2";
}

parse_case good(const char* name, std::string content, std::string host, int pid,
                std::string random) {
    return {name, std::move(content), true, std::move(host), pid, std::move(random)};
}

parse_case bad(const char* name, std::string content) {
    return {name, std::move(content), false, {}, 0, {}};
}

const parse_case parse_cases[] = {
    good("plain", lock + "|host|123|456", "host", 123, "456"),
    good("dotted host", lock + "|a.b-c.example.org|1|0", "a.b-c.example.org", 1, "0"),
    good("host with spaces", lock + "|  h  |7|8", "  h  ", 7, "8"),
    good("largest pid", lock + "|h|2147483647|1", "h", 2147483647, "1"),
    good("long random", lock + "|h|1|123456789012345678901234567890", "h", 1,
         "123456789012345678901234567890"),
    good("largest u64 random", lock + "|h|1|18446744073709551615", "h", 1, "18446744073709551615"),
    // No writer makes these, but refusing one would leave a lock that nobody could ever break.
    good("pid with a leading zero", lock + "|h|0042|7", "h", 42, "7"),
    good("random with a leading zero", lock + "|h|1|007", "h", 1, "007"),
    good("exactly 4096 bytes", sized_claim(4096), std::string(4096 - lock.size() - 5, 'h'), 1, "2"),
    bad("4097 bytes", sized_claim(4097)),
    bad("empty", ""),
    bad("lock path only", lock),
    bad("lock path and separator", lock + "|"),
    bad("three fields", lock + "|host|1"),
    bad("five fields", lock + "|host|1|2|3"),
    bad("separator in host", lock + "|ho|st|1|2"),
    bad("trailing newline", lock + "|host|1|2\n"),
    bad("trailing space", lock + "|host|1|2 "),
    bad("leading space", " " + lock + "|host|1|2"),
    bad("plus sign pid", lock + "|host|+1|2"),
    bad("negative pid", lock + "|host|-1|2"),
    bad("zero pid", lock + "|host|0|2"),
    bad("pid over int", lock + "|host|2147483648|2"),
    bad("eleven digit pid", lock + "|host|12345678901|2"),
    bad("pid with letters", lock + "|host|1a|2"),
    bad("pid with space", lock + "|host| 1|2"),
    bad("empty pid", lock + "|host||2"),
    bad("empty host", lock + "||1|2"),
    bad("slash in host", lock + "|ho/st|1|2"),
    bad("nul in host", lock + "|ho" + std::string(1, '\0') + "st|1|2"),
    bad("empty random", lock + "|host|1|"),
    bad("random with letters", lock + "|host|1|2a"),
    bad("negative random", lock + "|host|1|-2"),
    bad("another lock path", "/tmp/d/y.lck|host|1|2"),
    bad("lock path as a prefix", lock + ".old|host|1|2"),
    bad("lock path in another directory", "/tmp/e/x.lck|host|1|2"),
    bad("relative lock path", "x.lck|host|1|2"),
    bad("flufl caret separator", lock + "^host^1^2"),
};

} // namespace

BOOST_AUTO_TEST_SUITE(claim)

BOOST_DATA_TEST_CASE(parse_claim_table, boost::unit_test::data::make(parse_cases), c) {
    const auto fields = parse_claim(c.content, lock);
    BOOST_TEST(fields.has_value() == c.valid);
    if (fields && c.valid) {
        BOOST_TEST(fields->lock_path == lock);
        BOOST_TEST(fields->host == c.host);
        BOOST_TEST(fields->pid == c.pid);
        BOOST_TEST(fields->random == c.random);
    }
}

BOOST_AUTO_TEST_CASE(make_claim_path_round_trips) {
    const auto claim = locknix::detail::make_claim_path(lock, "node-7", 4242, UINT64_MAX);
    BOOST_TEST(claim == lock + "|node-7|4242|18446744073709551615");
    const auto fields = parse_claim(claim, lock);
    BOOST_REQUIRE(fields);
    BOOST_TEST(fields->host == "node-7");
    BOOST_TEST(fields->pid == 4242);
    BOOST_TEST(fields->random == "18446744073709551615");
}

BOOST_AUTO_TEST_CASE(to_holder_copies_the_fields_and_expiry) {
    const std::string content = lock + "|node|12|34";
    const auto fields = parse_claim(content, lock);
    BOOST_REQUIRE(fields);
    const auto expiry = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
    const auto h = locknix::detail::to_holder(content, *fields, expiry);
    BOOST_TEST(h.host == "node");
    BOOST_TEST(h.pid == 12);
    BOOST_TEST(h.claim == content);
    BOOST_TEST((h.expiry == expiry));
}

BOOST_AUTO_TEST_CASE(usable_host_names) {
    using locknix::detail::is_usable_host_name;
    BOOST_TEST(is_usable_host_name("host"));
    BOOST_TEST(is_usable_host_name("host.example.org"));
    BOOST_TEST(!is_usable_host_name(""));
    BOOST_TEST(!is_usable_host_name("a|b"));
    BOOST_TEST(!is_usable_host_name("a/b"));
    BOOST_TEST(!is_usable_host_name(std::string("a\0b", 3)));
}

struct path_case {
    const char* name;
    std::string input;
    // Empty: refused with bad_lock_path.
    std::string expected;
};

std::ostream& operator<<(std::ostream& out, const path_case& c) {
    return out << c.name;
}

const path_case path_cases[] = {
    {"absolute", "/a/b.lck", "/a/b.lck"},
    {"dot dot inside", "/a/b/../c.lck", "/a/c.lck"},
    {"double slash", "/a//b.lck", "/a/b.lck"},
    {"dot inside", "/a/./b.lck", "/a/b.lck"},
    {"empty", "", ""},
    {"root", "/", ""},
    {"trailing slash", "/a/b/", ""},
    {"dot", ".", ""},
    {"dot dot", "..", ""},
    {"ends in dot", "/a/.", ""},
    {"ends in dot dot", "/a/..", ""},
    {"separator", "/a/b|c.lck", ""},
    {"separator in directory", "/a|b/c.lck", ""},
    {"nul", std::string("/a/b\0c", 6), ""},
};

BOOST_DATA_TEST_CASE(absolute_lock_path_table, boost::unit_test::data::make(path_cases), c) {
    boost::system::error_code ec;
    const auto path = locknix::detail::absolute_lock_path(c.input, ec);
    if (c.expected.empty()) {
        BOOST_TEST(ec == locknix::errc::bad_lock_path);
    } else {
        BOOST_TEST(!ec);
        BOOST_TEST(path == c.expected);
    }
}

BOOST_AUTO_TEST_CASE(relative_paths_are_made_absolute_against_the_current_directory) {
    boost::system::error_code ec;
    const auto path = locknix::detail::absolute_lock_path("sub/../x.lck", ec);
    BOOST_TEST(!ec);
    BOOST_TEST(path == (std::filesystem::current_path() / "x.lck").lexically_normal().string());
}

BOOST_AUTO_TEST_CASE(a_relative_path_under_a_directory_with_the_separator_is_refused) {
    // The separator is looked for in the absolute path: the working directory counts too.
    std::string pattern = "/tmp/locknix-unit-a|b-" + std::string(6, 'X'); // for mkdtemp
    BOOST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    const auto saved = std::filesystem::current_path();
    std::filesystem::current_path(pattern);
    boost::system::error_code ec;
    const auto path = locknix::detail::absolute_lock_path("x.lck", ec);
    std::filesystem::current_path(saved);
    ::rmdir(pattern.c_str());
    BOOST_TEST(ec == locknix::errc::bad_lock_path, "accepted as " << path);
}

BOOST_AUTO_TEST_SUITE_END()
