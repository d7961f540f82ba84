#!/usr/bin/python3
"""Runs the locknix benchmark scenarios against every driver that was built and writes the raw
results (results.json and CSV files) into the output folder; report.py turns them into tables
and charts.

Every peer is a driver process speaking the protocol of bench_driver.h, so each scenario below
measures all peers through the same code:

  cycle     uncontended acquire+release, timed inside the driver, per file system
  handoff   two driver processes pass the lock back and forth; the holder stamps the instant it
            starts releasing (t0), the waiter the instant its acquire returns (t1), both with
            CLOCK_MONOTONIC; latency = t1 - t0
  contend   N drivers run M cycles each on one lock, started together
  syscalls  strace -c -f of K cycles minus strace of 0 cycles, divided by K
  scale     async_scale (locknix only): many coroutine waiters in one thread
"""

import argparse
import csv
import datetime
import json
import math
import os
import platform
import random
import re
import resource
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
FOREVER_MS = "600000"


class BenchError(Exception):
    pass


# How much of everything to run. Peers that sleep seconds between tries get fewer hand-offs
# and smaller contention runs; their counts are written next to each result.
PROFILES = {
    "full": {
        "cycle_runs": 5,
        "cycles": 20000,
        "cycles_python": 5000,
        "cycles_network": 500,
        "warmup": 1000,
        "handoffs": 500,
        "handoffs_slow": {"flufl": 30, "liblockfile": 6, "liblockfile_i1": 20},
        "hold_ms": (5.0, 50.0),
        "contend_runs": 3,
        "contend": (4, 500),
        "contend_slow": (4, 20),
        "strace_cycles": 1000,
        "scale_waiters": [10000, 100000],
        "scale_settle_ms": 3000,
        "scale_park_ms": 5000,
    },
    "quick": {
        "cycle_runs": 1,
        "cycles": 2000,
        "cycles_python": 500,
        "cycles_network": 50,
        "warmup": 100,
        "handoffs": 20,
        "handoffs_slow": {"flufl": 2, "liblockfile": 1, "liblockfile_i1": 1},
        "hold_ms": (5.0, 50.0),
        "contend_runs": 1,
        "contend": (4, 50),
        "contend_slow": (2, 3),
        "strace_cycles": 200,
        "scale_waiters": [10000],
        "scale_settle_ms": 1000,
        "scale_park_ms": 1000,
    },
}


@dataclass
class Peer:
    key: str
    label: str
    kind: str  # locknix, floor, peer or reference
    argv: list
    wait_args: list = field(default_factory=list)  # extra arguments when it has to wait
    slow: bool = False  # sleeps seconds between tries
    note: str = ""


def discover_peers(build, only_peers):
    """The drivers that exist in the build folder, by key."""

    def exe(name, *options):
        path = os.path.join(build, name)
        return [path, *options] if os.access(path, os.X_OK) else None

    candidates = [
        ("locknix_blocking", "locknix blocking", "locknix", exe("locknix_blocking"), [], False, ""),
        ("locknix_blocking_poll", "locknix blocking, polling only", "locknix",
         exe("locknix_blocking", "--opt", "inotify=0"), [], False, "use_inotify = false"),
        ("locknix_async", "locknix async", "locknix", exe("locknix_async"), [], False, ""),
        ("locknix_async_loop", "locknix async, calls on the loop", "locknix",
         exe("locknix_async", "--opt", "loop=1"), [], False, "syscall_mode::event_loop"),
        ("floor_fresh", "floor, fresh claim", "floor", exe("floor", "--opt", "claim=fresh"), [],
         False, "open O_EXCL, write, futimens, close, link, unlink, unlink"),
        ("floor_reused", "floor, reused claim", "floor", exe("floor", "--opt", "claim=reused"), [],
         False, "futimens, link, unlink"),
        ("liblockfile", "liblockfile", "peer", exe("liblockfile_driver"),
         ["--opt", "retries=1000"], True,
         "lockfile_create(path, retries, 0): sleeps 5 s, 10 s, ... between tries"),
        ("liblockfile_i1", "liblockfile, dotlockfile -i 1", "peer", exe("liblockfile_driver"),
         ["--opt", "interval=1", "--opt", "retries=100000"], True,
         "the CLI's shortest pause: 1 s between tries"),
        ("liblockfile_i0", "liblockfile, dotlockfile -i 0", "peer", exe("liblockfile_driver"),
         ["--opt", "interval=0", "--opt", "retries=1000000"], False,
         "no pause: spins on link() while waiting"),
        ("flufl", "flufl.lock", "peer", [PYTHON, os.path.join(HERE, "flufl_driver.py")], [], True,
         "sleeps 0.01-2.01 s between tries"),
        ("flock", "flock(2) kernel queue", "reference", exe("flock_driver"), [], False,
         "not NFS-safe; the floor for a queued wait"),
    ]
    peers = {}
    for key, label, kind, argv, wait_args, slow, note in candidates:
        if argv and not (only_peers and kind == "locknix"):
            peers[key] = Peer(key, label, kind, argv, wait_args, slow, note)
    return peers


SCENARIO_PEERS = {
    "cycle": ["locknix_blocking", "locknix_async", "locknix_async_loop", "floor_fresh",
              "floor_reused", "liblockfile", "flufl", "flock"],
    "handoff": ["locknix_blocking", "locknix_blocking_poll", "locknix_async", "locknix_async_loop",
                "flufl", "liblockfile", "liblockfile_i1", "liblockfile_i0", "flock"],
    "contend": ["locknix_blocking", "locknix_blocking_poll", "locknix_async", "locknix_async_loop",
                "flufl", "liblockfile", "flock"],
    "syscalls": ["locknix_blocking", "locknix_async", "locknix_async_loop", "floor_fresh",
                 "floor_reused", "liblockfile", "flufl", "flock"],
}


# ---------------------------------------------------------------------------------------------
# Driver processes


class Driver:
    """One driver process in --serve or --contend mode, read line by line with timeouts."""

    def __init__(self, argv, log_dir):
        self.argv = argv
        self.log = tempfile.TemporaryFile(mode="w+", dir=log_dir)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log)
        self.buffer = b""

    def send(self, line):
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise BenchError(f"{self.describe()} exited early: {self.errors()}") from None

    def expect(self, word, timeout_s):
        line = self._read_line(timeout_s)
        parts = line.split()
        if not parts or parts[0] != word:
            raise BenchError(f"{self.describe()}: expected {word!r}, got {line!r}")
        return [int(part) for part in parts[1:]]

    def _read_line(self, timeout_s):
        deadline = time.monotonic() + timeout_s
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BenchError(f"{self.describe()}: no answer within {timeout_s:.0f} s")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                self.proc.wait()
                raise BenchError(f"{self.describe()} exited with {self.proc.returncode}: "
                                 f"{self.errors()}")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode()

    def finish(self, timeout_s=30):
        if self.proc.poll() is None:
            try:
                self.send("quit")
            except BenchError:
                pass
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            code = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise BenchError(f"{self.describe()} did not exit") from None
        if code != 0:
            raise BenchError(f"{self.describe()} exited with {code}: {self.errors()}")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def errors(self):
        self.log.seek(0)
        return self.log.read().strip() or "(no message)"

    def describe(self):
        return " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(self.argv))


def run_driver(argv, timeout_s):
    """Runs a driver to its end; returns its stdout."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(argv)}: no result within {timeout_s} s") from None
    if done.returncode != 0:
        raise BenchError(f"{' '.join(argv)} exited with {done.returncode}: "
                         f"{done.stderr.strip() or '(no message)'}")
    return done.stdout


# ---------------------------------------------------------------------------------------------
# Statistics


def percentile(sorted_values, q):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize(values):
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "median": statistics.median(ordered),
        "p99": percentile(ordered, 0.99),
        "min": ordered[0],
        "max": ordered[-1],
    }


# ---------------------------------------------------------------------------------------------
# File systems


def mount_type(path):
    """File-system type of the mount that holds path, from /proc/self/mountinfo."""
    path = os.path.realpath(path)
    best, best_type = "", "unknown"
    with open("/proc/self/mountinfo") as mounts:
        for line in mounts:
            left, _, right = line.partition(" - ")
            mount_point = left.split()[4].replace("\\040", " ")
            inside = path == mount_point or path.startswith(mount_point.rstrip("/") + "/")
            if inside and len(mount_point) >= len(best):
                best, best_type = mount_point, right.split()[0]
    return best_type


def file_systems():
    """The folders the cycle scenario runs in: a disk, tmpfs, and GlusterFS when GLUSTER_DIR is
    set. Each is labelled with the type the kernel reports for it."""
    wanted = [("disk", os.environ.get("BENCH_DISK_DIR", "/var/tmp")),
              ("tmpfs", os.environ.get("BENCH_TMPFS_DIR", "/dev/shm"))]
    if os.environ.get("GLUSTER_DIR"):
        wanted.append(("gluster", os.environ["GLUSTER_DIR"]))
    found = []
    for role, path in wanted:
        if not os.path.isdir(path):
            print(f"bench: skipping {role} file system: {path} is not a folder", file=sys.stderr)
            continue
        kind = mount_type(path)
        if role == "gluster" and "gluster" not in kind:
            print(f"bench: warning: GLUSTER_DIR={path} is {kind}, not GlusterFS", file=sys.stderr)
        found.append({"role": role, "path": path, "type": kind, "label": f"{kind} {path}"})
    return found


def network_fs(fs):
    return fs["role"] == "gluster" or fs["type"].startswith(("fuse", "nfs", "cifs"))


# ---------------------------------------------------------------------------------------------
# Scenario 1: uncontended cycle


def cycle_once(peer, fs, cycles, warmup):
    work = tempfile.mkdtemp(prefix="locknix-bench.", dir=fs["path"])
    try:
        samples_path = os.path.join(work, "samples")
        argv = peer.argv + ["--lock", os.path.join(work, "cycle.lock"), "--cycles", str(cycles),
                            "--warmup", str(warmup), "--samples", samples_path]
        run_driver(argv, timeout_s=600)
        with open(samples_path) as samples:
            return [int(line) for line in samples]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def cycle_scenario(peers, systems, profile, log):
    rows = []
    for fs in systems:
        for run in range(profile["cycle_runs"]):
            order = peers[run % len(peers):] + peers[:run % len(peers)]
            for peer in order:
                cycles = profile["cycles_python" if peer.key == "flufl" else "cycles"]
                if network_fs(fs):
                    cycles = min(cycles, profile["cycles_network"])
                warmup = min(profile["warmup"], cycles)
                samples = cycle_once(peer, fs, cycles, warmup)
                stats = summarize(samples)
                log(f"cycle {fs['label']} run {run + 1}: {peer.label}: "
                    f"median {stats['median'] / 1000:.1f} us, p99 {stats['p99'] / 1000:.1f} us")
                rows.append({"peer": peer.key, "fs": fs["label"], "fs_role": fs["role"],
                             "run": run + 1, "cycles": cycles, "warmup": warmup,
                             "median_ns": stats["median"], "p99_ns": stats["p99"],
                             "min_ns": stats["min"], "max_ns": stats["max"]})
    return rows


def cycle_summary(rows):
    """Per peer and file system: the median over runs of each run's median and p99."""
    groups = {}
    for row in rows:
        groups.setdefault((row["peer"], row["fs"]), []).append(row)
    summary = []
    for (peer, fs), runs in groups.items():
        summary.append({
            "peer": peer, "fs": fs, "fs_role": runs[0]["fs_role"], "runs": len(runs),
            "cycles_per_run": runs[0]["cycles"],
            "median_us": statistics.median(r["median_ns"] for r in runs) / 1000,
            "p99_us": statistics.median(r["p99_ns"] for r in runs) / 1000,
            "run_medians_us": [r["median_ns"] / 1000 for r in runs],
        })
    floors = {s["fs"]: s["median_us"] for s in summary if s["peer"] == "floor_reused"}
    for s in summary:
        floor = floors.get(s["fs"])
        s["vs_floor"] = s["median_us"] / floor if floor else None
    return summary


# ---------------------------------------------------------------------------------------------
# Scenario 2: hand-off latency


def handoff_count(peer, profile):
    return profile["handoffs_slow"].get(peer.key, profile["handoffs"])


def handoff_peer(peer, fs, iterations, profile, rng, work):
    lock = os.path.join(work, "handoff.lock")
    argv = peer.argv + peer.wait_args + ["--lock", lock, "--serve", "--timeout-ms", FOREVER_MS]
    wait_limit_s = 300 if peer.slow else 60
    drivers = [Driver(argv, work), Driver(argv, work)]
    samples = []
    try:
        holder, waiter = drivers
        holder.send("acquire")
        holder.expect("waiting", 30)
        holder.expect("acquired", wait_limit_s)
        for i in range(iterations):
            waiter.send("acquire")
            waiter.expect("waiting", 30)
            hold_s = rng.uniform(*profile["hold_ms"]) / 1000
            time.sleep(hold_s)
            holder.send("release")
            t0, t0_end = holder.expect("released", 30)
            t1, waiter_cpu = waiter.expect("acquired", wait_limit_s)
            samples.append({"peer": peer.key, "fs": fs["label"], "iteration": i + 1,
                            "latency_ns": t1 - t0, "release_ns": t0_end - t0,
                            "hold_ms": round(hold_s * 1000, 3), "waiter_cpu_ns": waiter_cpu})
            holder, waiter = waiter, holder
        holder.send("release")
        holder.expect("released", 30)
        for driver in drivers:
            driver.finish()
    finally:
        for driver in drivers:
            driver.kill()
    return samples


def handoff_scenario(peers, fs, profile, log):
    rng = random.Random(20260101)
    samples = []
    for peer in peers:
        iterations = handoff_count(peer, profile)
        work = tempfile.mkdtemp(prefix="locknix-bench.", dir=fs["path"])
        try:
            got = handoff_peer(peer, fs, iterations, profile, rng, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        stats = summarize([s["latency_ns"] for s in got])
        log(f"handoff {fs['label']}: {peer.label}: {iterations} hand-offs, "
            f"p50 {stats['median'] / 1e6:.3f} ms, p99 {stats['p99'] / 1e6:.3f} ms")
        samples.extend(got)
    return samples


def handoff_summary(samples, peers):
    groups = {}
    for s in samples:
        groups.setdefault((s["peer"], s["fs"]), []).append(s)
    summary = []
    for (key, fs), group in groups.items():
        latency = summarize([s["latency_ns"] for s in group])
        cpu = summarize([s["waiter_cpu_ns"] for s in group])
        peer = peers[key]
        summary.append({"peer": key, "fs": fs, "n": latency["n"],
                        "p50_us": latency["median"] / 1000, "p99_us": latency["p99"] / 1000,
                        "max_us": latency["max"] / 1000,
                        "waiter_cpu_median_us": cpu["median"] / 1000,
                        "slow": peer.slow, "note": peer.note})
    return summary


# ---------------------------------------------------------------------------------------------
# Scenario 3: contended throughput


def children_cpu_ns():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return int((usage.ru_utime + usage.ru_stime) * 1e9)


def contend_once(peer, fs, processes, cycles):
    work = tempfile.mkdtemp(prefix="locknix-bench.", dir=fs["path"])
    argv = peer.argv + peer.wait_args + ["--lock", os.path.join(work, "contend.lock"),
                                         "--contend", str(cycles), "--timeout-ms", FOREVER_MS]
    cpu_before = children_cpu_ns()
    drivers = []
    try:
        drivers = [Driver(argv, work) for _ in range(processes)]
        for driver in drivers:
            driver.expect("ready", 60)
        start_at = time.clock_gettime_ns(time.CLOCK_MONOTONIC) + 100_000_000
        for driver in drivers:
            driver.send(f"go {start_at}")
        done = [driver.expect("done", 900 if peer.slow else 300) for driver in drivers]
        for driver in drivers:
            driver.finish()
    finally:
        for driver in drivers:
            driver.kill()
        shutil.rmtree(work, ignore_errors=True)

    start = min(d[0] for d in done)
    wall_ns = max(d[1] for d in done) - start
    loop_cpu_ns = sum(d[2] for d in done)
    return {"peer": peer.key, "fs": fs["label"], "processes": processes,
            "cycles_per_process": cycles, "wall_ms": wall_ns / 1e6,
            "cycles_per_s": processes * cycles / (wall_ns / 1e9),
            "loop_cpu_ms": loop_cpu_ns / 1e6,
            "cpu_per_cycle_us": loop_cpu_ns / 1000 / (processes * cycles),
            "children_cpu_ms": (children_cpu_ns() - cpu_before) / 1e6,
            "first_done_ms": (min(d[1] for d in done) - start) / 1e6}


def contend_scenario(peers, fs, profile, log):
    rows = []
    for run in range(profile["contend_runs"]):
        for peer in peers:
            if peer.slow and run > 0:
                continue
            processes, cycles = profile["contend_slow" if peer.slow else "contend"]
            row = contend_once(peer, fs, processes, cycles)
            row["run"] = run + 1
            log(f"contend {fs['label']} run {run + 1}: {peer.label}: {processes} x {cycles} in "
                f"{row['wall_ms']:.1f} ms, {row['cpu_per_cycle_us']:.1f} us CPU per cycle")
            rows.append(row)
    return rows


def contend_summary(rows, peers):
    groups = {}
    for row in rows:
        groups.setdefault((row["peer"], row["fs"]), []).append(row)
    summary = []
    for (key, fs), runs in groups.items():
        best = {name: statistics.median(r[name] for r in runs)
                for name in ("wall_ms", "cycles_per_s", "loop_cpu_ms", "cpu_per_cycle_us",
                             "children_cpu_ms", "first_done_ms")}
        best.update({"peer": key, "fs": fs, "runs": len(runs),
                     "processes": runs[0]["processes"],
                     "cycles_per_process": runs[0]["cycles_per_process"],
                     "slow": peers[key].slow, "note": peers[key].note})
        summary.append(best)
    return summary


# ---------------------------------------------------------------------------------------------
# Scenario 5: system calls per cycle

STRACE_LINE = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:(\d+)\s+)?(\w+)\s*$")


def strace_counts(argv, work):
    out = os.path.join(work, "strace.txt")
    run_driver(["strace", "-f", "-c", "-o", out, "--"] + argv, timeout_s=600)
    counts = {}
    with open(out) as table:
        for line in table:
            match = STRACE_LINE.match(line)
            if match and match.group(3) != "total":
                counts[match.group(3)] = int(match.group(1))
    if not counts:
        raise BenchError(f"no system calls parsed from {out}")
    return counts


def syscall_scenario(peers, fs, profile, log):
    cycles = profile["strace_cycles"]
    rows = []
    for peer in peers:
        work = tempfile.mkdtemp(prefix="locknix-bench.", dir=fs["path"])
        try:
            lock = os.path.join(work, "strace.lock")
            base = strace_counts(peer.argv + ["--lock", lock, "--cycles", "0"], work)
            full = strace_counts(peer.argv + ["--lock", lock, "--cycles", str(cycles)], work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        per_cycle = {}
        for name in set(base) | set(full):
            value = (full.get(name, 0) - base.get(name, 0)) / cycles
            if abs(value) >= 0.02:
                per_cycle[name] = round(value, 2)
        total = round(sum(per_cycle.values()), 2)
        log(f"syscalls {fs['label']}: {peer.label}: {total} per cycle {per_cycle}")
        rows.append({"peer": peer.key, "fs": fs["label"], "cycles": cycles,
                     "per_cycle": total, "breakdown": dict(sorted(per_cycle.items()))})
    return rows


# ---------------------------------------------------------------------------------------------
# Scenario 4: async scale


def scale_scenario(build, fs, profile, log):
    program = os.path.join(build, "async_scale")
    rows = []
    for waiters in profile["scale_waiters"]:
        work = tempfile.mkdtemp(prefix="locknix-bench.", dir=fs["path"])
        try:
            argv = [program, "--dir", work, "--waiters", str(waiters), "--files", "100",
                    "--settle-ms", str(profile["scale_settle_ms"]),
                    "--park-ms", str(profile["scale_park_ms"])]
            row = json.loads(run_driver(argv, timeout_s=1200))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        row["fs"] = fs["label"]
        log(f"scale {fs['label']}: {waiters} waiters: {row['rss_per_waiter_bytes']:.0f} B each, "
            f"{row['wait_cpu_percent']:.2f} % CPU parked, all held once after "
            f"{row['all_held_after_release_ns'] / 1e6:.1f} ms")
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# Environment and output


def command_output(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def environment(build, systems, profile_name):
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    distro = "unknown"
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release") as release:
            for line in release:
                if line.startswith("PRETTY_NAME="):
                    distro = line.split("=", 1)[1].strip().strip('"')
    build_info = {}
    info_path = os.path.join(build, "build_info.json")
    if os.path.exists(info_path):
        with open(info_path) as info:
            build_info = json.load(info)
    versions = {}
    for package in ("python3-flufl.lock", "liblockfile1", "util-linux", "strace"):
        versions[package] = command_output(["dpkg-query", "-W", "-f=${Version}", package])
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "distro": distro,
        "python": platform.python_version(),
        "file_systems": systems,
        "build": build_info,
        "versions": versions,
        "profile": profile_name,
        "load_start": os.getloadavg(),
    }


def write_csv(path, rows):
    if not rows:
        return
    names = []
    for row in rows:
        names.extend(k for k in row if k not in names)
    with open(path, "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=names)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: json.dumps(v) if isinstance(v, (dict, list)) else v
                             for k, v in row.items()})


def write_results(out, results):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, separators=(",", ":"))
        f.write("\n")
    write_csv(os.path.join(out, "cycle.csv"), results["cycle"]["summary"])
    write_csv(os.path.join(out, "cycle_runs.csv"), results["cycle"]["runs"])
    write_csv(os.path.join(out, "handoff.csv"), results["handoff"]["summary"])
    write_csv(os.path.join(out, "handoff_samples.csv"), results["handoff"]["samples"])
    write_csv(os.path.join(out, "contend.csv"), results["contend"]["summary"])
    write_csv(os.path.join(out, "contend_runs.csv"), results["contend"]["runs"])
    write_csv(os.path.join(out, "syscalls.csv"), results["syscalls"])
    write_csv(os.path.join(out, "async_scale.csv"), results["scale"])


# ---------------------------------------------------------------------------------------------


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", required=True, help="folder with the built drivers")
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    parser.add_argument("--quick", action="store_true", help="one short iteration of everything")
    parser.add_argument("--only-peers", action="store_true",
                        help="skip the locknix drivers even if they were built")
    parser.add_argument("--scenarios", default="cycle,handoff,contend,syscalls,scale")
    return parser.parse_args()


def main():
    args = parse_arguments()
    profile_name = "quick" if args.quick else "full"
    profile = PROFILES[profile_name]
    scenarios = set(args.scenarios.split(","))
    peers = discover_peers(os.path.abspath(args.build), args.only_peers)
    systems = file_systems()
    if not systems:
        raise BenchError("no file system to run in")
    disk = next((fs for fs in systems if fs["role"] == "disk"), systems[0])
    handoff_systems = [disk] + [fs for fs in systems if fs["role"] == "gluster"]

    def log(message):
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    def chosen(scenario):
        missing = [k for k in SCENARIO_PEERS[scenario] if k not in peers]
        if missing:
            log(f"{scenario}: not built or skipped: {', '.join(missing)}")
        return [peers[k] for k in SCENARIO_PEERS[scenario] if k in peers]

    results = {"environment": environment(args.build, systems, profile_name),
               "profile": {k: v for k, v in profile.items()},
               "peers": {k: {"label": p.label, "kind": p.kind, "slow": p.slow, "note": p.note}
                         for k, p in peers.items()},
               "cycle": {"runs": [], "summary": []},
               "handoff": {"samples": [], "summary": []},
               "contend": {"runs": [], "summary": []},
               "syscalls": [], "scale": []}

    if "cycle" in scenarios:
        runs = cycle_scenario(chosen("cycle"), systems, profile, log)
        results["cycle"] = {"runs": runs, "summary": cycle_summary(runs)}
    if "handoff" in scenarios:
        samples = []
        for fs in handoff_systems:
            samples += handoff_scenario(chosen("handoff"), fs, profile, log)
        results["handoff"] = {"samples": samples, "summary": handoff_summary(samples, peers)}
    if "contend" in scenarios:
        runs = []
        for fs in handoff_systems:
            runs += contend_scenario(chosen("contend"), fs, profile, log)
        results["contend"] = {"runs": runs, "summary": contend_summary(runs, peers)}
    if "syscalls" in scenarios:
        if shutil.which("strace"):
            results["syscalls"] = syscall_scenario(chosen("syscalls"), disk, profile, log)
        else:
            log("syscalls: strace is not installed, skipped")
    if "scale" in scenarios:
        if os.access(os.path.join(args.build, "async_scale"), os.X_OK) and not args.only_peers:
            # The disk and tmpfs: the time to hand every lock round is mostly claim creation,
            # which costs what the file system makes it cost.
            for fs in [disk] + [fs for fs in systems if fs["role"] == "tmpfs"]:
                results["scale"] += scale_scenario(args.build, fs, profile, log)
        else:
            log("scale: async_scale not built or skipped")

    results["environment"]["load_end"] = os.getloadavg()
    write_results(args.out, results)
    log(f"results in {args.out}")


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        sys.exit(1)
