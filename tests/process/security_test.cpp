// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// A lock directory is shared, so every name in it may be hostile: a symbolic link at the lock
// path or at a claim path, a file that is not a lock, another user's lock that permissions do
// not let us break. None of these may be followed, written through or removed.

#define BOOST_TEST_MODULE process_security
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <locknix/file_lock.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

using namespace locknix::test;
using namespace std::chrono_literals;
using locknix::errc;

// Breaks as early as possible: every expired lock is fair game at once.
locknix::lock_options eager_breaker() {
    locknix::lock_options o;
    o.clock_slop = 0s;
    o.lifetime = 60s;
    return o;
}

std::string read_link(const std::string& path) {
    char target[4096];
    const ssize_t n = ::readlink(path.c_str(), target, sizeof target);
    BOOST_TEST_REQUIRE(n >= 0);
    return std::string(target, static_cast<std::size_t>(n));
}

// A lock whose holder was killed right after taking it with a lifetime of 1 ns: expired as soon
// as it exists. Returns the dead holder's claim.
std::string leave_expired_lock(const std::string& lock_path) {
    child_process holder({worker_path(), "die", "--lock", lock_path, "--lifetime-ns", "1"});
    const auto line = holder.read_line();
    BOOST_TEST_REQUIRE(line.has_value());
    holder.kill(SIGKILL);
    holder.wait();
    return parse_fields(*line).at("claim");
}

// A lock attempt on `lock_path` must report a foreign file, both through one attempt and through
// a wait, and leave no claim and no breaker mutex behind.
void check_reported_as_foreign(const std::string& lock_path) {
    locknix::file_lock lock(lock_path, eager_breaker());
    boost::system::error_code ec;

    lock.acquire(0s, ec);
    BOOST_TEST(ec == errc::foreign_file);
    lock.acquire(2s, ec);
    BOOST_TEST(ec == errc::foreign_file);
    BOOST_TEST(!lock.try_acquire(ec));
    BOOST_TEST(ec == errc::foreign_file);
    BOOST_TEST(lock.state() == locknix::lock_state::not_a_lock);
    BOOST_TEST(!lock.holder(ec).has_value());
    BOOST_TEST(ec == errc::foreign_file);

    try {
        lock.acquire(0s);
        BOOST_ERROR("acquire did not throw");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST(e.code() == errc::foreign_file);
        BOOST_TEST(std::string(e.what()).find(lock_path) != std::string::npos, e.what());
    }
    BOOST_TEST(!exists_no_follow(lock.claim_path()));
    BOOST_TEST(!exists_no_follow(lock_path + ".break"));
}

BOOST_AUTO_TEST_CASE(symlink_at_the_lock_path) {
    temp_dir dir("symlink-lock");
    const auto lock_path = dir / "app.lock";

    // The link points at a file that even looks like an expired lock of this path, so a breaker
    // that followed it would judge it breakable and remove it.
    const auto precious = dir / "precious";
    const std::string bait = lock_path + "|elsewhere|4242|17";
    write_file(precious, bait);
    set_mtime(precious, 1);
    BOOST_TEST_REQUIRE(::symlink(precious.c_str(), lock_path.c_str()) == 0);
    const auto link_before = identify(lock_path);
    const auto precious_before = identify(precious);

    check_reported_as_foreign(lock_path);

    BOOST_TEST(identify(lock_path) == link_before);
    BOOST_TEST(read_link(lock_path) == precious);
    BOOST_TEST(identify(precious) == precious_before);
    BOOST_TEST(read_file(precious) == bait);
    BOOST_TEST(list_dir(dir.path()) == (std::vector<std::string>{"app.lock", "precious"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(dangling_symlink_at_the_lock_path) {
    temp_dir dir("symlink-lock");
    const auto lock_path = dir / "app.lock";
    const auto target = dir / "would-be-created";
    BOOST_TEST_REQUIRE(::symlink(target.c_str(), lock_path.c_str()) == 0);

    check_reported_as_foreign(lock_path);

    BOOST_TEST(read_link(lock_path) == target);
    BOOST_TEST(!exists_no_follow(target));
    BOOST_TEST(list_dir(dir.path()) == std::vector<std::string>{"app.lock"},
               boost::test_tools::per_element());
}

// The claim name is known before the first acquisition, so an attacker can plant a link there.
// Creating the claim must not write through it: the lock takes another name.
void check_claim_symlink_not_followed(const std::string& target, bool target_exists) {
    temp_dir dir("symlink-claim");
    const auto lock_path = dir / "app.lock";
    const std::string precious_content = "precious, not a claim";
    if (target_exists)
        write_file(target, precious_content);

    {
        locknix::file_lock lock(lock_path, eager_breaker());
        const std::string planted = lock.claim_path();
        BOOST_TEST_REQUIRE(::symlink(target.c_str(), planted.c_str()) == 0);

        lock.acquire(0s);
        BOOST_TEST(lock.is_held());
        BOOST_TEST(lock.claim_path() != planted);
        BOOST_TEST(read_file(lock_path) == lock.claim_path());
        BOOST_TEST(read_link(planted) == target);
        lock.release();
        BOOST_TEST(read_link(planted) == target);
    }

    if (target_exists)
        BOOST_TEST(read_file(target) == precious_content);
    else
        BOOST_TEST(!exists_no_follow(target));
    // Only the planted link is left: the lock's own claim went with the lock object.
    BOOST_TEST(list_dir(dir.path()).size() == 1u);
}

BOOST_AUTO_TEST_CASE(symlink_at_the_claim_path) {
    temp_dir outside("symlink-target");
    check_claim_symlink_not_followed(outside / "precious", true);
    check_claim_symlink_not_followed(outside / "would-be-created", false);
}

struct foreign_content {
    const char* name;
    std::string content;
};

// Files at the lock path that are not locks of this path. Each has an mtime of 1 s after the
// epoch, so that a parser that took it for a lock would find it long expired and break it.
std::vector<foreign_content> foreign_contents(const std::string& lock_path) {
    const std::string claim = lock_path + "|host|4242|17";
    return {
        {"empty", ""},
        {"garbage", "garbage"},
        {"one byte over the cap", std::string(4097, 'x')},
        {"a claim padded over the cap", claim + std::string(4097 - claim.size(), '7')},
        {"one megabyte", std::string(1 << 20, '1')},
        {"another lock's claim", "/elsewhere/other.lock|host|4242|17"},
        {"a longer lock path", lock_path + "x|host|4242|17"},
        {"a trailing newline", claim + "\n"},
        {"leading whitespace", " " + claim},
        {"three fields", lock_path + "|host|4242"},
        {"five fields", claim + "|9"},
        {"empty host", lock_path + "||4242|17"},
        {"host with a slash", lock_path + "|ho/st|4242|17"},
        {"pid not a number", lock_path + "|host|abc|17"},
        {"negative pid", lock_path + "|host|-5|17"},
        {"zero pid", lock_path + "|host|0|17"},
        {"pid over int", lock_path + "|host|99999999999|17"},
        {"pid with a sign", lock_path + "|host|+42|17"},
        {"empty random part", lock_path + "|host|4242|"},
        {"random part not a number", lock_path + "|host|4242|1x7"},
        {"NUL in the host", lock_path + "|ho" + std::string(1, '\0') + "st|4242|17"},
    };
}

BOOST_AUTO_TEST_CASE(malformed_or_oversized_lock_content) {
    temp_dir dir("malformed");
    const auto lock_path = dir / "app.lock";
    for (const auto& c : foreign_contents(lock_path)) {
        BOOST_TEST_CONTEXT(c.name) {
            write_file(lock_path, c.content);
            set_mtime(lock_path, 1);
            const auto before = identify(lock_path);

            check_reported_as_foreign(lock_path);

            BOOST_TEST(identify(lock_path) == before);
            BOOST_TEST(read_file(lock_path) == c.content);
            BOOST_TEST(list_dir(dir.path()) == std::vector<std::string>{"app.lock"},
                       boost::test_tools::per_element());
            ::unlink(lock_path.c_str());
        }
    }
}

BOOST_AUTO_TEST_CASE(directory_or_fifo_at_the_lock_path) {
    temp_dir dir("not-a-file");
    const auto lock_path = dir / "app.lock";

    BOOST_TEST_REQUIRE(::mkdir(lock_path.c_str(), 0755) == 0);
    write_file(lock_path + "/inside", "kept");
    set_mtime(lock_path, 1);
    check_reported_as_foreign(lock_path);
    BOOST_TEST(read_file(lock_path + "/inside") == "kept");
    BOOST_TEST(list_dir(dir.path()) == std::vector<std::string>{"app.lock"},
               boost::test_tools::per_element());
    ::unlink((lock_path + "/inside").c_str());
    ::rmdir(lock_path.c_str());

    BOOST_TEST_REQUIRE(::mkfifo(lock_path.c_str(), 0644) == 0);
    set_mtime(lock_path, 1);
    const auto before = identify(lock_path);
    check_reported_as_foreign(lock_path);
    BOOST_TEST(identify(lock_path) == before);
}

// Breakers serialise themselves with a directory next to the lock, `<lock>.break`. A symbolic
// link planted there (to a directory someone cares about) must be neither followed nor removed,
// even with an expired lock waiting to be broken: the breaker gives up instead.
BOOST_AUTO_TEST_CASE(symlink_at_the_breaker_mutex_path) {
    temp_dir dir("symlink-mutex");
    const auto lock_path = dir / "app.lock";
    const auto victim = dir / "victim";
    BOOST_TEST_REQUIRE(::mkdir(victim.c_str(), 0755) == 0);
    write_file(victim + "/inside", "kept");
    set_mtime(victim, 1);
    const auto dead_claim = leave_expired_lock(lock_path);
    const auto lock_before = identify(lock_path);
    BOOST_TEST_REQUIRE(::symlink(victim.c_str(), (lock_path + ".break").c_str()) == 0);
    const auto link_before = identify(lock_path + ".break");

    locknix::file_lock lock(lock_path, eager_breaker());
    boost::system::error_code ec;
    lock.acquire(500ms, ec);
    BOOST_TEST(ec, "acquired by breaking through a symbolic link at the breaker mutex");

    BOOST_TEST(identify(lock_path + ".break") == link_before);
    BOOST_TEST(read_link(lock_path + ".break") == victim);
    BOOST_TEST(list_dir(victim) == std::vector<std::string>{"inside"},
               boost::test_tools::per_element());
    BOOST_TEST(identify(lock_path) == lock_before);
    BOOST_TEST(read_file(lock_path) == dead_claim);
}

// Permissions: a user who may not remove another user's expired lock (a sticky directory) or
// may not create a claim (a directory it cannot write) gets an error that names the path, and
// the lock is left as it was.

// Under CI (CI=true), whose test command installs setpriv and runs as root, the permission cases
// always run, so that a machine that cannot switch users fails them instead of skipping them.
bool can_switch_users() {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true")
        return true;
    return ::geteuid() == 0 && ::access(LOCKNIX_SETPRIV, X_OK) == 0;
}

// Runs one acquisition as user and group 65534 ("nobody"). Returns the worker's two lines.
std::vector<std::string> try_as_nobody(const std::string& lock_path) {
    child_process p({LOCKNIX_SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups",
                     worker_path(), "try", "--lock", lock_path, "--timeout-ms", "3000", "--slop-ms",
                     "0"});
    std::vector<std::string> lines;
    while (auto line = p.read_line())
        lines.push_back(*line);
    const auto status = p.wait();
    BOOST_TEST_REQUIRE(status.ok(), "worker as nobody: " << status.describe());
    BOOST_TEST_REQUIRE(lines.size() >= 1u);
    return lines;
}

// A world-writable sticky directory, as /tmp, in `dir` (which only root may write): anyone may
// create files there, but only their owner may rename or remove them.
std::string make_sticky_dir(const temp_dir& dir) {
    BOOST_TEST_REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    const auto shared = dir / "shared";
    BOOST_TEST_REQUIRE(::mkdir(shared.c_str(), 0777) == 0);
    BOOST_TEST_REQUIRE(::chmod(shared.c_str(), 01777) == 0);
    return shared;
}

BOOST_AUTO_TEST_CASE(sticky_directory_stops_the_breaker,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                         return can_switch_users();
                     })) {
    temp_dir dir("sticky");
    const auto shared = make_sticky_dir(dir);
    const auto lock_path = shared + "/app.lock";

    const auto claim = leave_expired_lock(lock_path);
    const auto before = identify(lock_path);
    BOOST_TEST_REQUIRE(before.links == 2u);

    const auto lines = try_as_nobody(lock_path);
    BOOST_TEST_MESSAGE("breaker in a sticky directory: " << (lines.size() > 1 ? lines[1] : ""));
    BOOST_TEST(lines[0] == "error value=" + std::to_string(EPERM) + " category=system");
    BOOST_TEST_REQUIRE(lines.size() == 2u);
    BOOST_TEST(lines[1].find(lock_path) != std::string::npos, lines[1]);
    BOOST_TEST(lines[1].find("sticky") != std::string::npos, lines[1]);

    // Nothing of root's was touched, and the breaker left nothing of its own.
    BOOST_TEST(identify(lock_path) == before);
    BOOST_TEST(read_file(lock_path) == claim);
    BOOST_TEST(identify(claim) == before);
    BOOST_TEST(list_dir(shared).size() == 2u);
}

BOOST_AUTO_TEST_CASE(unwritable_directory_stops_the_claim,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                         return can_switch_users();
                     })) {
    temp_dir dir("unwritable");
    BOOST_TEST_REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    const auto lock_path = dir / "app.lock";
    const auto claim = leave_expired_lock(lock_path);
    const auto before = identify(lock_path);

    const auto lines = try_as_nobody(lock_path);
    BOOST_TEST_MESSAGE("claim in an unwritable directory: " << (lines.size() > 1 ? lines[1] : ""));
    BOOST_TEST(lines[0] == "error value=" + std::to_string(EACCES) + " category=system");
    BOOST_TEST_REQUIRE(lines.size() == 2u);
    BOOST_TEST(lines[1].find(lock_path) != std::string::npos, lines[1]);

    BOOST_TEST(identify(lock_path) == before);
    BOOST_TEST(read_file(lock_path) == claim);
    BOOST_TEST(list_dir(dir.path()).size() == 2u);
}

// A breaker killed while breaking leaves its mutex, `<lock>.break`, behind; a later breaker
// removes a stale one. When that stale mutex belongs to another user in a sticky directory, the
// breaker cannot remove it and nothing else ever will: it must say so, naming the path, instead
// of waiting behind it until its deadline (or forever, without one).
BOOST_AUTO_TEST_CASE(another_users_stale_breaker_mutex_is_reported,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                         return can_switch_users();
                     })) {
    temp_dir dir("stale-mutex-sticky");
    const auto shared = make_sticky_dir(dir);
    const auto lock_path = shared + "/app.lock";

    // nobody's own holder died with an expired lock; root's breaker died holding the mutex.
    child_process holder({LOCKNIX_SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups",
                          worker_path(), "die", "--lock", lock_path, "--lifetime-ns", "1"});
    const auto held = holder.read_line();
    BOOST_TEST_REQUIRE(held.has_value());
    holder.kill(SIGKILL);
    holder.wait();
    const auto claim = parse_fields(*held).at("claim");
    const auto before = identify(lock_path);
    const auto mutex = lock_path + ".break";
    BOOST_TEST_REQUIRE(::mkdir(mutex.c_str(), 0755) == 0);
    set_mtime(mutex, 946684800); // 2000-01-01, long stale

    const auto lines = try_as_nobody(lock_path);
    BOOST_TEST_MESSAGE(
        "breaker behind another user's stale mutex: " << (lines.size() > 1 ? lines[1] : ""));
    BOOST_TEST(lines[0] == "error value=" + std::to_string(EPERM) + " category=system");
    BOOST_TEST_REQUIRE(lines.size() == 2u);
    BOOST_TEST(lines[1].find(shared) != std::string::npos, lines[1]);

    // The expired lock, its claim and root's mutex are as they were; the breaker left nothing.
    BOOST_TEST(identify(lock_path) == before);
    BOOST_TEST(read_file(lock_path) == claim);
    BOOST_TEST(exists_no_follow(mutex));
    BOOST_TEST(list_dir(shared).size() == 3u);
}

} // namespace
