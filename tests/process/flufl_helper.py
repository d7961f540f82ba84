# Copyright (C) 2026 The locknix developers
# SPDX-License-Identifier: LGPL-3.0-or-later

"""One flufl.lock process of an interoperation test, driven through stdin and stdout.

  hold LOCK LIFETIME_S     lock; print "held claim= host= pid="; wait for the end of stdin;
                           unlock; print "released", or "not-locked" if the lock was broken.
  try LOCK                 one attempt (timeout 0); print "acquired" (and unlock) or
                           "timed-out"; then "details host= pid= lockfile=" as flufl.lock
                           parses the lock file, or "details unavailable".
  wait LOCK TIMEOUT_S      lock, breaking an expired lock after its lifetime plus flufl.lock's
                           fixed 10 s slop; print "acquired claim= pid="; wait for the end of
                           stdin; unlock; print "released".
  hammer LOCK COUNTER MARKER ITERATIONS JOURNAL TAG HOLD_US
                           like the C++ worker: print "ready" and wait for the end of the
                           barrier pipe on descriptor 3; then each time lock, enter the
                           critical section (an O_EXCL marker holding our pid), increment the
                           counter, append TAG to the journal, stay HOLD_US microseconds,
                           leave, unlock. Print "iterations= overlaps= stale=".
"""

import os
import sys
import time
from datetime import timedelta

try:
    from flufl.lock import Lock, NotLockedError, TimeOutError
except ImportError as error:
    sys.stderr.write(f'flufl_helper: flufl.lock is not importable ({error}); '
                     'install python3-flufl.lock and run /usr/bin/python3\n')
    sys.exit(4)


def say(line):
    print(line, flush=True)


def wait_for_end_of_input():
    while sys.stdin.read(4096):
        pass


def unlock_and_report(lock):
    try:
        lock.unlock()
        say('released')
    except NotLockedError:
        say('not-locked')


def hold(path, lifetime):
    lock = Lock(path, lifetime=timedelta(seconds=float(lifetime)))
    lock.lock()
    say(f'held claim={lock._claimfile} host={lock.hostname} pid={os.getpid()}')
    wait_for_end_of_input()
    unlock_and_report(lock)


def try_once(path):
    lock = Lock(path, lifetime=timedelta(seconds=60))
    try:
        lock.lock(timeout=timedelta(seconds=0))
        say('acquired')
        lock.unlock()
    except TimeOutError:
        say('timed-out')
    try:
        host, pid, lockfile = lock.details
        say(f'details host={host} pid={pid} lockfile={lockfile}')
    except NotLockedError:
        say('details unavailable')


def wait(path, timeout):
    lock = Lock(path, lifetime=timedelta(seconds=60))
    lock.lock(timeout=timedelta(seconds=float(timeout)))
    say(f'acquired claim={lock._claimfile} pid={os.getpid()}')
    wait_for_end_of_input()
    unlock_and_report(lock)


def process_is_dead(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f'/proc/{pid}/stat') as stat:
            state = stat.read().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ('Z', 'X')


def enter_section(marker):
    """Returns (own_marker, overlaps, stale)."""
    stale = 0
    while True:
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                with open(marker) as f:
                    other = int(f.read() or '0')
            except (OSError, ValueError):
                other = 0
            if other > 0 and process_is_dead(other):
                stale += 1
                os.unlink(marker)
                continue
            sys.stderr.write(f'flufl_helper {os.getpid()}: overlap with holder {other}\n')
            return False, 1, stale
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return True, 0, stale


def read_counter(counter):
    try:
        with open(counter) as f:
            return int(f.read() or '0')
    except FileNotFoundError:
        return 0


def wait_for_barrier():
    say('ready')
    while os.read(3, 64):
        pass
    os.close(3)


def hammer(path, counter, marker, iterations, journal, tag, hold_us):
    lock = Lock(path, lifetime=timedelta(seconds=30))
    wait_for_barrier()
    overlaps = stale = 0
    for _ in range(int(iterations)):
        lock.lock()
        own, o, s = enter_section(marker)
        overlaps += o
        stale += s
        value = read_counter(counter) + 1
        with open(counter, 'w') as f:
            f.write(str(value))
        with open(journal, 'a') as f:
            f.write(tag)
        time.sleep(int(hold_us) / 1e6)
        if own:
            os.unlink(marker)
        lock.unlock()
    say(f'iterations={iterations} overlaps={overlaps} stale={stale}')


def main(argv):
    modes = {'hold': hold, 'try': try_once, 'wait': wait, 'hammer': hammer}
    if len(argv) < 3 or argv[1] not in modes:
        sys.stderr.write(__doc__)
        return 2
    if not os.path.isabs(argv[2]):
        sys.stderr.write('flufl_helper: the lock path must be absolute\n')
        return 2
    modes[argv[1]](*argv[2:])
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
