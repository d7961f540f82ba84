// Copyright (C) 2026 The locknix developers
// SPDX-License-Identifier: LGPL-3.0-or-later

// A TCP server whose client sessions serialise their appends to one shared file through an
// NFS-safe file lock, all in one event-loop thread (Boost.Asio coroutines).
//
//   async_server --demo [DIR] [--sessions N] [--lines L]   server and clients in one process
//   async_server --serve DIR [--port P]                     the server alone, on 127.0.0.1
//   async_server --clients PORT DIR [--sessions N] [--lines L]   the clients alone
//
// Each session has its own async_file_lock on DIR/journal.txt.lock. For every line a client
// sends, the session waits for the lock (`co_await lock.acquire(timeout)`), appends the line to
// DIR/journal.txt in two writes with a turn of the event loop in between (so that without the
// lock, lines of different sessions would interleave), releases the lock and answers "ok". The
// waiting costs no thread: one session probes the lock, the others are parked on timers and get
// it handed on in FIFO order; the lock's system calls run on a two-thread pool.
//
// The clients (default 2,000 sessions of 5 lines, all connected at once) then check that the
// journal holds every line exactly once, none interleaved, and a summary is printed. The exit
// status is 0 only if that check passes. Without DIR, --demo works in a temporary directory and
// removes it at the end. Another process (say `locknix run
// DIR/journal.txt.lock -- ...`) respecting the same lock may append to the journal meanwhile;
// the demo expects to be alone.

#include <locknix/async_file_lock.hpp>

#include <boost/asio.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <unistd.h>

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

struct journal {
    std::string path;
    std::string lock_path;
    // What the sessions saw, for the summary (one thread: no synchronisation needed).
    std::size_t appends = 0;
    std::size_t waits = 0; // acquisitions that found the lock held or other sessions waiting
    std::size_t waiting = 0;
    std::size_t max_waiting = 0;
    bool held = false;
};

// One write(2) of `text` with O_APPEND, as a separate process would do it.
void append_raw(const std::string& path, std::string_view text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        throw std::runtime_error("cannot append to " + path + ": " + std::strerror(errno));
    ::close(fd);
}

asio::awaitable<void> append_line(journal& j, locknix::async_file_lock& lock, std::string line) {
    if (j.held || j.waiting > 0)
        ++j.waits;
    j.max_waiting = std::max(j.max_waiting, ++j.waiting);
    co_await lock.acquire(60s); // throws boost::system::system_error (errc::timed_out)
    --j.waiting;
    j.held = true;

    // Two writes with another turn of the event loop in between: only the lock keeps the other
    // sessions' lines out of the middle of this one.
    const auto half = line.size() / 2;
    append_raw(j.path, std::string_view(line).substr(0, half));
    co_await asio::post(asio::use_awaitable);
    append_raw(j.path, std::string_view(line).substr(half));
    ++j.appends;

    j.held = false;
    co_await lock.release();
}

asio::awaitable<void> session(tcp::socket socket, journal& j) {
    locknix::async_file_lock lock(socket.get_executor(), j.lock_path);
    std::string input;
    for (;;) {
        const auto [ec, n] = co_await asio::async_read_until(
            socket, asio::dynamic_buffer(input), '\n', asio::as_tuple(asio::use_awaitable));
        if (ec)
            co_return; // the client is done
        std::string line = input.substr(0, n);
        input.erase(0, n);
        co_await append_line(j, lock, std::move(line));
        co_await asio::async_write(socket, asio::buffer("ok\n", 3), asio::use_awaitable);
    }
}

asio::awaitable<void> serve(tcp::acceptor& acceptor, journal& j) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted)
            co_return;
        if (!ec)
            asio::co_spawn(acceptor.get_executor(), session(std::move(socket), j), asio::detached);
    }
}

// One client: connects, sends its lines one at a time, waiting for each "ok".
asio::awaitable<void> client(tcp::endpoint server, int id, int lines) {
    tcp::socket socket(co_await asio::this_coro::executor);
    co_await socket.async_connect(server, asio::use_awaitable);
    std::string reply;
    for (int i = 0; i < lines; ++i) {
        const auto line = "session " + std::to_string(id) + " line " + std::to_string(i) + '\n';
        co_await asio::async_write(socket, asio::buffer(line), asio::use_awaitable);
        const auto n = co_await asio::async_read_until(socket, asio::dynamic_buffer(reply), '\n',
                                                       asio::use_awaitable);
        if (reply.substr(0, n) != "ok\n")
            throw std::runtime_error("unexpected reply from the server");
        reply.erase(0, n);
    }
    socket.shutdown(tcp::socket::shutdown_send);
}

// Every line of every session exactly once, each whole: "session <id> line <i>".
bool verify(const std::string& path, int sessions, int lines, std::size_t& found) {
    std::ifstream in(path);
    std::set<std::pair<int, int>> seen;
    std::string text;
    bool ok = true;
    while (std::getline(in, text)) {
        int id = -1, i = -1, end = 0;
        const bool whole = std::sscanf(text.c_str(), "session %d line %d%n", &id, &i, &end) == 2 &&
                           end == static_cast<int>(text.size());
        if (!whole || id < 0 || id >= sessions || i < 0 || i >= lines ||
            !seen.insert({id, i}).second) {
            std::fprintf(stderr, "async_server: bad or repeated journal line: '%s'\n",
                         text.c_str());
            ok = false;
        }
    }
    found = seen.size();
    return ok && found == static_cast<std::size_t>(sessions) * static_cast<std::size_t>(lines);
}

int thread_count() {
    std::ifstream status("/proc/self/status");
    std::string key;
    int n = 0;
    while (status >> key)
        if (key == "Threads:" && status >> n)
            return n;
    return -1;
}

// Two sockets per session in the demo: raise the descriptor limit as far as allowed.
void raise_file_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

int run_clients(asio::io_context& io, tcp::endpoint server, journal& j, int sessions, int lines,
                std::function<void()> on_done) {
    const auto start = std::chrono::steady_clock::now();
    int finished = 0, failed = 0;
    int threads = 0;
    for (int id = 0; id < sessions; ++id) {
        asio::co_spawn(io, client(server, id, lines), [&](std::exception_ptr e) {
            if (e) {
                ++failed;
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& error) {
                    std::fprintf(stderr, "async_server: client: %s\n", error.what());
                }
            }
            if (++finished == sessions) {
                threads = thread_count();
                on_done();
            }
        });
    }
    io.run();
    const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - start;

    std::size_t found = 0;
    const bool ok = failed == 0 && verify(j.path, sessions, lines, found);
    std::printf("async_server: %d sessions x %d lines through %s\n", sessions, lines,
                j.lock_path.c_str());
    if (j.appends > 0) // the server ran in this process
        std::printf("  appends: %zu, lock waits: %zu, max concurrent waiters: %zu\n", j.appends,
                    j.waits, j.max_waiting);
    std::printf("  wall time: %.2f s, threads: %d (one event loop, the lock service's pool)\n",
                wall.count(), threads);
    std::printf("  journal: %zu of %lld lines, %s\n", found,
                static_cast<long long>(sessions) * lines,
                ok ? "each exactly once, none interleaved" : "VERIFICATION FAILED");
    return ok ? 0 : 1;
}

[[noreturn]] void usage() {
    std::fprintf(stderr, "usage: async_server --demo [DIR] [--sessions N] [--lines L]\n"
                         "       async_server --serve DIR [--port P]\n"
                         "       async_server --clients PORT DIR [--sessions N] [--lines L]\n");
    std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
    std::string mode = argc > 1 ? argv[1] : "";
    std::string dir;
    int sessions = 2000, lines = 5, port = 0, at = 2;
    if (mode == "--clients" && argc > 2)
        port = std::atoi(argv[at++]);
    if (at < argc && argv[at][0] != '-')
        dir = argv[at++];
    for (; at + 1 < argc; at += 2) {
        const std::string_view flag = argv[at];
        const int value = std::atoi(argv[at + 1]);
        if (flag == "--sessions" && value > 0)
            sessions = value;
        else if (flag == "--lines" && value > 0)
            lines = value;
        else if (flag == "--port" && value >= 0)
            port = value;
        else
            usage();
    }
    if (at != argc || (mode != "--demo" && dir.empty()) ||
        (mode != "--demo" && mode != "--serve" && mode != "--clients"))
        usage();
    const bool temporary = dir.empty(); // removed at the end
    if (temporary) {
        char pattern[] = "/tmp/locknix-demo-XXXXXX";
        if (::mkdtemp(pattern) == nullptr)
            usage();
        dir = pattern;
    }
    raise_file_limit();

    int status = 1;
    try {
        journal j{dir + "/journal.txt", dir + "/journal.txt.lock"};
        asio::io_context io(1);
        if (mode == "--clients")
            return run_clients(
                io, {asio::ip::address_v4::loopback(), static_cast<unsigned short>(port)}, j,
                sessions, lines, [] {});

        std::ofstream(j.path, std::ios::trunc).close();
        tcp::acceptor acceptor(
            io, {asio::ip::address_v4::loopback(), static_cast<unsigned short>(port)});
        asio::co_spawn(io, serve(acceptor, j), asio::detached);
        if (mode == "--serve") {
            std::printf("async_server: listening on 127.0.0.1:%u, journal %s\n",
                        acceptor.local_endpoint().port(), j.path.c_str());
            std::fflush(stdout);
            io.run();
            return 0;
        }
        status = run_clients(io, acceptor.local_endpoint(), j, sessions, lines,
                             [&] { acceptor.close(); });
    } catch (const std::exception& e) {
        std::fprintf(stderr, "async_server: %s\n", e.what());
    }
    if (temporary)
        std::filesystem::remove_all(dir);
    return status;
}
