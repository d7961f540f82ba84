// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The blocking front end (file_lock.cpp): waiting, timeouts of every duration type, errors and
// their messages, ownership (two objects, fork), the claim's life, the keep-alive, and the
// standard lock interfaces. Other hosts are played by file_lock objects on their own fault_fs.
// Waits end on events (hooks, futures) or on the fake clocks, never on sleeps.

#include "test_support.hpp"

#include <locknix/file_lock.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <stop_token>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;
using boost::system::error_code;
using locknix::errc;
using locknix::lock_options;
using locknix::lock_state;
using locknix::test::fs_op;

namespace {

namespace lt = locknix::test;
using steady_time = std::chrono::steady_clock::time_point;

struct lock_fixture {
    lt::temp_dir dir;
    std::string lock_path = dir / "x.lck";
    std::shared_ptr<lt::fault_fs> fs = lt::make_host("here", 1000);
    std::shared_ptr<lt::fault_fs> other_fs = lt::make_host("there", 2000);

    lock_options options() const { return lt::test_options(fs); }

    // Another host takes the lock, with the given lifetime on its own clock.
    std::unique_ptr<locknix::file_lock> other_holds(std::chrono::nanoseconds lifetime = 1h) {
        auto o = lt::test_options(other_fs);
        o.lifetime = lifetime;
        auto other = std::make_unique<locknix::file_lock>(lock_path, o);
        other->acquire(0s);
        BOOST_REQUIRE(other->is_held());
        return other;
    }

    // The links this process made to the lock path: one per acquisition attempt.
    std::size_t attempts() const {
        std::size_t n = 0;
        for (const auto& c : fs->calls())
            if (c.op == fs_op::link && c.target == lock_path)
                ++n;
        return n;
    }

    // Records the fake steady time of every attempt.
    std::shared_ptr<std::vector<steady_time>> time_attempts() {
        auto times = std::make_shared<std::vector<steady_time>>();
        lt::fault_fs* seam = fs.get(); // not a shared_ptr: the seam owns this hook
        fs->add_hook({fs_op::link, lt::hook_phase::before, lt::path_is(lock_path), 0, 0,
                      [times, seam](const lt::fs_call&) {
                          times->push_back(seam->steady_now());
                      }});
        return times;
    }

    std::vector<std::string> names_without(const std::string& except) const {
        std::vector<std::string> names;
        for (const auto& n : dir.names())
            if (dir / n != except)
                names.push_back(n);
        return names;
    }
};

// A one-shot event for hooks and callbacks.
class event {
public:
    void set() {
        std::lock_guard g(m_);
        set_ = true;
        cv_.notify_all();
    }
    // True if set within `limit` (a guard against a hang, not a timing assertion).
    bool wait(std::chrono::seconds limit = 30s) {
        std::unique_lock g(m_);
        return cv_.wait_for(g, limit, [this] { return set_; });
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool set_ = false;
};

template <class F>
boost::system::system_error thrown_by(F f) {
    try {
        f();
    } catch (const boost::system::system_error& e) {
        return e;
    }
    BOOST_ERROR("no exception");
    return boost::system::system_error(error_code());
}

// True when every other thread of this process is blocked (state S): an observation, not a
// sleep, to know that a keep-alive thread is waiting on its condition variable.
bool other_threads_blocked() {
    const auto self = std::to_string(::syscall(SYS_gettid));
    DIR* d = ::opendir("/proc/self/task");
    bool blocked = true;
    while (dirent* e = ::readdir(d)) {
        const std::string tid = e->d_name;
        if (tid == "." || tid == ".." || tid == self)
            continue;
        std::ifstream stat("/proc/self/task/" + tid + "/stat");
        std::string line;
        std::getline(stat, line);
        const auto paren = line.rfind(')');
        if (paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'S')
            blocked = false;
    }
    ::closedir(d);
    return blocked;
}

} // namespace

BOOST_AUTO_TEST_SUITE(file_lock)

// --- The basic cycle ------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(acquire_and_release, lock_fixture) {
    locknix::file_lock lock(lock_path, options());
    BOOST_TEST(lock.path() == lock_path);
    BOOST_TEST(!lock.is_held());
    BOOST_TEST(lock.state() == lock_state::unlocked);
    lock.acquire(1h);
    BOOST_TEST(lock.is_held());
    BOOST_TEST(lock.state() == lock_state::held_by_us);
    BOOST_TEST(lt::read_file(lock_path) == lock.claim_path());
    lock.release();
    BOOST_TEST(!lock.is_held());
    BOOST_TEST(lock.state() == lock_state::unlocked);
    BOOST_TEST(!lt::exists(lock_path));
}

BOOST_FIXTURE_TEST_CASE(an_uncontended_cycle_reuses_the_claim, lock_fixture) {
    locknix::file_lock lock(lock_path, options());
    lock.acquire(1h);
    lock.release();
    const std::vector<fs_op> first = {fs_op::open, fs_op::write, fs_op::close, fs_op::set_times,
                                      fs_op::link, fs_op::lstat, fs_op::unlink};
    BOOST_TEST(fs->file_ops() == first, boost::test_tools::per_element());

    fs->reset_counts();
    lock.acquire(1h);
    lock.release();
    const std::vector<fs_op> second = {fs_op::set_times, fs_op::link, fs_op::lstat, fs_op::unlink};
    BOOST_TEST(fs->file_ops() == second, boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(the_claim_lives_as_long_as_the_object, lock_fixture) {
    {
        locknix::file_lock lock(lock_path, options());
        BOOST_TEST(dir.names().empty()); // construction touches no file
        lock.acquire(1h);
        const auto claim = lock.claim_path();
        lock.release();
        BOOST_TEST(lt::exists(claim));
        lt::remove_file(claim); // a cleaner removed it
        lock.acquire(1h);       // recreated
        BOOST_TEST(lt::inode(claim) == lt::inode(lock_path));
    } // destroyed while holding: released, claim removed
    BOOST_TEST(dir.names().empty());
}

BOOST_FIXTURE_TEST_CASE(a_timed_out_acquisition_removes_its_claim, lock_fixture) {
    auto other = other_holds();
    locknix::file_lock lock(lock_path, options());
    error_code ec;
    lock.acquire(5ms, ec);
    BOOST_TEST(ec == errc::timed_out);
    BOOST_TEST(!lt::exists(lock.claim_path()));
    BOOST_TEST(names_without(other->claim_path()) == std::vector<std::string>{"x.lck"});
}

// --- Ownership -------------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(two_objects_in_one_process_exclude_each_other, lock_fixture) {
    locknix::file_lock a(lock_path, options());
    locknix::file_lock b(lock_path, options());
    a.acquire(1h);
    BOOST_TEST(!b.try_acquire());
    BOOST_TEST(!b.try_lock());
    error_code ec;
    b.acquire(0s, ec);
    BOOST_TEST(ec == errc::timed_out);
    BOOST_TEST(b.state() == lock_state::held_by_other);
    BOOST_TEST(!b.is_held());
    a.release();
    BOOST_TEST(b.try_acquire());
    BOOST_TEST(a.state() == lock_state::held_by_other);
    b.release();
}

BOOST_FIXTURE_TEST_CASE(a_waiter_gets_the_lock_when_the_holder_releases, lock_fixture) {
    auto other = other_holds();
    locknix::file_lock lock(lock_path, options());
    event waiting;
    fs->add_hook(
        {fs_op::link, lt::hook_phase::after, lt::path_is(lock_path), 1, 1, [&](const lt::fs_call&) {
             waiting.set();
         }});
    auto result = std::async(std::launch::async, [&] {
        error_code ec;
        lock.acquire(1h, ec);
        return ec;
    });
    BOOST_REQUIRE(waiting.wait()); // the waiter has been refused twice
    other->release();
    BOOST_TEST(!result.get());
    BOOST_TEST(lock.is_held());
    BOOST_TEST(attempts() >= 3u);
}

BOOST_FIXTURE_TEST_CASE(acquiring_twice_through_one_object_is_an_error_not_a_deadlock,
                        lock_fixture) {
    locknix::file_lock lock(lock_path, options());
    lock.acquire(1h);
    fs->reset_counts();
    error_code ec;
    lock.acquire(1h, ec);
    BOOST_TEST(ec == errc::already_locked);
    BOOST_TEST(!lock.try_acquire(ec));
    BOOST_TEST(ec == errc::already_locked);
    const auto e = thrown_by([&] { lock.acquire(std::chrono::hours::max()); });
    BOOST_TEST(e.code() == errc::already_locked);
    BOOST_TEST(std::string(e.what()).find(lock_path) != std::string::npos);
    BOOST_TEST(thrown_by([&] { (void)lock.try_lock(); }).code() == errc::already_locked);
    BOOST_TEST(attempts() == 0u);
    // Still held, and the claim was not abandoned.
    BOOST_TEST(lock.is_held());
    BOOST_TEST(lt::link_count(lock.claim_path()) == 2u);
}

BOOST_FIXTURE_TEST_CASE(a_forked_child_does_not_own_the_parents_lock, lock_fixture) {
    // The real process id: this is a real fork.
    auto seam = std::make_shared<lt::fault_fs>();
    seam->set_host_name("here");
    auto o = lt::test_options(seam);
    std::optional<locknix::file_lock> lock;
    lock.emplace(lock_path, o);
    lock->acquire(1h);
    const std::string claim = lock->claim_path();

    const pid_t child = ::fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) {
        ::alarm(20); // a hang would be a failure, not a stuck test
        int failures = 0;
        try {
            if (lock->is_held())
                failures |= 1;
            error_code ec;
            lock->release(ec);
            if (ec != errc::not_locked)
                failures |= 2;
            lock->refresh(ec);
            if (ec != errc::not_locked)
                failures |= 4;
            if (lock->state() != lock_state::held_by_other)
                failures |= 8;
            if (lock->try_acquire())
                failures |= 16;
            lock.reset();
        } catch (...) {
            failures |= 32;
        }
        ::_exit(failures);
    }
    int status = 0;
    BOOST_REQUIRE(::waitpid(child, &status, 0) == child);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 0);
    // The parent's lock and claim are intact, and the child left nothing behind.
    BOOST_TEST(lock->is_held());
    BOOST_TEST(lt::read_file(lock_path) == claim);
    BOOST_TEST(lt::link_count(claim) == 2u);
    BOOST_TEST(names_without(claim) == std::vector<std::string>{"x.lck"});
    lock->release();
}

BOOST_FIXTURE_TEST_CASE(a_child_forked_during_a_refresh_can_destroy_the_lock, lock_fixture) {
    // The child's copy refers to the parent's keep-alive thread, which does not exist in the
    // child and, at the fork, held the object's mutex in the middle of a refresh.
    auto seam = std::make_shared<lt::fault_fs>();
    auto o = lt::test_options(seam);
    o.lifetime = 150ms;
    std::optional<locknix::file_lock> lock;
    lock.emplace(lock_path, o);
    lock->acquire(0s);
    const std::string claim = lock->claim_path();
    event refreshing;
    std::promise<void> forked;
    auto forked_future = forked.get_future().share();
    seam->add_hook({fs_op::set_times,
                    lt::hook_phase::before,
                    {},
                    0,
                    1,
                    [&refreshing, forked_future](const lt::fs_call&) {
                        refreshing.set();
                        forked_future.wait();
                    }});
    lock->keep_alive();
    BOOST_REQUIRE(refreshing.wait());
    const pid_t child = ::fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) {
        ::alarm(20); // a hang is a failure, not a stuck test
        lock.reset();
        ::_exit(0);
    }
    int status = 0;
    BOOST_REQUIRE(::waitpid(child, &status, 0) == child);
    forked.set_value();
    BOOST_TEST(WIFEXITED(status), "child killed by signal " << WTERMSIG(status));
    BOOST_TEST(lock->is_held());
    BOOST_TEST(lt::link_count(claim) == 2u);
    lock->release();
}

BOOST_FIXTURE_TEST_CASE(a_child_forked_between_refreshes_can_destroy_the_lock, lock_fixture) {
    // glibc's pthread_cond_destroy waits for the waiters it counts, among them the parent's
    // keep-alive thread, which does not exist in the child.
    auto seam = std::make_shared<lt::fault_fs>();
    auto o = lt::test_options(seam);
    o.lifetime = 30s; // no refresh during the test
    std::optional<locknix::file_lock> lock;
    lock.emplace(lock_path, o);
    lock->acquire(0s);
    lock->keep_alive();
    // Fork once the keep-alive thread waits for its first refresh.
    const auto give_up = std::chrono::steady_clock::now() + 20s; // a guard, not a timing
    while (!other_threads_blocked() && std::chrono::steady_clock::now() < give_up)
        std::this_thread::yield();
    BOOST_REQUIRE(other_threads_blocked());
    const pid_t child = ::fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) {
        ::alarm(20);
        lock.reset();
        ::_exit(0);
    }
    int status = 0;
    BOOST_REQUIRE(::waitpid(child, &status, 0) == child);
    BOOST_TEST(WIFEXITED(status), "child killed by signal " << WTERMSIG(status));
    BOOST_TEST(lock->is_held());
}

// --- Timeouts ----------------------------------------------------------------------------

struct one_attempt_case {
    const char* name;
    std::function<void(locknix::file_lock&, error_code&)> acquire;
};

std::ostream& operator<<(std::ostream& out, const one_attempt_case& c) {
    return out << c.name;
}

const one_attempt_case one_attempt_cases[] = {
    {"zero",
     [](locknix::file_lock& l, error_code& ec) {
         l.acquire(0s, ec);
     }},
    {"zero nanoseconds",
     [](locknix::file_lock& l, error_code& ec) {
         l.acquire(0ns, ec);
     }},
    {"negative seconds",
     [](locknix::file_lock& l, error_code& ec) {
         l.acquire(-5s, ec);
     }},
    {"negative double",
     [](locknix::file_lock& l, error_code& ec) {
         l.acquire(std::chrono::duration<double>(-0.5), ec);
     }},
    {"hours min",
     [](locknix::file_lock& l, error_code& ec) {
         l.acquire(std::chrono::hours::min(), ec);
     }},
    {"try_acquire",
     [](locknix::file_lock& l, error_code& ec) {
         if (!l.try_acquire(ec) && !ec)
             ec = errc::timed_out;
     }},
    {"try_lock_for zero",
     [](locknix::file_lock& l, error_code& ec) {
         if (!l.try_lock_for(0ms))
             ec = errc::timed_out;
     }},
    {"try_lock_until the past",
     [](locknix::file_lock& l, error_code& ec) {
         if (!l.try_lock_until(std::chrono::steady_clock::now() - 1h))
             ec = errc::timed_out;
     }},
};

BOOST_DATA_TEST_CASE_F(lock_fixture, zero_or_negative_timeouts_make_exactly_one_attempt,
                       boost::unit_test::data::make(one_attempt_cases), c) {
    auto other = other_holds();
    locknix::file_lock lock(lock_path, options());
    error_code ec;
    c.acquire(lock, ec);
    BOOST_TEST(ec == errc::timed_out);
    BOOST_TEST(attempts() == 1u);
    other->release();
    ec.clear();
    c.acquire(lock, ec);
    BOOST_TEST(!ec);
    BOOST_TEST(lock.is_held());
}

struct timeout_case {
    const char* name;
    std::chrono::nanoseconds at_least;
    std::function<void(locknix::file_lock&, error_code&)> acquire;
};

std::ostream& operator<<(std::ostream& out, const timeout_case& c) {
    return out << c.name;
}

const timeout_case timeout_cases[] = {
    {"milliseconds", 20ms,
     [](locknix::file_lock& l, error_code& ec) {
         l.acquire(20ms, ec);
     }},
    {"double seconds", 50ms,
     [](locknix::file_lock& l, error_code& ec) {
         l.acquire(std::chrono::duration<double>(0.05), ec);
     }},
    {"float milliseconds", std::chrono::nanoseconds(20'500'000),
     [](locknix::file_lock& l, error_code& ec) {
         l.acquire(std::chrono::duration<float, std::milli>(20.5f), ec);
     }},
    {"fiftieths of a second", 20ms,
     [](locknix::file_lock& l, error_code& ec) {
         l.acquire(std::chrono::duration<long long, std::ratio<1, 50>>(1), ec);
     }},
    {"throwing overload", 20ms,
     [](locknix::file_lock& l, error_code& ec) {
         try {
             l.acquire(20ms);
         } catch (const boost::system::system_error& e) {
             ec = e.code();
         }
     }},
    {"try_lock_for double", 20ms,
     [](locknix::file_lock& l, error_code& ec) {
         if (!l.try_lock_for(std::chrono::duration<double, std::milli>(20.0)))
             ec = errc::timed_out;
     }},
};

BOOST_DATA_TEST_CASE_F(lock_fixture, a_timeout_ends_with_an_attempt_at_the_deadline,
                       boost::unit_test::data::make(timeout_cases), c) {
    // Polls an hour apart: the only wait is the one cut at the deadline, so the second and last
    // attempt starts at the deadline the duration converts to.
    auto other = other_holds();
    auto o = options();
    o.min_poll = o.max_poll = 1h;
    locknix::file_lock lock(lock_path, o);
    const auto times = time_attempts();
    const auto start = fs->steady_now();
    error_code ec;
    c.acquire(lock, ec);
    BOOST_TEST(ec == errc::timed_out);
    BOOST_REQUIRE(times->size() == 2u);
    BOOST_TEST((times->back() >= start + c.at_least));
    BOOST_TEST(!lt::exists(lock.claim_path()));
}

BOOST_FIXTURE_TEST_CASE(short_polls_never_give_up_before_the_deadline, lock_fixture) {
    auto other = other_holds();
    locknix::file_lock lock(lock_path, options());
    const auto start = fs->steady_now();
    error_code ec;
    lock.acquire(20ms, ec);
    BOOST_TEST(ec == errc::timed_out);
    BOOST_TEST((fs->steady_now() >= start + 20ms));
    BOOST_TEST(attempts() >= 2u);
}

BOOST_FIXTURE_TEST_CASE(a_wait_never_sleeps_past_the_deadline, lock_fixture) {
    // Polls an hour apart, a 30 ms timeout: one attempt, a wait cut at the deadline, one last
    // attempt there. Sleeping to the next poll would take an hour.
    for (const bool inotify : {false, true}) {
        BOOST_TEST_CONTEXT("inotify " << inotify) {
            auto other = other_holds();
            auto o = options();
            o.min_poll = o.max_poll = 1h;
            o.use_inotify = inotify;
            locknix::file_lock lock(lock_path, o);
            fs->reset_counts();
            fs->clear_hooks();
            const auto times = time_attempts();
            const auto start = fs->steady_now();
            error_code ec;
            lock.acquire(30ms, ec);
            BOOST_TEST(ec == errc::timed_out);
            // With inotify, one more attempt right after the watch is set up.
            BOOST_TEST(times->size() == (inotify ? 3u : 2u));
            BOOST_TEST((times->back() >= start + 30ms));
        }
    }
}

BOOST_FIXTURE_TEST_CASE(a_steady_clock_past_the_deadline_ends_the_wait, lock_fixture) {
    auto other = other_holds();
    locknix::file_lock lock(lock_path, options());
    fs->add_hook({fs_op::link, lt::hook_phase::after, lt::path_is(lock_path), 1, 1,
                  [this](const lt::fs_call&) {
                      fs->advance_steady(2h);
                  }});
    error_code ec;
    lock.acquire(1h, ec);
    BOOST_TEST(ec == errc::timed_out);
    BOOST_TEST(attempts() == 2u);
}

BOOST_FIXTURE_TEST_CASE(deadlines_ignore_wall_clock_jumps, lock_fixture) {
    auto other = other_holds(100h);
    locknix::file_lock lock(lock_path, options());
    // The wall clock jumps back a day at every attempt; the 20 ms deadline still holds.
    fs->add_hook({fs_op::link, lt::hook_phase::after, lt::path_is(lock_path), 0, 0,
                  [this](const lt::fs_call&) {
                      fs->advance_wall(-24h);
                  }});
    const auto start = fs->steady_now();
    error_code ec;
    lock.acquire(20ms, ec);
    BOOST_TEST(ec == errc::timed_out);
    BOOST_TEST((fs->steady_now() >= start + 20ms));
    BOOST_TEST(attempts() >= 2u);
}

struct forever_case {
    const char* name;
    std::function<void(locknix::file_lock&, error_code&)> acquire;
};

std::ostream& operator<<(std::ostream& out, const forever_case& c) {
    return out << c.name;
}

const forever_case forever_cases[] = {
    {"hours max",
     [](locknix::file_lock& l, error_code& ec) {
         l.acquire(std::chrono::hours::max(), ec);
     }},
    {"nanoseconds max",
     [](locknix::file_lock& l, error_code& ec) {
         l.acquire(std::chrono::nanoseconds::max(), ec);
     }},
    {"seconds max",
     [](locknix::file_lock& l, error_code& ec) {
         l.acquire(std::chrono::seconds::max(), ec);
     }},
    {"huge double",
     [](locknix::file_lock& l, error_code& ec) {
         l.acquire(std::chrono::duration<double>(1e300), ec);
     }},
    {"lock()",
     [](locknix::file_lock& l, error_code&) {
         l.lock();
     }},
    {"try_lock_for hours max",
     [](locknix::file_lock& l, error_code& ec) {
         if (!l.try_lock_for(std::chrono::hours::max()))
             ec = errc::timed_out;
     }},
    {"try_lock_until time_point max",
     [](locknix::file_lock& l, error_code& ec) {
         if (!l.try_lock_until(std::chrono::steady_clock::time_point::max()))
             ec = errc::timed_out;
     }},
};

BOOST_DATA_TEST_CASE_F(lock_fixture, huge_timeouts_wait_without_overflowing,
                       boost::unit_test::data::make(forever_cases), c) {
    auto other = other_holds();
    locknix::file_lock lock(lock_path, options());
    // The holder leaves just before the third attempt.
    fs->add_hook({fs_op::link, lt::hook_phase::before, lt::path_is(lock_path), 2, 1,
                  [&](const lt::fs_call&) {
                      other->release();
                  }});
    error_code ec;
    c.acquire(lock, ec);
    BOOST_TEST(!ec);
    BOOST_TEST(lock.is_held());
    BOOST_TEST(attempts() == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_zero_timeout_still_breaks_an_expired_lock, lock_fixture) {
    for (int variant = 0; variant < 3; ++variant) {
        BOOST_TEST_CONTEXT("variant " << variant) {
            auto other = other_holds(1s);
            fs->advance_wall(1h);
            locknix::file_lock lock(lock_path, options());
            error_code ec;
            if (variant == 0)
                BOOST_TEST(lock.try_acquire());
            else if (variant == 1)
                lock.acquire(0s, ec);
            else
                lock.acquire(-1s, ec);
            BOOST_TEST(!ec);
            BOOST_TEST(lock.is_held());
            BOOST_TEST(lock.holder()->pid == 1000);
            other->release(ec);
            BOOST_TEST(ec == errc::lock_lost);
            fs->advance_wall(-1h);
        }
    }
}

BOOST_FIXTURE_TEST_CASE(an_expired_lock_is_broken_while_waiting, lock_fixture) {
    // flufl.lock's "lock constructor with timeout override": the holder's lifetime runs out
    // during the wait. The breaker's clock jumps instead of sleeping.
    auto other = other_holds(5s);
    locknix::file_lock lock(lock_path, options());
    fs->add_hook({fs_op::link, lt::hook_phase::after, lt::path_is(lock_path), 2, 1,
                  [this](const lt::fs_call&) {
                      fs->advance_wall(16s);
                  }});
    lock.acquire(1h);
    BOOST_TEST(lock.is_held());
    BOOST_TEST(lock.holder()->host == "here");
    BOOST_TEST(!other->is_held());
}

BOOST_FIXTURE_TEST_CASE(a_lock_acquired_after_a_long_wait_is_not_born_expired, lock_fixture) {
    auto other = other_holds(1000h);
    auto o = options();
    o.lifetime = 15s;
    locknix::file_lock lock(lock_path, o);
    // Ten minutes pass on the wall clock after every refused attempt; the holder leaves before
    // the fourth.
    fs->add_hook({fs_op::link, lt::hook_phase::after, lt::path_is(lock_path), 0, 3,
                  [this](const lt::fs_call&) {
                      fs->advance_wall(10min);
                  }});
    fs->add_hook({fs_op::link, lt::hook_phase::before, lt::path_is(lock_path), 3, 1,
                  [&](const lt::fs_call&) {
                      other->release();
                  }});
    lock.acquire(1h);
    BOOST_TEST(attempts() == 4u);
    BOOST_TEST(lock.state() == lock_state::held_by_us);
    BOOST_REQUIRE(lock.expiration());
    BOOST_TEST((*lock.expiration() > fs->wall_now()));
    BOOST_TEST((*lock.expiration() <= fs->wall_now() + 15s));
}

// --- Errors that end the wait at once ------------------------------------------------------

struct fatal_case {
    const char* name;
    int error;
    // Prepares the failure; returns the lock path to use.
    std::function<std::string(lock_fixture&)> setup;
};

std::ostream& operator<<(std::ostream& out, const fatal_case& c) {
    return out << c.name;
}

const fatal_case fatal_cases[] = {
    {"missing directory", ENOENT,
     [](lock_fixture& f) {
         return f.dir / "missing/x.lck";
     }},
    {"directory is a file", ENOTDIR,
     [](lock_fixture& f) {
         lt::write_file(f.dir / "file", "");
         return f.dir / "file/x.lck";
     }},
    {"symbolic link loop", ELOOP,
     [](lock_fixture& f) {
         lt::make_symlink(f.dir / "loop", f.dir / "loop");
         return f.dir / "loop/x.lck";
     }},
    {"EACCES creating the claim", EACCES,
     [](lock_fixture& f) {
         f.fs->fail(fs_op::open, EACCES, {}, 0);
         return f.lock_path;
     }},
    {"EROFS creating the claim", EROFS,
     [](lock_fixture& f) {
         f.fs->fail(fs_op::open, EROFS, {}, 0);
         return f.lock_path;
     }},
    {"ENOSPC creating the claim", ENOSPC,
     [](lock_fixture& f) {
         f.fs->fail(fs_op::open, ENOSPC, {}, 0);
         return f.lock_path;
     }},
    {"EDQUOT writing the claim", EDQUOT,
     [](lock_fixture& f) {
         f.fs->fail(fs_op::write, EDQUOT, {}, 0);
         return f.lock_path;
     }},
    {"EACCES linking", EACCES,
     [](lock_fixture& f) {
         f.fs->fail(fs_op::link, EACCES, {}, 0);
         return f.lock_path;
     }},
    {"EROFS linking", EROFS,
     [](lock_fixture& f) {
         f.fs->fail(fs_op::link, EROFS, {}, 0);
         return f.lock_path;
     }},
    {"ENOSPC linking", ENOSPC,
     [](lock_fixture& f) {
         f.fs->fail(fs_op::link, ENOSPC, {}, 0);
         return f.lock_path;
     }},
    {"EROFS stamping the expiry", EROFS,
     [](lock_fixture& f) {
         f.fs->fail(fs_op::set_times, EROFS, {}, 0);
         return f.lock_path;
     }},
    {"unexpected errno from link", EMLINK,
     [](lock_fixture& f) {
         f.fs->fail(fs_op::link, EMLINK, {}, 0);
         return f.lock_path;
     }},
};

BOOST_DATA_TEST_CASE_F(lock_fixture, failures_that_waiting_cannot_mend_end_at_once,
                       boost::unit_test::data::make(fatal_cases), c) {
    const std::string path = c.setup(*this);
    {
        locknix::file_lock lock(path, options());
        // An hour to wait: the error must come after an attempt or two, not at the deadline.
        const auto e = thrown_by([&] { lock.acquire(1h); });
        BOOST_TEST(lt::sys_errno(e.code()) == c.error);
        BOOST_TEST(std::string(e.what()).find(path) != std::string::npos);
        BOOST_TEST(!lock.is_held());

        error_code ec;
        lock.acquire(1h, ec);
        BOOST_TEST(lt::sys_errno(ec) == c.error);
        BOOST_TEST(!lt::exists(lock.claim_path()));
    }
    BOOST_TEST(fs->count(fs_op::link) <= 2u);
    BOOST_TEST(!lt::exists(lock_path));
}

BOOST_FIXTURE_TEST_CASE(a_claim_name_over_name_max_is_refused_at_construction, lock_fixture) {
    const std::string path = dir / std::string(240, 'n');
    const auto e = thrown_by([&] { locknix::file_lock lock(path, options()); });
    BOOST_TEST(lt::sys_errno(e.code()) == ENAMETOOLONG);
    BOOST_TEST(std::string(e.what()).find(path) != std::string::npos);
    BOOST_TEST(dir.names().empty());
}

BOOST_FIXTURE_TEST_CASE(bad_paths_hosts_and_options_are_refused_at_construction, lock_fixture) {
    BOOST_TEST(thrown_by([&] { locknix::file_lock l(dir / "a|b", options()); }).code() ==
               errc::bad_lock_path);
    BOOST_TEST(thrown_by([&] { locknix::file_lock l("", options()); }).code() ==
               errc::bad_lock_path);
    BOOST_TEST(thrown_by([&] { locknix::file_lock l(dir.path() + "/", options()); }).code() ==
               errc::bad_lock_path);
    auto o = options();
    o.lifetime = 0s;
    BOOST_TEST(thrown_by([&] { locknix::file_lock l(lock_path, o); }).code() == errc::bad_option);
    fs->set_host_name("a|b");
    const auto e = thrown_by([&] { locknix::file_lock l(lock_path, options()); });
    BOOST_TEST(e.code() == errc::bad_host_name);
    BOOST_TEST(std::string(e.what()).find(lock_path) != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(estale_on_link_is_tried_again_and_acquires, lock_fixture) {
    fs->fail(fs_op::link, ESTALE, lt::path_is(lock_path), 2);
    locknix::file_lock lock(lock_path, options());
    lock.acquire(1h);
    BOOST_TEST(lock.is_held());
    BOOST_TEST(attempts() == 3u);
}

const int lost_link_errnos[] = {EIO, ETIMEDOUT, EEXIST};

BOOST_DATA_TEST_CASE_F(lock_fixture, a_lost_link_reply_is_an_acquisition,
                       boost::unit_test::data::make(lost_link_errnos), e) {
    fs->lose_reply(fs_op::link, e, lt::path_is(lock_path));
    locknix::file_lock lock(lock_path, options());
    lock.acquire(1h);
    BOOST_TEST(lock.is_held());
    BOOST_TEST(attempts() == 1u);
    lock.release();
    BOOST_TEST(!lt::exists(lock_path));
}

// --- Files at the lock path that are not locks -------------------------------------------------

struct foreign_case {
    const char* name;
    std::function<void(lock_fixture&)> make;
};

std::ostream& operator<<(std::ostream& out, const foreign_case& c) {
    return out << c.name;
}

const foreign_case foreign_cases[] = {
    {"regular file with other content",
     [](lock_fixture& f) {
         lt::write_file(f.lock_path, "save me");
     }},
    {"empty file",
     [](lock_fixture& f) {
         lt::write_file(f.lock_path, "");
     }},
    {"claim content with a trailing newline",
     [](lock_fixture& f) {
         lt::write_file(f.lock_path, f.lock_path + "|there|2000|5\n");
     }},
    {"claim of another lock path",
     [](lock_fixture& f) {
         const std::string claim = f.dir / "y.lck|there|2000|5";
         lt::write_file(claim, claim);
         lt::make_link(claim, f.lock_path);
     }},
    {"file larger than 4 KiB",
     [](lock_fixture& f) {
         lt::write_file(f.lock_path, f.lock_path + "|there|2000|5" + std::string(5000, '0'));
     }},
    {"symbolic link to a claim",
     [](lock_fixture& f) {
         const std::string claim = f.lock_path + "|there|2000|5";
         lt::write_file(claim, claim);
         lt::set_mtime(claim, lt::whole_second_now() - 2h);
         lt::make_symlink(claim, f.lock_path);
     }},
    {"dangling symbolic link",
     [](lock_fixture& f) {
         lt::make_symlink(f.dir / "nowhere", f.lock_path);
     }},
    {"directory",
     [](lock_fixture& f) {
         lt::make_dir(f.lock_path);
     }},
    {"fifo",
     [](lock_fixture& f) {
         BOOST_REQUIRE(::mkfifo(f.lock_path.c_str(), 0644) == 0);
     }},
};

BOOST_DATA_TEST_CASE_F(lock_fixture, a_file_that_is_not_a_lock_is_reported_and_never_touched,
                       boost::unit_test::data::make(foreign_cases), c) {
    c.make(*this);
    // Old enough to be breakable, had it been a lock.
    lt::set_mtime(lock_path, lt::whole_second_now() - 2h);
    fs->advance_wall(1h);
    const auto before_names = dir.names();
    const auto before_inode = lt::inode(lock_path);
    const auto before_mtime = lt::mtime(lock_path);
    struct stat st {};
    BOOST_REQUIRE(::lstat(lock_path.c_str(), &st) == 0);
    const std::string before_content = S_ISREG(st.st_mode) ? lt::read_file(lock_path) : "";

    {
        locknix::file_lock lock(lock_path, options());
        const auto e = thrown_by([&] { lock.acquire(1h); });
        BOOST_TEST(e.code() == errc::foreign_file);
        BOOST_TEST(std::string(e.what()).find(lock_path) != std::string::npos);
        error_code ec;
        BOOST_TEST(!lock.try_acquire(ec));
        BOOST_TEST(ec == errc::foreign_file);
        BOOST_TEST(lock.state() == lock_state::not_a_lock);
        BOOST_TEST(!lock.holder(ec));
        BOOST_TEST(ec == errc::foreign_file);
        BOOST_TEST(!lock.is_held());
        BOOST_TEST(attempts() <= 2u);
    }
    BOOST_TEST(dir.names() == before_names, boost::test_tools::per_element());
    BOOST_TEST(lt::inode(lock_path) == before_inode);
    BOOST_TEST((lt::mtime(lock_path) == before_mtime));
    if (S_ISREG(st.st_mode))
        BOOST_TEST(lt::read_file(lock_path) == before_content);
    for (const auto op : {fs_op::unlink, fs_op::rename, fs_op::set_times})
        for (const auto& call : fs->calls())
            if (call.op == op)
                BOOST_TEST(call.path != lock_path);
}

// --- Cancellation ------------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(a_stop_requested_before_the_call_cancels_at_once, lock_fixture) {
    locknix::file_lock lock(lock_path, options());
    std::stop_source stop;
    stop.request_stop();
    error_code ec;
    lock.acquire(1h, stop.get_token(), ec);
    BOOST_TEST(ec == boost::system::errc::operation_canceled);
    BOOST_TEST(ec != errc::timed_out);
    BOOST_TEST(fs->total_file_calls() == 0u);
    BOOST_TEST(!lock.is_held());
}

BOOST_FIXTURE_TEST_CASE(a_stop_request_ends_a_wait_and_leaves_no_claim, lock_fixture) {
    for (const bool inotify : {false, true}) {
        BOOST_TEST_CONTEXT("inotify " << inotify) {
            auto other = other_holds();
            auto o = options();
            o.min_poll = o.max_poll = 1h; // only the stop request can end the wait early
            o.use_inotify = inotify;
            locknix::file_lock lock(lock_path, o);
            std::stop_source stop;
            event waiting;
            fs->clear_hooks();
            fs->add_hook({fs_op::link, lt::hook_phase::after, lt::path_is(lock_path), 0, 1,
                          [&](const lt::fs_call&) {
                              waiting.set();
                          }});
            auto result = std::async(std::launch::async, [&] {
                error_code ec;
                lock.acquire(20s, stop.get_token(), ec); // without a wake-up: timed_out
                return ec;
            });
            BOOST_REQUIRE(waiting.wait());
            stop.request_stop();
            const auto ec = result.get();
            BOOST_TEST(ec == boost::system::errc::operation_canceled);
            BOOST_TEST(!lock.is_held());
            BOOST_TEST(!lt::exists(lock.claim_path()));
            BOOST_TEST(other->is_held());
        }
    }
}

BOOST_FIXTURE_TEST_CASE(a_cancelled_wait_throws_an_error_naming_the_path, lock_fixture) {
    auto other = other_holds();
    locknix::file_lock lock(lock_path, options());
    std::stop_source stop;
    fs->add_hook(
        {fs_op::link, lt::hook_phase::after, lt::path_is(lock_path), 1, 1, [&](const lt::fs_call&) {
             stop.request_stop();
         }});
    const auto e = thrown_by([&] { lock.acquire(1h, stop.get_token()); });
    BOOST_TEST(e.code() == boost::system::errc::operation_canceled);
    BOOST_TEST(std::string(e.what()).find(lock_path) != std::string::npos);
    BOOST_TEST(attempts() == 2u);
}

BOOST_FIXTURE_TEST_CASE(an_unused_stop_token_changes_nothing, lock_fixture) {
    locknix::file_lock lock(lock_path, options());
    std::stop_source stop;
    lock.acquire(1h, stop.get_token());
    BOOST_TEST(lock.is_held());
    error_code ec;
    lock.acquire(1h, stop.get_token(), ec);
    BOOST_TEST(ec == errc::already_locked);
}

// --- Forced breaking ---------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(break_lock_removes_a_fresh_lock_of_the_named_holder, lock_fixture) {
    auto other = other_holds(1h);
    std::vector<std::string> heard;
    auto o = options();
    o.log = [&](locknix::log_level, std::string_view m) {
        heard.emplace_back(m);
    };
    locknix::file_lock lock(lock_path, o);
    const auto h = lock.holder();
    BOOST_REQUIRE(h);
    lock.break_lock(*h);
    BOOST_TEST(!lt::exists(lock_path));
    BOOST_TEST(!lt::exists(other->claim_path()));
    BOOST_TEST(!lt::exists(lock_path + ".break"));
    bool logged = false;
    for (const auto& m : heard)
        logged = logged || (m.find("broke the lock") != std::string::npos &&
                            m.find("there") != std::string::npos);
    BOOST_TEST(logged);
    error_code ec;
    other->release(ec);
    BOOST_TEST(ec == errc::lock_lost);
    BOOST_TEST(lock.try_acquire());
}

BOOST_FIXTURE_TEST_CASE(break_lock_removes_nothing_once_the_lock_changed, lock_fixture) {
    // Changed hands, refreshed, or released since the holder was read.
    for (int change = 0; change < 3; ++change) {
        BOOST_TEST_CONTEXT("change " << change) {
            auto other = other_holds(1h);
            locknix::file_lock lock(lock_path, options());
            const auto h = lock.holder();
            BOOST_REQUIRE(h);
            std::unique_ptr<locknix::file_lock> third;
            if (change == 0) {
                other->release();
                auto third_fs = lt::make_host("third", 3000);
                third = std::make_unique<locknix::file_lock>(lock_path, lt::test_options(third_fs));
                third->acquire(0s);
            } else if (change == 1) {
                other_fs->advance_wall(1s);
                other->refresh();
                other_fs->advance_wall(-1s);
            } else {
                other->release();
            }
            const auto before = lt::exists(lock_path) ? lt::read_file(lock_path) : "";
            const auto e = thrown_by([&] { lock.break_lock(*h); });
            BOOST_TEST(e.code() == errc::not_locked);
            BOOST_TEST(std::string(e.what()).find(lock_path) != std::string::npos);
            if (change != 2) {
                BOOST_TEST(lt::read_file(lock_path) == before);
                BOOST_TEST((third ? third->is_held() : other->is_held()));
            }
            BOOST_TEST(fs->count(fs_op::rename) == 0u);
        }
    }
}

BOOST_FIXTURE_TEST_CASE(break_lock_never_removes_a_lock_that_replaced_it_in_between, lock_fixture) {
    auto other = other_holds(1h);
    locknix::file_lock lock(lock_path, options());
    const auto h = lock.holder();
    BOOST_REQUIRE(h);
    std::string fresh;
    fs->add_hook({fs_op::rename, lt::hook_phase::before, lt::path_is(lock_path), 0, 1,
                  [&](const lt::fs_call&) {
                      lt::remove_file(lock_path);
                      fresh = lt::plant_lock(lock_path, "fresh", 3000, lt::whole_second_now() + 1h,
                                             777);
                  }});
    error_code ec;
    lock.break_lock(*h, ec);
    BOOST_TEST(ec == errc::not_locked);
    BOOST_REQUIRE(!fresh.empty());
    BOOST_TEST(lt::read_file(lock_path) == fresh);
    BOOST_TEST(lt::inode(lock_path) == lt::inode(fresh));
    BOOST_TEST(lt::link_count(fresh) == 2u);
}

BOOST_FIXTURE_TEST_CASE(break_lock_leaves_a_file_that_is_not_a_lock, lock_fixture) {
    auto other = other_holds(1h);
    locknix::file_lock lock(lock_path, options());
    const auto h = *lock.holder();
    other->release();
    lt::write_file(lock_path, "save me");
    error_code ec;
    lock.break_lock(h, ec);
    BOOST_TEST(ec == errc::foreign_file);
    BOOST_TEST(lt::read_file(lock_path) == "save me");
}

BOOST_FIXTURE_TEST_CASE(break_lock_gives_up_while_another_breaker_works, lock_fixture) {
    auto other = other_holds(1h);
    locknix::file_lock lock(lock_path, options());
    const auto h = *lock.holder();
    lt::make_dir(lock_path + ".break"); // a live breaker
    error_code ec;
    lock.break_lock(h, ec);
    BOOST_TEST(lt::sys_errno(ec) == EAGAIN);
    BOOST_TEST(other->is_held());
    BOOST_TEST(lt::exists(lock_path + ".break"));
    BOOST_TEST(fs->count(fs_op::rename) == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_failed_is_held_check_reports_the_error_and_keeps_the_belief,
                        lock_fixture) {
    // On sshfs the check reads the lock file; a passing EIO there is not "lost".
    fs->set_sshfs(true);
    locknix::file_lock lock(lock_path, options());
    lock.acquire(0s);
    fs->fail(fs_op::open, EIO, lt::path_is(lock_path), 2);
    error_code ec;
    BOOST_TEST(lock.is_held(ec));
    BOOST_TEST(lt::sys_errno(ec) == EIO);
    BOOST_TEST(lock.is_held());
    BOOST_TEST(lock.is_held(ec));
    BOOST_TEST(!ec);
    lock.release();
    BOOST_TEST(!lock.is_held(ec));
    BOOST_TEST(!ec);
}

// --- Who holds it ---------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(holder_reports_host_pid_claim_and_expiry, lock_fixture) {
    locknix::file_lock lock(lock_path, options());
    BOOST_TEST(!lock.holder());
    BOOST_TEST(!lock.expiration());

    const auto t = lt::whole_second_now();
    other_fs->freeze_wall(t);
    auto other = other_holds(30s);
    const auto h = lock.holder();
    BOOST_REQUIRE(h);
    BOOST_TEST(h->host == "there");
    BOOST_TEST(h->pid == 2000);
    BOOST_TEST(h->claim == other->claim_path());
    BOOST_TEST((h->expiry == t + 30s));
    BOOST_TEST((*lock.expiration() == t + 30s));
    BOOST_TEST((*other->expiration() == t + 30s));
}

BOOST_FIXTURE_TEST_CASE(state_reports_every_value_at_its_boundaries, lock_fixture) {
    auto o = options();
    o.lifetime = 20s;
    o.clock_slop = 5s;
    const auto t = lt::whole_second_now();
    fs->freeze_wall(t);
    locknix::file_lock lock(lock_path, o);
    BOOST_TEST(lock.state() == lock_state::unlocked);

    lock.acquire(0s);
    fs->freeze_wall(t + 20s);
    BOOST_TEST(lock.state() == lock_state::held_by_us);
    fs->freeze_wall(t + 20s + 1ns);
    BOOST_TEST(lock.state() == lock_state::held_by_us_expired);
    lock.refresh();
    BOOST_TEST(lock.state() == lock_state::held_by_us);
    lock.release();

    other_fs->freeze_wall(t);
    auto other = other_holds(20s);
    fs->freeze_wall(t + 25s);
    BOOST_TEST(lock.state() == lock_state::held_by_other);
    fs->freeze_wall(t + 25s + 1ns);
    BOOST_TEST(lock.state() == lock_state::held_by_other_breakable);
    other->release();

    lt::write_file(lock_path, "junk");
    BOOST_TEST(lock.state() == lock_state::not_a_lock);
}

// A lost reply to the exclusive create of the claim leaves a file under the first name; the
// next create of that name fails with EEXIST and the object moves on to a new one. Claim files
// are the object's to remove: none is left in the shared directory.
BOOST_FIXTURE_TEST_CASE(a_claim_whose_create_reply_was_lost_is_not_left_behind, lock_fixture) {
    fs->lose_reply(fs_op::open, EIO, lt::path_contains("|here|"));
    {
        locknix::file_lock lock(lock_path, options());
        lock.acquire(1h);
        BOOST_TEST(lock.is_held());
        lock.release();
    }
    const auto left = dir.names();
    BOOST_TEST(left.empty(), "left behind: " << (left.empty() ? "" : left.front()));
}

// --- Release and refresh ----------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(release_and_refresh_of_an_unheld_lock_change_nothing, lock_fixture) {
    auto other = other_holds();
    const auto before = lt::mtime(lock_path);
    locknix::file_lock lock(lock_path, options());
    auto e = thrown_by([&] { lock.release(); });
    BOOST_TEST(e.code() == errc::not_locked);
    BOOST_TEST(std::string(e.what()).find(lock_path) != std::string::npos);
    e = thrown_by([&] { lock.refresh(); });
    BOOST_TEST(e.code() == errc::not_locked);
    e = thrown_by([&] { lock.keep_alive(); });
    BOOST_TEST(e.code() == errc::not_locked);
    BOOST_TEST(other->is_held());
    BOOST_TEST((lt::mtime(lock_path) == before));
    BOOST_TEST(fs->count(fs_op::unlink) == 0u);
    BOOST_TEST(fs->count(fs_op::set_times) == 0u);
}

BOOST_FIXTURE_TEST_CASE(release_and_refresh_of_a_broken_lock_report_it_lost, lock_fixture) {
    for (const bool release : {true, false}) {
        BOOST_TEST_CONTEXT((release ? "release" : "refresh")) {
            auto o = options();
            o.lifetime = 1s;
            locknix::file_lock lock(lock_path, o);
            lock.acquire(0s);
            other_fs->advance_wall(1h);
            auto other =
                std::make_unique<locknix::file_lock>(lock_path, lt::test_options(other_fs));
            BOOST_REQUIRE(other->try_acquire());
            const auto e = thrown_by([&] {
                if (release)
                    lock.release();
                else
                    lock.refresh();
            });
            BOOST_TEST(e.code() == errc::lock_lost);
            BOOST_TEST(std::string(e.what()).find(lock_path) != std::string::npos);
            BOOST_TEST(!lock.is_held());
            BOOST_TEST(other->is_held());
            BOOST_TEST(lt::read_file(lock_path) == other->claim_path());
            other->release();
            other_fs->advance_wall(-1h);
        }
    }
}

BOOST_FIXTURE_TEST_CASE(refresh_moves_the_expiry, lock_fixture) {
    const auto t = lt::whole_second_now();
    fs->freeze_wall(t);
    auto o = options();
    o.lifetime = 15s;
    locknix::file_lock lock(lock_path, o);
    lock.acquire(0s);
    BOOST_TEST((*lock.expiration() == t + 15s));
    fs->advance_wall(1s);
    lock.refresh();
    BOOST_TEST((*lock.expiration() == t + 16s));
    BOOST_TEST(lock.options().lifetime == std::chrono::nanoseconds(15s));
}

// --- Keep-alive --------------------------------------------------------------------------------

struct refresh_counter {
    std::mutex m;
    std::condition_variable cv;
    std::atomic<int> ok{0};
    std::atomic<int> failed{0};

    void attach(lt::fault_fs& fs, const std::string& claim) {
        fs.add_hook({fs_op::set_times, lt::hook_phase::after, lt::path_is(claim), 0, 0,
                     [this](const lt::fs_call& c) {
                         std::lock_guard g(m);
                         ++(c.result ? failed : ok);
                         cv.notify_all();
                     }});
    }
    bool wait_ok(int n) {
        std::unique_lock g(m);
        return cv.wait_for(g, 30s, [&] { return ok >= n; });
    }
    bool wait_failed(int n) {
        std::unique_lock g(m);
        return cv.wait_for(g, 30s, [&] { return failed >= n; });
    }
};

BOOST_FIXTURE_TEST_CASE(keep_alive_holds_the_lock_past_its_lifetime, lock_fixture) {
    // The wall clock stands still except that each refresh moves it on by two thirds of the
    // lifetime: after three refreshes it is twice the lifetime past the acquisition, yet the
    // lock has not expired and nobody can break it.
    refresh_counter refreshes; // outlives the lock and its keep-alive thread
    const auto t = lt::whole_second_now();
    fs->freeze_wall(t);
    auto o = options();
    o.lifetime = 150ms;
    o.clock_slop = 0s;
    locknix::file_lock lock(lock_path, o);
    lock.acquire(0s);
    BOOST_TEST((*lock.expiration() == t + 150ms));
    refreshes.attach(*fs, lock.claim_path());
    fs->add_hook({fs_op::set_times, lt::hook_phase::after, lt::path_is(lock.claim_path()), 0, 0,
                  [this](const lt::fs_call&) {
                      fs->advance_wall(100ms);
                  }});
    std::atomic<int> lost{0};
    lock.keep_alive([&](error_code) { ++lost; });
    BOOST_REQUIRE(refreshes.wait_ok(3));

    BOOST_TEST(lock.state() == lock_state::held_by_us);
    const auto now = fs->wall_now();
    BOOST_TEST((now >= t + 300ms));
    BOOST_TEST((*lock.expiration() > now));
    other_fs->freeze_wall(now);
    auto co = lt::test_options(other_fs);
    co.clock_slop = 0s;
    locknix::file_lock other(lock_path, co);
    BOOST_TEST(!other.try_acquire());
    BOOST_TEST(lock.is_held());
    lock.release();
    BOOST_TEST(lost == 0);
    BOOST_TEST(!lt::exists(lock_path));
}

BOOST_FIXTURE_TEST_CASE(keep_alive_reports_a_lock_broken_by_another_host, lock_fixture) {
    auto o = options();
    o.lifetime = 150ms;
    locknix::file_lock lock(lock_path, o);
    lock.acquire(0s);
    std::promise<error_code> lost;
    std::atomic<int> calls{0};
    lock.keep_alive([&](error_code ec) {
        if (calls++ == 0)
            lost.set_value(ec);
    });
    other_fs->advance_wall(1h);
    locknix::file_lock other(lock_path, lt::test_options(other_fs));
    other.acquire(1h);
    auto reported = lost.get_future();
    BOOST_REQUIRE(reported.wait_for(30s) == std::future_status::ready);
    BOOST_TEST(reported.get() == errc::lock_lost);
    BOOST_TEST(other.is_held());
    error_code ec;
    lock.release(ec);
    BOOST_TEST(ec == errc::not_locked);
    BOOST_TEST(other.is_held());
    BOOST_TEST(calls == 1);
}

BOOST_FIXTURE_TEST_CASE(keep_alive_gives_up_when_refreshes_fail_past_the_expiry, lock_fixture) {
    refresh_counter refreshes;
    auto o = options();
    o.lifetime = 150ms;
    locknix::file_lock lock(lock_path, o);
    lock.acquire(0s);
    refreshes.attach(*fs, lock.claim_path());
    // One passing failure is retried; after the next the clock is past the expiry.
    fs->add_rule(
        {fs_op::set_times, EIO, false, std::nullopt, 0, 0, lt::path_is(lock.claim_path())});
    fs->add_hook({fs_op::set_times, lt::hook_phase::after, {}, 1, 1, [this](const lt::fs_call&) {
                      fs->advance_wall(1h);
                  }});
    std::promise<error_code> lost;
    lock.keep_alive([&](error_code ec) { lost.set_value(ec); });
    auto reported = lost.get_future();
    BOOST_REQUIRE(reported.wait_for(30s) == std::future_status::ready);
    BOOST_TEST(lt::sys_errno(reported.get()) == EIO);
    BOOST_TEST(refreshes.failed >= 1);
    BOOST_TEST(refreshes.failed <= 2);
}

BOOST_FIXTURE_TEST_CASE(keep_alive_rides_out_a_passing_failure, lock_fixture) {
    refresh_counter refreshes;
    fs->freeze_wall(lt::whole_second_now()); // however slow the thread, the lock never expires
    auto o = options();
    o.lifetime = 300ms;
    locknix::file_lock lock(lock_path, o);
    lock.acquire(0s);
    refreshes.attach(*fs, lock.claim_path());
    fs->fail(fs_op::set_times, ESTALE, lt::path_is(lock.claim_path()), 1);
    std::atomic<int> lost{0};
    lock.keep_alive([&](error_code) { ++lost; });
    BOOST_REQUIRE(refreshes.wait_ok(2));
    BOOST_TEST(refreshes.failed == 1);
    lock.release();
    BOOST_TEST(lost == 0);
}

BOOST_FIXTURE_TEST_CASE(the_lost_callback_may_release_the_lock, lock_fixture) {
    auto o = options();
    o.lifetime = 150ms;
    locknix::file_lock lock(lock_path, o);
    lock.acquire(0s);
    std::promise<error_code> released;
    lock.keep_alive([&](error_code) {
        error_code ec;
        lock.release(ec); // from the keep-alive thread itself
        released.set_value(ec);
    });
    lt::remove_file(lock_path); // someone removed the lock
    auto result = released.get_future();
    BOOST_REQUIRE(result.wait_for(30s) == std::future_status::ready);
    BOOST_TEST(result.get() == errc::not_locked);
    lock.acquire(0s); // the object is still usable
    BOOST_TEST(lock.is_held());
}

BOOST_FIXTURE_TEST_CASE(destroying_a_kept_alive_lock_stops_and_releases, lock_fixture) {
    std::atomic<int> lost{0};
    {
        refresh_counter refreshes;
        auto o = options();
        o.lifetime = 90ms;
        locknix::file_lock lock(lock_path, o);
        lock.acquire(0s);
        refreshes.attach(*fs, lock.claim_path());
        lock.keep_alive([&](error_code) { ++lost; });
        BOOST_REQUIRE(refreshes.wait_ok(1));
    }
    BOOST_TEST(lost == 0);
    BOOST_TEST(dir.names().empty());
}

BOOST_FIXTURE_TEST_CASE(sshfs_contention_release_refresh_and_break, lock_fixture) {
    // No link counts, and EPERM for a lost race: contention is still a wait, not an error.
    fs->set_sshfs(true);
    other_fs->set_sshfs(true);
    auto other = other_holds();
    auto o = options();
    o.lifetime = 2s;
    locknix::file_lock lock(lock_path, o);
    error_code ec;
    lock.acquire(5ms, ec);
    BOOST_TEST(ec == errc::timed_out);
    BOOST_TEST(lock.state() == lock_state::held_by_other);
    other->release();
    lock.acquire(1h);
    BOOST_TEST(lock.is_held());
    lock.refresh();
    BOOST_TEST(lock.state() == lock_state::held_by_us);
    // Another sshfs host, an hour later, breaks it.
    other_fs->advance_wall(1h);
    BOOST_TEST(other->try_acquire());
    BOOST_TEST(!lock.is_held());
    lock.release(ec);
    BOOST_TEST(ec == errc::lock_lost);
    BOOST_TEST(other->is_held());
}

// --- Standard lock interfaces ------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(works_with_unique_lock_and_scoped_lock, lock_fixture) {
    locknix::file_lock lock(lock_path, options());
    {
        std::unique_lock guard(lock);
        BOOST_TEST(guard.owns_lock());
        BOOST_TEST(lock.is_held());
    }
    BOOST_TEST(!lt::exists(lock_path));
    {
        std::unique_lock guard(lock, std::chrono::duration<double>(0.5));
        BOOST_TEST(guard.owns_lock());
    }
    locknix::file_lock second(dir / "y.lck", options());
    {
        std::scoped_lock both(lock, second);
        BOOST_TEST(lock.is_held());
        BOOST_TEST(second.is_held());
    }
    BOOST_TEST(!lock.is_held());
    BOOST_TEST(!second.is_held());
    BOOST_TEST(dir.names().size() == 2u); // the two claims
}

BOOST_FIXTURE_TEST_CASE(try_lock_forms_report_contention_as_false, lock_fixture) {
    auto other = other_holds();
    locknix::file_lock lock(lock_path, options());
    BOOST_TEST(!lock.try_lock());
    BOOST_TEST(!lock.try_lock_for(std::chrono::duration<double>(0.01)));
    BOOST_TEST(!lock.try_lock_until(std::chrono::steady_clock::now() + 10ms));
    BOOST_TEST(!lock.try_lock_until(std::chrono::system_clock::now() + 10ms));
    std::unique_lock guard(lock, std::try_to_lock);
    BOOST_TEST(!guard.owns_lock());
    std::unique_lock timed(lock, 5ms);
    BOOST_TEST(!timed.owns_lock());
    other->release();
    BOOST_TEST(lock.try_lock_for(10ms));
    lock.unlock();
}

BOOST_FIXTURE_TEST_CASE(try_lock_forms_throw_real_errors, lock_fixture) {
    lt::write_file(lock_path, "not a lock");
    locknix::file_lock lock(lock_path, options());
    BOOST_TEST(thrown_by([&] { (void)lock.try_lock(); }).code() == errc::foreign_file);
    BOOST_TEST(thrown_by([&] { (void)lock.try_lock_for(10ms); }).code() == errc::foreign_file);
    BOOST_TEST(thrown_by([&] { lock.lock(); }).code() == errc::foreign_file);
}

// --- Wake-ups and diagnostics ------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(inotify_wakes_a_waiter_when_the_lock_is_removed, lock_fixture) {
    auto other = other_holds();
    auto o = options();
    o.use_inotify = true;
    o.min_poll = o.max_poll = 20s; // only inotify can end the wait early
    locknix::file_lock lock(lock_path, o);
    event waiting;
    fs->add_hook(
        {fs_op::link, lt::hook_phase::after, lt::path_is(lock_path), 1, 1, [&](const lt::fs_call&) {
             waiting.set();
         }});
    auto result = std::async(std::launch::async, [&] {
        error_code ec;
        lock.acquire(20s, ec);
        return ec;
    });
    BOOST_REQUIRE(waiting.wait());
    other->release();
    BOOST_TEST(!result.get());
    BOOST_TEST(lock.is_held());
}

// One object keeps its inotify descriptor from wait to wait and watches the directory only while
// it waits: every wait is woken by the release, none by events left from the one before.
BOOST_FIXTURE_TEST_CASE(inotify_wakes_every_wait_of_one_object, lock_fixture) {
    auto o = options();
    o.use_inotify = true;
    o.min_poll = o.max_poll = 1h; // only inotify can end a wait early
    locknix::file_lock lock(lock_path, o);
    for (int round = 0; round < 3; ++round) {
        BOOST_TEST_CONTEXT("wait " << round) {
            auto other = other_holds();
            event waiting;
            // Our second link of the wait is the look taken once the watch is in place.
            fs->add_hook({fs_op::link, lt::hook_phase::after, lt::path_is(lock_path), 1, 1,
                          [&](const lt::fs_call&) {
                              waiting.set();
                          }});
            std::stop_source stop;
            auto result = std::async(std::launch::async, [&] {
                error_code ec;
                lock.acquire(1h, stop.get_token(), ec);
                return ec;
            });
            BOOST_REQUIRE(waiting.wait());
            other->release();
            const bool woken = result.wait_for(60s) == std::future_status::ready;
            if (!woken)
                stop.request_stop();
            BOOST_TEST(woken, "the release woke the wait");
            BOOST_TEST(!result.get());
            BOOST_TEST(lock.is_held());
            lock.release();
            fs->clear_hooks();
        }
    }
}

BOOST_FIXTURE_TEST_CASE(the_logger_hears_about_breaks, lock_fixture) {
    std::vector<std::pair<locknix::log_level, std::string>> heard;
    std::mutex m;
    auto o = options();
    o.log = [&](locknix::log_level level, std::string_view message) {
        std::lock_guard g(m);
        heard.emplace_back(level, std::string(message));
    };
    auto other = other_holds(1s);
    fs->advance_wall(1h);
    locknix::file_lock lock(lock_path, o);
    BOOST_TEST(lock.try_acquire());
    bool broke = false;
    for (const auto& [level, message] : heard)
        if (message.find("broke") != std::string::npos &&
            message.find("there") != std::string::npos &&
            message.find("2000") != std::string::npos &&
            message.find(lock_path) != std::string::npos)
            broke = true;
    BOOST_TEST(broke);
}

BOOST_AUTO_TEST_SUITE_END()
