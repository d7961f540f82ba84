// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// One table of lock behaviours, each run through the blocking front end (file_lock) and the
// async front end (async_file_lock, with its system calls on the thread pool and on the event
// loop). The rows only see `lock_under_test`, so both front ends must behave alike.

#include "support.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <fcntl.h>

namespace locknix::test {
namespace {

using namespace std::chrono_literals;
namespace data = boost::unit_test::data;

const error_code ok{};

/// What every row starts from: an empty directory, a lock path in it, and one seam shared by the
/// row's lock objects (they are objects of this process).
struct scene {
    explicit scene(front_end_kind kind) : front(kind) {}

    temp_dir dir;
    std::string lock = dir / "lock";
    std::shared_ptr<fault_fs> fs = std::make_shared<fault_fs>();
    front_end front;

    std::unique_ptr<lock_under_test> make() { return front.make(lock, test_options(fs)); }
};

/// A party on another host whose wall clock is an hour ahead: it may break any lock we hold.
std::unique_ptr<file_lock> breaker_from_the_future(const std::string& lock) {
    auto other = make_host("elsewhere", 4242);
    other->advance_wall(1h);
    return std::make_unique<file_lock>(lock, test_options(other));
}

void acquire_release(scene& s) {
    auto a = s.make();
    BOOST_TEST(a->acquire(1s) == ok);
    BOOST_TEST(read_file(s.lock) == a->claim_path());
    BOOST_TEST(link_count(a->claim_path()) == 2u);

    BOOST_TEST(a->release() == ok);
    BOOST_TEST(!exists(s.lock));
    BOOST_TEST(exists(a->claim_path()), "the claim is kept for the next acquisition");
}

void contention(scene& s) {
    auto a = s.make();
    auto b = s.make();
    BOOST_TEST(a->acquire(1s) == ok);
    BOOST_TEST(b->acquire(20ms) == errc::timed_out);
    BOOST_TEST(read_file(s.lock) == a->claim_path());
    BOOST_TEST(!exists(b->claim_path()), "a failed wait leaves no claim");

    BOOST_TEST(a->release() == ok);
    BOOST_TEST(b->acquire(1s) == ok);
    BOOST_TEST(read_file(s.lock) == b->claim_path());
}

void timeout_against_other_process(scene& s) {
    const auto planted = plant_lock(s.lock, "elsewhere", 4242, whole_second_now() + 1h);
    const auto planted_inode = inode(s.lock);
    auto a = s.make();
    BOOST_TEST(a->acquire(30ms) == errc::timed_out);
    BOOST_TEST(read_file(s.lock) == planted);
    BOOST_TEST(inode(s.lock) == planted_inode);
    BOOST_TEST(!exists(a->claim_path()));
}

void zero_timeout_is_one_attempt(scene& s) {
    const auto planted = plant_lock(s.lock, "elsewhere", 4242, whole_second_now() + 1h);
    auto a = s.make();
    s.fs->reset_counts();
    BOOST_TEST(a->acquire(0s) == errc::timed_out);
    BOOST_TEST(s.fs->count(fs_op::link) == 1u);
    BOOST_TEST(read_file(s.lock) == planted);
    BOOST_TEST(!exists(a->claim_path()));
}

void zero_timeout_breaks_expired_lock(scene& s) {
    const auto planted = plant_lock(s.lock, "elsewhere", 4242, whole_second_now() - 1h);
    auto a = s.make();
    BOOST_TEST(a->acquire(0s) == ok);
    BOOST_TEST(read_file(s.lock) == a->claim_path());
    BOOST_TEST(!exists(planted), "the broken holder's claim is removed");
}

void zero_timeout_breaks_expired_lock_of_this_process(scene& s) {
    auto a = s.make();
    auto b = s.make();
    BOOST_TEST(a->acquire(1s) == ok);
    s.fs->advance_wall(1h); // a's lock is an hour past its expiry and slop
    BOOST_TEST(b->acquire(0s) == ok);
    BOOST_TEST(read_file(s.lock) == b->claim_path());
    BOOST_TEST(!exists(a->claim_path()), "the broken holder's claim is removed");
    BOOST_TEST(a->release() == errc::lock_lost);
}

void lock_freed_behind_a_broken_holder_of_this_process(scene& s) {
    auto a = s.make();
    auto b = s.make();
    BOOST_TEST(a->acquire(1s) == ok);
    {
        auto breaker = breaker_from_the_future(s.lock);
        BOOST_TEST(breaker->try_acquire());
    }
    BOOST_TEST(!exists(s.lock), "broken and released elsewhere: the lock is free");
    BOOST_TEST(b->acquire(200ms) == ok);
    BOOST_TEST(read_file(s.lock) == b->claim_path());
    BOOST_TEST(a->release() == errc::lock_lost);
}

void already_locked(scene& s) {
    auto a = s.make();
    BOOST_TEST(a->acquire(1s) == ok);
    BOOST_TEST(a->acquire(1s) == errc::already_locked);
    BOOST_TEST(read_file(s.lock) == a->claim_path());
    BOOST_TEST(link_count(a->claim_path()) == 2u);
    BOOST_TEST(a->release() == ok);
}

void not_locked(scene& s) {
    auto a = s.make();
    BOOST_TEST(a->release() == errc::not_locked);
    BOOST_TEST(a->refresh() == errc::not_locked);
    BOOST_TEST(s.dir.names().empty());
}

void lock_lost_on_release(scene& s) {
    auto a = s.make();
    BOOST_TEST(a->acquire(1s) == ok);
    auto breaker = breaker_from_the_future(s.lock);
    BOOST_TEST(breaker->try_acquire());

    BOOST_TEST(a->release() == errc::lock_lost);
    BOOST_TEST(read_file(s.lock) == breaker->claim_path(), "the new holder's lock is untouched");
    BOOST_TEST(link_count(breaker->claim_path()) == 2u);
}

void lock_lost_on_refresh(scene& s) {
    auto a = s.make();
    BOOST_TEST(a->acquire(1s) == ok);
    auto breaker = breaker_from_the_future(s.lock);
    BOOST_TEST(breaker->try_acquire());

    BOOST_TEST(a->refresh() == errc::lock_lost);
    BOOST_TEST(read_file(s.lock) == breaker->claim_path());
    BOOST_TEST(a->release() == errc::not_locked, "a lost lock is no longer held");
    BOOST_TEST(read_file(s.lock) == breaker->claim_path());
}

void foreign_file(scene& s) {
    write_file(s.lock, "not a claim\n");
    auto a = s.make();
    BOOST_TEST(a->acquire(1s) == errc::foreign_file);
    BOOST_TEST(read_file(s.lock) == "not a claim\n");
    BOOST_TEST(s.dir.names() == std::vector<std::string>{"lock"}, "no claim is left");
}

void missing_directory(scene& s) {
    auto a = s.front.make(s.dir / "missing/lock", test_options(s.fs));
    // Ten seconds: a front end that retried would report timed_out instead.
    BOOST_TEST(a->acquire(10s) == sys_error(ENOENT));
    BOOST_TEST(s.fs->count(fs_op::link) == 0u);
}

void claim_reused_and_removed(scene& s) {
    std::string claim;
    {
        auto a = s.make();
        claim = a->claim_path();
        BOOST_TEST(a->acquire(1s) == ok);
        BOOST_TEST(a->release() == ok);
        BOOST_TEST(exists(claim));
        BOOST_TEST(a->acquire(1s) == ok);
        BOOST_TEST(a->claim_path() == claim);
        BOOST_TEST(a->release() == ok);

        std::size_t creations = 0;
        for (const auto& call : s.fs->calls())
            if (call.op == fs_op::open && (call.flags & O_CREAT) != 0)
                ++creations;
        BOOST_TEST(creations == 1u);
    }
    BOOST_TEST(!exists(claim), "the claim is removed with its object");
    BOOST_TEST(s.dir.names().empty());
}

void lost_link_reply(scene& s, int error) {
    s.fs->lose_reply(fs_op::link, error, path_is(s.lock));
    auto a = s.make();
    BOOST_TEST(a->acquire(1s) == ok);
    BOOST_TEST(s.fs->count(fs_op::link) == 1u, "the lost reply counts as acquired");
    BOOST_TEST(read_file(s.lock) == a->claim_path());
    BOOST_TEST(a->release() == ok);
    BOOST_TEST(!exists(s.lock));
}

void lost_link_reply_eio(scene& s) {
    lost_link_reply(s, EIO);
}

void lost_link_reply_etimedout(scene& s) {
    lost_link_reply(s, ETIMEDOUT);
}

void lost_link_reply_eexist(scene& s) {
    lost_link_reply(s, EEXIST);
}

void sshfs_contention(scene& s) {
    s.fs->set_sshfs(true);
    auto a = s.make();
    auto b = s.make();
    BOOST_TEST(a->acquire(1s) == ok);
    BOOST_TEST(b->acquire(20ms) == errc::timed_out);
    BOOST_TEST(read_file(s.lock) == a->claim_path());
    BOOST_TEST(a->release() == ok);
    BOOST_TEST(!exists(s.lock));
    BOOST_TEST(b->acquire(1s) == ok);
    BOOST_TEST(read_file(s.lock) == b->claim_path());
}

void sshfs_lost_link_reply(scene& s) {
    s.fs->set_sshfs(true);
    s.fs->lose_reply(fs_op::link, EPERM, path_is(s.lock));
    auto a = s.make();
    BOOST_TEST(a->acquire(1s) == ok, "acquired by the lock file's content");
    BOOST_TEST(read_file(s.lock) == a->claim_path());
    BOOST_TEST(a->release() == ok);
}

struct behaviour {
    const char* name;
    void (*run)(scene&);
};

std::ostream& operator<<(std::ostream& out, const behaviour& b) {
    return out << b.name;
}

const std::vector<behaviour> table{
    {"acquire_release", acquire_release},
    {"contention", contention},
    {"timeout_against_other_process", timeout_against_other_process},
    {"zero_timeout_is_one_attempt", zero_timeout_is_one_attempt},
    {"zero_timeout_breaks_expired_lock", zero_timeout_breaks_expired_lock},
    {"zero_timeout_breaks_expired_lock_of_this_process",
     zero_timeout_breaks_expired_lock_of_this_process},
    {"lock_freed_behind_a_broken_holder_of_this_process",
     lock_freed_behind_a_broken_holder_of_this_process},
    {"already_locked", already_locked},
    {"not_locked", not_locked},
    {"lock_lost_on_release", lock_lost_on_release},
    {"lock_lost_on_refresh", lock_lost_on_refresh},
    {"foreign_file", foreign_file},
    {"missing_directory", missing_directory},
    {"claim_reused_and_removed", claim_reused_and_removed},
    {"lost_link_reply_eio", lost_link_reply_eio},
    {"lost_link_reply_etimedout", lost_link_reply_etimedout},
    {"lost_link_reply_eexist", lost_link_reply_eexist},
    {"sshfs_contention", sshfs_contention},
    {"sshfs_lost_link_reply", sshfs_lost_link_reply},
};

} // namespace

BOOST_AUTO_TEST_SUITE(behaviours)

BOOST_DATA_TEST_CASE(each_front_end, data::make(table) * data::make(all_front_ends), row, kind) {
    scene s(kind);
    row.run(s);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace locknix::test
