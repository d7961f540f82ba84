// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// The lock protocol, one step at a time. Nothing here sleeps or loops on time: the front ends
// decide when to call `attempt` again (see wait_policy.hpp). Every system call goes through the
// file-system seam.

#ifndef LOCKNIX_SRC_PROTOCOL_HPP
#define LOCKNIX_SRC_PROTOCOL_HPP

#include "claim.hpp"

#include <locknix/file_system.hpp>
#include <locknix/lock_options.hpp>
#include <locknix/lock_state.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace locknix::detail {

enum class attempt_outcome {
    /// This object holds the lock now.
    acquired,
    /// Another claim holds the lock and it is not breakable yet.
    contended,
    /// A passing condition (a lost reply that did not turn into the lock, an NFS error, another
    /// breaker at work): try again after a pause.
    retry,
    /// Something changed that makes an immediate attempt worthwhile: the lock vanished between
    /// two calls, an expired lock was just broken, a removed claim must be recreated.
    retry_now,
};

struct attempt_result {
    attempt_outcome outcome = attempt_outcome::retry;
    /// The holder seen, when the lock is contended.
    std::optional<holder_info> holder;
    /// When that holder's lock becomes breakable, on the wall clock.
    std::optional<std::chrono::system_clock::time_point> breakable_at;
};

/// What the last failing call did, for error messages that name the path.
struct failure_context {
    boost::system::error_code error;
    std::string operation;
    std::string path;
};

class protocol {
public:
    /// Validates the path, the host name and the options; sets `ec` and leaves the object
    /// unusable if any is wrong.
    protocol(std::string_view path, lock_options options, boost::system::error_code& ec);

    protocol(const protocol&) = delete;
    protocol& operator=(const protocol&) = delete;

    /// One acquisition attempt: make or reuse the claim, stamp its expiry, link it to the lock
    /// path, verify, and break the lock if it is expired. Errors end the acquisition.
    attempt_result attempt(boost::system::error_code& ec);

    /// Ends an acquisition that did not get the lock: removes the claim file.
    void abandon() noexcept;

    /// Releases the lock after checking that it is still ours.
    void release(boost::system::error_code& ec);

    /// Stamps a new expiry after checking that the lock is still ours.
    void refresh(boost::system::error_code& ec);

    /// True if this object holds the lock, checked on disk. When the check fails, `ec` says why
    /// and the result is what this object believes.
    bool verify_held(boost::system::error_code& ec);

    /// The holder of the lock, whoever it is; empty when there is no lock file.
    std::optional<holder_info> holder(boost::system::error_code& ec);

    lock_state state(boost::system::error_code& ec);

    /// Breaks the lock of `expected` (as read by `holder`), expired or not. Removes nothing if the
    /// lock changed hands since (`errc::not_locked`) or is not a lock (`errc::foreign_file`).
    void break_holder(const holder_info& expected, boost::system::error_code& ec);

    /// Releases the lock if held and removes the claim file, ignoring errors; used on
    /// destruction. Does nothing in a forked child.
    void close() noexcept;

    /// True when this object believes it holds the lock (no system call).
    bool held() noexcept;

    /// The expiry this object stamped last.
    std::chrono::system_clock::time_point expiry() const noexcept { return expiry_; }

    const std::string& lock_path() const noexcept { return lock_path_; }
    const std::string& claim_path() const noexcept { return claim_path_; }
    /// The directory that serialises breakers, and the private name a breaker moves a lock to.
    /// Made when needed, which is seldom: a lock object stays small.
    std::string breaker_mutex_path() const { return lock_path_ + ".break"; }
    std::string aside_path() const { return claim_path_ + std::string(aside_suffix); }
    const lock_options& options() const noexcept { return options_; }
    file_system& fs() const noexcept { return *fs_; }
    const failure_context& failure() const noexcept {
        static const failure_context none;
        return failure_ ? *failure_ : none;
    }

private:
    struct lock_read {
        bool exists = false;
        bool foreign = false;
        std::string content;
        file_status status;
    };

    void adopt_if_forked();
    void new_claim_name();
    bool ensure_claim(boost::system::error_code& ec);
    attempt_result after_failed_link(boost::system::error_code link_error,
                                     boost::system::error_code& ec);
    enum class break_outcome {
        /// The judged lock was removed.
        broken,
        /// The lock path no longer holds the judged lock; nothing was removed.
        changed,
        /// Another breaker is at work, or a passing error: try again later.
        busy,
        /// `ec` says why.
        failed,
    };

    attempt_result break_expired(const lock_read& judged, boost::system::error_code& ec);
    break_outcome break_lock(const lock_read& judged, bool expired_only,
                             boost::system::error_code& ec);
    bool remove_stale_breaker_mutex(boost::system::error_code& ec);
    break_outcome break_under_mutex(const lock_read& judged, bool expired_only,
                                    boost::system::error_code& ec);
    bool check_held(boost::system::error_code& ec);
    /// One try at removing our lock file; `removal_sent` is set once an unlink may have been done
    /// with its reply lost, and makes a later ENOENT count as done.
    boost::system::error_code remove_lock(bool& removal_sent);
    void remove_aside();
    void remove_leftovers() noexcept;
    lock_read read_lock(const std::string& path, boost::system::error_code& ec);
    lock_read read_lock_once(const std::string& path, bool& opened, boost::system::error_code& ec);
    void fail(boost::system::error_code& ec, boost::system::error_code error, std::string operation,
              const std::string& path);
    void log(log_level level, const std::string& message) const;

    lock_options options_;
    std::shared_ptr<file_system> fs_;
    std::string lock_path_;
    std::string host_;
    int pid_ = 0;
    std::string claim_path_;
    std::vector<std::string> leftover_asides_;
    bool claim_exists_ = false;
    bool held_ = false;
    bool claim_damaged_ = false;
    bool claim_uncertain_ = false;
    unsigned refused_links_ = 0;
    std::chrono::system_clock::time_point expiry_{};
    // Made on the first failure: most lock objects never fail, and many wait at once.
    std::unique_ptr<failure_context> failure_;
};

/// True for the errnos that a network file system returns for a passing fault, after which the
/// state on disk must be verified and the step tried again.
bool is_transient(const boost::system::error_code& ec) noexcept;

} // namespace locknix::detail

#endif
