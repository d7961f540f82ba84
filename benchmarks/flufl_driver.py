#!/usr/bin/python3
"""flufl.lock, timed in-process: the same command line and line protocol as the C drivers
(see bench_driver.h), so bench.py measures it exactly like the others.

acquire is Lock.lock(timeout), release is Lock.unlock(); one Lock object serves every cycle.
Between two tries of a contended lock flufl.lock sleeps uniformly 0.01-2.01 s.
Run it with Debian's /usr/bin/python3, which sees python3-flufl.lock.
"""

import argparse
import resource
import sys
import time
from datetime import timedelta

from flufl.lock import Lock


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def cpu_ns():
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return int(total * 1e9)


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def fail(what, path, error):
    sys.stderr.write(f"flufl: {what} {path}: {error}\n")
    sys.exit(1)


class Driver:
    def __init__(self, path, lifetime_s, timeout_ms):
        self.path = path
        self.timeout = timedelta(milliseconds=timeout_ms)
        try:
            self.lock = Lock(path, lifetime=timedelta(seconds=lifetime_s))
        except Exception as error:
            fail("Lock", path, error)

    def acquire(self):
        try:
            self.lock.lock(timeout=self.timeout)
        except Exception as error:
            fail("lock", self.path, repr(error))

    def release(self):
        try:
            self.lock.unlock()
        except Exception as error:
            fail("unlock", self.path, repr(error))

    def cycles(self, n, samples):
        for _ in range(n):
            start = now_ns()
            self.acquire()
            self.release()
            if samples is not None:
                samples.append(now_ns() - start)


def cycles_mode(driver, args):
    driver.cycles(args.warmup, None)
    samples = []
    cpu_start = cpu_ns()
    start = now_ns()
    driver.cycles(args.cycles, samples)
    wall = now_ns() - start
    cpu = cpu_ns() - cpu_start
    if args.samples:
        try:
            with open(args.samples, "w") as out:
                out.write("".join(f"{s}\n" for s in samples))
        except OSError as error:
            fail("write", args.samples, error.strerror)
    say(f"cycles {args.cycles} {wall} {cpu}")


def serve_mode(driver):
    for line in sys.stdin:
        command = line.strip()
        if command == "acquire":
            cpu_start = cpu_ns()
            say(f"waiting {now_ns()}")
            driver.acquire()
            acquired = now_ns()
            say(f"acquired {acquired} {cpu_ns() - cpu_start}")
        elif command == "release":
            start = now_ns()
            driver.release()
            say(f"released {start} {now_ns()}")
        elif command == "quit":
            return
        else:
            fail("unknown command", "on stdin", command)


def contend_mode(driver, cycles):
    say("ready")
    words = sys.stdin.readline().split()
    if len(words) != 2 or words[0] != "go" or not words[1].isdigit():
        fail("expected", "go START_NS on stdin, got", " ".join(words))
    time.sleep(max(0, int(words[1]) - now_ns()) / 1e9)
    cpu_start = cpu_ns()
    start = now_ns()
    driver.cycles(cycles, None)
    say(f"done {start} {now_ns()} {cpu_ns() - cpu_start}")


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lock", required=True)
    parser.add_argument("--opt", action="append", default=[], help="lifetime_s=SECONDS")
    parser.add_argument("--timeout-ms", type=int, default=60000)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--cycles", type=int)
    mode.add_argument("--serve", action="store_true")
    mode.add_argument("--contend", type=int)
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--samples")
    args = parser.parse_args()

    options = {}
    for text in args.opt:
        key, equals, value = text.partition("=")
        if not equals or key != "lifetime_s" or not value.isdigit():
            parser.error(f"--opt wants lifetime_s=SECONDS, got {text}")
        options[key] = int(value)
    args.lifetime_s = options.get("lifetime_s", 30)
    return args


def main():
    args = parse_arguments()
    driver = Driver(args.lock, args.lifetime_s, args.timeout_ms)
    if args.cycles is not None:
        cycles_mode(driver, args)
    elif args.serve:
        serve_mode(driver)
    else:
        contend_mode(driver, args.contend)


if __name__ == "__main__":
    main()
