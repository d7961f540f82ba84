// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "reporter.hpp"

#include "text.hpp"

#include <cerrno>
#include <sys/ioctl.h>
#include <unistd.h>

namespace locknix::cli {
namespace {

// "\r" goes to the start of the line, "ESC [ K" erases to its end.
constexpr std::string_view erase_line = "\r\x1b[K";

void write_all(std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; // stderr is gone; nothing better to do with a message
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::size_t terminal_width() {
    struct winsize size {};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
        return size.ws_col;
    return 80;
}

} // namespace

reporter::reporter() : terminal_(::isatty(STDERR_FILENO) == 1) {}

void reporter::error(std::string_view message) {
    std::lock_guard guard(mutex_);
    clear_locked();
    write_line(printable(message));
}

void reporter::event(std::string_view message) {
    if (!verbose_)
        return;
    std::lock_guard guard(mutex_);
    clear_locked();
    write_line("locknix: " + printable(message));
}

void reporter::live_line(std::string_view message) {
    if (!live())
        return;
    std::string line = "locknix: " + printable(message);
    // A line that wraps could not be erased with one carriage return.
    const std::size_t width = terminal_width();
    if (line.size() >= width)
        line.resize(width - 1);

    std::lock_guard guard(mutex_);
    if (shown_ && line == last_)
        return;
    write_all(std::string(erase_line) + line);
    shown_ = true;
    last_ = std::move(line);
}

void reporter::clear_live_line() {
    std::lock_guard guard(mutex_);
    clear_locked();
}

void reporter::clear_locked() {
    if (!shown_)
        return;
    write_all(erase_line);
    shown_ = false;
    last_.clear();
}

void reporter::write_line(std::string_view line) {
    std::string text(line);
    text += '\n';
    write_all(text);
}

} // namespace locknix::cli
