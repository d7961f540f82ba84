/* Shared harness of the benchmark drivers.
 *
 * Every peer (the floor, liblockfile, flock, locknix) is a small program that fills in a
 * bench_peer and hands it to bench_main. bench_main gives all of them the same command line and
 * the same line protocol on stdin/stdout, so bench.py measures every peer the same way;
 * flufl_driver.py speaks the same protocol in Python.
 *
 *   DRIVER --lock PATH [--opt KEY=VALUE]... [--timeout-ms T] MODE
 *
 * Modes:
 *   --cycles N [--warmup W] [--samples FILE]
 *       W untimed, then N timed uncontended acquire+release cycles; FILE gets one duration in
 *       nanoseconds per line; stdout gets one line "cycles N wall_ns CPU_NS".
 *   --serve
 *       Reads commands from stdin, one per line, and answers each on stdout:
 *         acquire -> "waiting T" just before blocking, then "acquired T1 CPU_NS" (CPU_NS is the
 *                    CPU time the wait cost this process and the children it reaped)
 *         release -> "released T0 T0_END" (T0 just before the release call, T0_END after it)
 *         quit    -> exits 0
 *   --contend M
 *       Prints "ready", waits for a line "go T", sleeps until the instant T, runs M cycles, then
 *       prints "done T_START T_END CPU_NS".
 *
 * All times are CLOCK_MONOTONIC nanoseconds, which are comparable between processes. On any
 * failure the driver prints the operation, the path and the errno text on stderr and exits 1.
 */
#ifndef LOCKNIX_BENCH_DRIVER_H
#define LOCKNIX_BENCH_DRIVER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bench_option {
    const char* key;
    const char* value;
};

struct bench_peer {
    const char* name;

    /* Returns the peer's state, or NULL after printing why. */
    void* (*open)(const char* lock_path, const struct bench_option* options, int option_count);

    /* Waits up to timeout_ms for the lock; 0 when held, -1 after printing why. */
    int (*acquire)(void* self, int64_t timeout_ms);

    /* 0 when released, -1 after printing why. */
    int (*release)(void* self);

    /* Optional. Runs n acquire+release cycles without returning to the harness in between (the
     * async driver keeps one coroutine running); stores each cycle's duration in samples_ns when
     * that is not NULL. 0 on success, -1 after printing why. */
    int (*run_cycles)(void* self, uint64_t n, int64_t timeout_ms, int64_t* samples_ns);

    void (*close)(void* self);
};

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t bench_now_ns(void);

/* User + system CPU time of this process (all threads) and of its reaped children. */
int64_t bench_cpu_ns(void);

/* Prints "<driver>: <what> <path>: <errno text>" on stderr. */
void bench_perror(const char* what, const char* path);

/* The value of option key, or fallback when it was not given. */
const char* bench_option_value(const struct bench_option* options, int count, const char* key,
                               const char* fallback);

/* Parses a non-negative decimal option; -1 after printing why. */
int64_t bench_option_int(const struct bench_option* options, int count, const char* key,
                         int64_t fallback);

int bench_main(int argc, char** argv, const struct bench_peer* peer);

#ifdef __cplusplus
}
#endif

#endif
