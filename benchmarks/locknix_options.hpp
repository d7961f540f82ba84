// The lock_options every locknix driver builds from its --opt KEY=VALUE arguments:
//   inotify=0      poll only (use_inotify = false); default 1
//   lifetime_s=S   lock lifetime, default 30 s; the clock slop is 10 s
// Poll intervals stay at the library's defaults.
#ifndef LOCKNIX_BENCH_LOCKNIX_OPTIONS_HPP
#define LOCKNIX_BENCH_LOCKNIX_OPTIONS_HPP

#include "bench_driver.h"

#include <locknix/file_lock.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

inline std::optional<locknix::lock_options> read_lock_options(const bench_option* options,
                                                              int count) {
    const std::int64_t inotify = bench_option_int(options, count, "inotify", 1);
    const std::int64_t lifetime_s = bench_option_int(options, count, "lifetime_s", 30);
    if (inotify < 0 || lifetime_s < 0)
        return std::nullopt;

    // Assigned field by field: GCC 12 warns about designated initializers that skip fields.
    locknix::lock_options lock_options;
    lock_options.lifetime = std::chrono::seconds{lifetime_s};
    lock_options.clock_slop = std::chrono::seconds{10};
    lock_options.use_inotify = inotify != 0;
    return lock_options;
}

#endif
