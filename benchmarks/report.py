#!/usr/bin/python3
"""Turns results.json (written by bench.py) into results.md and two charts:
handoff_latency.png (distribution of hand-off latency, log scale) and cycle_cost.png (cost of an
uncontended cycle per peer and file system). Rows appear for whatever was measured, so the
locknix rows show up as soon as the locknix drivers are built and run."""

import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ORDER = ["locknix_blocking", "locknix_blocking_poll", "locknix_async", "locknix_async_loop",
         "floor_fresh", "floor_reused", "liblockfile", "liblockfile_i1", "liblockfile_i0", "flufl",
         "flock"]


def order_key(key):
    return ORDER.index(key) if key in ORDER else len(ORDER)


def duration(us):
    """A duration given in microseconds, in the unit that reads best."""
    if us is None:
        return "-"
    if us < 100:
        return f"{us:.1f} µs"
    if us < 1000:
        return f"{us:.0f} µs"
    if us < 100_000:
        return f"{us / 1000:.2f} ms"
    if us < 1_000_000:
        return f"{us / 1000:.0f} ms"
    return f"{us / 1e6:.2f} s"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def label(results, key):
    return results["peers"].get(key, {}).get("label", key)


def note(results, key):
    return results["peers"].get(key, {}).get("note", "")


def load(env, key):
    values = env.get(key)
    return " / ".join(f"{v:.2f}" for v in values) if values else "?"


def runs(count):
    return "1 run" if count == 1 else f"{count} runs"


def method(results):
    env = results["environment"]
    profile = results["profile"]
    build = env.get("build", {})
    systems = ", ".join(f"{fs['path']} ({fs['type']})" for fs in env["file_systems"])
    versions = ", ".join(f"{k} {v}" for k, v in env.get("versions", {}).items() if v)
    hold = profile["hold_ms"]
    slow = "; ".join(f"{label(results, k)}: {v}" for k, v in profile["handoffs_slow"].items())
    lines = [
        f"Measured {env['date']}, profile `{env['profile']}`.",
        "",
        f"- Machine: {env['nproc']} CPUs ({env['cpu']}), Linux {env['kernel']}, {env['distro']}; "
        f"load average {load(env, 'load_start')} at the start, {load(env, 'load_end')} at the end "
        "(1, 5, 15 min).",
        f"- File systems: {systems}.",
        f"- Build: {build.get('c_compiler', '?')} / {build.get('cxx_compiler', '?')}, "
        f"{build.get('flags', '?')}; Python {env['python']} for flufl.lock.",
        f"- Packages: {versions}.",
        f"- Cycle: {runs(profile['cycle_runs'])} per peer and file system, interleaved; each run "
        f"{profile['warmup']} warm-up + {profile['cycles']} timed cycles "
        f"({profile['cycles_python']} for flufl.lock; {profile['cycles_network']} warm-up + "
        f"{profile['cycles_network']} timed on a network file system). Shown: the median over "
        "runs of each run's median and p99.",
        f"- Hand-off: {profile['handoffs']} hand-offs per peer, fewer for the peers that sleep "
        f"seconds between tries ({slow}); the holder keeps the lock {hold[0]:g}-{hold[1]:g} ms "
        "(uniform) after the waiter has started waiting. Latency = waiter's acquire returned - "
        "holder's release started, both CLOCK_MONOTONIC.",
        f"- Contention: {profile['contend'][0]} processes x {profile['contend'][1]} cycles "
        f"({profile['contend_slow'][0]} x {profile['contend_slow'][1]} for the sleeping peers), "
        f"started at one instant; median of {runs(profile['contend_runs'])} (1 for the sleeping "
        "peers).",
        f"- System calls: `strace -f -c` of {profile['strace_cycles']} cycles minus the same "
        "driver with 0 cycles, divided by the cycle count.",
    ]
    return "\n".join(lines)


def cycle_section(results):
    summary = results["cycle"]["summary"]
    if not summary:
        return ""
    systems = []
    for s in summary:
        if s["fs"] not in systems:
            systems.append(s["fs"])
    by_key = {(s["peer"], s["fs"]): s for s in summary}
    header = ["peer"]
    for fs in systems:
        header += [f"{fs} median", "p99", "x floor"]
    header.append("what one cycle is")
    rows = []
    for key in sorted({s["peer"] for s in summary}, key=order_key):
        row = [label(results, key)]
        for fs in systems:
            s = by_key.get((key, fs))
            if s is None:
                row += ["-", "-", "-"]
                continue
            ratio = f"{s['vs_floor']:.2f}" if s["vs_floor"] else "-"
            row += [duration(s["median_us"]), duration(s["p99_us"]), ratio]
        row.append(note(results, key) if key.startswith("floor") else cycle_note(key))
        rows.append(row)
    return ("## Uncontended acquire + release\n\n"
            "x floor = median / median of the reused-claim floor on the same file system.\n\n" +
            table(header, rows))


def cycle_note(key):
    return {
        "locknix_blocking": "file_lock::acquire(timeout) + release()",
        "locknix_async": "co_await acquire(timeout) + co_await release()",
        "locknix_async_loop": "the same, async_options{.syscalls = syscall_mode::event_loop}",
        "liblockfile": "lockfile_create(path, 0, 0) + lockfile_remove(path)",
        "flufl": "Lock.lock(timeout) + Lock.unlock(), in-process",
        "flock": "flock(LOCK_EX) + flock(LOCK_UN) on an open descriptor",
    }.get(key, "")


def handoff_section(results):
    summary = results["handoff"]["summary"]
    if not summary:
        return ""
    rows = []
    for s in sorted(summary, key=lambda s: (s["fs"], order_key(s["peer"]))):
        rows.append([label(results, s["peer"]), s["fs"], s["n"], duration(s["p50_us"]),
                     duration(s["p99_us"]), duration(s["max_us"]),
                     duration(s["waiter_cpu_median_us"]), s["note"]])
    header = ["peer", "file system", "hand-offs", "p50", "p99", "max", "waiter CPU per wait",
              "how it waits"]
    return ("## Hand-off latency between processes\n\n"
            "With fewer than 100 hand-offs the p99 is the largest sample. Waiter CPU is the CPU "
            "time the waiting process (and its children) used from starting to wait until it "
            "held the lock.\n\n" + table(header, rows))


def contend_section(results):
    summary = results["contend"]["summary"]
    if not summary:
        return ""
    rows = []
    for s in sorted(summary, key=lambda s: (s["fs"], order_key(s["peer"]))):
        rows.append([label(results, s["peer"]), s["fs"],
                     f"{s['processes']} x {s['cycles_per_process']}", duration(s["wall_ms"] * 1000),
                     f"{s['cycles_per_s']:,.0f}", duration(s["cpu_per_cycle_us"]),
                     duration(s["loop_cpu_ms"] * 1000), duration(s["children_cpu_ms"] * 1000),
                     duration(s["first_done_ms"] * 1000), s["runs"]])
    header = ["peer", "file system", "processes x cycles", "wall", "cycles/s", "CPU per cycle",
              "CPU in the loops", "CPU of the processes (getrusage, incl. start-up)",
              "first process done", "runs"]
    return ("## Contended throughput\n\n"
            "All processes loop acquire + release on one lock. Wall = first start to last end; "
            "a large gap between \"first process done\" and wall means one process ran its whole "
            "loop while the others slept.\n\n" + table(header, rows))


def syscall_section(results):
    rows_in = results["syscalls"]
    if not rows_in:
        return ""
    floor = next((r["per_cycle"] for r in rows_in if r["peer"] == "floor_reused"), None)
    rows = []
    for r in sorted(rows_in, key=lambda r: order_key(r["peer"])):
        ratio = f"{r['per_cycle'] / floor:.2f}" if floor else "-"
        breakdown = ", ".join(f"{name} {count:g}" for name, count in r["breakdown"].items())
        rows.append([label(results, r["peer"]), f"{r['per_cycle']:g}", ratio, breakdown])
    header = ["peer", "system calls per cycle", "x floor", "which"]
    return ("## System calls per uncontended cycle\n\n"
            f"Counted on {rows_in[0]['fs']} over {rows_in[0]['cycles']} cycles.\n\n" +
            table(header, rows))


def scale_section(results):
    rows_in = results["scale"]
    if not rows_in:
        return ""
    rows = []
    for r in rows_in:
        rows.append([r.get("fs", "-"), f"{r['waiters']:,}", r["files"], f"{r['rss_per_waiter_bytes']:,.0f} B",
                     f"{r['peak_rss_per_waiter_bytes']:,.0f} B",
                     f"{r['peak_rss_kb'] / 1024:.1f} MiB",
                     f"{r['wait_cpu_percent']:.2f} %",
                     duration(r["all_held_after_release_ns"] / 1000),
                     duration(r.get("cleanup_ns", 0) / 1000), r.get("claims_left", "-")])
    header = ["file system", "waiters", "lock files", "RSS per waiter (parked)", "peak RSS per waiter",
              "peak RSS", "CPU while all wait (% of one core)", "all held once after release",
              "claim removal after destruction", "claims left"]
    return ("## Async scale (locknix, one thread)\n\n" + table(header, rows))


def write_markdown(results, path):
    sections = [method(results), cycle_section(results), handoff_section(results),
                contend_section(results), syscall_section(results), scale_section(results)]
    with open(path, "w") as out:
        out.write("# locknix benchmark results\n\n")
        out.write("\n\n".join(s for s in sections if s))
        out.write("\n")


def peer_color(key):
    # tab10 has ten colours; the peers past them (the flock(2) floor last) are drawn in black.
    index = order_key(key)
    return plt.get_cmap("tab10")(index) if index < 10 else "black"


def handoff_chart(results, path):
    samples = results["handoff"]["samples"]
    if not samples:
        return False
    groups = {}
    for s in samples:
        groups.setdefault(s["fs"], {}).setdefault(s["peer"], []).append(s["latency_ns"] / 1e9)
    systems = list(groups)
    fig, axes = plt.subplots(len(systems), 1, figsize=(10, 1.5 + 3.6 * len(systems)),
                             sharex=True, squeeze=False)
    for ax, fs in zip(axes[:, 0], systems):
        for key in sorted(groups[fs], key=order_key):
            values = sorted(groups[fs][key])
            fraction = [(i + 1) / len(values) for i in range(len(values))]
            marker = "o" if len(values) < 50 else None
            ax.step(values, fraction, where="post", marker=marker, markersize=4,
                    color=peer_color(key), label=f"{label(results, key)}, n={len(values)}")
        ax.set_xscale("log")
        ax.set_ylabel("fraction of hand-offs")
        ax.set_ylim(0, 1.02)
        ax.grid(True, which="both", alpha=0.3)
        ax.set_title(fs, fontsize=10)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes[-1, 0].set_xlabel("hand-off latency (s), log scale")
    fig.suptitle("Release in one process to acquire in another")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def cycle_chart(results, path):
    summary = results["cycle"]["summary"]
    if not summary:
        return False
    keys = sorted({s["peer"] for s in summary}, key=order_key)
    systems = []
    for s in summary:
        if s["fs"] not in systems:
            systems.append(s["fs"])
    by_key = {(s["peer"], s["fs"]): s for s in summary}
    height = 0.8 / len(systems)
    fig, ax = plt.subplots(figsize=(10, 1.5 + 0.35 * len(keys) * len(systems)))
    for j, fs in enumerate(systems):
        ys, medians, errors = [], [], []
        for i, key in enumerate(keys):
            s = by_key.get((key, fs))
            if s is None:
                continue
            ys.append(i + j * height)
            medians.append(s["median_us"])
            errors.append(s["p99_us"] - s["median_us"])
        ax.barh(ys, medians, height=height, xerr=[[0] * len(errors), errors], capsize=2,
                label=fs)
        for y, m, e in zip(ys, medians, errors):
            ax.text((m + e) * 1.08, y, f"{m:.1f}", va="center", fontsize=7)
    ax.set_yticks([i + height * (len(systems) - 1) / 2 for i in range(len(keys))])
    ax.set_yticklabels([label(results, k) for k in keys])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("one uncontended acquire + release (µs), log scale; bar: median, whisker: p99")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(systems))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"),
                        help="folder holding results.json; the report is written next to it")
    args = parser.parse_args()
    source = os.path.join(args.out, "results.json")
    try:
        with open(source) as f:
            results = json.load(f)
    except OSError as error:
        print(f"report: {source}: {error.strerror}", file=sys.stderr)
        sys.exit(1)

    write_markdown(results, os.path.join(args.out, "results.md"))
    handoff_chart(results, os.path.join(args.out, "handoff_latency.png"))
    cycle_chart(results, os.path.join(args.out, "cycle_cost.png"))
    print(f"report: {os.path.join(args.out, 'results.md')}")


if __name__ == "__main__":
    main()
