// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// A host whose wall clock is off: the real file-system seam with `skew` added to every wall-clock
// read. Expiries are stamped and judged on that clock; file times and the steady clock are the
// real ones. This is how the suite simulates clock skew between the bed's hosts, which share one
// kernel clock.

#ifndef LOCKNIX_TESTS_NETFS_SKEWED_FILE_SYSTEM_HPP
#define LOCKNIX_TESTS_NETFS_SKEWED_FILE_SYSTEM_HPP

#include <locknix/file_system.hpp>

#include <chrono>
#include <memory>

namespace locknix::netfs {

class skewed_file_system final : public file_system {
public:
    skewed_file_system(std::shared_ptr<file_system> real, std::chrono::nanoseconds skew)
        : real_(std::move(real)), skew_(skew) {}

    int open(const std::string& path, int flags, unsigned mode,
             boost::system::error_code& ec) override {
        return real_->open(path, flags, mode, ec);
    }
    std::size_t read(int fd, void* buffer, std::size_t size,
                     boost::system::error_code& ec) override {
        return real_->read(fd, buffer, size, ec);
    }
    std::size_t write(int fd, const void* data, std::size_t size,
                      boost::system::error_code& ec) override {
        return real_->write(fd, data, size, ec);
    }
    void close(int fd, boost::system::error_code& ec) override { real_->close(fd, ec); }
    file_status fstat(int fd, boost::system::error_code& ec) override {
        return real_->fstat(fd, ec);
    }
    file_status lstat(const std::string& path, boost::system::error_code& ec) override {
        return real_->lstat(path, ec);
    }
    void link(const std::string& from, const std::string& to,
              boost::system::error_code& ec) override {
        real_->link(from, to, ec);
    }
    void unlink(const std::string& path, boost::system::error_code& ec) override {
        real_->unlink(path, ec);
    }
    void rename(const std::string& from, const std::string& to,
                boost::system::error_code& ec) override {
        real_->rename(from, to, ec);
    }
    void mkdir(const std::string& path, boost::system::error_code& ec) override {
        real_->mkdir(path, ec);
    }
    void rmdir(const std::string& path, boost::system::error_code& ec) override {
        real_->rmdir(path, ec);
    }
    void set_times(const std::string& path, wall_clock::time_point time,
                   boost::system::error_code& ec) override {
        real_->set_times(path, time, ec);
    }
    wall_clock::time_point wall_now() override {
        return real_->wall_now() + std::chrono::duration_cast<wall_clock::duration>(skew_);
    }
    steady_clock::time_point steady_now() override { return real_->steady_now(); }
    std::string host_name(boost::system::error_code& ec) override { return real_->host_name(ec); }
    int process_id() override { return real_->process_id(); }

private:
    std::shared_ptr<file_system> real_;
    std::chrono::nanoseconds skew_;
};

} // namespace locknix::netfs

#endif
