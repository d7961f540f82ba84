#!/usr/bin/python3
"""Runs file system operations and prints each result on a line of its own.

Usage: fsop.py OP ARG... [";" OP ARG...]...

A result is "OK", a value, or the errno name of the failure (EEXIST, EIO, ...), so a shell test
can compare it exactly. Operations:

  link SRC DST         os.link
  unlink PATH          os.unlink
  rename SRC DST       os.rename
  create PATH          open O_CREAT|O_EXCL|O_WRONLY|O_NOFOLLOW, write PATH into it, close
  open PATH            open O_RDONLY, close
  write PATH TEXT      create or truncate PATH and write TEXT
  read PATH            prints the content
  exists PATH          "yes" or "no" (lstat)
  nlink PATH           the link count
  ino PATH             the inode number
  mtime PATH           the mtime, whole seconds
  utime PATH SECONDS   sets atime and mtime
  ctl PATH LINE        writes LINE and a newline in one write (a faultfs control command)
  until-gone PATH SECS       polls lstat every 10 ms until PATH is gone; prints the seconds
                             waited, or TIMEOUT
  until-exists PATH SECS     the same until PATH exists
  until-link SRC DST SECS    polls link() every 10 ms until it succeeds; prints the seconds
                             waited, or TIMEOUT and the last errno
  cycle SRC DST COUNT        COUNT times link SRC to DST, lstat DST, unlink DST; prints the
                             median and the 90th percentile of one cycle in ms
  timed OP ARG...      runs OP and prints "RESULT SECONDS"
  at EPOCH OP ARG...   waits until the wall clock reaches EPOCH, then runs OP (a start line
                       shared by processes on several hosts)
Exit status 0, or 2 on a usage error.
"""
import errno
import os
import sys
import time


def _create(path):
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o644)
    try:
        os.write(fd, path.encode())
    finally:
        os.close(fd)


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _read(path):
    with open(path) as f:
        return f.read()


def _ctl(path, line):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def _poll(attempt, secs):
    """Calls attempt() every 10 ms until it returns None; returns the wait or TIMEOUT."""
    start = time.monotonic()
    deadline = start + float(secs)
    while True:
        failure = attempt()
        if failure is None:
            return "%.3f" % (time.monotonic() - start)
        if time.monotonic() >= deadline:
            return ("TIMEOUT " + failure).strip()
        time.sleep(0.01)


def _link_attempt(src, dst):
    try:
        os.link(src, dst)
        return None
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def _cycle(src, dst, count):
    times = []
    for _ in range(int(count)):
        start = time.monotonic()
        os.link(src, dst)
        os.lstat(dst)
        os.unlink(dst)
        times.append((time.monotonic() - start) * 1000)
    times.sort()
    return "median %.3f p90 %.3f" % (times[len(times) // 2], times[len(times) * 9 // 10])


OPS = {
    "link": (2, os.link),
    "unlink": (1, os.unlink),
    "rename": (2, os.rename),
    "create": (1, _create),
    "open": (1, lambda p: os.close(os.open(p, os.O_RDONLY))),
    "write": (2, _write),
    "read": (1, _read),
    "exists": (1, lambda p: "yes" if os.path.lexists(p) else "no"),
    "nlink": (1, lambda p: os.lstat(p).st_nlink),
    "ino": (1, lambda p: os.lstat(p).st_ino),
    "mtime": (1, lambda p: int(os.lstat(p).st_mtime)),
    "utime": (2, lambda p, s: os.utime(p, (float(s), float(s)))),
    "ctl": (2, _ctl),
    "until-gone": (2, lambda p, t: _poll(lambda: "" if os.path.lexists(p) else None, t)),
    "until-exists": (2, lambda p, t: _poll(lambda: None if os.path.lexists(p) else "", t)),
    "until-link": (3, lambda a, b, t: _poll(lambda: _link_attempt(a, b), t)),
    "cycle": (3, _cycle),
}


def run(words):
    """Runs one operation; returns its result line."""
    if words[0] == "timed":
        start = time.monotonic()
        result = run(words[1:])
        return "%s %.4f" % (result, time.monotonic() - start)
    if words[0] == "at":
        delay = float(words[1]) - time.time()
        if delay > 0:
            time.sleep(delay)
        return run(words[2:])

    nargs, fn = OPS[words[0]]
    if len(words) != nargs + 1:
        raise ValueError("%s takes %d arguments" % (words[0], nargs))
    try:
        value = fn(*words[1:])
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    return "OK" if value is None else str(value)


def main(argv):
    commands, current = [], []
    for word in argv:
        if word == ";":
            commands.append(current)
            current = []
        else:
            current.append(word)
    commands.append(current)

    try:
        for words in commands:
            if not words or (words[0] not in OPS and words[0] not in ("timed", "at")):
                raise ValueError("unknown operation %r" % (words[:1],))
            print(run(words), flush=True)
    except (ValueError, KeyError, IndexError) as e:
        print("fsop.py: %s (see the usage in %s)" % (e, __file__), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
