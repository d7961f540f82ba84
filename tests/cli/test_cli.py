#!/usr/bin/python3
# Copyright (C) 2026 The locknix developers
# SPDX-License-Identifier: LGPL-3.0-or-later
"""Tests of the locknix command-line tool.

    test_cli.py --locknix PATH [--class NAME] [unittest options]

Each test works in a fresh directory. Tests wait for events (a line from COMMAND, a process
exit), never for time: SAFETY only bounds a wait that would otherwise hang when something is
broken.
"""

import argparse
import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import termios
import time
import unittest

LOCKNIX = None
HOST = socket.gethostname()
SAFETY = 30  # seconds; never reached when the tool works

# Exit codes (locknix.1, EXIT STATUS).
USAGE, NOT_A_LOCK, NO_DIRECTORY, OSERR, DENIED, TEMPFAIL, LOST = 64, 65, 66, 71, 73, 75, 76

PYTHON = '/usr/bin/python3'

# The signals the tool passes on to COMMAND.
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
             signal.SIGUSR2)

# COMMAND that reports each forwarded signal on stdout and exits with 3. The handler writes with
# os.write: a signal that arrives while print('ready') is still returning must not re-enter it.
TRAP_SIGNALS = [PYTHON, '-c', """
import os, signal
def on(number, frame):
    os.write(1, ('got %s\\n' % signal.Signals(number).name).encode())
    os._exit(3)
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
          signal.SIGUSR2):
    signal.signal(s, on)
print('ready', flush=True)
while True:
    signal.pause()
"""]


def locknix(*args, cwd=None, env=None, preexec_fn=None, wrapper=()):
    """Runs the tool to its end; returns the CompletedProcess with text output."""
    return subprocess.run([*wrapper, LOCKNIX, *args], cwd=cwd, env=env, text=True,
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=SAFETY,
                          preexec_fn=preexec_fn)


def snapshot(directory):
    """Everything about the files of a directory that a tool could change."""
    result = {}
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        st = os.lstat(path)
        content = None
        if stat.S_ISREG(st.st_mode):
            with open(path, 'rb') as f:
                content = f.read()
        elif stat.S_ISLNK(st.st_mode):
            content = os.readlink(path)
        result[name] = (st.st_mode, st.st_ino, st.st_nlink, st.st_mtime_ns, content)
    return result


class LockTest(unittest.TestCase):
    """A fresh directory with a lock path in it, and cleanup of every process started."""

    def cannot_run(self, why):
        """Skips a test that this machine cannot run; under CI (CI=true), where the test
        command installs everything the tests need, fails it instead."""
        if os.environ.get('CI') == 'true':
            self.fail('cannot run here under CI: ' + why)
        self.skipTest(why)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='locknix-cli-')
        self.lock = os.path.join(self.dir, 'lock')
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
            for stream in (p.stdin, p.stdout, p.stderr):
                if stream:
                    stream.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, *args, stdin=subprocess.DEVNULL, **kwargs):
        """Starts the tool in a session of its own (so that tearDown can kill COMMAND too)."""
        p = subprocess.Popen([LOCKNIX, *args], stdin=stdin, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True, **kwargs)
        self.procs.append(p)
        return p

    def hold(self, *options):
        """Starts `locknix run` on the lock with a COMMAND that runs until release(). The
        lifetime is long, so that no refresh changes the lock's mtime during a test."""
        p = self.start('run', '--lifetime', '1h', *options, self.lock, '--', 'sh', '-c', 'echo ready; read line',
                       stdin=subprocess.PIPE)
        self.assertEqual(p.stdout.readline(), 'ready\n', p.stderr.read() if p.poll() else '')
        return p

    def release(self, holder):
        holder.stdin.write('\n')
        holder.stdin.close()
        self.assertEqual(holder.wait(SAFETY), 0, holder.stderr.read())

    def make_lock(self, host='otherhost', pid=4242, expiry=None, with_claim=True):
        """Writes a lock by hand, as another host would. expiry: epoch seconds (mtime)."""
        claim = '%s|%s|%d|%d' % (self.lock, host, pid, 123456789)
        with open(claim, 'w') as f:
            f.write(claim)
        os.link(claim, self.lock)
        if expiry is not None:
            os.utime(claim, (expiry, expiry))
        if not with_claim:
            os.unlink(claim)
        return claim

    def assert_error_line(self, result, code, *fragments):
        """The tool failed with `code` and said so in one line naming the problem."""
        self.assertEqual(result.returncode, code, result.stderr)
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith('locknix'), lines[0])
        for fragment in fragments:
            self.assertIn(fragment, lines[0])

    def read_line_containing(self, stream, text, proc):
        """Reads lines of `stream` until one contains `text`; fails if the stream ends first."""
        while True:
            line = stream.readline()
            if not line:
                self.fail('no line with %r; exit %r' % (text, proc.poll()))
            if text in line:
                return line


class UsageTests(LockTest):
    def test_version(self):
        r = locknix('--version')
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r'^locknix \d+\.\d+\.\d+\n$')

    def test_help(self):
        for args in (['--help'], ['-h'], ['run', '--help'], ['status', '--help'],
                     ['break', '--help'], ['run', '-h']):
            r = locknix(*args)
            self.assertEqual(r.returncode, 0, args)
            self.assertIn('Usage: locknix', r.stdout)
            self.assertEqual(r.stderr, '')
        self.assertIn('-- COMMAND', locknix('run', '--help').stdout)
        self.assertIn('--json', locknix('status', '--help').stdout)
        self.assertIn('--force', locknix('break', '--help').stdout)

    def test_bad_input_changes_nothing(self):
        """Each bad command line gets one line, its exit code, and leaves the directory as is."""
        open(os.path.join(self.dir, 'file'), 'w').close()
        sub = os.path.join(self.dir, 'sub')
        os.mkdir(sub)
        missing = os.path.join(self.dir, 'missing', 'lock')
        under_file = os.path.join(self.dir, 'file', 'lock')
        L = self.lock
        cases = [
            ([], USAGE, 'missing command'),
            (['frob', L], USAGE, "unknown command 'frob'"),
            (['--frob'], USAGE, "unknown option '--frob'"),
            (['run', '--bogus', L, '--', 'true'], USAGE, "unknown option '--bogus'"),
            (['status', '--bogus', L], USAGE, "unknown option '--bogus'"),
            (['break', '-x', L], USAGE, "unknown option '-x'"),
            (['run', L, 'true'], USAGE, "missing '--'"),
            (['run', L], USAGE, "missing '--'"),
            (['run', L, '--'], USAGE, 'missing COMMAND'),
            (['run', L, '--', ''], USAGE, 'COMMAND is empty'),
            (['run', '--', 'true'], USAGE, 'missing LOCKFILE'),
            (['status'], USAGE, 'missing LOCKFILE'),
            (['break'], USAGE, 'missing LOCKFILE'),
            (['status', L, L], USAGE, 'unexpected argument'),
            (['run', '', '--', 'true'], USAGE, 'path is empty'),
            (['status', ''], USAGE, 'path is empty'),
            (['break', ''], USAGE, 'path is empty'),
            (['run', L + '|x', '--', 'true'], USAGE, "contains '|'"),
            (['run', '--timeout'], USAGE, '--timeout needs a value'),
            (['run', '--verbose=yes', L, '--', 'true'], USAGE, 'takes no value'),
            (['run', '--json', L, '--', 'true'], USAGE, "unknown option '--json'"),
            (['run', '--timeout', '-1', L, '--', 'true'], USAGE, 'negative'),
            (['run', '--timeout=5x', L, '--', 'true'], USAGE, 'not a duration'),
            (['run', '--lifetime', '2s', L, '--', 'true'], USAGE, 'too short'),
            (['run', '--lifetime', '2.999', L, '--', 'true'], USAGE, 'too short'),
            (['run', '--lifetime', '8761h', L, '--', 'true'], USAGE, 'too long'),
            (['run', '--slop', '-1s', L, '--', 'true'], USAGE, 'negative'),
            (['status', '--slop', 'x', L], USAGE, 'not a duration'),
            (['break', '--slop', '', L], USAGE, 'empty'),
            (['run', sub, '--', 'true'], NOT_A_LOCK, 'directory'),
            (['run', sub + '/', '--', 'true'], NOT_A_LOCK, 'directory'),
            (['break', sub, '--force'], NOT_A_LOCK, 'directory'),
            (['run', missing, '--', 'true'], NO_DIRECTORY, os.path.dirname(missing)),
            (['status', missing], NO_DIRECTORY, os.path.dirname(missing)),
            (['break', missing], NO_DIRECTORY, os.path.dirname(missing)),
            (['run', under_file, '--', 'true'], NO_DIRECTORY, 'not a directory'),
        ]
        before = snapshot(self.dir)
        for args, code, fragment in cases:
            with self.subTest(args=args):
                r = locknix(*args)
                self.assert_error_line(r, code, fragment)
                self.assertEqual(r.stdout, '')
                self.assertEqual(snapshot(self.dir), before)

    def test_foreign_files_are_left_alone(self):
        """A regular file that is not a claim, and a symbolic link, are reported, never touched."""
        target = os.path.join(self.dir, 'target')
        with open(target, 'w') as f:
            f.write('precious')
        def write_junk():
            with open(self.lock, 'w') as f:
                f.write('not a claim')

        for make in (write_junk,
                     lambda: os.symlink(target, self.lock),
                     lambda: os.mkfifo(self.lock)):
            make()
            before = snapshot(self.dir)
            for args in (['run', self.lock, '--', 'true'], ['break', self.lock],
                         ['break', '--force', self.lock]):
                with self.subTest(args=args, kind=before['lock'][0]):
                    r = locknix(*args)
                    self.assert_error_line(r, NOT_A_LOCK, self.lock, 'not a lock')
                    self.assertEqual(snapshot(self.dir), before)
            os.unlink(self.lock)

    def test_relative_path_resolves_against_cwd(self):
        r = locknix('run', 'lock', '--', 'sh', '-c', 'ls', cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('lock', r.stdout.split())
        self.assertEqual(os.listdir(self.dir), [])
        r = locknix('status', '--json', 'lock', cwd=self.dir)
        self.assertEqual(json.loads(r.stdout)['path'], self.lock)

    def test_unresolvable_relative_path(self):
        gone = os.path.join(self.dir, 'gone')
        os.mkdir(gone)
        r = subprocess.run(['sh', '-c', 'cd "$1" && rmdir "$1" && exec "$2" run lock -- true',
                            'sh', gone, LOCKNIX], text=True, capture_output=True,
                           timeout=SAFETY)
        self.assert_error_line(r, NO_DIRECTORY, 'lock')
        self.assertEqual(os.listdir(self.dir), [])


class DurationsTests(LockTest):
    def test_accepted(self):
        for text in ('0', '0.0', '250ms', '5s', '2m', '1h', '1.5', '0.25s', '.5', '1.5ms',
                     '0.001h', '2562047h'):
            with self.subTest(text=text):
                r = locknix('run', '--timeout', text, self.lock, '--', 'true')
                self.assertEqual(r.returncode, 0, r.stderr)

    def test_lifetime_bounds(self):
        for text in ('3s', '3', '0.05m', '8760h'):
            with self.subTest(text=text):
                r = locknix('run', '--lifetime', text, self.lock, '--', 'true')
                self.assertEqual(r.returncode, 0, r.stderr)

    def test_rejected(self):
        cases = {
            '': 'empty', '-1': 'negative', '-0.5s': 'negative', '-0': 'negative',
            'abc': 'not a duration', '5x': 'not a duration', '1.': 'not a duration',
            '.': 'not a duration', '1e3': 'not a duration', ' 5': 'not a duration',
            '5 ': 'not a duration', '5S': 'not a duration', 'inf': 'not a duration',
            'nan': 'not a duration', '1..5': 'not a duration', '+5': 'not a duration',
            '5ss': 'not a duration', 's': 'not a duration', '1,5': 'not a duration',
            '0x10': 'not a duration', '99999999999999999999': 'too large',
            '2562048h': 'too large', '9223372037s': 'too large',
        }
        for text, problem in cases.items():
            for option in ('--timeout', '--slop', '--kill-after'):
                with self.subTest(option=option, text=text):
                    r = locknix('run', option, text, self.lock, '--', 'true')
                    self.assert_error_line(r, USAGE, option, problem)
                    self.assertEqual(os.listdir(self.dir), [])


class StatusTests(LockTest):
    def status(self, *options):
        r = locknix('status', '--json', *options, self.lock)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, '')
        return json.loads(r.stdout)

    FIELDS = {'format', 'path', 'state', 'holder', 'expiry', 'expiry_epoch', 'breakable_at',
              'breakable_at_epoch', 'seconds_until_expiry', 'seconds_until_breakable',
              'clock_slop', 'checked_at', 'checked_at_epoch'}

    def test_unlocked(self):
        s = self.status()
        self.assertEqual(set(s), self.FIELDS)
        self.assertEqual(s['format'], 1)
        self.assertEqual(s['path'], self.lock)
        self.assertEqual(s['state'], 'unlocked')
        for field in ('holder', 'expiry', 'expiry_epoch', 'breakable_at', 'breakable_at_epoch',
                      'seconds_until_expiry', 'seconds_until_breakable'):
            self.assertIsNone(s[field], field)
        self.assertEqual(s['clock_slop'], 10)
        self.assertRegex(s['checked_at'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
        self.assertIsInstance(s['checked_at_epoch'], float)
        r = locknix('status', self.lock)
        self.assertEqual(r.returncode, 0)
        self.assertIn('state:     unlocked', r.stdout)
        self.assertEqual(os.listdir(self.dir), [])

    def test_held_by_a_running_holder(self):
        holder = self.hold()
        s = self.status()
        self.assertEqual(s['state'], 'held_by_other')
        h = s['holder']
        self.assertEqual(set(h), {'host', 'pid', 'claim', 'local', 'process_running'})
        self.assertEqual(h['host'], HOST)
        self.assertEqual(h['pid'], holder.pid)  # the locknix process, not COMMAND
        self.assertTrue(h['claim'].startswith(self.lock + '|%s|%d|' % (HOST, holder.pid)))
        self.assertTrue(os.path.exists(h['claim']))
        self.assertIs(h['local'], True)
        self.assertIs(h['process_running'], True)
        self.assertGreater(s['expiry_epoch'], s['checked_at_epoch'])
        self.assertAlmostEqual(s['breakable_at_epoch'], s['expiry_epoch'] + 10, places=3)
        self.assertGreater(s['seconds_until_breakable'], s['seconds_until_expiry'])
        self.assertGreater(s['seconds_until_expiry'], 0)
        self.assertEqual(s['expiry'], time.strftime('%Y-%m-%dT%H:%M:%SZ',
                                                    time.gmtime(int(s['expiry_epoch']))))
        r = locknix('status', self.lock)
        self.assertIn('state:     held_by_other\n', r.stdout)
        self.assertIn('holder:    host %s pid %d (on this host, running)' % (HOST, holder.pid),
                      r.stdout)
        self.assertIn('claim:     ' + h['claim'], r.stdout)
        self.release(holder)
        self.assertEqual(self.status()['state'], 'unlocked')

    def test_expired_lock_of_another_host(self):
        expiry = 1700000000.25
        claim = self.make_lock(expiry=expiry)
        s = self.status()
        self.assertEqual(s['state'], 'held_by_other_breakable')
        self.assertEqual(s['holder'], {'host': 'otherhost', 'pid': 4242, 'claim': claim,
                                       'local': False, 'process_running': None})
        self.assertEqual(s['expiry'], '2023-11-14T22:13:20Z')
        self.assertEqual(s['expiry_epoch'], 1700000000.25)
        self.assertEqual(s['breakable_at'], '2023-11-14T22:13:30Z')
        self.assertEqual(s['breakable_at_epoch'], 1700000010.25)
        self.assertEqual(s['seconds_until_breakable'], 0)
        self.assertLess(s['seconds_until_expiry'], 0)
        r = locknix('status', self.lock)
        self.assertIn('breakable: 2023-11-14T22:13:30Z (1700000010.250), now', r.stdout)
        self.assertNotIn('on this host', r.stdout)

    def test_slop_decides_breakable(self):
        self.make_lock(expiry=time.time() - 60)
        self.assertEqual(self.status('--slop', '1h')['state'], 'held_by_other')
        self.assertEqual(self.status('--slop', '1h')['clock_slop'], 3600)
        self.assertEqual(self.status('--slop=0')['state'], 'held_by_other_breakable')

    def test_local_holder_that_is_gone(self):
        dead = subprocess.Popen(['true'])
        dead.wait()
        self.make_lock(host=HOST, pid=dead.pid)
        s = self.status()
        self.assertIs(s['holder']['local'], True)
        self.assertIs(s['holder']['process_running'], False)

    def test_not_a_lock(self):
        with open(self.lock, 'w') as f:
            f.write('hello')
        before = snapshot(self.dir)
        r = locknix('status', '--json', self.lock)
        self.assert_error_line(r, NOT_A_LOCK, self.lock, 'not a lock')
        s = json.loads(r.stdout)
        self.assertEqual(s['state'], 'not_a_lock')
        self.assertIsNone(s['holder'])
        r = locknix('status', self.lock)
        self.assertEqual(r.returncode, NOT_A_LOCK)
        self.assertIn('state:     not_a_lock', r.stdout)
        self.assertEqual(snapshot(self.dir), before)
        os.unlink(self.lock)
        os.mkdir(self.lock)
        r = locknix('status', self.lock)
        self.assert_error_line(r, NOT_A_LOCK, 'directory')
        self.assertEqual(os.listdir(self.dir), ['lock'])

    def test_output_that_cannot_be_written(self):
        with open('/dev/full', 'w') as full:
            r = subprocess.run([LOCKNIX, 'status', '--json', self.lock], stdout=full,
                               stderr=subprocess.PIPE, text=True, timeout=SAFETY)
        self.assert_error_line(subprocess.CompletedProcess(r.args, r.returncode, '', r.stderr),
                               OSERR, 'standard output', 'No space left')

    def test_hostile_names_are_escaped(self):
        host = 'evil"\\\x1b[2J\x7fhost'
        claim = self.make_lock(host=host)
        s = self.status()
        self.assertEqual(s['holder']['host'], host)
        self.assertEqual(s['holder']['claim'], claim)
        r = locknix('status', self.lock)
        self.assertNotIn('\x1b', r.stdout)
        self.assertIn('\\x1b[2J', r.stdout)

    def test_invalid_utf8_in_names(self):
        # A host name that is not UTF-8 reaches JSON as U+FFFD, and the output stays valid.
        claim = os.fsencode(self.lock) + b'|h\xffst|7|1'
        with open(claim, 'wb') as f:
            f.write(claim)
        os.link(claim, self.lock)
        s = self.status()
        self.assertEqual(s['holder']['host'], 'h\ufffdst')


class BreakTests(LockTest):
    def test_nothing_to_break(self):
        for options in ([], ['--force']):
            r = locknix('break', *options, self.lock)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn('nothing to break', r.stdout)
            self.assertEqual(os.listdir(self.dir), [])

    def test_expired_lock(self):
        self.make_lock(expiry=time.time() - 3600)
        r = locknix('break', self.lock)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('broke the expired lock %s of host otherhost pid 4242' % self.lock,
                      r.stdout)
        self.assertEqual(os.listdir(self.dir), [])

    def test_expired_lock_without_its_claim_file(self):
        self.make_lock(expiry=time.time() - 3600, with_claim=False)
        r = locknix('break', self.lock)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(os.listdir(self.dir), [])

    def test_slop_keeps_a_recently_expired_lock(self):
        self.make_lock(expiry=time.time() - 60)
        before = snapshot(self.dir)
        r = locknix('break', '--slop', '1h', self.lock)
        self.assert_error_line(r, TEMPFAIL, 'not breakable yet', '--force')
        self.assertEqual(snapshot(self.dir), before)
        r = locknix('break', '--slop', '30s', self.lock)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(os.listdir(self.dir), [])

    def test_live_lock_needs_force(self):
        holder = self.hold()
        before = snapshot(self.dir)
        r = locknix('break', self.lock)
        self.assert_error_line(r, TEMPFAIL, 'host %s pid %d' % (HOST, holder.pid),
                               'not breakable yet', 'use --force')
        self.assertEqual(r.stdout, '')
        self.assertEqual(snapshot(self.dir), before)
        self.release(holder)

    def test_force_breaks_a_live_lock_of_another_host(self):
        claim = self.make_lock(expiry=time.time() + 3600)
        r = locknix('break', '--force', self.lock)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('broke the lock %s of host otherhost pid 4242 (forced' % self.lock, r.stdout)
        self.assertFalse(os.path.exists(claim))
        self.assertEqual(os.listdir(self.dir), [])

    def test_force_leaves_unrelated_files(self):
        claim = self.make_lock(expiry=time.time() + 3600)
        other = os.path.join(self.dir, 'lock|otherhost|4242|5')  # a claim that does not hold it
        with open(other, 'w') as f:
            f.write(other)
        r = locknix('break', '--force', self.lock)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(claim))
        self.assertEqual(os.listdir(self.dir), [os.path.basename(other)])


    def test_force_takes_turns_with_other_breakers(self):
        """A forced break takes the breaker mutex (LOCKFILE.break) that the breakers of expired
        locks take: while another breaker holds it, nothing is removed. The slop keeps that
        mutex from being judged stale."""
        self.make_lock(expiry=time.time() + 3600)
        os.mkdir(self.lock + '.break')
        before = snapshot(self.dir)
        r = locknix('break', '--force', '--slop', '1h', self.lock)
        self.assert_error_line(r, TEMPFAIL, '%s of host otherhost pid 4242' % self.lock,
                               'another process is breaking it')
        self.assertEqual(r.stdout, '')
        self.assertEqual(snapshot(self.dir), before)
        os.rmdir(self.lock + '.break')
        r = locknix('break', '--force', '--slop', '1h', self.lock)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('broke the lock %s of host otherhost pid 4242 (forced' % self.lock, r.stdout)
        self.assertEqual(os.listdir(self.dir), [])


class RunTests(LockTest):
    def test_exit_status_is_commands(self):
        for script, code in (('exit 0', 0), ('exit 42', 42), ('exit 255', 255),
                             ('kill -USR1 $$', 128 + signal.SIGUSR1),
                             ('kill -KILL $$', 128 + signal.SIGKILL)):
            with self.subTest(script=script):
                r = locknix('run', self.lock, '--', 'sh', '-c', script)
                self.assertEqual(r.returncode, code, r.stderr)
                self.assertEqual(r.stderr, '')
                self.assertEqual(os.listdir(self.dir), [])

    def test_a_failed_release_keeps_the_commands_status(self):
        # COMMAND makes the lock directory read-only, so that the release after it fails for good.
        if os.geteuid() != 0 or not shutil.which('unshare'):
            self.cannot_run('needs root and unshare(1) for a private bind mount')
        script = ('mount --bind "$1" "$1" || exit 99; '
                  'exec "$2" run "$1/lock" -- sh -c "mount -o remount,bind,ro $1 && exit 3"')
        r = subprocess.run(['unshare', '--mount', 'sh', '-c', script, 'sh', self.dir, LOCKNIX],
                           text=True, capture_output=True, timeout=SAFETY)
        if r.returncode == 99:
            self.cannot_run('bind mounts are not allowed here: ' + r.stderr)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn(self.lock, r.stderr)
        self.assertIn('Read-only file system', r.stderr)
        self.assertIn("COMMAND's status stands", r.stderr)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)

    def test_command_runs_under_the_lock(self):
        r = locknix('run', self.lock, '--', LOCKNIX, 'status', '--json', self.lock)
        self.assertEqual(r.returncode, 0, r.stderr)
        s = json.loads(r.stdout)
        self.assertEqual(s['state'], 'held_by_other')
        self.assertEqual(s['holder']['host'], HOST)
        self.assertIs(s['holder']['process_running'], True)
        self.assertEqual(os.listdir(self.dir), [])

    def test_arguments_and_streams_pass_through(self):
        r = subprocess.run([LOCKNIX, 'run', self.lock, '--', 'sh', '-c',
                            'cat; echo "$#:$1:$2"; echo err >&2', 'sh', '--', 'a b'],
                           input='in\n', text=True, capture_output=True, timeout=SAFETY)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, 'in\n2:--:a b\n')
        self.assertEqual(r.stderr, 'err\n')

    def test_command_gets_no_lock_descriptor(self):
        script = ('import os\n'
                  'open_fds = []\n'
                  'for fd in range(3, 1024):\n'
                  '    try:\n'
                  '        os.fstat(fd)\n'
                  '        open_fds.append((fd, os.readlink("/proc/self/fd/%d" % fd)))\n'
                  '    except OSError:\n'
                  '        pass\n'
                  'print(open_fds)\n')
        for options in ([], ['--verbose']):
            r = locknix('run', *options, self.lock, '--', PYTHON, '-c', script)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, '[]\n')

    def test_command_not_found_or_not_executable(self):
        r = locknix('run', self.lock, '--', 'locknix-no-such-command')
        self.assert_error_line(r, 127, 'locknix-no-such-command', 'No such file')
        self.assertEqual(os.listdir(self.dir), [])
        bindir = tempfile.mkdtemp(prefix='locknix-cli-bin-')
        try:
            script = os.path.join(bindir, 'script')
            with open(script, 'w') as f:
                f.write('#!/bin/sh\nexit 0\n')
            os.chmod(script, 0o644)
            r = locknix('run', self.lock, '--', script)
            self.assert_error_line(r, 126, script, 'Permission denied')
        finally:
            shutil.rmtree(bindir)
        self.assertEqual(os.listdir(self.dir), [])

    def test_timeout(self):
        holder = self.hold()
        before = snapshot(self.dir)
        for timeout in ('0', '250ms'):
            with self.subTest(timeout=timeout):
                r = locknix('run', '--timeout', timeout, self.lock, '--', 'touch', 'ran')
                self.assert_error_line(r, TEMPFAIL, 'timed out',
                                       'held by host %s pid %d' % (HOST, holder.pid))
                self.assertEqual(snapshot(self.dir), before)
        self.release(holder)

    def test_waits_for_the_holder(self):
        holder = self.hold()
        waiter = self.start('run', '--verbose', self.lock, '--', 'echo', 'second')
        self.read_line_containing(waiter.stderr, 'waiting for', waiter)
        self.release(holder)
        self.assertEqual(waiter.wait(SAFETY), 0)
        self.assertEqual(waiter.stdout.read(), 'second\n')
        self.assertEqual(os.listdir(self.dir), [])

    def test_claim_is_created_once_while_waiting(self):
        """A wait creates its claim file once, however long it lasts: strace counts the
        exclusive creations of claim names by the waiter and all its threads."""
        if not shutil.which('strace'):
            self.cannot_run('needs strace(1)')
        probe = subprocess.run(['strace', '-o', os.devnull, 'true'], text=True,
                               capture_output=True, timeout=SAFETY)
        if probe.returncode != 0:
            self.cannot_run('strace cannot trace here: ' + probe.stderr)
        # LeakSanitizer cannot work under ptrace; the rest of ASan can.
        env = dict(os.environ)
        env['ASAN_OPTIONS'] = ':'.join(filter(None, [env.get('ASAN_OPTIONS'), 'detect_leaks=0']))
        holder = self.hold()
        before = snapshot(self.dir)
        trace_dir = tempfile.mkdtemp(prefix='locknix-cli-trace-')
        try:
            trace = os.path.join(trace_dir, 'trace')
            r = subprocess.run(['strace', '-f', '-qq', '-s', '4096', '-e', 'trace=openat,open',
                                '-o', trace, LOCKNIX, 'run', '--timeout', '2s', self.lock, '--',
                                'true'],
                               stdin=subprocess.DEVNULL, env=env, text=True,
                               capture_output=True, timeout=SAFETY)
            self.assert_error_line(r, TEMPFAIL, 'timed out')
            with open(trace) as f:
                lines = f.read().splitlines()
        finally:
            shutil.rmtree(trace_dir)
        claim_prefix = '"%s|' % self.lock
        creations = [line for line in lines if claim_prefix in line and 'O_EXCL' in line]
        self.assertEqual(len(creations), 1, '\n'.join(creations))
        self.assertEqual(snapshot(self.dir), before)  # and the claim is gone again
        self.release(holder)

    def test_breaks_an_expired_lock_in_one_try(self):
        self.make_lock(expiry=time.time() - 3600)
        r = locknix('run', '--timeout', '0', self.lock, '--', 'true')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(os.listdir(self.dir), [])

    def test_ignored_signals_stay_ignored_for_command(self):
        """As under nohup: a SIGHUP ignored by the caller is ignored by COMMAND too."""
        def ignored_mask(preexec):
            r = locknix('run', self.lock, '--', 'sh', '-c', 'grep SigIgn /proc/$$/status',
                        preexec_fn=preexec)
            self.assertEqual(r.returncode, 0, r.stderr)
            return int(r.stdout.split()[1], 16)

        hup = 1 << (signal.SIGHUP - 1)
        self.assertEqual(ignored_mask(None) & hup, 0)
        self.assertEqual(ignored_mask(lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN)) & hup,
                         hup)


class SignalsTests(LockTest):
    def test_passed_on_to_command(self):
        for sig in FORWARDED:
            with self.subTest(signal=sig.name):
                p = self.start('run', self.lock, '--', *TRAP_SIGNALS)
                self.assertEqual(p.stdout.readline(), 'ready\n')
                os.kill(p.pid, sig)
                self.assertEqual(p.stdout.readline(), 'got %s\n' % sig.name)
                self.assertEqual(p.wait(SAFETY), 3, p.stderr.read())
                self.assertEqual(os.listdir(self.dir), [])

    def test_command_killed_by_the_passed_signal(self):
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            with self.subTest(signal=sig.name):
                p = self.start('run', self.lock, '--', 'sh', '-c', 'echo ready; exec sleep 1000')
                self.assertEqual(p.stdout.readline(), 'ready\n')
                os.kill(p.pid, sig)
                self.assertEqual(p.wait(SAFETY), 128 + sig)
                self.assertEqual(p.stderr.read(), '')
                self.assertEqual(os.listdir(self.dir), [])

    def test_signal_ends_the_wait(self):
        holder = self.hold()
        before = snapshot(self.dir)
        for sig in FORWARDED:
            with self.subTest(signal=sig.name):
                waiter = self.start('run', '--verbose', self.lock, '--', 'touch', 'ran')
                self.read_line_containing(waiter.stderr, 'waiting for', waiter)
                os.kill(waiter.pid, sig)
                self.assertEqual(waiter.wait(SAFETY), 128 + sig)
                self.assertIn('interrupted by %s' % sig.name, waiter.stderr.read())
                self.assertEqual(snapshot(self.dir), before)  # no claim, COMMAND never ran
        self.release(holder)

    def test_command_stops_when_the_tool_is_killed(self):
        """Nothing keeps the lock alive without the tool: COMMAND gets SIGTERM."""
        p = self.start('run', self.lock, '--', *TRAP_SIGNALS)
        self.assertEqual(p.stdout.readline(), 'ready\n')
        os.kill(p.pid, signal.SIGKILL)
        self.assertEqual(p.stdout.readline(), 'got SIGTERM\n')
        p.wait()

    def test_ctrl_c_on_the_terminal(self):
        """The terminal signals the whole process group; COMMAND gets SIGINT from it."""
        pid, master = pty.fork()
        if pid == 0:
            os.execv(LOCKNIX, [LOCKNIX, 'run', self.lock, '--', *TRAP_SIGNALS])
        output = b''
        try:
            while b'ready' not in output:
                output += self.read_pty(master)
            os.write(master, b'\x03')
            while b'got SIGINT' not in output:
                output += self.read_pty(master)
            _, status = os.waitpid(pid, 0)
        finally:
            os.close(master)
        self.assertEqual(os.waitstatus_to_exitcode(status), 3, output)
        self.assertEqual(os.listdir(self.dir), [])

    def read_pty(self, master):
        ready, _, _ = select.select([master], [], [], SAFETY)
        self.assertTrue(ready, 'no output from the terminal')
        try:
            return os.read(master, 4096)
        except OSError:
            self.fail('the terminal closed')


class LostLockTests(LockTest):
    def start_holder(self, command, *options):
        p = self.start('run', '--lifetime', '3s', *options, self.lock, '--', *command)
        self.assertEqual(p.stdout.readline(), 'ready\n')
        return p

    def test_broken_by_force(self):
        holder = self.start_holder(['sh', '-c', 'echo ready; exec sleep 1000'])
        r = locknix('break', '--force', self.lock)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('host %s pid %d' % (HOST, holder.pid), r.stdout)
        self.assertEqual(holder.wait(SAFETY), LOST)
        stderr = holder.stderr.read()
        self.assertIn('lost the lock ' + self.lock, stderr)
        self.assertIn('SIGTERM', stderr)
        self.assertEqual(os.listdir(self.dir), [])

    def test_lock_file_removed(self):
        holder = self.start_holder(['sh', '-c', 'echo ready; exec sleep 1000'])
        os.unlink(self.lock)
        self.assertEqual(holder.wait(SAFETY), LOST)
        self.assertIn('lost the lock', holder.stderr.read())
        self.assertEqual(os.listdir(self.dir), [])

    def test_command_ignoring_sigterm_gets_sigkill(self):
        command = [PYTHON, '-c', 'import signal\n'
                   'signal.signal(signal.SIGTERM, signal.SIG_IGN)\n'
                   'print("ready", flush=True)\n'
                   'while True: signal.pause()\n']
        holder = self.start_holder(command, '--kill-after', '200ms')
        os.unlink(self.lock)
        self.assertEqual(holder.wait(SAFETY), LOST)
        stderr = holder.stderr.read()
        self.assertIn('SIGKILL', stderr)
        self.assertEqual(os.listdir(self.dir), [])

    def test_lost_while_command_ends(self):
        """A loss noticed only at release still exits with the lost code."""
        holder = self.start('run', '--lifetime', '1h', self.lock, '--', 'sh', '-c',
                            'echo ready; read line', stdin=subprocess.PIPE)
        self.assertEqual(holder.stdout.readline(), 'ready\n')
        os.unlink(self.lock)  # the next refresh is 20 minutes away
        holder.stdin.write('\n')
        holder.stdin.close()
        self.assertEqual(holder.wait(SAFETY), LOST)
        self.assertIn('lost the lock', holder.stderr.read())
        self.assertEqual(os.listdir(self.dir), [])


class VerboseTests(LockTest):
    def test_plain_lines_off_a_terminal(self):
        holder = self.hold()
        waiter = self.start('run', '--verbose', self.lock, '--', 'true')
        line = self.read_line_containing(waiter.stderr, 'waiting for', waiter)
        self.assertIn('held by host %s pid %d' % (HOST, holder.pid), line)
        self.assertRegex(line, r'expiry \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ')
        self.release(holder)
        self.assertEqual(waiter.wait(SAFETY), 0)
        rest = waiter.stderr.read()
        for text in ('acquired ' + self.lock, 'started COMMAND', 'COMMAND exited with status 0',
                     'released ' + self.lock):
            self.assertIn(text, rest)
        self.assertNotIn('\r', line + rest)
        self.assertNotIn('\x1b', line + rest)

    def test_quiet_without_verbose(self):
        r = locknix('run', self.lock, '--', 'true')
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, '', ''))

    def test_live_line_on_a_terminal(self):
        holder = self.hold()
        master, slave = pty.openpty()
        # Wide enough for the whole line: the tool cuts it to the terminal's width.
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 400, 0, 0))
        waiter = subprocess.Popen([LOCKNIX, 'run', '--verbose', self.lock, '--', 'true'],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=slave, start_new_session=True)
        self.procs.append(waiter)
        os.close(slave)
        output = b''
        try:
            expected = ('held by host %s pid %d' % (HOST, holder.pid)).encode()
            while not (expected in output and b'breakable in' in output):
                output += self.read_pty(master)
            self.release(holder)
            self.assertEqual(waiter.wait(SAFETY), 0)
            while True:
                chunk = self.read_pty(master)
                if not chunk:
                    break
                output += chunk
        finally:
            os.close(master)
        text = output.decode()
        self.assertIn('\r\x1b[K', text)
        span = r'(\d+h)?(\d+m)?(\d+s)?'
        self.assertRegex(text, r'waiting for %s: held by host %s pid %d, expires in %s, '
                               r'breakable in %s; waited %s' %
                         (re.escape(self.lock), re.escape(HOST), holder.pid, span, span, span))
        self.assertIn('acquired ' + self.lock, text)
        self.assertIn('released ' + self.lock, text)

    def read_pty(self, master):
        ready, _, _ = select.select([master], [], [], SAFETY)
        self.assertTrue(ready, 'no output on the terminal')
        try:
            return os.read(master, 4096)
        except OSError:  # EIO: the last writer closed the terminal
            return b''


class ExclusionTests(LockTest):
    def test_concurrent_increments_are_exact(self):
        counter = os.path.join(self.dir, 'counter')
        with open(counter, 'w') as f:
            f.write('0\n')
        workers, rounds = 8, 5
        increment = 'n=$(cat "$1"); echo $((n + 1)) > "$1"'
        loop = ('i=0; while [ $i -lt %d ]; do "$0" run "$1" -- sh -c \'%s\' sh "$2" || exit 1; '
                'i=$((i + 1)); done' % (rounds, increment))
        procs = [subprocess.Popen(['sh', '-c', loop, LOCKNIX, self.lock, counter])
                 for _ in range(workers)]
        for p in procs:
            self.assertEqual(p.wait(SAFETY * 2), 0)
        with open(counter) as f:
            self.assertEqual(int(f.read()), workers * rounds)
        self.assertEqual(os.listdir(self.dir), ['counter'])

    def test_holder_killed_is_broken_after_lifetime_and_slop(self):
        holder = self.start('run', '--lifetime', '3s', '--slop', '0', self.lock, '--', 'sh', '-c',
                            'echo ready; exec sleep 1000')
        self.assertEqual(holder.stdout.readline(), 'ready\n')
        claim = json.loads(locknix('status', '--json', self.lock).stdout)['holder']['claim']
        os.killpg(holder.pid, signal.SIGKILL)  # locknix and COMMAND
        holder.wait()
        self.assertTrue(os.path.exists(self.lock))

        r = locknix('run', '--timeout', '30s', '--lifetime', '3s', '--slop', '0', '--verbose',
                    self.lock, '--', 'true')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('broke the expired lock', r.stderr)
        self.assertFalse(os.path.exists(claim))
        self.assertEqual(os.listdir(self.dir), [])


class InteropTests(LockTest):
    """The tool against Python's flufl.lock (Debian's python3-flufl.lock), where it is installed."""

    HOLDER = """
import sys
from datetime import timedelta
from flufl.lock import Lock
lock = Lock(sys.argv[1], lifetime=timedelta(seconds=float(sys.argv[2])))
lock.lock(timeout=timedelta(seconds=10))
print('ready', flush=True)
sys.stdin.readline()
lock.unlock(unconditionally=True)
"""

    def setUp(self):
        super().setUp()
        if subprocess.run([PYTHON, '-c', 'import flufl.lock']).returncode != 0:
            self.cannot_run('flufl.lock is not installed for ' + PYTHON)

    def flufl_holder(self, lifetime):
        p = subprocess.Popen([PYTHON, '-c', self.HOLDER, self.lock, str(lifetime)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             start_new_session=True)
        self.procs.append(p)
        self.assertEqual(p.stdout.readline(), 'ready\n')
        return p

    def test_a_flufl_holder_is_seen_and_waited_for(self):
        holder = self.flufl_holder(60)
        s = json.loads(locknix('status', '--json', self.lock).stdout)
        self.assertEqual(s['state'], 'held_by_other')
        self.assertEqual(s['holder']['pid'], holder.pid)
        self.assert_error_line(locknix('run', '--timeout', '0', self.lock, '--', 'true'),
                               TEMPFAIL, 'pid %d' % holder.pid)
        waiter = self.start('run', '--verbose', self.lock, '--', 'true')
        self.read_line_containing(waiter.stderr, 'waiting for', waiter)
        holder.stdin.write('\n')
        holder.stdin.close()
        self.assertEqual(holder.wait(SAFETY), 0)
        self.assertEqual(waiter.wait(SAFETY), 0)
        self.assertEqual(os.listdir(self.dir), [])

    def test_an_expired_flufl_lock_is_broken(self):
        holder = self.flufl_holder(1)
        os.killpg(holder.pid, signal.SIGKILL)  # it never unlocks
        holder.wait()
        r = locknix('run', '--timeout', '30s', '--slop', '0', self.lock, '--', 'true')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(os.listdir(self.dir), [])


class PermissionsTests(LockTest):
    """A lock directory this process cannot write. Root passes access(2) checks, so the tool is
    run as the unprivileged user nobody (setpriv), and as root on a read-only bind mount."""

    def setUp(self):
        super().setUp()
        os.chmod(self.dir, 0o755)
        self.locked_dir = os.path.join(self.dir, 'ro')
        os.mkdir(self.locked_dir, 0o755)
        self.ro_lock = os.path.join(self.locked_dir, 'lock')

    def as_nobody(self, *args):
        if os.geteuid() != 0 or not shutil.which('setpriv'):
            self.cannot_run('needs root and setpriv(1) to run as another user')
        wrapper = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--']
        return locknix(*args, wrapper=wrapper)

    def test_not_writable_for_this_user(self):
        probe = self.as_nobody('--version')
        if probe.returncode != 0:
            self.cannot_run('nobody cannot run the tool here: ' + probe.stderr)
        before = snapshot(self.locked_dir)
        for args in (['run', self.ro_lock, '--', 'true'], ['break', self.ro_lock],
                     ['break', '--force', self.ro_lock]):
            with self.subTest(args=args):
                r = self.as_nobody(*args)
                self.assert_error_line(r, DENIED, self.locked_dir, 'not writable')
                self.assertEqual(snapshot(self.locked_dir), before)
        r = self.as_nobody('status', self.ro_lock)
        self.assertEqual(r.returncode, 0, r.stderr)
        os.chmod(self.locked_dir, 0o700)
        r = self.as_nobody('status', self.ro_lock)
        self.assert_error_line(r, DENIED, self.locked_dir)

    def test_read_only_mount(self):
        if os.geteuid() != 0 or not shutil.which('unshare'):
            self.cannot_run('needs root and unshare(1) for a private bind mount')
        self.make_lock_in_locked_dir()
        before = snapshot(self.locked_dir)
        script = 'mount --bind -o ro "$1" "$1" || exit 99; shift; exec "$@"'
        for args in (['run', self.ro_lock, '--', 'true'], ['break', '--force', self.ro_lock]):
            with self.subTest(args=args):
                r = subprocess.run(['unshare', '--mount', 'sh', '-c', script, 'sh',
                                    self.locked_dir, LOCKNIX, *args],
                                   text=True, capture_output=True, timeout=SAFETY)
                if r.returncode == 99:
                    self.cannot_run('bind mounts are not allowed here: ' + r.stderr)
                self.assert_error_line(r, DENIED, self.locked_dir, 'Read-only file system')
                self.assertEqual(snapshot(self.locked_dir), before)

    def make_lock_in_locked_dir(self):
        claim = self.ro_lock + '|otherhost|1|2'
        with open(claim, 'w') as f:
            f.write(claim)
        os.link(claim, self.ro_lock)


def main():
    global LOCKNIX
    parser = argparse.ArgumentParser()
    parser.add_argument('--locknix', required=True, help='the locknix executable')
    parser.add_argument('--class', dest='cls', help='run one test class: usage, run, ...')
    args, rest = parser.parse_known_args()
    LOCKNIX = os.path.abspath(args.locknix)
    argv = [sys.argv[0], *rest]
    if args.cls:
        name = ''.join(part.capitalize() for part in args.cls.split('_')) + 'Tests'
        argv.append(name)
    unittest.main(argv=argv, verbosity=2)


if __name__ == '__main__':
    main()
