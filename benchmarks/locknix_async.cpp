// locknix's coroutine front end, driven through the shared harness (bench_driver.h).
//
// One io_context runs on the driver's thread. Cycles run inside one coroutine, so a timed cycle is
// `co_await acquire(timeout)` + `co_await release()` and nothing else; a single acquire or release
// of the serve mode runs its own short coroutine. Options: see locknix_options.hpp, and
// loop=1 to run the system calls on the event loop (syscall_mode::event_loop).
#include "async_cleanup.hpp"
#include "bench_driver.h"
#include "locknix_options.hpp"

#include <locknix/async_file_lock.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>

namespace asio = boost::asio;

namespace {

struct async_lock {
    std::string path;
    asio::io_context io;
    std::optional<locknix::async_file_lock> lock;

    async_lock(const char* lock_path, const locknix::lock_options& options,
               locknix::async_options async)
        : path{lock_path} {
        lock.emplace(io.get_executor(), lock_path, options, async);
    }
};

asio::awaitable<void> acquire_once(locknix::async_file_lock& lock,
                                   std::chrono::milliseconds timeout) {
    co_await lock.acquire(timeout);
}

asio::awaitable<void> release_once(locknix::async_file_lock& lock) {
    co_await lock.release();
}

asio::awaitable<void> cycles(locknix::async_file_lock& lock, std::uint64_t n,
                             std::chrono::milliseconds timeout, std::int64_t* samples_ns) {
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::int64_t start = bench_now_ns();
        co_await lock.acquire(timeout);
        co_await lock.release();
        if (samples_ns != nullptr)
            samples_ns[i] = bench_now_ns() - start;
    }
}

// Runs one coroutine to its end. The lock's service may keep work of its own pending (an inotify
// read, timers), so io_context::run() need not return by itself: run one handler at a time until
// the coroutine has finished.
int run_to_end(async_lock& self, const char* operation, asio::awaitable<void> task) {
    bool finished = false;
    std::exception_ptr failure;
    asio::co_spawn(self.io, std::move(task), [&](std::exception_ptr error) {
        failure = error;
        finished = true;
    });

    while (!finished) {
        if (self.io.stopped())
            self.io.restart();
        if (self.io.run_one() == 0 && !finished) {
            std::fprintf(stderr, "locknix_async: %s %s: io_context ran out of work\n", operation,
                         self.path.c_str());
            return -1;
        }
    }
    if (!failure)
        return 0;

    try {
        std::rethrow_exception(failure);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "locknix_async: %s %s: %s\n", operation, self.path.c_str(),
                     error.what());
    }
    return -1;
}

void* open_lock(const char* lock_path, const bench_option* options, int count) {
    const auto lock_options = read_lock_options(options, count);
    // loop=1: the system calls run on the event loop instead of the pool (local disks).
    const std::int64_t on_loop = bench_option_int(options, count, "loop", 0);
    if (!lock_options || on_loop < 0)
        return nullptr;
    locknix::async_options async;
    if (on_loop != 0)
        async.syscalls = locknix::syscall_mode::event_loop;

    try {
        return new async_lock{lock_path, *lock_options, async};
    } catch (const std::exception& error) {
        std::fprintf(stderr, "locknix_async: async_file_lock %s: %s\n", lock_path, error.what());
        return nullptr;
    }
}

int acquire_lock(void* opaque, std::int64_t timeout_ms) {
    auto& self = *static_cast<async_lock*>(opaque);
    return run_to_end(self, "acquire",
                      acquire_once(*self.lock, std::chrono::milliseconds{timeout_ms}));
}

int release_lock(void* opaque) {
    auto& self = *static_cast<async_lock*>(opaque);
    return run_to_end(self, "release", release_once(*self.lock));
}

int run_cycles(void* opaque, std::uint64_t n, std::int64_t timeout_ms, std::int64_t* samples_ns) {
    auto& self = *static_cast<async_lock*>(opaque);
    const std::chrono::milliseconds timeout{timeout_ms};
    return run_to_end(self, "acquire+release", cycles(*self.lock, n, timeout, samples_ns));
}

// The destroyed lock removes its claim file on the io_context's thread; let it.
void close_lock(void* opaque) {
    auto* self = static_cast<async_lock*>(opaque);
    self->lock.reset();
    const std::string folder = std::filesystem::path{self->path}.parent_path().string();
    const std::size_t left = run_until_claims_removed(self->io, folder, std::chrono::seconds{5});
    if (left > 0)
        std::fprintf(stderr, "locknix_async: %zu claim files left in %s\n", left, folder.c_str());
    delete self;
}

} // namespace

int main(int argc, char** argv) {
    static const bench_peer peer = {
        .name = "locknix_async",
        .open = open_lock,
        .acquire = acquire_lock,
        .release = release_lock,
        .run_cycles = run_cycles,
        .close = close_lock,
    };
    return bench_main(argc, argv, &peer);
}
