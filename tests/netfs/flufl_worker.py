#!/usr/bin/python3
# Copyright (C) 2026 The locknix developers
# SPDX-License-Identifier: LGPL-3.0-or-later

"""A flufl.lock process of the multi-host suite (suite.sh), the Python side of the interop run.

Usage: flufl_worker.py LOCK DIR JOURNAL TAG ITERATIONS LIFETIME_S TIMEOUT_S

ITERATIONS times: take LOCK (an absolute path) with Debian's flufl.lock, run the same critical
section as the C++ worker (worker/section.cpp): create DIR/inside with O_EXCL (finding it there
is an overlap), add one to the 20-digit counter DIR/counter (read with O_DIRECT, written with
pwrite and fsync), remove the marker, and append "START END WALL TAG" (CLOCK_MONOTONIC start and end, wall-clock start, in
nanoseconds) to the local JOURNAL; then unlock. Prints the worker's summary line,
"result ops= ok= failed= overlaps= section_errors= lost=".
"""

import errno
import mmap
import os
import sys
import time
from datetime import timedelta

try:
    from flufl.lock import Lock, NotLockedError, TimeOutError
except ImportError as error:
    sys.stderr.write(f'flufl_worker: flufl.lock is not importable ({error}); '
                     'install python3-flufl.lock and run it with /usr/bin/python3\n')
    sys.exit(4)

COUNTER_DIGITS = 20


def read_counter(path):
    """Reads with O_DIRECT where allowed, past GlusterFS's client caches (see section.hpp)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
        try:
            block = mmap.mmap(-1, 4096)  # page-aligned, as O_DIRECT wants
            n = os.preadv(fd, [block], 0)
            return bytes(block[:n]).decode()
        finally:
            os.close(fd)
    except OSError as error:
        if error.errno != errno.EINVAL:
            raise
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, 64, 0).decode()
    finally:
        os.close(fd)


def increment_counter(directory):
    path = os.path.join(directory, 'counter')
    text = read_counter(path)
    if len(text) != COUNTER_DIGITS or not text.isdigit():
        raise ValueError(f'malformed counter {text!r}')
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, b'%020d' % (int(text) + 1), 0)
        os.fsync(fd)
    finally:
        os.close(fd)


def section(directory, journal, tag):
    """Returns (overlap, error)."""
    start, start_wall = time.monotonic_ns(), time.time_ns()
    marker = os.path.join(directory, 'inside')
    overlap, error, own = False, None, False
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        own = True
        os.write(fd, tag.encode())
        os.close(fd)
    except FileExistsError:
        overlap = True
        sys.stderr.write(f'OVERLAP: {tag} entered the section while another holder was inside\n')
    try:
        increment_counter(directory)
        if own:
            os.unlink(marker)
    except (OSError, ValueError) as e:
        error = str(e)
        sys.stderr.write(f'section error ({tag}): {error}\n')
    end = time.monotonic_ns()
    with open(journal, 'a') as f:
        f.write(f'{start} {end} {start_wall} {tag}\n')
    return overlap, error


def main(argv):
    if len(argv) != 8:
        sys.stderr.write(__doc__)
        return 2
    path, directory, journal, tag = argv[1:5]
    iterations, lifetime, timeout = int(argv[5]), float(argv[6]), float(argv[7])
    if not os.path.isabs(path):
        sys.stderr.write('flufl_worker: the lock path must be absolute\n')
        return 2

    lock = Lock(path, lifetime=timedelta(seconds=lifetime))
    counts = dict(ops=0, ok=0, failed=0, overlaps=0, section_errors=0, lost=0)
    for _ in range(iterations):
        counts['ops'] += 1
        try:
            lock.lock(timeout=timedelta(seconds=timeout))
        except TimeOutError:
            counts['failed'] += 1
            continue
        counts['ok'] += 1
        overlap, error = section(directory, journal, tag)
        counts['overlaps'] += overlap
        counts['section_errors'] += error is not None
        try:
            lock.unlock()
        except NotLockedError:
            counts['lost'] += 1
    print('result ' + ' '.join(f'{k}={v}' for k, v in counts.items()), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
