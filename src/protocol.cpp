// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "protocol.hpp"

#include "claim.hpp"

#include <locknix/error.hpp>

#include <cerrno>
#include <climits>
#include <fcntl.h>
#include <random>

namespace locknix::detail {
namespace {

using boost::system::error_code;
using std::chrono::system_clock;

error_code sys(int e) {
    return {e, boost::system::system_category()};
}

bool is(const error_code& ec, int e) {
    return ec.category() == boost::system::system_category() && ec.value() == e;
}

// The time a breaker allows a crashed breaker's mutex to stand before removing it.
std::chrono::nanoseconds stale_breaker_age(const lock_options& o) {
    const auto slop = std::min(o.clock_slop, std::chrono::nanoseconds(std::chrono::hours(24)));
    return 2 * slop + std::chrono::seconds(1);
}

// `t + d`, saturating at the ends of the clock instead of wrapping around.
system_clock::time_point plus(system_clock::time_point t, std::chrono::nanoseconds d) {
    using tp = system_clock::time_point;
    const auto dd = std::chrono::duration_cast<tp::duration>(d);
    if (dd > tp::duration::zero() && t > tp::max() - dd)
        return tp::max();
    return t + dd;
}

std::string describe(const holder_info& h) {
    return "host " + h.host + " pid " + std::to_string(h.pid);
}

// How many times a removal is tried when the file system reports a passing fault.
constexpr int removal_tries = 4;

} // namespace

bool is_transient(const error_code& ec) noexcept {
    return is(ec, EIO) || is(ec, ETIMEDOUT) || is(ec, ESTALE) || is(ec, EAGAIN);
}

namespace {

// Removes a file or an empty directory of ours, trying again after passing faults. A removal
// whose reply was lost shows as ENOENT on the next try, which counts as done.
error_code remove_ours(file_system& fs, const std::string& path, bool directory) {
    error_code e;
    for (int tries = 0; tries < removal_tries; ++tries) {
        e.clear();
        if (directory)
            fs.rmdir(path, e);
        else
            fs.unlink(path, e);
        if (!e || (is(e, ENOENT) && tries > 0))
            return {};
        if (!is_transient(e))
            return e;
    }
    return e;
}

} // namespace

protocol::protocol(std::string_view path, lock_options options, error_code& ec)
    : options_(std::move(options)) {
    fs_ = options_.fs ? options_.fs : posix_file_system();

    if (options_.lifetime <= std::chrono::nanoseconds::zero() ||
        options_.clock_slop < std::chrono::nanoseconds::zero() ||
        options_.min_poll <= std::chrono::nanoseconds::zero() ||
        options_.max_poll < options_.min_poll) {
        fail(ec, errc::bad_option, "check the options of the lock", std::string(path));
        return;
    }

    lock_path_ = absolute_lock_path(path, ec);
    if (ec) {
        fail(ec, ec, "use the lock path", std::string(path));
        return;
    }

    host_ = fs_->host_name(ec);
    if (ec) {
        fail(ec, ec, "read the host name for", lock_path_);
        return;
    }
    if (!is_usable_host_name(host_)) {
        fail(ec, errc::bad_host_name, "use the host name '" + host_ + "' in a claim for",
             lock_path_);
        return;
    }

    pid_ = fs_->process_id();
    new_claim_name();
    const auto slash = claim_path_.rfind('/');
    if (claim_path_.size() - slash - 1 + aside_suffix.size() > NAME_MAX) {
        fail(ec, sys(ENAMETOOLONG), "name a claim (longer than NAME_MAX) for", lock_path_);
    }
}

void protocol::new_claim_name() {
    std::random_device device;
    const std::uint64_t random =
        ((static_cast<std::uint64_t>(device()) << 32) | device()) & INT64_MAX;
    claim_path_ = make_claim_path(lock_path_, host_, pid_, random);
    claim_exists_ = false;
    claim_damaged_ = false;
    claim_uncertain_ = false;
}

void protocol::adopt_if_forked() {
    const int pid = fs_->process_id();
    if (pid == pid_)
        return;
    // A forked child: the claim and the lock are the parent's. Take a claim of our own and never
    // touch the parent's files.
    pid_ = pid;
    held_ = false;
    new_claim_name();
}

bool protocol::held() noexcept {
    adopt_if_forked();
    return held_;
}

void protocol::fail(error_code& ec, error_code error, std::string operation,
                    const std::string& path) {
    ec = error;
    if (!failure_)
        failure_ = std::make_unique<failure_context>();
    *failure_ = {error, std::move(operation), path};
}

void protocol::log(log_level level, const std::string& message) const {
    if (options_.log)
        options_.log(level, message);
}

bool protocol::ensure_claim(error_code& ec) {
    if (claim_exists_)
        return true;

    for (int tries = 0; tries < 3; ++tries) {
        error_code e;
        const int fd =
            fs_->open(claim_path_, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666, e);
        if (is(e, EEXIST)) {
            error_code ignored;
            if (claim_uncertain_) // our own create, whose reply was lost: remove it, make it anew
                fs_->unlink(claim_path_, ignored);
            else // a name taken by someone else: never reuse a file we did not make
                new_claim_name();
            claim_uncertain_ = false;
            continue;
        }
        if (e) {
            // After a passing error the file may exist all the same: keep the name, so that the
            // next try can tell it is ours.
            claim_uncertain_ = is_transient(e);
            fail(ec, e, "create the claim file", claim_path_);
            return false;
        }
        claim_uncertain_ = false;

        std::string_view rest = claim_path_;
        while (!rest.empty() && !e) {
            const std::size_t n = fs_->write(fd, rest.data(), rest.size(), e);
            if (n == 0 && !e)
                e = sys(EIO); // a file system that accepts nothing
            rest.remove_prefix(n);
        }
        error_code close_error;
        fs_->close(fd, close_error);
        if (!e)
            e = close_error;
        if (e) {
            error_code ignored;
            fs_->unlink(claim_path_, ignored);
            fail(ec, e, "write the claim file", claim_path_);
            return false;
        }
        claim_exists_ = true;
        return true;
    }
    fail(ec, sys(EEXIST), "create the claim file", claim_path_);
    return false;
}

attempt_result protocol::attempt(error_code& ec) {
    adopt_if_forked();
    if (held_) {
        fail(ec, errc::already_locked, "acquire", lock_path_);
        return {};
    }

    for (int recreated = 0;; ++recreated) {
        if (!ensure_claim(ec)) {
            if (is_transient(ec)) {
                ec.clear();
                return {attempt_outcome::retry, {}, {}};
            }
            return {};
        }

        // Stamp the expiry just before the link, so the lock is never born expired, however
        // long the wait before this attempt was.
        const auto expiry = plus(fs_->wall_now(), options_.lifetime);
        error_code e;
        fs_->set_times(claim_path_, expiry, e);
        if (is(e, ENOENT) && recreated == 0) {
            claim_exists_ = false; // a breaker or a cleaner removed it
            continue;
        }
        if (e) {
            if (is_transient(e))
                return {attempt_outcome::retry, {}, {}};
            fail(ec, e, "stamp the expiry on the claim file", claim_path_);
            return {};
        }

        fs_->link(claim_path_, lock_path_, e);
        if (!e) {
            held_ = true;
            expiry_ = expiry;
            refused_links_ = 0;
            return {attempt_outcome::acquired, {}, {}};
        }
        if (is(e, ENOENT)) {
            error_code se;
            fs_->lstat(claim_path_, se);
            if (is(se, ENOENT) && recreated == 0) {
                claim_exists_ = false;
                continue;
            }
            if (!se) // the claim is there, so is the directory: a stale handle on some clients
                return {attempt_outcome::retry, {}, {}};
            fail(ec, e, "link the claim to the lock (is the directory there?)", lock_path_);
            return {};
        }
        auto result = after_failed_link(e, ec);
        if (result.outcome == attempt_outcome::acquired) {
            held_ = true;
            expiry_ = expiry;
        }
        return result;
    }
}

attempt_result protocol::after_failed_link(error_code link_error, error_code& ec) {
    // Whatever the error, the link may have been made and its reply lost: then our claim has a
    // second link.
    error_code e;
    const file_status claim = fs_->lstat(claim_path_, e);
    if (!e && claim.link_count == 2) {
        refused_links_ = 0;
        return {attempt_outcome::acquired, {}, {}};
    }
    const bool ambiguous = is(link_error, EEXIST) || is(link_error, EPERM) || is(link_error, EIO) ||
                           is(link_error, ETIMEDOUT) || is(link_error, ESTALE);
    if (!ambiguous) {
        fail(ec, link_error, "link the claim to the lock", lock_path_);
        return {};
    }
    if (is(e, ENOENT)) {
        claim_exists_ = false;
        return {attempt_outcome::retry_now, {}, {}};
    }
    if (e) {
        if (is_transient(e))
            return {attempt_outcome::retry, {}, {}};
        fail(ec, e, "check the claim file", claim_path_);
        return {};
    }

    const lock_read lock = read_lock(lock_path_, e);
    if (e) {
        if (is_transient(e))
            return {attempt_outcome::retry, {}, {}};
        fail(ec, e, "read the lock file", lock_path_);
        return {};
    }
    if (!lock.exists) {
        // Released in between, or the link was refused for another reason. A file system that
        // refuses every link with EPERM (no hard links) must not make us spin.
        if (is(link_error, EPERM) && ++refused_links_ >= 3) {
            fail(ec, link_error, "link the claim to the lock (hard links refused)", lock_path_);
            return {};
        }
        return {attempt_outcome::retry_now, {}, {}};
    }
    refused_links_ = 0;
    if (lock.foreign) {
        fail(ec, errc::foreign_file, "read the lock file", lock_path_);
        return {};
    }
    if (lock.content == claim_path_) // a file system without link counts, such as sshfs
        return {attempt_outcome::acquired, {}, {}};

    const auto fields = parse_claim(lock.content, lock_path_);
    if (!fields) {
        fail(ec, errc::foreign_file, "read the lock file", lock_path_);
        return {};
    }
    const auto breakable_at = plus(lock.status.mtime, options_.clock_slop);
    attempt_result result{attempt_outcome::contended,
                          to_holder(lock.content, *fields, lock.status.mtime), breakable_at};
    if (fs_->wall_now() > breakable_at)
        return break_expired(lock, ec);
    return result;
}

attempt_result protocol::break_expired(const lock_read& judged, error_code& ec) {
    switch (break_lock(judged, true, ec)) {
    case break_outcome::broken:
    case break_outcome::changed:
        return {attempt_outcome::retry_now, {}, {}};
    case break_outcome::busy:
        return {attempt_outcome::retry, {}, {}};
    case break_outcome::failed:
        break;
    }
    return {};
}

protocol::break_outcome protocol::break_lock(const lock_read& judged, bool expired_only,
                                             error_code& ec) {
    // Breakers are serialised by a directory next to the lock (mkdir is atomic on NFS too), so
    // one breaker's removal cannot land between another's check and rename.
    error_code e;
    fs_->mkdir(breaker_mutex_path(), e);
    if (is(e, EEXIST)) {
        error_code se;
        const file_status mutex = fs_->lstat(breaker_mutex_path(), se);
        if (!se && mutex.directory &&
            fs_->wall_now() > plus(mutex.mtime, stale_breaker_age(options_))) {
            if (remove_stale_breaker_mutex(ec))
                return break_outcome::changed;
            if (ec)
                return break_outcome::failed;
        }
        return break_outcome::busy;
    }
    if (e) {
        if (is_transient(e))
            return break_outcome::busy;
        fail(ec, e, "create the breaker mutex to break a lock", breaker_mutex_path());
        return break_outcome::failed;
    }

    remove_leftovers();
    const auto outcome = break_under_mutex(judged, expired_only, ec);

    const error_code re = remove_ours(*fs_, breaker_mutex_path(), true);
    if (re && !is(re, ENOENT))
        log(log_level::warning,
            "cannot remove the breaker mutex " + breaker_mutex_path() + ": " + re.message());
    return outcome;
}

bool protocol::remove_stale_breaker_mutex(error_code& ec) {
    // Move it to a name of our own first, so that what we remove is what we judged stale: another
    // breaker may have removed the stale one and made its own in between.
    // No longer than the lock's aside name, which the constructor checked against NAME_MAX.
    const std::string aside = claim_path_ + ".stale";
    error_code e;
    fs_->rename(breaker_mutex_path(), aside, e);
    if (is(e, EPERM) || is(e, EACCES)) {
        // Nothing else will ever remove it: say so rather than wait for it.
        fail(ec, e, "remove a stale breaker mutex (permissions or a sticky directory?)",
             breaker_mutex_path());
        return false;
    }
    if (e)
        return false;
    const file_status moved = fs_->lstat(aside, e);
    if (!e && fs_->wall_now() > plus(moved.mtime, stale_breaker_age(options_))) {
        log(log_level::warning, "removed the stale breaker mutex " + breaker_mutex_path());
        fs_->rmdir(aside, e);
        return true;
    }
    // A live breaker's mutex: give it back. Should a third breaker have made one meanwhile, this
    // replaces it (both are empty directories); every breaker still re-verifies the lock right
    // before moving it aside, which keeps the lock itself safe.
    fs_->rename(aside, breaker_mutex_path(), e);
    return false;
}

protocol::break_outcome protocol::break_under_mutex(const lock_read& judged, bool expired_only,
                                                    error_code& ec) {
    // Check again, right before the rename: the same inode, content and mtime, still expired.
    error_code e;
    const lock_read now = read_lock(lock_path_, e);
    if (e)
        return is_transient(e) ? break_outcome::busy : break_outcome::changed;
    if (!now.exists || now.foreign || now.content != judged.content ||
        now.status.inode != judged.status.inode || now.status.mtime != judged.status.mtime ||
        (expired_only && !(fs_->wall_now() > plus(now.status.mtime, options_.clock_slop))))
        return break_outcome::changed;

    fs_->rename(lock_path_, aside_path(), e);
    if (is(e, ENOENT))
        return break_outcome::changed;
    if (e) {
        if (is_transient(e))
            return break_outcome::busy;
        fail(ec, e, "move the lock aside to break it (permissions or a sticky directory?)",
             lock_path_);
        return break_outcome::failed;
    }

    // Whatever we moved aside is ours alone now. If it is not the lock we judged, a fresh lock
    // took its place in between: put it back.
    const lock_read moved = read_lock(aside_path(), e);
    const bool same = !e && moved.exists && !moved.foreign && moved.content == judged.content &&
                      moved.status.mtime == judged.status.mtime;
    if (!same) {
        error_code le;
        fs_->link(aside_path(), lock_path_, le);
        if (le)
            log(log_level::warning, "could not put back a fresh lock moved aside at " +
                                        aside_path() + ": " + le.message());
        remove_aside();
        return break_outcome::changed;
    }

    remove_aside();
    const auto fields = parse_claim(judged.content, lock_path_);
    if (fields) {
        const error_code ce = remove_ours(*fs_, judged.content, false);
        if (ce && !is(ce, ENOENT))
            log(log_level::warning, "broke the lock but cannot remove the claim " + judged.content +
                                        ": " + ce.message());
        log(log_level::info,
            std::string(expired_only ? "broke the expired lock " : "broke the lock ") + lock_path_ +
                " of " + describe(to_holder(judged.content, *fields, {})));
    }
    return break_outcome::broken;
}

void protocol::remove_aside() {
    const error_code e = remove_ours(*fs_, aside_path(), false);
    if (!e || is(e, ENOENT))
        return;
    // Try again later, on this object's next break or its destruction; the name is ours alone.
    leftover_asides_.push_back(aside_path());
    log(log_level::warning,
        "cannot remove the broken lock moved aside at " + aside_path() + ": " + e.message());
}

void protocol::remove_leftovers() noexcept {
    std::vector<std::string> still;
    for (const auto& path : leftover_asides_) {
        const error_code e = remove_ours(*fs_, path, false);
        if (e && !is(e, ENOENT))
            still.push_back(path);
    }
    leftover_asides_ = std::move(still);
}

void protocol::break_holder(const holder_info& expected, error_code& ec) {
    adopt_if_forked();
    for (int tries = 0;; ++tries) {
        error_code e;
        const lock_read lock = read_lock(lock_path_, e);
        if (e) {
            fail(ec, e, "read the lock file", lock_path_);
            return;
        }
        if (lock.exists && (lock.foreign || !parse_claim(lock.content, lock_path_))) {
            fail(ec, errc::foreign_file, "break the lock", lock_path_);
            return;
        }
        if (!lock.exists || lock.content != expected.claim ||
            lock.status.mtime != expected.expiry) {
            fail(ec, errc::not_locked, "break the lock (it changed hands)", lock_path_);
            return;
        }
        switch (break_lock(lock, false, ec)) {
        case break_outcome::broken:
            return;
        case break_outcome::failed:
            return;
        case break_outcome::changed:
            continue; // read again: gone, or another holder now
        case break_outcome::busy:
            if (tries >= 2) {
                fail(ec, sys(EAGAIN), "break the lock (another breaker is at work)",
                     breaker_mutex_path());
                return;
            }
            continue;
        }
    }
}

void protocol::abandon() noexcept {
    adopt_if_forked();
    if (held_ || !(claim_exists_ || claim_uncertain_))
        return;
    remove_ours(*fs_, claim_path_, false);
    claim_exists_ = false;
    claim_uncertain_ = false;
}

bool protocol::check_held(error_code& ec) {
    error_code e;
    const file_status claim = fs_->lstat(claim_path_, e);
    if (is(e, ENOENT)) {
        claim_exists_ = false;
        return false;
    }
    if (e) {
        fail(ec, e, "check the claim file", claim_path_);
        return false;
    }
    // Someone may have written into the shared inode, so that the claim no longer names itself:
    // its size changed, or a write set its mtime to the time of writing instead of our expiry
    // (compared to the second, as sshfs keeps whole seconds). Make a new claim for the next
    // acquisition rather than read it back on every release.
    using std::chrono::floor;
    using std::chrono::seconds;
    if (claim.size != claim_path_.size() || floor<seconds>(claim.mtime) != floor<seconds>(expiry_))
        claim_damaged_ = true;
    if (claim.link_count >= 2)
        return true;

    const lock_read lock = read_lock(lock_path_, e);
    if (e) {
        fail(ec, e, "read the lock file", lock_path_);
        return false;
    }
    return lock.exists && !lock.foreign && lock.content == claim_path_;
}

bool protocol::verify_held(error_code& ec) {
    adopt_if_forked();
    if (!held_)
        return false;
    error_code e;
    const bool held = check_held(e);
    if (e) {
        ec = e;
        return held_;
    }
    return held;
}

void protocol::release(error_code& ec) {
    adopt_if_forked();
    if (!held_) {
        fail(ec, errc::not_locked, "release", lock_path_);
        return;
    }

    // Passing faults are tried again. A removal whose reply was lost leaves the lock gone, which
    // the next look must not take for a lost lock: nobody else may remove a lock that has not
    // expired, and one that has is removed under the breaker mutex, whose holder checks first.
    bool removal_sent = false;
    error_code e;
    for (int tries = 0;; ++tries) {
        e.clear();
        const bool still_ours = check_held(e);
        if (!e && !still_ours) {
            if (!removal_sent)
                e = errc::lock_lost;
            break;
        }
        if (!e)
            e = remove_lock(removal_sent);
        if (!is_transient(e) || tries + 1 == removal_tries)
            break;
    }

    if (e && e != errc::lock_lost) {
        fail(ec, e, "remove the lock file", lock_path_);
        return;
    }
    held_ = false;
    if (claim_damaged_) {
        remove_ours(*fs_, claim_path_, false);
        claim_exists_ = false;
        claim_damaged_ = false;
    }
    if (e)
        fail(ec, e, "release", lock_path_);
}

error_code protocol::remove_lock(bool& removal_sent) {
    error_code e;
    if (fs_->wall_now() < expiry_) {
        // Not expired on our clock, so no breaker may touch it: remove it directly.
        fs_->unlink(lock_path_, e);
    } else {
        // Expired: a breaker may be at work. Take the breaker mutex so that we remove our own
        // lock and nothing that replaced it.
        fs_->mkdir(breaker_mutex_path(), e);
        if (e)
            return errc::lock_lost;
        const bool ours = check_held(e);
        if (ours)
            fs_->unlink(lock_path_, e);
        remove_ours(*fs_, breaker_mutex_path(), true);
        if (!ours && !e)
            return removal_sent ? error_code{} : error_code(errc::lock_lost);
    }
    if (is(e, ENOENT))
        return removal_sent ? error_code{} : error_code(errc::lock_lost);
    if (is_transient(e))
        removal_sent = true;
    return e;
}

void protocol::refresh(error_code& ec) {
    adopt_if_forked();
    if (!held_) {
        fail(ec, errc::not_locked, "refresh", lock_path_);
        return;
    }
    error_code e;
    if (!check_held(e)) {
        if (e) {
            ec = e;
            return;
        }
        held_ = false;
        fail(ec, errc::lock_lost, "refresh", lock_path_);
        return;
    }
    const auto expiry = plus(fs_->wall_now(), options_.lifetime);
    fs_->set_times(claim_path_, expiry, e);
    if (is(e, ENOENT)) {
        held_ = false;
        claim_exists_ = false;
        fail(ec, errc::lock_lost, "refresh", lock_path_);
        return;
    }
    if (e) {
        fail(ec, e, "stamp the expiry on the claim file", claim_path_);
        return;
    }
    expiry_ = expiry;
}

protocol::lock_read protocol::read_lock(const std::string& path, error_code& ec) {
    // A lock removed on another host between our open() and fstat() or read() shows as ENOENT or
    // ESTALE on the open file (sshfs, GlusterFS, NFS): look again by name, which tells.
    error_code e;
    for (int tries = 0; tries < removal_tries; ++tries) {
        e.clear();
        bool opened = false;
        lock_read r = read_lock_once(path, opened, e);
        if (!e)
            return r;
        if (!(is(e, ESTALE) || (opened && is(e, ENOENT))))
            break;
    }
    ec = is(e, ENOENT) ? sys(ESTALE) : e;
    return {};
}

protocol::lock_read protocol::read_lock_once(const std::string& path, bool& opened,
                                             error_code& ec) {
    lock_read r;
    error_code e;
    const int fd = fs_->open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0, e);
    if (is(e, ENOENT))
        return r;
    r.exists = true;
    if (is(e, ELOOP) || is(e, ENXIO)) { // a symbolic link, or a socket
        r.foreign = true;
        return r;
    }
    if (e) {
        ec = e;
        return r;
    }
    opened = true;

    r.status = fs_->fstat(fd, e);
    if (!e && (!r.status.regular || r.status.size > max_claim_size)) {
        r.foreign = true;
    } else if (!e) {
        char buffer[max_claim_size + 1];
        std::size_t n = 0;
        for (;;) {
            const std::size_t got = fs_->read(fd, buffer + n, sizeof buffer - n, e);
            if (e || got == 0)
                break;
            n += got;
            if (n == sizeof buffer)
                break;
        }
        if (n > max_claim_size)
            r.foreign = true;
        else
            r.content.assign(buffer, n);
    }
    error_code ignored;
    fs_->close(fd, ignored);
    if (e)
        ec = e;
    return r;
}

std::optional<holder_info> protocol::holder(error_code& ec) {
    error_code e;
    const lock_read lock = read_lock(lock_path_, e);
    if (e) {
        fail(ec, e, "read the lock file", lock_path_);
        return std::nullopt;
    }
    if (!lock.exists)
        return std::nullopt;
    const auto fields = lock.foreign ? std::nullopt : parse_claim(lock.content, lock_path_);
    if (!fields) {
        fail(ec, errc::foreign_file, "read the lock file", lock_path_);
        return std::nullopt;
    }
    return to_holder(lock.content, *fields, lock.status.mtime);
}

lock_state protocol::state(error_code& ec) {
    adopt_if_forked();
    error_code e;
    const lock_read lock = read_lock(lock_path_, e);
    if (e) {
        fail(ec, e, "read the lock file", lock_path_);
        return lock_state::unlocked;
    }
    if (!lock.exists)
        return lock_state::unlocked;
    if (lock.foreign || !parse_claim(lock.content, lock_path_))
        return lock_state::not_a_lock;

    const auto now = fs_->wall_now();
    if (lock.content == claim_path_)
        return now > lock.status.mtime ? lock_state::held_by_us_expired : lock_state::held_by_us;
    return now > plus(lock.status.mtime, options_.clock_slop) ? lock_state::held_by_other_breakable
                                                              : lock_state::held_by_other;
}

void protocol::close() noexcept {
    if (fs_->process_id() != pid_)
        return;
    if (held_) {
        error_code ignored;
        release(ignored);
    }
    if (claim_exists_ || claim_uncertain_) {
        remove_ours(*fs_, claim_path_, false);
        claim_exists_ = false;
        claim_uncertain_ = false;
    }
    remove_leftovers();
}

} // namespace locknix::detail
