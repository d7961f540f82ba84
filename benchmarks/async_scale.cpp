// Many coroutine waiters in one thread.
//
//   async_scale --dir DIR --waiters W [--files F] [--settle-ms S] [--park-ms P] [--timeout-s T]
//
// A forked holder process takes F locks (DIR/lock-0 ... DIR/lock-<F-1>) with the blocking API.
// The parent then starts W coroutines on one io_context, waiter i on lock i % F, each with its own
// async_file_lock: acquire, count, release. After S ms for the waiters to park, it measures its
// RSS and, for P ms, the CPU time it spends while all W wait. Then the holder releases every lock,
// and the parent measures how long it takes until every waiter has held its lock once.
// Prints one JSON object on stdout; on a failure, names the path and the error on stderr.
#include "async_cleanup.hpp"
#include "bench_driver.h"

#include <locknix/async_file_lock.hpp>
#include <locknix/file_lock.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

struct arguments {
    std::string dir;
    std::uint64_t waiters = 10000;
    std::uint64_t files = 100;
    std::int64_t settle_ms = 2000;
    std::int64_t park_ms = 5000;
    std::int64_t timeout_s = 600;
};

struct progress {
    std::uint64_t waiters = 0;
    std::uint64_t held = 0;
    std::uint64_t finished = 0;
    std::uint64_t failed = 0;
    std::string first_error;
    bool measured = false;
    std::int64_t all_held_ns = 0;
};

struct measurements {
    long rss_base_kb = 0;
    long rss_parked_kb = 0;
    std::int64_t wait_wall_ns = 0;
    std::int64_t wait_cpu_ns = 0;
    std::uint64_t held_while_parked = 0;
    std::int64_t release_ns = 0;
    std::size_t claims_left = 0;
    std::int64_t cleanup_ns = 0;
};

[[noreturn]] void usage() {
    std::fprintf(stderr, "usage: async_scale --dir DIR --waiters W [--files F] [--settle-ms S]"
                         " [--park-ms P] [--timeout-s T]\n");
    std::exit(2);
}

std::int64_t parse_count(std::string_view flag, const char* text) {
    char* end = nullptr;
    errno = 0;
    const long long value = std::strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < 0) {
        std::fprintf(stderr, "async_scale: %s: not a count: %s\n", flag.data(), text);
        usage();
    }
    return value;
}

arguments parse_arguments(int argc, char** argv) {
    arguments args;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (i + 1 >= argc)
            usage();
        const char* value = argv[++i];
        if (flag == "--dir")
            args.dir = value;
        else if (flag == "--waiters")
            args.waiters = static_cast<std::uint64_t>(parse_count(flag, value));
        else if (flag == "--files")
            args.files = static_cast<std::uint64_t>(parse_count(flag, value));
        else if (flag == "--settle-ms")
            args.settle_ms = parse_count(flag, value);
        else if (flag == "--park-ms")
            args.park_ms = parse_count(flag, value);
        else if (flag == "--timeout-s")
            args.timeout_s = parse_count(flag, value);
        else
            usage();
    }
    if (args.dir.empty() || args.waiters == 0 || args.files == 0)
        usage();
    return args;
}

// A "VmRSS:" or "VmHWM:" line of /proc/self/status, in kB.
long status_kb(std::string_view wanted) {
    std::ifstream status{"/proc/self/status"};
    std::string key;
    while (status >> key) {
        if (key == wanted) {
            long kb = 0;
            status >> kb;
            return kb;
        }
        status.ignore(4096, '\n');
    }
    std::fprintf(stderr, "async_scale: no %s in /proc/self/status\n", wanted.data());
    std::exit(1);
}

long vm_rss_kb() {
    return status_kb("VmRSS:");
}

// The kernel updates its high-water mark lazily, so it can lag a fresh VmRSS reading.
long peak_rss_kb(long seen_kb) {
    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) != 0) {
        std::fprintf(stderr, "async_scale: getrusage: %s\n", std::strerror(errno));
        std::exit(1);
    }
    return std::max({usage.ru_maxrss, status_kb("VmHWM:"), seen_kb});
}

// Every waiter may keep a claim file and the service some descriptors; allow as many as we may.
void raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        std::fprintf(stderr, "async_scale: getrlimit(RLIMIT_NOFILE): %s\n", std::strerror(errno));
        return;
    }
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
        std::fprintf(stderr, "async_scale: setrlimit(RLIMIT_NOFILE): %s\n", std::strerror(errno));
}

std::vector<std::string> lock_paths(const arguments& args) {
    std::vector<std::string> paths;
    for (std::uint64_t i = 0; i < args.files; ++i)
        paths.push_back(args.dir + "/lock-" + std::to_string(i));
    return paths;
}

locknix::lock_options long_lived() {
    // Long enough that no waiter may break the holder's locks during the measurement.
    locknix::lock_options options;
    options.lifetime = 3600s;
    options.clock_slop = 10s;
    return options;
}

void write_byte(int fd, char byte, const char* what) {
    while (write(fd, &byte, 1) != 1) {
        if (errno != EINTR) {
            std::fprintf(stderr, "async_scale: write %s: %s\n", what, std::strerror(errno));
            std::exit(1);
        }
    }
}

bool read_byte(int fd, char expected) {
    char byte = 0;
    ssize_t got = 0;
    while ((got = read(fd, &byte, 1)) < 0 && errno == EINTR) {
    }
    return got == 1 && byte == expected;
}

// The forked holder: takes every lock, says 'h', waits for 'r', releases them all.
int run_holder(const std::vector<std::string>& paths, int from_parent, int to_parent) {
    std::vector<std::unique_ptr<locknix::file_lock>> locks;
    for (const auto& path : paths) {
        boost::system::error_code ec;
        auto lock = std::make_unique<locknix::file_lock>(path, long_lived());
        lock->acquire(5s, ec);
        if (ec) {
            std::fprintf(stderr, "async_scale holder: acquire %s: %s\n", path.c_str(),
                         ec.message().c_str());
            return 1;
        }
        locks.push_back(std::move(lock));
    }
    write_byte(to_parent, 'h', "to the parent");

    if (!read_byte(from_parent, 'r')) {
        std::fprintf(stderr, "async_scale holder: parent went away\n");
        return 1;
    }
    for (auto& lock : locks) {
        boost::system::error_code ec;
        lock->release(ec);
        if (ec) {
            std::fprintf(stderr, "async_scale holder: release %s: %s\n", lock->path().c_str(),
                         ec.message().c_str());
            return 1;
        }
    }
    return 0;
}

asio::awaitable<void> wait_once(locknix::async_file_lock& lock, std::chrono::seconds timeout,
                                progress& state) {
    co_await lock.acquire(timeout);
    state.held += 1;
    if (state.held == state.waiters)
        state.all_held_ns = bench_now_ns();
    co_await lock.release();
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
    asio::steady_timer timer{co_await asio::this_coro::executor, duration};
    co_await timer.async_wait(asio::use_awaitable);
}

// Lets the waiters park, measures them parked, then has the holder release every lock.
asio::awaitable<void> measure(const arguments& args, const progress& state, measurements& out,
                              int to_holder) {
    co_await sleep_for(std::chrono::milliseconds{args.settle_ms});
    out.rss_parked_kb = vm_rss_kb();

    const std::int64_t cpu_start = bench_cpu_ns();
    const std::int64_t start = bench_now_ns();
    co_await sleep_for(std::chrono::milliseconds{args.park_ms});
    out.wait_wall_ns = bench_now_ns() - start;
    out.wait_cpu_ns = bench_cpu_ns() - cpu_start;
    out.held_while_parked = state.held;

    out.release_ns = bench_now_ns();
    write_byte(to_holder, 'r', "to the holder");
}

void on_waiter_end(progress& state, std::exception_ptr error) {
    state.finished += 1;
    if (!error)
        return;
    state.failed += 1;
    if (!state.first_error.empty())
        return;
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        state.first_error = e.what();
    }
}

// Runs the io_context until every waiter and the measurement have finished; the lock service may
// keep work of its own pending, so run() need not return by itself.
void run_until_done(asio::io_context& io, const progress& state) {
    while (state.finished < state.waiters || !state.measured) {
        if (io.stopped())
            io.restart();
        if (io.run_one() == 0 && (state.finished < state.waiters || !state.measured)) {
            std::fprintf(stderr,
                         "async_scale: io_context ran out of work with %llu of %llu"
                         " waiters finished\n",
                         static_cast<unsigned long long>(state.finished),
                         static_cast<unsigned long long>(state.waiters));
            std::exit(1);
        }
    }
}

int wait_for_holder(pid_t holder) {
    int status = 0;
    while (waitpid(holder, &status, 0) < 0) {
        if (errno != EINTR) {
            std::fprintf(stderr, "async_scale: waitpid holder: %s\n", std::strerror(errno));
            return -1;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "async_scale: the holder failed (status %d)\n", status);
        return -1;
    }
    return 0;
}

void print_json(const arguments& args, const progress& state, const measurements& m,
                std::int64_t total_cpu_ns) {
    const double waiters = static_cast<double>(args.waiters);
    const long peak_kb = peak_rss_kb(std::max(m.rss_parked_kb, vm_rss_kb()));
    std::printf("{\"waiters\": %llu, \"files\": %llu, \"rss_base_kb\": %ld, "
                "\"rss_parked_kb\": %ld, \"peak_rss_kb\": %ld, "
                "\"rss_per_waiter_bytes\": %.1f, \"peak_rss_per_waiter_bytes\": %.1f, "
                "\"wait_wall_ns\": %lld, \"wait_cpu_ns\": %lld, \"wait_cpu_percent\": %.3f, "
                "\"held_while_parked\": %llu, \"all_held_after_release_ns\": %lld, "
                "\"total_cpu_ns\": %lld, \"cleanup_ns\": %lld, \"claims_left\": %zu}\n",
                static_cast<unsigned long long>(args.waiters),
                static_cast<unsigned long long>(args.files), m.rss_base_kb, m.rss_parked_kb,
                peak_kb, static_cast<double>(m.rss_parked_kb - m.rss_base_kb) * 1024.0 / waiters,
                static_cast<double>(peak_kb - m.rss_base_kb) * 1024.0 / waiters,
                static_cast<long long>(m.wait_wall_ns), static_cast<long long>(m.wait_cpu_ns),
                100.0 * static_cast<double>(m.wait_cpu_ns) / static_cast<double>(m.wait_wall_ns),
                static_cast<unsigned long long>(m.held_while_parked),
                static_cast<long long>(state.all_held_ns - m.release_ns),
                static_cast<long long>(total_cpu_ns), static_cast<long long>(m.cleanup_ns),
                m.claims_left);
}

int run_waiters(const arguments& args, const std::vector<std::string>& paths, int to_holder) {
    measurements m;
    m.rss_base_kb = vm_rss_kb();
    const std::int64_t cpu_start = bench_cpu_ns();

    asio::io_context io;
    std::vector<std::unique_ptr<locknix::async_file_lock>> locks;
    locks.reserve(args.waiters);
    for (std::uint64_t i = 0; i < args.waiters; ++i) {
        const auto& path = paths[i % paths.size()];
        locks.push_back(
            std::make_unique<locknix::async_file_lock>(io.get_executor(), path, long_lived()));
    }

    progress state;
    state.waiters = args.waiters;
    const std::chrono::seconds timeout{args.timeout_s};
    for (auto& lock : locks) {
        asio::co_spawn(io, wait_once(*lock, timeout, state),
                       [&state](std::exception_ptr error) { on_waiter_end(state, error); });
    }
    asio::co_spawn(io, measure(args, state, m, to_holder), [&state](std::exception_ptr error) {
        state.measured = true;
        if (error)
            on_waiter_end(state, error);
    });

    run_until_done(io, state);
    if (state.failed > 0) {
        std::fprintf(stderr, "async_scale: %llu waiters failed, the first in %s: %s\n",
                     static_cast<unsigned long long>(state.failed), args.dir.c_str(),
                     state.first_error.c_str());
        return 1;
    }
    if (m.held_while_parked != 0) {
        std::fprintf(stderr, "async_scale: %llu waiters got a lock the holder held in %s\n",
                     static_cast<unsigned long long>(m.held_while_parked), args.dir.c_str());
        return 1;
    }
    const std::int64_t cpu_ns = bench_cpu_ns() - cpu_start;

    // The destroyed locks remove their claim files on this thread; let them finish.
    const std::int64_t cleanup_start = bench_now_ns();
    locks.clear();
    m.claims_left = run_until_claims_removed(io, args.dir, std::chrono::seconds{60});
    m.cleanup_ns = bench_now_ns() - cleanup_start;

    print_json(args, state, m, cpu_ns);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    const arguments args = parse_arguments(argc, argv);
    raise_descriptor_limit();
    const auto paths = lock_paths(args);

    int to_holder[2];
    int from_holder[2];
    if (pipe(to_holder) != 0 || pipe(from_holder) != 0) {
        std::fprintf(stderr, "async_scale: pipe: %s\n", std::strerror(errno));
        return 1;
    }
    const pid_t holder = fork();
    if (holder < 0) {
        std::fprintf(stderr, "async_scale: fork: %s\n", std::strerror(errno));
        return 1;
    }
    if (holder == 0) {
        close(to_holder[1]);
        close(from_holder[0]);
        std::_Exit(run_holder(paths, to_holder[0], from_holder[1]));
    }
    close(to_holder[0]);
    close(from_holder[1]);

    if (!read_byte(from_holder[0], 'h')) {
        std::fprintf(stderr, "async_scale: the holder could not take the locks in %s\n",
                     args.dir.c_str());
        wait_for_holder(holder);
        return 1;
    }

    int result = 1;
    try {
        result = run_waiters(args, paths, to_holder[1]);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "async_scale: %s: %s\n", args.dir.c_str(), error.what());
    }
    close(to_holder[1]);
    if (wait_for_holder(holder) != 0)
        return 1;
    return result;
}
