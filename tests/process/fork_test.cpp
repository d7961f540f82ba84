// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// After fork() the child has a copy of the parent's lock object but does not own the lock: it
// can neither see it as its own nor release it, and its destructor leaves the parent's lock and
// claim alone.

#define BOOST_TEST_MODULE process_fork
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <locknix/file_lock.hpp>

#include <memory>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace locknix::test;
using namespace std::chrono_literals;

locknix::lock_options long_lived() {
    locknix::lock_options o;
    o.lifetime = 60s;
    return o;
}

// The child cannot use Boost.Test: each failed check ends it with its own exit code.
enum child_failure {
    child_sees_lock_as_held = 10,
    child_acquire_did_not_time_out,
    child_reuses_parent_claim,
    child_cannot_release_parent,
    child_pipe_failed,
    child_cannot_acquire_after_release,
    child_claim_not_its_own,
    child_release_failed,
};

int wait_child(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The parent's lock as it should be: the lock file is a link to its claim.
void check_parent_holds(const temp_dir& dir, locknix::file_lock& lock) {
    BOOST_TEST(lock.is_held());
    BOOST_TEST(lock.state() == locknix::lock_state::held_by_us);
    BOOST_TEST(read_file(dir / "fork.lock") == lock.claim_path());
    BOOST_TEST(identify(lock.claim_path()).links == 2u);
    BOOST_TEST(identify(lock.claim_path()).inode == identify(dir / "fork.lock").inode);
    BOOST_TEST(lock.holder()->pid == ::getpid());
}

BOOST_AUTO_TEST_CASE(child_destroys_the_copy) {
    temp_dir dir("fork");
    auto lock = std::make_unique<locknix::file_lock>(dir / "fork.lock", long_lived());
    lock->acquire(0s);

    const pid_t child = ::fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {
        lock.reset();
        ::_exit(0);
    }
    BOOST_TEST(wait_child(child) == 0);
    check_parent_holds(dir, *lock);
    lock->release();
    BOOST_TEST(!exists_no_follow(dir / "fork.lock"));
}

BOOST_AUTO_TEST_CASE(child_does_not_own_the_lock) {
    temp_dir dir("fork");
    auto lock = std::make_unique<locknix::file_lock>(dir / "fork.lock", long_lived());
    lock->acquire(0s);
    const std::string parent_claim = lock->claim_path();

    const pid_t child = ::fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {
        int code = 0;
        boost::system::error_code ec;
        if (lock->is_held())
            code = child_sees_lock_as_held;
        else if (lock->acquire(0s, ec); ec != locknix::errc::timed_out)
            code = child_acquire_did_not_time_out;
        else if (lock->claim_path() == parent_claim)
            code = child_reuses_parent_claim;
        else if (lock->release(ec); ec != locknix::errc::not_locked)
            code = child_cannot_release_parent;
        lock.reset();
        ::_exit(code);
    }
    BOOST_TEST(wait_child(child) == 0);
    check_parent_holds(dir, *lock);
    BOOST_TEST(lock->claim_path() == parent_claim);

    // Only the parent's claim is in the directory: the child's was removed when it gave up.
    BOOST_TEST(list_dir(dir.path()).size() == 2u);
}

BOOST_AUTO_TEST_CASE(child_takes_the_lock_with_its_own_claim) {
    temp_dir dir("fork");
    auto lock = std::make_unique<locknix::file_lock>(dir / "fork.lock", long_lived());
    lock->acquire(0s);
    const std::string parent_claim = lock->claim_path();

    int released[2];
    BOOST_TEST_REQUIRE(::pipe(released) == 0);
    const pid_t child = ::fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {
        ::close(released[1]);
        char byte;
        if (::read(released[0], &byte, 1) != 0)
            ::_exit(child_pipe_failed);
        int code = 0;
        boost::system::error_code ec;
        if (lock->acquire(0s, ec); ec)
            code = child_cannot_acquire_after_release;
        else if (lock->holder()->pid != ::getpid() || lock->claim_path() == parent_claim)
            code = child_claim_not_its_own;
        else if (lock->release(ec); ec)
            code = child_release_failed;
        lock.reset();
        ::_exit(code);
    }
    ::close(released[0]);
    lock->release();
    ::close(released[1]);
    BOOST_TEST(wait_child(child) == 0);

    // The child removed its own claim and left the parent's, which the parent reuses.
    BOOST_TEST(!exists_no_follow(dir / "fork.lock"));
    BOOST_TEST(list_dir(dir.path()) ==
                   std::vector<std::string>{parent_claim.substr(parent_claim.rfind('/') + 1)},
               boost::test_tools::per_element());
    lock->acquire(0s);
    check_parent_holds(dir, *lock);
    BOOST_TEST(lock->claim_path() == parent_claim);
}

// The child's copy of a kept-alive lock refers to the parent's keep-alive thread, which does not
// exist in the child: its destructor must neither join that thread nor wait for a mutex it held.
// The alarm only turns a hang into a failure instead of leaving the child behind.
BOOST_AUTO_TEST_CASE(child_destroys_a_kept_alive_copy) {
    temp_dir dir("fork");
    auto lock = std::make_unique<locknix::file_lock>(dir / "fork.lock", long_lived());
    lock->acquire(0s);
    lock->keep_alive();

    const pid_t child = ::fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {
        ::alarm(60);
        lock.reset();
        ::_exit(0);
    }
    BOOST_TEST(wait_child(child) == 0, "128 + 14 means the child hung in ~file_lock");
    check_parent_holds(dir, *lock);
    lock->release();
}

} // namespace
