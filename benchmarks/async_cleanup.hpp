// An async_file_lock removes its claim file in the background after it is destroyed, on the
// io_context's thread. A driver that exits right away would leave the claims behind, so it runs
// its io_context a little longer, until the lock folder holds no claim file any more.
#ifndef LOCKNIX_BENCH_ASYNC_CLEANUP_HPP
#define LOCKNIX_BENCH_ASYNC_CLEANUP_HPP

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <system_error>
#include <unistd.h>

// This process's claim files in `folder`: `<lock>|<host>|<pid>|<random>` with our pid.
inline std::size_t count_claims(const std::string& folder) {
    const std::string ours = "|" + std::to_string(getpid()) + "|";
    std::size_t claims = 0;
    std::error_code ec;
    for (std::filesystem::directory_iterator it{folder, ec}, end; !ec && it != end;
         it.increment(ec)) {
        if (it->path().filename().string().find(ours) != std::string::npos)
            claims += 1;
    }
    return claims;
}

// Runs `io` until `folder` holds no claim file or `limit` has passed; returns the claims left.
inline std::size_t run_until_claims_removed(boost::asio::io_context& io, const std::string& folder,
                                            std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::size_t left = count_claims(folder);
    while (left > 0 && std::chrono::steady_clock::now() < deadline) {
        if (io.stopped())
            io.restart();
        io.run_for(std::chrono::milliseconds{20});
        left = count_claims(folder);
    }
    return left;
}

#endif
