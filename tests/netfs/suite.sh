#!/bin/bash
# The multi-host suite: locknix across the hosts of the netfs test bed, on GlusterFS, sshfs
# (dir_cache=no), a fault-injecting FUSE file system and, briefly, sshfs with its 20 s directory
# cache. Brings the bed up, runs every scenario, prints a table of figures, tears the bed down
# (also on failure or interruption). README.md, section "Suite", says what each scenario shows.
#
# Usage: LOCKNIX_BUILD=<build dir> tests/netfs/suite.sh
#   The build dir holds src/cli/locknix and tests/netfs/locknix_netfs_worker.
# Environment (all optional):
#   QUICK=1          fewer iterations (about half the time)
#   INSTALL=0        do not install missing Debian packages
#   SCENARIOS        the scenarios to run, default "mutex kill partition skew faults flufl cached"
#   FILESYSTEMS      the file systems of the per-file-system scenarios, default
#                    "gluster sshfs faultfs"
#   MUTEX_CLI MUTEX_CO MUTEX_IT, CACHED_CLI CACHED_CO CACHED_IT, FAULT_SYNC FAULT_CO FAULT_CO_IT
#   FAULT_CLI FAULT_ROUNDS, FLUFL_IT FLUFL_CLI FLUFL_CO FLUFL_CO_IT: iteration counts (below)
#   KEEP_BED=1       leave the bed up at the end, for a look around
#   NETFS_B, NETFS_N (at least 3), ...: as for testbed-up.sh
# Exit status: 0 every scenario passed, or the machine cannot host the bed (no FUSE or network
# namespaces: a loud SKIPPED banner); 1 otherwise.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
. "$here/env.sh"
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=suite-lib.sh
. "$here/suite-lib.sh"
# shellcheck source=suite-scenarios.sh
. "$here/suite-scenarios.sh"

NETFS_DIR=$here
PY=/usr/bin/python3
FLUFL_WORKER=$here/flufl_worker.py
QUICK=${QUICK:-0}

# Iteration counts: full run, QUICK=1.
pick() { if [ "$QUICK" = 1 ]; then echo "$2"; else echo "$1"; fi; }
MUTEX_CLI=${MUTEX_CLI:-$(pick 60 6)}       # locknix run per host
MUTEX_CO=${MUTEX_CO:-$(pick 8 4)}           # coroutines of the async worker of each host
MUTEX_IT=${MUTEX_IT:-$(pick 8 2)}           # acquisitions per coroutine
CACHED_CLI=${CACHED_CLI:-$(pick 20 2)}       # the same on sshfs with its directory cache
CACHED_CO=${CACHED_CO:-$(pick 4 2)}
CACHED_IT=${CACHED_IT:-$(pick 4 1)}
FAULT_SYNC=${FAULT_SYNC:-$(pick 120 15)}     # blocking front end, host 1
FAULT_CO=${FAULT_CO:-$(pick 6 3)}           # async front end, host 2
FAULT_CO_IT=${FAULT_CO_IT:-$(pick 10 3)}
FAULT_CLI=${FAULT_CLI:-$(pick 60 8)}        # locknix run, host 3
FAULT_ROUNDS=${FAULT_ROUNDS:-$(pick 8 2)}   # rounds of the fault rules per host
FLUFL_IT=${FLUFL_IT:-$(pick 20 4)}          # flufl.lock, host 1
FLUFL_CLI=${FLUFL_CLI:-$(pick 20 3)}        # locknix run per other host
FLUFL_CO=${FLUFL_CO:-$(pick 4 2)}           # async coroutines per other host
FLUFL_CO_IT=${FLUFL_CO_IT:-$(pick 4 2)}
SETTLE_MS=3000 # how long an async worker waits for io_context::run() to return by itself

SCENARIOS=${SCENARIOS:-mutex kill partition skew faults flufl cached}
FILESYSTEMS=${FILESYSTEMS:-gluster sshfs faultfs}

bed_up=0
status=0

skipped() {
    local bar='**********************************************************************'
    {
        printf '\n%s\n*** NETFS SUITE SKIPPED: this machine cannot host the test bed\n' "$bar"
        printf '*** (no usable FUSE or network namespaces: see the bed message above);\n'
        printf '*** suite.sh exits 0 so that tests/run.sh goes on\n%s\n\n' "$bar"
    } >&2
}

wanted() { # SCENARIO
    [[ " $SCENARIOS " == *" $1 "* ]]
}

# shellcheck disable=SC2317 # run by the EXIT trap
on_exit() {
    local code=$?
    trap - EXIT
    heal_host
    stop_all >/dev/null 2>&1
    if [ "$bed_up" = 1 ]; then
        if [ "${KEEP_BED:-0}" = 1 ]; then
            suite_say "KEEP_BED=1: the bed stays up; tear it down with $here/testbed-down.sh"
        elif ! "$here/testbed-down.sh"; then
            suite_say "testbed-down.sh reported something left"
            code=1
        fi
    fi
    exit "$code"
}

install_flufl() {
    "$PY" -c 'import flufl.lock' 2>/dev/null && return 0
    [ "${INSTALL:-1}" != 0 ] || return 0
    suite_say "installing python3-flufl.lock"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -q -y install \
        --no-install-recommends python3-flufl.lock >"$SUITE_WORK/apt.log" 2>&1 ||
        suite_say "apt-get install python3-flufl.lock failed; see $SUITE_WORK/apt.log"
}

run_scenarios() {
    local fs
    for fs in $FILESYSTEMS; do
        if wanted mutex; then
            scenario_mutex "$fs" mutex "$MUTEX_CLI" "$MUTEX_CO" "$MUTEX_IT" 600
        fi
        wanted kill && scenario_kill "$fs"
        wanted partition && scenario_partition "$fs"
        wanted skew && scenario_skew "$fs"
        if [ "$fs" = faultfs ] && wanted faults; then
            scenario_faults faults-link "${FAULTS_LINK[@]}"
            scenario_faults faults-reply "${FAULTS_REPLY[@]}"
            scenario_faults faults-error "${FAULTS_ERROR[@]}"
        fi
    done
    wanted flufl && scenario_flufl
    if wanted cached; then
        scenario_mutex sshfs-cached mutex "$CACHED_CLI" "$CACHED_CO" "$CACHED_IT" 600
    fi
    scenario_async_run
    return 0
}

main() {
    LOCKNIX=${LOCKNIX_BUILD:-}/src/cli/locknix
    WORKER=${LOCKNIX_BUILD:-}/tests/netfs/locknix_netfs_worker
    if [ -z "${LOCKNIX_BUILD:-}" ] || ! [ -x "$LOCKNIX" ] || ! [ -x "$WORKER" ]; then
        echo "suite.sh: set LOCKNIX_BUILD to a build directory with src/cli/locknix and" \
            "tests/netfs/locknix_netfs_worker (got '${LOCKNIX_BUILD:-}')" >&2
        exit 1
    fi
    LOCKNIX=$(realpath "$LOCKNIX")
    WORKER=$(realpath "$WORKER")

    trap on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    local t0 t1 rc=0
    t0=$(netfs_now_ms)
    NETFS_N=${NETFS_N:-${N:-3}} "$here/testbed-up.sh" || rc=$?
    if [ "$rc" = 77 ]; then
        skipped
        exit 0
    fi
    bed_up=1
    [ "$rc" = 0 ] || netfs_die "testbed-up.sh failed (exit $rc)"
    NETFS_N=$(cat "$NETFS_STATE/hosts")
    [ "$NETFS_N" -ge 3 ] || netfs_die "the suite needs at least 3 hosts (NETFS_N=$NETFS_N)"
    t1=$(netfs_now_ms)
    SUITE_T0=$t1

    SUITE_WORK=$NETFS_LOG/suite
    mkdir -p "$SUITE_WORK"
    : >"$SUITE_WORK/results.tsv"
    wanted flufl && install_flufl
    suite_say "bed up in $((t1 - t0)) ms; outputs in $SUITE_WORK (kept after teardown)"

    run_scenarios
    local t2
    t2=$(netfs_now_ms)

    print_table | tee "$SUITE_WORK/table.txt"
    grep -q $'\tFAIL\t' "$SUITE_WORK/results.tsv" && status=1
    echo "suite: $(grep -c $'\tPASS\t' "$SUITE_WORK/results.tsv") passed," \
        "$(grep -c $'\tFAIL\t' "$SUITE_WORK/results.tsv") failed; scenarios $((t2 - t1)) ms," \
        "QUICK=$QUICK; outputs in $SUITE_WORK"
    exit "$status"
}

main "$@"
