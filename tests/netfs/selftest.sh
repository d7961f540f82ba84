#!/bin/bash
# Self-test of the network file system test bed: brings it up, checks from the hosts that they
# are distinct machines sharing each file system, that link() behaves on each file system as
# README.md says, that every faultfs fault mode works, then tears the bed down and checks that
# nothing is left. Prints PASS/FAIL lines, the setup and teardown times, and a summary line.
#
# Environment: as testbed-up.sh (NETFS_B, NETFS_N >= 2, INSTALL, ...);
#   RACE_ROUNDS=10   rounds of the all-hosts link race on each file system
#   MEASURE=1        also measure how long a removal on host1 takes to be seen on host2 with
#                    the sshfs directory cache (about 21 s), and time 200 link+lstat+unlink
#                    cycles on each file system
# Exit status: 0 all passed, 1 a check failed, 77 the machine cannot host the bed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
. "$here/env.sh"
# shellcheck source=lib.sh
. "$here/lib.sh"

ON_HOST=$here/on-host.sh
FSOP=$here/fsop.py
PY=/usr/bin/python3
RACE_ROUNDS=${RACE_ROUNDS:-10}

passed=0
failed=0
failures=()
bed_up=0
staleness=()
cycles=()

pass() {
    passed=$((passed + 1))
    printf 'PASS  %s\n' "$1"
}

fail() {
    failed=$((failed + 1))
    failures+=("$1")
    printf 'FAIL  %s%s\n' "$1" "${2:+: $2}"
}

# verdict NAME [DETAIL]: passes when the command just before succeeded.
verdict() {
    local status=$?
    if [ "$status" = 0 ]; then pass "$1"; else fail "$@"; fi
}

# fsop HOST OP...: runs fsop.py on HOST; prints its result lines joined by spaces.
fsop() {
    local host=$1
    shift
    "$ON_HOST" "$host" "$PY" "$FSOP" "$@" 2>&1 | paste -sd' '
}

# expect NAME REGEX HOST OP...: the fsop results must match REGEX (anchored).
expect() {
    local name=$1 want=$2 host=$3 got
    shift 3
    got=$(fsop "$host" "$@")
    if [[ $got =~ ^($want)$ ]]; then
        pass "$name"
    else
        fail "$name" "expected '$want', got '$got'"
    fi
}

# A wall-clock start line shared by processes on several hosts.
start_line() {
    "$PY" -c 'import time; print("%.3f" % (time.time() + 0.25))'
}

on_exit() {
    if [ "$bed_up" = 1 ]; then
        echo "selftest: interrupted or failed; tearing the test bed down"
        "$here/testbed-down.sh" || true
    fi
}

# ---- the hosts ---------------------------------------------------------------------------------

check_hosts() {
    local i names="" name
    for i in $(seq 1 "$NETFS_N"); do
        name=$("$ON_HOST" "$i" hostname)
        [ "$name" = "host$i" ]
        verdict "host$i: hostname is host$i" "got '$name'"
        names+="$name"$'\n'
        grep -q " $(netfs_host_ip "$i")/24 " <<<"$("$ON_HOST" "$i" ip -4 -o addr show dev eth0)"
        verdict "host$i: address $(netfs_host_ip "$i")"
        if "$ON_HOST" "$i" ip route get 192.0.2.1 >/dev/null 2>&1; then
            fail "host$i: has a route off the bridge"
        else
            pass "host$i: no route off the bridge"
        fi
        local fs
        for fs in $NETFS_FILESYSTEMS; do
            grep -q '^fuse' <<<"$("$ON_HOST" "$i" findmnt -rn -o FSTYPE "$NETFS_MNT/$fs")"
            verdict "host$i: $NETFS_MNT/$fs is mounted"
        done
    done
    [ "$(printf '%s' "$names" | sort -u | wc -l)" = "$NETFS_N" ]
    verdict "all $NETFS_N hostnames differ" "$names"
    ! grep -qF "$NETFS_MNT/" <<<"$(findmnt -rn -o TARGET)"
    verdict "the root namespace has none of the hosts' mounts"
}

# ---- each file system --------------------------------------------------------------------------

check_visibility() { # FS
    local fs=$1 d=$NETFS_MNT/$1/selftest-$1 i
    "$ON_HOST" 1 mkdir -p "$d"
    expect "$fs: host1 writes a file" OK 1 write "$d/shared" "written on host1 via $fs"
    for i in $(seq 2 "$NETFS_N"); do
        expect "$fs: host$i reads what host1 wrote" "written on host1 via $fs" "$i" read "$d/shared"
    done
}

check_link() { # FS
    local fs=$1 d=$NETFS_MNT/$1/selftest-$1 nlink same_ino loser
    case $fs in
        sshfs*) nlink=1 same_ino=no loser='EPERM|EEXIST' ;; # link count and st_ino are synthetic
        *) nlink=2 same_ino=yes loser=EEXIST ;;
    esac

    expect "$fs: host1 links its claim to the lock" "OK OK $nlink" 1 \
        create "$d/claim1" \; link "$d/claim1" "$d/lock" \; nlink "$d/claim1"
    expect "$fs: host2 sees link count $nlink and the holder's claim" "$nlink $d/claim1" 2 \
        nlink "$d/lock" \; read "$d/lock"
    local inos
    inos=$(fsop 2 ino "$d/lock" \; ino "$d/claim1")
    if [ "$same_ino" = yes ]; then
        [ "${inos% *}" = "${inos#* }" ]
        verdict "$fs: host2 sees one inode for lock and claim" "$inos"
    else
        [ "${inos% *}" != "${inos#* }" ]
        verdict "$fs: host2 sees per-path inode numbers for lock and claim" "$inos"
    fi
    expect "$fs: host2 cannot link to the held lock ($loser)" "OK ($loser)" 2 \
        create "$d/claim2" \; link "$d/claim2" "$d/lock"
    expect "$fs: host1 releases" OK 1 unlink "$d/lock"
}

# All hosts link their claims to one lock at the same instant, RACE_ROUNDS times.
check_race() { # FS
    local fs=$1 d=$NETFS_MNT/$1/selftest-$1 allowed round i t res winners results
    case $fs in sshfs*) allowed='EPERM|EEXIST' ;; *) allowed=EEXIST ;; esac
    local -A seen=()
    local bad=""
    for i in $(seq 1 "$NETFS_N"); do fsop "$i" create "$d/race-claim$i" >/dev/null; done
    for round in $(seq 1 "$RACE_ROUNDS"); do
        t=$(start_line)
        results=$(for i in $(seq 1 "$NETFS_N"); do
            fsop "$i" at "$t" link "$d/race-claim$i" "$d/race-lock" &
        done
        wait)
        winners=0
        for res in $results; do
            seen[$res]=$((${seen[$res]:-0} + 1))
            if [ "$res" = OK ]; then
                winners=$((winners + 1))
            elif ! [[ $res =~ ^($allowed)$ ]]; then
                bad+=" round $round: $res;"
            fi
        done
        [ "$winners" = 1 ] || bad+=" round $round: $winners winners;"
        fsop 1 unlink "$d/race-lock" >/dev/null
    done
    local summary="" k
    for k in "${!seen[@]}"; do summary+=" $k=${seen[$k]}"; done
    if [ -z "$bad" ]; then
        pass "$fs: $NETFS_N-host link race x$RACE_ROUNDS, one winner each time ($summary )"
    else
        fail "$fs: $NETFS_N-host link race ($summary )" "$bad"
    fi
}

# How long host2 keeps seeing a lock that host1 removed, host2 polling every 10 ms.
check_staleness() { # FS
    local fs=$1 d=$NETFS_MNT/$1/selftest-$1 t got limit=3
    expect "$fs: host1 takes the lock again" OK 1 link "$d/claim1" "$d/stale-lock"
    expect "$fs: host2 sees it" "$nlink_of_fs" 2 nlink "$d/stale-lock"
    [ "$fs" = sshfs-cached ] && limit=2
    [ "$fs" = sshfs-cached ] && [ "${MEASURE:-0}" = 1 ] && limit=40
    t=$(start_line)
    fsop 1 at "$t" unlink "$d/stale-lock" >/dev/null &
    got=$(fsop 2 at "$t" until-gone "$d/stale-lock" "$limit")
    wait
    if [ "${MEASURE:-0}" = 1 ]; then
        cycles+=("$fs $(fsop 1 cycle "$d/claim1" "$d/cycle-lock" 200)")
    fi
    if [ "$fs" = sshfs-cached ] && [ "${MEASURE:-0}" != 1 ]; then
        [ "$got" = TIMEOUT ]
        verdict "$fs: host2 still sees a removed lock after 2 s (dir cache)" "gone after $got s"
    elif [[ $got =~ ^[0-9.]+$ ]]; then
        pass "$fs: host2 sees the removal after $got s"
        staleness+=("$fs $got")
    else
        fail "$fs: host2 sees the removal within $limit s" "$got"
    fi
}

# ---- faultfs -----------------------------------------------------------------------------------

ctl() { # HOST LINE: arms a fault on HOST's faultfs
    local got
    got=$(fsop "$1" ctl "$NETFS_FAULTFS_CTL" "$2")
    [ "$got" = OK ] || fail "faultfs: host$1 accepts '$2'" "$got"
}

# fault NAME RULE WANT OP...: arms RULE on host1, runs OP there, then clears the rules.
fault() {
    local name=$1 rule=$2 want=$3
    shift 3
    ctl 1 "$rule"
    expect "faultfs: $name" "$want" 1 "$@"
    ctl 1 clear
}

check_faultfs() {
    local d=$NETFS_FAULTFS/selftest-faults
    "$ON_HOST" 1 mkdir -p "$d"
    fsop 1 create "$d/claim" >/dev/null

    # Lost link replies: the link is made, the caller gets an error.
    local e
    for e in EIO ETIMEDOUT EEXIST; do
        fault "link_after $e: link fails with $e, claim link count 2" "link_after $e" "$e 2" \
            link "$d/claim" "$d/lock" \; nlink "$d/claim"
        expect "faultfs: link_after $e: host2 sees the lock" "2 $d/claim" 2 \
            nlink "$d/lock" \; read "$d/lock"
        fsop 1 unlink "$d/lock" >/dev/null
    done
    fault "link_after ESTALE: the kernel retries once, the caller gets EEXIST, link made" \
        "link_after ESTALE" "EEXIST 2" link "$d/claim" "$d/lock" \; nlink "$d/claim"
    fsop 1 unlink "$d/lock" >/dev/null

    # Failures before anything is done.
    fault "link_before ESTALE 2: ESTALE, nothing made" "link_before ESTALE 2" "ESTALE no" \
        link "$d/claim" "$d/lock" \; exists "$d/lock"
    fault "link_before ESTALE 1: hidden by the kernel's retry, link made" \
        "link_before ESTALE 1" "OK yes" link "$d/claim" "$d/lock" \; exists "$d/lock"
    fsop 1 unlink "$d/lock" >/dev/null
    fault "link_before EIO: EIO, nothing made" "link_before EIO" "EIO no" \
        link "$d/claim" "$d/lock" \; exists "$d/lock"
    fault "link_before EIO 2: two failures, then success" "link_before EIO 2" "EIO EIO OK" \
        link "$d/claim" "$d/lock" \; link "$d/claim" "$d/lock" \; link "$d/claim" "$d/lock"
    fsop 1 unlink "$d/lock" >/dev/null

    fsop 1 create "$d/victim" >/dev/null
    fault "unlink_before EIO: EIO, file kept" "unlink_before EIO" "EIO yes" \
        unlink "$d/victim" \; exists "$d/victim"
    fault "unlink_before ESTALE 2: ESTALE, file kept" "unlink_before ESTALE 2" "ESTALE yes" \
        unlink "$d/victim" \; exists "$d/victim"
    fault "unlink_after EIO: EIO, file removed" "unlink_after EIO" "EIO no" \
        unlink "$d/victim" \; exists "$d/victim"

    fsop 1 create "$d/old" >/dev/null
    fault "rename_before EIO: EIO, nothing renamed" "rename_before EIO" "EIO yes no" \
        rename "$d/old" "$d/new" \; exists "$d/old" \; exists "$d/new"
    fault "rename_after EIO: EIO, renamed" "rename_after EIO" "EIO no yes" \
        rename "$d/old" "$d/new" \; exists "$d/old" \; exists "$d/new"

    fault "create_before EIO: EIO, nothing made" "create_before EIO" "EIO no" \
        create "$d/made" \; exists "$d/made"
    fault "create_after EIO: EIO, file made" "create_after EIO" "EIO yes" \
        create "$d/made" \; exists "$d/made"
    fault "open_before EACCES: open fails" "open_before EACCES" "EACCES OK" \
        open "$d/made" \; open "$d/made"
    fault "open_before ESTALE 2: open fails" "open_before ESTALE 2" "ESTALE" open "$d/made"

    fsop 1 utime "$d/made" 1000000000 >/dev/null
    fault "utimens_before EIO: EIO, mtime kept" "utimens_before EIO" "EIO 1000000000" \
        utime "$d/made" 2000000000 \; mtime "$d/made"
    fault "utimens_after EIO: EIO, mtime set" "utimens_after EIO" "EIO 2000000000" \
        utime "$d/made" 2000000000 \; mtime "$d/made"

    fault "getattr_before ESTALE inf, matching one name: only that stat fails" \
        "getattr_before ESTALE inf made" "ESTALE 1" nlink "$d/made" \; nlink "$d/claim"
    expect "faultfs: clear: stat works again" 1 1 nlink "$d/made"
    fault "lookup_before ENOENT 1 made: the kernel looks up again, the stat works" \
        "lookup_before ENOENT 1 made" "1" nlink "$d/made"
    fault "lookup_before ENOENT 2 made: an existing file is not found once" \
        "lookup_before ENOENT 2 made" "ENOENT 1" nlink "$d/made" \; nlink "$d/made"
    fault "lookup_before ESTALE inf made: stat fails with ESTALE until cleared" \
        "lookup_before ESTALE inf made" "ESTALE ESTALE" nlink "$d/made" \; nlink "$d/made"
    expect "faultfs: after clear the lookup works" 1 1 nlink "$d/made"

    fault "flush_before EIO: close() fails" "flush_before EIO" "EIO" open "$d/made"

    fault "delay link 300: link answers after 0.3 s" "delay link 300" "OK 0\.[3-9][0-9]*" \
        timed link "$d/claim" "$d/lock"
    fsop 1 unlink "$d/lock" >/dev/null

    # Each host has its own daemon, so faults are per host.
    ctl 1 "link_before EIO inf"
    expect "faultfs: a fault armed on host1 fails host1's link" EIO 1 link "$d/claim" "$d/lock"
    expect "faultfs: ... and not host2's" OK 2 link "$d/claim" "$d/lock"
    ctl 1 clear
    expect "faultfs: clear drops an inf rule" "OK OK" 1 unlink "$d/lock" \; \
        link "$d/claim" "$d/lock"
    fsop 1 unlink "$d/lock" >/dev/null

    # Counters.
    ctl 1 reset
    fault "counters: one injected link fault" "link_before EIO" EIO link "$d/claim" "$d/lock"
    local report
    report=$("$ON_HOST" 1 cat "$NETFS_FAULTFS_CTL")
    grep -qx 'faults 1' <<<"$report" && grep -qx 'op link calls 1 faults 1' <<<"$report"
    verdict "faultfs: the control file reports 1 link call, 1 fault" "$report"
    ctl 1 "unlink_after EIO 3 nomatch"
    grep -qx 'rule unlink_after EIO 3 nomatch' <<<"$("$ON_HOST" 1 cat "$NETFS_FAULTFS_CTL")"
    verdict "faultfs: the control file lists the armed rules"
    ctl 1 clear

    local bad
    for bad in "link_before" "link_before ENOSYS" "link_before EIO 0" "nope_before EIO" \
        "link_during EIO" "delay link -1" "delay nope 5"; do
        expect "faultfs: '$bad' is refused" EINVAL 1 ctl "$NETFS_FAULTFS_CTL" "$bad"
    done
    expect "faultfs: the control file cannot be removed" EPERM 1 unlink "$NETFS_FAULTFS_CTL"
    local listing
    listing=$("$ON_HOST" 1 ls -a "$NETFS_FAULTFS" 2>&1)
    grep -qx selftest-faults <<<"$listing" && ! grep -q faultfs-ctl <<<"$listing"
    verdict "faultfs: the control file is not listed" "$listing"
}

# ---- teardown ----------------------------------------------------------------------------------

check_nothing_left() {
    local left="" rec pid start
    while read -r rec pid start; do
        [ "$(netfs_proc_field "$pid" 22 2>/dev/null)" = "$start" ] &&
            [ "$(netfs_proc_field "$pid" 3)" != Z ] && left+=" process $rec ($pid);"
    done <<<"$pid_snapshot"
    local out
    out=$(findmnt -rn -o TARGET | grep -F "$NETFS_B/")
    [ -z "$out" ] || left+=" mounts: $out;"
    out=$(ip netns list | grep "^$NETFS_NETNS_PREFIX")
    [ -z "$out" ] || left+=" network namespaces: $out;"
    out=$(ip -o link show | grep -E "$NETFS_BRIDGE|$NETFS_VETH_PREFIX")
    [ -z "$out" ] || left+=" links: $out;"
    out=$(ss -Hltn "src $NETFS_SERVER_IP")
    [ -z "$out" ] || left+=" listeners: $out;"
    out=$(pgrep -af -- "$NETFS_B/")
    [ -z "$out" ] || left+=" processes: $out;"
    [ -z "$(ls -A "$NETFS_NSDIR" 2>/dev/null)" ] || left+=" namespace files;"
    if [ -z "$left" ]; then
        pass "teardown left no process, mount, namespace, link or listener"
    else
        fail "teardown left something" "$left"
    fi
}

main() {
    trap on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    local t0 t1 t2 t3 status
    t0=$(netfs_now_ms)
    "$here/testbed-up.sh"
    status=$?
    t1=$(netfs_now_ms)
    [ "$status" = 77 ] && exit 77
    bed_up=1
    if [ "$status" != 0 ]; then
        fail "testbed-up.sh" "exit status $status"
    else
        pass "testbed-up.sh brought up $NETFS_N hosts in $((t1 - t0)) ms"
        NETFS_N=$(cat "$NETFS_STATE/hosts")
        [ "$NETFS_N" -ge 2 ] || fail "selftest needs NETFS_N >= 2"
    fi

    if [ "$failed" = 0 ]; then
        pid_snapshot=$(for f in "$NETFS_STATE"/pids/*; do echo "${f##*/} $(cat "$f")"; done)
        check_hosts
        local fs
        staleness=()
        cycles=()
        for fs in $NETFS_FILESYSTEMS; do
            case $fs in sshfs*) nlink_of_fs=1 ;; *) nlink_of_fs=2 ;; esac
            check_visibility "$fs"
            check_link "$fs"
            check_race "$fs"
            check_staleness "$fs"
        done
        check_faultfs
    fi

    t2=$(netfs_now_ms)
    "$here/testbed-down.sh"
    status=$?
    t3=$(netfs_now_ms)
    bed_up=0
    [ "$status" = 0 ]
    verdict "testbed-down.sh tore the bed down in $((t3 - t2)) ms" "exit status $status"
    [ -n "${pid_snapshot:-}" ] && check_nothing_left

    echo
    echo "setup (testbed-up.sh, packages already installed or not):  $((t1 - t0)) ms"
    echo "teardown (testbed-down.sh):                                  $((t3 - t2)) ms"
    local s
    for s in "${staleness[@]}"; do echo "removal on host1 seen on host2 after (s): $s"; done
    for s in "${cycles[@]}"; do echo "link+lstat+unlink on host1 (ms): $s"; done
    if [ "$failed" != 0 ]; then
        echo "failed:"
        printf '  %s\n' "${failures[@]}"
    fi
    echo "selftest: $passed passed, $failed failed"
    [ "$failed" = 0 ]
}

main "$@"
