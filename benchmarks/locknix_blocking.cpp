// locknix's blocking front end, driven through the shared harness (bench_driver.h).
//
// acquire is file_lock::acquire(timeout), release is file_lock::release(); one object serves
// every cycle, so its claim file is created once and reused.
// Options: see locknix_options.hpp.
#include "bench_driver.h"
#include "locknix_options.hpp"

#include <locknix/file_lock.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

namespace {

struct blocking_lock {
    std::string path;
    locknix::file_lock lock;

    blocking_lock(const char* lock_path, const locknix::lock_options& options)
        : path{lock_path}, lock{lock_path, options} {}
};

void* open_lock(const char* lock_path, const bench_option* options, int count) {
    const auto lock_options = read_lock_options(options, count);
    if (!lock_options)
        return nullptr;

    try {
        return new blocking_lock{lock_path, *lock_options};
    } catch (const std::exception& error) {
        std::fprintf(stderr, "locknix_blocking: file_lock %s: %s\n", lock_path, error.what());
        return nullptr;
    }
}

int report(const blocking_lock& self, const char* operation, const boost::system::error_code& ec) {
    if (!ec)
        return 0;
    std::fprintf(stderr, "locknix_blocking: %s %s: %s\n", operation, self.path.c_str(),
                 ec.message().c_str());
    return -1;
}

int acquire_lock(void* opaque, std::int64_t timeout_ms) {
    auto& self = *static_cast<blocking_lock*>(opaque);
    boost::system::error_code ec;
    self.lock.acquire(std::chrono::milliseconds{timeout_ms}, ec);
    return report(self, "acquire", ec);
}

int release_lock(void* opaque) {
    auto& self = *static_cast<blocking_lock*>(opaque);
    boost::system::error_code ec;
    self.lock.release(ec);
    return report(self, "release", ec);
}

void close_lock(void* opaque) {
    delete static_cast<blocking_lock*>(opaque);
}

} // namespace

int main(int argc, char** argv) {
    static const bench_peer peer = {
        .name = "locknix_blocking",
        .open = open_lock,
        .acquire = acquire_lock,
        .release = release_lock,
        .run_cycles = nullptr,
        .close = close_lock,
    };
    return bench_main(argc, argv, &peer);
}
