// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include <locknix/file_system.hpp>

#include <atomic>
#include <cerrno>
#include <climits>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

namespace locknix {
namespace {

using boost::system::error_code;

// Runs `call` again for as long as it fails with EINTR; this is the one place where the
// library retries EINTR.
template <class Call>
auto retry_eintr(Call call) {
    for (;;) {
        auto result = call();
        if (result != -1 || errno != EINTR)
            return result;
    }
}

void set_errno(error_code& ec) {
    ec.assign(errno, boost::system::system_category());
}

// A file time as a time point, clamped to the range of the clock (about 1678 to 2262) rather
// than wrapped around: a lock stamped far in the future stays in the future.
std::chrono::system_clock::time_point to_time_point(const struct timespec& t) {
    using tp = std::chrono::system_clock::time_point;
    using std::chrono::seconds;
    constexpr auto max_secs = std::chrono::duration_cast<seconds>(tp::duration::max()).count() - 1;
    constexpr auto min_secs = std::chrono::duration_cast<seconds>(tp::duration::min()).count() + 1;
    if (t.tv_sec > max_secs)
        return tp::max();
    if (t.tv_sec < min_secs)
        return tp::min();
    return tp(std::chrono::duration_cast<tp::duration>(seconds(t.tv_sec) +
                                                       std::chrono::nanoseconds(t.tv_nsec)));
}

file_status to_status(const struct stat& st) {
    file_status s;
    s.device = st.st_dev;
    s.inode = st.st_ino;
    s.link_count = st.st_nlink;
    s.size = static_cast<std::uint64_t>(st.st_size);
    s.regular = S_ISREG(st.st_mode);
    s.directory = S_ISDIR(st.st_mode);
    s.symlink = S_ISLNK(st.st_mode);
    s.mtime = to_time_point(st.st_mtim);
    return s;
}

class posix final : public file_system {
public:
    int open(const std::string& path, int flags, unsigned mode, error_code& ec) override {
        const int fd = retry_eintr([&] { return ::open(path.c_str(), flags, mode); });
        if (fd < 0)
            set_errno(ec);
        return fd;
    }

    std::size_t read(int fd, void* buffer, std::size_t size, error_code& ec) override {
        const ssize_t n = retry_eintr([&] { return ::read(fd, buffer, size); });
        if (n < 0) {
            set_errno(ec);
            return 0;
        }
        return static_cast<std::size_t>(n);
    }

    std::size_t write(int fd, const void* data, std::size_t size, error_code& ec) override {
        const ssize_t n = retry_eintr([&] { return ::write(fd, data, size); });
        if (n < 0) {
            set_errno(ec);
            return 0;
        }
        return static_cast<std::size_t>(n);
    }

    void close(int fd, error_code& ec) override {
        // close(2) must not be retried: the descriptor is gone even when it reports EINTR.
        if (::close(fd) != 0 && errno != EINTR)
            set_errno(ec);
    }

    file_status fstat(int fd, error_code& ec) override {
        struct stat st {};
        if (retry_eintr([&] { return ::fstat(fd, &st); }) != 0) {
            set_errno(ec);
            return {};
        }
        return to_status(st);
    }

    file_status lstat(const std::string& path, error_code& ec) override {
        struct stat st {};
        if (retry_eintr([&] { return ::lstat(path.c_str(), &st); }) != 0) {
            set_errno(ec);
            return {};
        }
        return to_status(st);
    }

    void link(const std::string& from, const std::string& to, error_code& ec) override {
        if (retry_eintr([&] { return ::linkat(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), 0); }))
            set_errno(ec);
    }

    void unlink(const std::string& path, error_code& ec) override {
        if (retry_eintr([&] { return ::unlink(path.c_str()); }) != 0)
            set_errno(ec);
    }

    void rename(const std::string& from, const std::string& to, error_code& ec) override {
        if (retry_eintr([&] { return ::rename(from.c_str(), to.c_str()); }) != 0)
            set_errno(ec);
    }

    void mkdir(const std::string& path, error_code& ec) override {
        if (retry_eintr([&] { return ::mkdir(path.c_str(), 0777); }) != 0)
            set_errno(ec);
    }

    void rmdir(const std::string& path, error_code& ec) override {
        if (retry_eintr([&] { return ::rmdir(path.c_str()); }) != 0)
            set_errno(ec);
    }

    void set_times(const std::string& path, wall_clock::time_point time, error_code& ec) override {
        const auto since_epoch = time.time_since_epoch();
        const auto secs = std::chrono::floor<std::chrono::seconds>(since_epoch);
        const auto nsecs = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs);
        const struct timespec t {
            static_cast<time_t>(secs.count()), static_cast<long>(nsecs.count())
        };
        const struct timespec times[2] = {t, t};
        if (retry_eintr([&] {
                return ::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW);
            }) != 0)
            set_errno(ec);
    }

    wall_clock::time_point wall_now() override { return wall_clock::now(); }
    steady_clock::time_point steady_now() override { return steady_clock::now(); }

    std::string host_name(error_code& ec) override {
        char name[HOST_NAME_MAX + 1] = {};
        if (::gethostname(name, sizeof name - 1) != 0) {
            set_errno(ec);
            return {};
        }
        return name;
    }

    // getpid(2) is a real system call, made on every operation of a lock to notice a fork; the
    // pid is cached instead and renewed in the child by an atfork handler. (A raw clone(2) that
    // skips the handlers and then uses a lock is not supported.)
    int process_id() override {
        static const bool registered = [] {
            cached_pid.store(static_cast<int>(::getpid()));
            ::pthread_atfork(nullptr, nullptr,
                             [] { cached_pid.store(static_cast<int>(::getpid())); });
            return true;
        }();
        (void)registered;
        return cached_pid.load(std::memory_order_relaxed);
    }

private:
    static inline std::atomic<int> cached_pid{0};
};

} // namespace

std::shared_ptr<file_system> posix_file_system() {
    static const std::shared_ptr<file_system> instance = std::make_shared<posix>();
    return instance;
}

} // namespace locknix
