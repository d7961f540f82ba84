#!/usr/bin/env bash
# The README's demonstration: installs what is missing (Debian 12), builds the library, the
# `locknix` tool and the async example, and shows the lock at work in a temporary directory:
#
#   1. several processes contending for one lock through `locknix run`, each incrementing a
#      shared counter, with an overlap detector;
#   2. a holder killed with SIGKILL, and its lock broken by the next process once the lock's
#      lifetime and the clock slop have passed;
#   3. the async example server: thousands of client sessions serialising their writes to one
#      file through `co_await lock.acquire(timeout)`, all waits in one event-loop thread.
#
#   examples/demo.sh [--no-install] [DIR]     (DIR: where to work; default a new temporary one)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
install=1
work=""
for arg in "$@"; do
    case $arg in
    --no-install) install=0 ;;
    -h | --help)
        sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "demo.sh: unknown option '$arg'" >&2
        exit 64
        ;;
    *) work=$arg ;;
    esac
done

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

if [ "$install" = 1 ]; then
    # shellcheck source=tests/packages.sh
    . "$root/tests/packages.sh"
    missing=()
    for p in "${locknix_build_packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

say "building"
build="$root/build/demo"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLOCKNIX_BUILD_TESTS=OFF \
    -DLOCKNIX_BUILD_BENCHMARKS=OFF -DLOCKNIX_BUILD_EXAMPLES=ON -DLOCKNIX_BUILD_CLI=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target locknix_cli async_server >/dev/null
locknix="$build/src/cli/locknix"
server="$build/examples/async_server"
echo "built $locknix and $server"

if [ -z "$work" ]; then
    work=$(mktemp -d /tmp/locknix-demo.XXXXXX)
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
echo "working in $work"

# 1. Contention ------------------------------------------------------------------------------
say "1. 6 processes x 10 increments of one counter, each under 'locknix run'"
procs=6 rounds=10
echo 0 >"$work/counter"
# The command fails (99) if it ever finds another holder inside: mkdir is the overlap detector.
# shellcheck disable=SC2016 # expanded by the inner shell
increment='mkdir "$1/inside" 2>/dev/null || exit 99
n=$(cat "$1/counter"); echo $((n + 1)) >"$1/counter"
rmdir "$1/inside"'
start=$(now)
pids=()
for p in $(seq "$procs"); do
    (
        for _ in $(seq "$rounds"); do
            "$locknix" run --timeout 60s "$work/counter.lock" -- sh -c "$increment" sh "$work"
        done
    ) &
    pids+=($!)
done
overlaps=0
for pid in "${pids[@]}"; do wait "$pid" || overlaps=$((overlaps + 1)); done
count=$(cat "$work/counter")
contention_time=$(since "$start")
echo "counter: $count (expected $((procs * rounds))), processes that saw an overlap: $overlaps," \
    "${contention_time} s"
if [ "$count" != $((procs * rounds)) ] || [ "$overlaps" != 0 ]; then
    echo "demo: the contention run went wrong" >&2
    exit 1
fi

# 2. A killed holder -------------------------------------------------------------------------
say "2. a holder killed with SIGKILL; the next process breaks its lock after lifetime + slop"
lifetime=3s slop=1s
"$locknix" run --lifetime "$lifetime" --slop "$slop" "$work/job.lock" -- sleep 600 &
holder=$!
for _ in $(seq 200); do
    "$locknix" status "$work/job.lock" 2>/dev/null | grep -q "held_by_other" && break
    sleep 0.05
done
"$locknix" status --slop "$slop" "$work/job.lock"
echo "killing the holder (locknix pid $holder) with SIGKILL: nothing will release or refresh"
{
    kill -KILL "$holder"
    wait "$holder" || true
} 2>/dev/null
start=$(now)
"$locknix" run --timeout 30s --lifetime "$lifetime" --slop "$slop" --verbose "$work/job.lock" \
    -- echo "the next process holds the lock and runs its command"
takeover_time=$(since "$start")
echo "took over after ${takeover_time} s (lifetime $lifetime + slop $slop, from the last stamp)"

# 3. The async server ------------------------------------------------------------------------
say "3. the async example: 2,000 client sessions, 5 writes each, one event-loop thread"
mkdir -p "$work/server"
"$server" --demo "$work/server" --sessions 2000 --lines 5 | tee "$work/server.txt"

say "summary"
echo "- $procs processes x $rounds increments through 'locknix run': counter $count, no overlap," \
    "${contention_time} s"
echo "- a holder killed with SIGKILL: its lock broken and taken over after ${takeover_time} s"
echo "- async server: $(grep -o 'appends: [0-9]*' "$work/server.txt"), $(grep -o 'max concurrent waiters: [0-9]*' "$work/server.txt"), $(grep -o 'wall time: [0-9.]* s' "$work/server.txt"), every line once"
