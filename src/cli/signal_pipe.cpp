// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

#include "signal_pipe.hpp"

#include "cli_error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iterator>
#include <string>
#include <unistd.h>

namespace locknix::cli {
namespace {

// The write end for the handler; set while a signal_pipe exists.
volatile sig_atomic_t handler_fd = -1;

// The high bit marks a signal the terminal sent to the process group; numbers stay below 128.
constexpr unsigned char from_terminal_bit = 0x80;

void on_signal(int number, siginfo_t* info, void*) {
    const int saved = errno;
    auto byte = static_cast<unsigned char>(number);
    if (info != nullptr && info->si_code == SI_KERNEL)
        byte = static_cast<unsigned char>(byte | from_terminal_bit);
    // A full pipe drops the byte; the pipe is still readable, and SIGCHLD is polled anyway.
    [[maybe_unused]] const ssize_t n = ::write(handler_fd, &byte, 1);
    errno = saved;
}

void on_sigpipe(int) {}

void install(int number, const struct sigaction& action) {
    if (::sigaction(number, &action, nullptr) != 0)
        throw cli_error(exit_code::system_error, std::string("locknix: cannot catch signal ") +
                                                     ::strsignal(number) + ": " +
                                                     std::strerror(errno));
}

} // namespace

signal_pipe::signal_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
        throw cli_error(exit_code::system_error,
                        std::string("locknix: cannot make the signal pipe: ") +
                            std::strerror(errno));
    read_fd_ = fds[0];
    write_fd_ = fds[1];
    handler_fd = write_fd_;

    struct sigaction forward {};
    sigemptyset(&forward.sa_mask);
    forward.sa_flags = SA_SIGINFO | SA_RESTART | SA_NOCLDSTOP;
    forward.sa_sigaction = on_signal;

    struct sigaction quiet {};
    sigemptyset(&quiet.sa_mask);
    quiet.sa_handler = on_sigpipe;

    for (std::size_t i = 0; i < std::size(handled_); ++i) {
        const int number = handled_[i];
        ::sigaction(number, nullptr, &saved_[i]);
        // SIGCHLD is needed to reap COMMAND even if the parent ignored it.
        if (saved_[i].sa_handler == SIG_IGN && number != SIGCHLD)
            continue;
        install(number, number == SIGPIPE ? quiet : forward);
    }
}

signal_pipe::~signal_pipe() {
    for (std::size_t i = 0; i < std::size(handled_); ++i)
        ::sigaction(handled_[i], &saved_[i], nullptr);
    handler_fd = -1;
    ::close(read_fd_);
    ::close(write_fd_);
}

void signal_pipe::reset_in_child() noexcept {
    struct sigaction deflt {};
    sigemptyset(&deflt.sa_mask);
    deflt.sa_handler = SIG_DFL;
    for (const int number : handled_) {
        struct sigaction current {};
        if (::sigaction(number, nullptr, &current) == 0 && current.sa_handler != SIG_IGN)
            ::sigaction(number, &deflt, nullptr);
    }
}

std::string signal_name(int number) {
    switch (number) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    case SIGHUP:
        return "SIGHUP";
    case SIGQUIT:
        return "SIGQUIT";
    case SIGUSR1:
        return "SIGUSR1";
    case SIGUSR2:
        return "SIGUSR2";
    case SIGKILL:
        return "SIGKILL";
    case SIGCHLD:
        return "SIGCHLD";
    default:
        return "signal " + std::to_string(number);
    }
}

std::optional<received_signal> signal_pipe::next() {
    unsigned char byte = 0;
    for (;;) {
        const ssize_t n = ::read(read_fd_, &byte, 1);
        if (n == 1)
            return received_signal{static_cast<int>(byte & ~from_terminal_bit),
                                   (byte & from_terminal_bit) != 0};
        if (n < 0 && errno == EINTR)
            continue;
        return std::nullopt;
    }
}

} // namespace locknix::cli
