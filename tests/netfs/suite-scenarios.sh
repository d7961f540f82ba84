# shellcheck shell=bash
# The scenarios of the multi-host suite (suite.sh). Each one runs processes on the bed's hosts
# against one file system, checks what must hold, and adds a row to the table of figures
# (suite-lib.sh). The lock options are chosen per scenario: long lifetimes where no lock may be
# broken, short ones (locknix run's minimum, 3 s, with a 1 s slop) where breaking is the point.

# ---- front ends --------------------------------------------------------------------------------

# The body of a `locknix run` loop on a host: N runs of the command, each appending "PID STATUS"
# to the file RCS, its stderr kept as ERRS.PID. The pid is the one in the run's claim and in its
# section's journal tag.
# shellcheck disable=SC2016 # the host's shell expands it
CLI_LOOP='n=$1 rcs=$2 errs=$3; shift 3; for _ in $(seq 1 "$n"); do
    "$@" 2>"$errs.run" & p=$!; wait "$p"; rc=$?; mv "$errs.run" "$errs.$p"; echo "$p $rc" >>"$rcs"
    done'

# cli_loop NAME HOST N DIR LIFETIME SLOP: N times `locknix run` of one critical section.
cli_loop() {
    local name=$1 host=$2 n=$3 d=$4 lifetime=$5 slop=$6
    : >"$SUITE_OUT/$name.rc"
    mkdir -p "$SUITE_OUT/runs"
    spawn "$name" "$host" /bin/bash -c "$CLI_LOOP" cli-loop "$n" "$SUITE_OUT/$name.rc" \
        "$SUITE_OUT/runs/$name" \
        "$LOCKNIX" run --timeout 300s --lifetime "$lifetime" --slop "$slop" --verbose \
        "$d/lock" -- "$WORKER" section --dir "$d" --journal "$SUITE_OUT/journal"
}

# async_worker NAME HOST DIR COROUTINES ITERATIONS LIFETIME_MS SLOP_MS [ARG...]
async_worker() {
    local name=$1 host=$2 d=$3 co=$4 it=$5 lifetime=$6 slop=$7
    shift 7
    spawn "$name" "$host" "$WORKER" async --lock "$d/lock" --dir "$d" \
        --journal "$SUITE_OUT/journal" --coroutines "$co" --iterations "$it" \
        --lifetime-ms "$lifetime" --slop-ms "$slop" --settle-ms "$SETTLE_MS" --verify 1 "$@"
}

# Tallies the runs of `locknix run` loops against the scenario's journal, whose sections of a
# run are tagged "hostN:PID:cli":
#   CLI_OPS        runs
#   CLI_HELD       runs whose COMMAND passed through the critical section (held the lock)
#   CLI_OK         ... and exited 0
#   CLI_OVERLAPS   ... and exited 3: the COMMAND found another holder inside
#   CLI_LOST       ... and exited 76: the lock was lost while COMMAND ran
#   CLI_WRONG      ... and exited otherwise: the run held the lock, its COMMAND succeeded, and
#                  it reported a failure (a script would run the work again); or exited 0
#                  without a section
#   CLI_FAILED     runs without a section that reported a failure
#   CLI_EXITS      the non-zero exit statuses, "71 x2, 75 x1"
#   CLI_WRONG_RUNS, CLI_FAILED_RUNS   those runs, as NAME.PID (their stderr: runs/NAME.PID)
cli_tally() { # NAME...
    local -A ran=()
    local tag pid rc name
    local -a exits=()
    while read -r _ _ _ tag; do
        [[ $tag == *:cli ]] || continue
        tag=${tag%:cli}
        ran[${tag#*:}]=1
    done <"$SUITE_OUT/journal"
    CLI_OPS=0 CLI_HELD=0 CLI_OK=0 CLI_OVERLAPS=0 CLI_LOST=0 CLI_WRONG=0 CLI_FAILED=0
    CLI_WRONG_RUNS=() CLI_FAILED_RUNS=()
    for name in "$@"; do
        while read -r pid rc; do
            CLI_OPS=$((CLI_OPS + 1))
            [ "$rc" = 0 ] || exits+=("$rc")
            if [ -n "${ran[$pid]:-}" ]; then
                CLI_HELD=$((CLI_HELD + 1))
                case $rc in
                    0) CLI_OK=$((CLI_OK + 1)) ;;
                    3) CLI_OVERLAPS=$((CLI_OVERLAPS + 1)) ;;
                    76) CLI_LOST=$((CLI_LOST + 1)) ;;
                    *) CLI_WRONG_RUNS+=("$name.$pid") ;;
                esac
            elif [ "$rc" = 0 ]; then
                CLI_WRONG_RUNS+=("$name.$pid")
            else
                CLI_FAILED_RUNS+=("$name.$pid")
            fi
        done <"$SUITE_OUT/$name.rc"
    done
    CLI_WRONG=${#CLI_WRONG_RUNS[@]}
    CLI_FAILED=${#CLI_FAILED_RUNS[@]}
    CLI_EXITS=$(printf '%s\n' "${exits[@]}" | grep . | sort -n | uniq -c |
        awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}')
}

# The stderr files of processes: NAME.err, and runs/NAME.* for the runs of a locknix run loop.
err_files() { # NAME...
    local name
    for name in "$@"; do
        echo "$SUITE_OUT/$name.err"
        compgen -G "$SUITE_OUT/runs/$name.[0-9]*" || true
    done
}

# The commonest error lines in FILEs, numbers blurred, for a failure message.
top_errors() { # FILE...
    cat "$@" 2>/dev/null | grep -E '^locknix: (cannot|lost|error)|^[a-z0-9]+:[0-9]+' |
        sed 's/[0-9]\{3,\}/N/g' | sort | uniq -c | sort -rn | head -n 3 | sed 's/^ *//' |
        paste -sd'|'
}

# The error lines of the runs of locknix run loops (NAME.PID).
run_errors() { # RUN...
    local run files=()
    for run in "$@"; do files+=("$SUITE_OUT/runs/$run"); done
    [ ${#files[@]} = 0 ] || top_errors "${files[@]}"
}

# The error lines of processes.
proc_errors() { # NAME...
    local -a files
    mapfile -t files < <(err_files "$@")
    top_errors "${files[@]}"
}

# Breaks that `locknix run --verbose` reported on stderr.
cli_breaks() { # NAME...
    local -a files
    mapfile -t files < <(err_files "$@")
    count_lines '^locknix: broke the' "${files[@]}"
}

outs() { # NAME... -> their .out files
    local name
    for name in "$@"; do printf '%s\n' "$SUITE_OUT/$name.out"; done
}

# io_context::run() of an async worker should return by itself once its last lock is gone. Each
# scenario notes the workers whose run() did not (the worker then stops the context itself);
# the suite adds up all of them in a row of their own (scenario_async_run), so that this one
# problem does not hide what the other rows show.
ASYNC_WORKERS=0
ASYNC_STUCK=0
ASYNC_STUCK_IN=()

check_settled() { # NAME...
    local name stuck=0
    for name in "$@"; do
        [ "$(field io_settled "$SUITE_OUT/$name.out")" = 1 ] || stuck=$((stuck + 1))
    done
    ASYNC_WORKERS=$((ASYNC_WORKERS + $#))
    ASYNC_STUCK=$((ASYNC_STUCK + stuck))
    if [ "$stuck" != 0 ]; then
        ASYNC_STUCK_IN+=("$SC_FS/$SC_NAME")
        sc_note "io_context::run() did not return in $stuck of $# async workers (see the" \
            "async-run row)"
    fi
}

scenario_async_run() {
    [ "$ASYNC_WORKERS" -gt 0 ] || return 0
    sc_begin all async-run 3
    # shellcheck disable=SC2034 # read by sc_end: the row spans the whole run
    SC_START=$SUITE_T0
    [ "$ASYNC_STUCK" = 0 ] || sc_fail "LIBRARY: io_context::run() did not return within" \
        "${SETTLE_MS} ms after the last lock was gone in $ASYNC_STUCK of $ASYNC_WORKERS async" \
        "workers (${ASYNC_STUCK_IN[*]}): a lock that had to wait keeps the service's inotify" \
        "read pending for ever"
    sc_end "$ASYNC_WORKERS" 0 0 0 "$ASYNC_STUCK"
}

# check_dir DIR: no lock file, claim, moved-aside lock, breaker mutex or marker left in DIR;
# notes sshfs's hidden files.
check_dir() {
    local name claims=0 aside=0 hosts=() other=() hidden left
    for name in $(leftovers "$1"); do
        case $name in
            *"|"*.broken) aside=$((aside + 1)) ;;
            *"|"*"|"*)
                claims=$((claims + 1))
                name=${name#*|}
                hosts+=("${name%%|*}")
                ;;
            *) other+=("$name") ;;
        esac
    done
    if [ $((claims + aside + ${#other[@]})) != 0 ]; then
        left="$claims claim files"
        [ "$claims" = 0 ] || left+=" ($(printf '%s\n' "${hosts[@]}" | sort | uniq -c |
            awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}'))"
        left+=", $aside broken locks moved aside and not removed"
        [ ${#other[@]} = 0 ] || left+=", and: ${other[*]}"
        sc_fail "left in ${1##*/}: $left"
    fi
    hidden=$(hidden_files "$1")
    [ "$hidden" = 0 ] || sc_note "$hidden .fuse_hidden files in ${1##*/} (sshfs renames open" \
        "files that are removed)"
}

# The journal of the scenario: "sections overlaps".
journal_check() {
    local got
    got=$("$WORKER" check-journal --journal "$SUITE_OUT/journal" 2>>"$SUITE_OUT/journal.err")
    echo "$(sed -n 's/^sections=\([0-9]*\) .*/\1/p' <<<"$got") $(sed -n 's/.*overlaps=//p' <<<"$got")"
}

secs() { # MS -> "1.2 s"
    printf '%d.%d s' $(($1 / 1000)) $(($1 % 1000 / 100))
}

max() {
    if [ "$1" -ge "$2" ]; then echo "$1"; else echo "$2"; fi
}

# ---- mutual exclusion --------------------------------------------------------------------------

# Every host runs a loop of `locknix run` and an async worker (many coroutines, one thread) on
# one lock; each holder passes through the critical section. The counter must equal the number
# of sections, no detector may fire, nothing may fail, be broken or be left behind.
scenario_mutex() { # FS NAME CLI_RUNS COROUTINES ITERATIONS BOUND_S
    local fs=$1 name=$2 runs=$3 co=$4 it=$5 bound=$6 h d
    local clis=() asyncs=()
    sc_begin "$fs" "$name" "$NETFS_N"
    d=$(fresh_dir "$fs" "$name")
    for h in $(seq 1 "$NETFS_N"); do
        cli_loop "cli-h$h" "$h" "$runs" "$d" 10s 5s
        async_worker "async-h$h" "$h" "$d" "$co" "$it" 10000 5000
        clis+=("cli-h$h")
        asyncs+=("async-h$h")
    done
    await "$bound" "${clis[@]}" "${asyncs[@]}"

    local -a files
    mapfile -t files < <(outs "${asyncs[@]}")
    cli_tally "${clis[@]}"
    local ops ok marker overlaps lost breaks errors sections journal_overlaps count
    ops=$((CLI_OPS + $(sum ops "${files[@]}")))
    ok=$((CLI_HELD + $(sum ok "${files[@]}")))
    read -r sections journal_overlaps <<<"$(journal_check)"
    marker=$((CLI_OVERLAPS + $(sum overlaps "${files[@]}")))
    overlaps=$(max "$marker" "${journal_overlaps:-0}")
    lost=$((CLI_LOST + $(sum lost "${files[@]}")))
    breaks=$(($(cli_breaks "${clis[@]}") + $(sum breaks "${files[@]}")))
    local async_errors=$(($(sum failed "${files[@]}") + $(sum section_errors "${files[@]}") +
        $(sum unverified "${files[@]}") + $(sum orphans "${files[@]}") +
        $(sum release_errors "${files[@]}")))
    errors=$((CLI_FAILED + CLI_WRONG + async_errors))
    count=$(counter "$d")

    expect "operations" "$ops" $((NETFS_N * (runs + co * it)))
    expect "overlaps (marker $marker, journal ${journal_overlaps:-?})" "$overlaps" 0
    [ $((CLI_FAILED + CLI_WRONG)) = 0 ] || sc_fail "CLI: $((CLI_FAILED + CLI_WRONG)) of" \
        "$CLI_OPS locknix run failed ($CLI_WRONG after their COMMAND ran), exit $CLI_EXITS:" \
        "$(run_errors "${CLI_FAILED_RUNS[@]}" "${CLI_WRONG_RUNS[@]}")"
    [ "$async_errors" = 0 ] || sc_fail "async workers: $async_errors errors:" \
        "$(proc_errors "${asyncs[@]}")"
    expect "counter" "$count" "$sections"
    expect "sections in the journal" "$sections" "$ok"
    expect "breaks" "$breaks" 0
    expect "lost locks" "$lost" 0
    check_settled "${asyncs[@]}"
    check_dir "$d"
    sc_end "$ops" "$overlaps" "$lost" "$breaks" "$errors"
}

# ---- a holder killed ---------------------------------------------------------------------------

# The status of LOCK read on HOST: "HOST_OF_HOLDER EXPIRY_MS" (the expiry as written on disk).
lock_expiry() { # HOST LOCK
    "$NETFS_ON_HOST" "$1" "$LOCKNIX" status --json "$2" 2>/dev/null | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
h = s.get("holder") or {}
print(h.get("host", "none"), int(round((s.get("expiry_epoch") or 0) * 1000)))'
}

clock_past() { # EPOCH_MS: true once the wall clock is past it
    [ "$(date +%s%3N)" -gt "$1" ]
}

# The earliest wall-clock start (ms) of a section in JOURNAL whose tag does not contain PART.
first_section_ms() { # JOURNAL PART
    local wall tag ms min=""
    while read -r _ _ wall tag; do
        [[ $tag == *"$2"* ]] && continue
        ms=$((wall / 1000000))
        if [ -z "$min" ] || [ "$ms" -lt "$min" ]; then min=$ms; fi
    done <"$1"
    echo "${min:-none}"
}

# Host 1 holds two locks, one through `locknix run` (its COMMAND in the critical section) and
# one through the async front end with its keep-alive. Two waiters on other hosts, with other
# front ends, wait for each lock; while host 1's holders refresh their locks, past the first
# expiry plus the slop, nobody takes them. Then host 1's holders are killed with SIGKILL:
# exactly one waiter breaks each lock, no earlier than its expiry plus the slop, and both go on.
scenario_kill() { # FS
    local fs=$1 dA dB jA never=$SUITE_OUT/never
    sc_begin "$fs" kill 3
    dA=$(fresh_dir "$fs" kill-cli)
    dB=$(fresh_dir "$fs" kill-async)
    jA=$SUITE_OUT/journal

    spawn victim-cli 1 "$LOCKNIX" run --lifetime 3s --slop 1s "$dA/lock" -- "$WORKER" victim \
        --dir "$dA" --state "$SUITE_OUT/victim-cli.state" --go "$never" --increment 1 \
        --journal "$jA"
    spawn victim-async 1 "$WORKER" hold --lock "$dB/lock" --dir "$dB" --increment 1 \
        --state "$SUITE_OUT/victim-async.state" --go "$never" --lifetime-ms 3000 --slop-ms 1000
    wait_line 60 "$SUITE_OUT/victim-cli.state" '^entered' || sc_fail "host1 did not take lock A"
    wait_line 60 "$SUITE_OUT/victim-async.state" '^held' || sc_fail "host1 did not take lock B"

    spawn waiter-cli-A 2 "$LOCKNIX" run --verbose --timeout 60s --lifetime 3s --slop 1s \
        "$dA/lock" -- "$WORKER" section --dir "$dA" --journal "$jA"
    spawn waiter-async-A 3 "$WORKER" async --lock "$dA/lock" --dir "$dA" --journal "$jA" \
        --coroutines 1 --iterations 1 --lifetime-ms 3000 --slop-ms 1000 --timeout-ms 60000 \
        --settle-ms "$SETTLE_MS"
    spawn waiter-sync-B 2 "$WORKER" hammer --lock "$dB/lock" --dir "$dB" \
        --journal "$SUITE_OUT/journal-B" --lifetime-ms 3000 --slop-ms 1000 --timeout-ms 60000
    spawn waiter-cli-B 3 "$LOCKNIX" run --verbose --timeout 60s --lifetime 3s --slop 1s \
        "$dB/lock" -- "$WORKER" section --dir "$dB" --journal "$SUITE_OUT/journal-B"

    # First the holders keep their locks alive past the point where a lock that is not refreshed
    # would be broken (its first expiry plus the slop): nobody may take them meanwhile.
    local host0 e0 host1 e1
    read -r host0 e0 <<<"$(lock_expiry 2 "$dA/lock")"
    if [[ $e0 =~ ^[1-9][0-9]*$ ]]; then
        netfs_wait_until 30 clock_past $((e0 + 1000 + 500))
        read -r host1 e1 <<<"$(lock_expiry 2 "$dA/lock")"
        expect "holder of lock A after its first expiry + slop" "$host1" host1
        [ "${e1:-0}" -gt "$e0" ] || sc_fail "lock A was not refreshed (expiry $e0, then $e1)"
        read -r host1 _ <<<"$(lock_expiry 3 "$dB/lock")"
        expect "holder of lock B meanwhile" "$host1" host1
    else
        sc_fail "cannot read lock A's expiry ($host0 $e0)"
    fi
    for name in waiter-cli-A waiter-async-A waiter-sync-B waiter-cli-B; do
        exited "$name" && sc_fail "$name ended while the holder was alive"
    done

    # SIGKILL; bash's "Killed" notices for these two are expected, so they are not shown.
    local name
    {
        for name in victim-cli victim-async; do
            exited "$name" || kill -KILL "${SUITE_PID[$name]}"
        done
        netfs_wait_until 10 exited victim-cli
        netfs_wait_until 10 exited victim-async
    } 2>/dev/null
    await 10 victim-cli victim-async
    expect "victim exit (locknix run)" "${SUITE_RC[victim-cli]}" 137
    expect "victim exit (async holder)" "${SUITE_RC[victim-async]}" 137
    local expiry_A expiry_B
    read -r _ expiry_A <<<"$(lock_expiry 2 "$dA/lock")"
    read -r _ expiry_B <<<"$(lock_expiry 2 "$dB/lock")"
    wait_line 10 "$SUITE_OUT/victim-cli.state" '^signalled' ||
        sc_fail "the COMMAND of the killed locknix run got no signal"

    await 90 waiter-cli-A waiter-async-A waiter-sync-B waiter-cli-B
    expect "waiter exit (locknix run, lock A)" "${SUITE_RC[waiter-cli-A]}" 0
    expect "waiter exit (locknix run, lock B)" "${SUITE_RC[waiter-cli-B]}" 0
    local a_out=$SUITE_OUT/waiter-async-A.out b_out=$SUITE_OUT/waiter-sync-B.out
    expect "async waiter (lock A) acquired" "$(field ok "$a_out")" 1
    expect "sync waiter (lock B) acquired" "$(field ok "$b_out")" 1
    local breaks_A breaks_B
    breaks_A=$(($(cli_breaks waiter-cli-A) + $(field breaks "$a_out")))
    breaks_B=$(($(cli_breaks waiter-cli-B) + $(field breaks "$b_out")))
    expect "breaks of lock A" "$breaks_A" 1
    expect "breaks of lock B" "$breaks_B" 1
    expect "counter A" "$(counter "$dA")" 3
    expect "counter B" "$(counter "$dB")" 3

    local sections_A overlaps_A overlaps_B first_A first_B lock first expiry
    read -r sections_A overlaps_A <<<"$(journal_check)"
    overlaps_B=$("$WORKER" check-journal --journal "$SUITE_OUT/journal-B" | sed 's/.*overlaps=//')
    expect "overlaps in the journals" "$((overlaps_A + overlaps_B))" 0
    expect "sections of lock A (the victim's too)" "$sections_A" 3
    first_A=$(first_section_ms "$jA" victim)
    first_B=$(first_section_ms "$SUITE_OUT/journal-B" victim)
    for lock in "A $first_A $expiry_A" "B $first_B $expiry_B"; do
        read -r lock first expiry <<<"$lock"
        if [[ $first =~ ^[0-9]+$ ]] && [[ $expiry =~ ^[0-9]+$ ]] && [ "$expiry" -gt 0 ]; then
            [ "$first" -ge $((expiry + 1000)) ] || sc_fail "lock $lock broken before expiry +" \
                "slop: its next holder entered at $first ms, the expiry was $expiry ms"
            sc_note "lock $lock taken over $((first - expiry)) ms after its expiry"
        else
            sc_note "lock $lock: expiry not read before the break ($expiry); not compared"
        fi
    done
    check_settled waiter-async-A
    check_dir "$dA"
    check_dir "$dB"
    local acquired=$(($(rc_count_exit 0 waiter-cli-A waiter-cli-B) + $(field ok "$a_out") +
        $(field ok "$b_out")))
    sc_end 6 "$((overlaps_A + overlaps_B))" 0 "$((breaks_A + breaks_B))" $((4 - acquired))
}

# How many of the named processes exited with STATUS.
rc_count_exit() { # STATUS NAME...
    local status=$1 name n=0
    shift
    for name in "$@"; do [ "${SUITE_RC[$name]:-}" = "$status" ] && n=$((n + 1)); done
    echo "$n"
}

# ---- a host cut off ----------------------------------------------------------------------------

FAULTFS_CUT_OPS="lookup getattr open create link unlink rename utimens read write flush mkdir rmdir"
CUT_HOST=""

# Cuts host I off: its veth goes down (GlusterFS and sshfs), or, on faultfs, which is local to
# each host, every call of host I's faultfs fails with EIO until healed.
cut_host() { # I FS
    if [ "$2" = faultfs ]; then
        local rules=() op
        for op in $FAULTFS_CUT_OPS; do rules+=("${op}_before EIO inf"); done
        # shellcheck disable=SC2016 # the inner shell expands its arguments
        "$NETFS_ON_HOST" "$1" /bin/sh -c 'ctl=$1; shift; for r; do printf "%s\n" "$r" >"$ctl" ||
            exit 1; done' sh "$NETFS_FAULTFS_CTL" "${rules[@]}" || sc_fail "cannot cut faultfs"
    else
        ip link set "$NETFS_VETH_PREFIX$1" down || sc_fail "cannot take host$1's link down"
    fi
    CUT_HOST="$1 $2"
}

heal_host() {
    [ -n "$CUT_HOST" ] || return 0
    local i fs
    read -r i fs <<<"$CUT_HOST"
    if [ "$fs" = faultfs ]; then
        "$NETFS_ON_HOST" "$i" /bin/sh -c 'printf "clear\n" >"$1"' sh "$NETFS_FAULTFS_CTL" ||
            suite_say "cannot clear host$i's faultfs rules"
    else
        ip link set "$NETFS_VETH_PREFIX$i" up || suite_say "cannot bring host$i's link up"
    fi
    CUT_HOST=""
}

mount_answers() { # I DIR
    "$NETFS_ON_HOST" "$1" /usr/bin/timeout 10 ls "$2" >/dev/null 2>&1
}

# Host 1 holds two locks with a 3 s lifetime, one through `locknix run` and one through the
# async front end with its keep-alive, and is cut off. Hosts 2 and 3 break the locks once they
# expire and go on. Once host 1 is back (or already during the cut where the file system fails
# calls instead of blocking them), its holders learn that they lost the locks: locknix run stops
# its COMMAND and exits with 76, the async holder's wait_lost completes with lock_lost. Only
# then is each holder told to write (the local file "go"): neither may write.
scenario_partition() { # FS
    local fs=$1 dA dB
    sc_begin "$fs" partition 3
    dA=$(fresh_dir "$fs" cut-cli)
    dB=$(fresh_dir "$fs" cut-async)
    local sA=$SUITE_OUT/victim-cli.state sB=$SUITE_OUT/victim-async.state

    spawn victim-cli 1 "$LOCKNIX" run --lifetime 3s --slop 1s --kill-after 2s "$dA/lock" -- \
        "$WORKER" victim --dir "$dA" --state "$sA" --go "$SUITE_OUT/go-A" --increment 1
    spawn victim-async 1 "$WORKER" hold --lock "$dB/lock" --dir "$dB" --state "$sB" \
        --go "$SUITE_OUT/go-B" --increment 1 --lifetime-ms 3000 --slop-ms 1000
    wait_line 60 "$sA" '^entered' || sc_fail "host1 did not take lock A"
    wait_line 60 "$sB" '^held' || sc_fail "host1 did not take lock B"

    local t_cut
    t_cut=$(netfs_now_ms)
    cut_host 1 "$fs"
    spawn breaker-cli 2 "$LOCKNIX" run --verbose --timeout 90s --lifetime 3s --slop 1s \
        "$dA/lock" -- "$WORKER" section --dir "$dA" --journal "$SUITE_OUT/journal"
    spawn breaker-sync 3 "$WORKER" hammer --lock "$dB/lock" --dir "$dB" \
        --journal "$SUITE_OUT/journal-B" --lifetime-ms 3000 --slop-ms 1000 --timeout-ms 90000
    await 120 breaker-cli breaker-sync
    local t_heal
    t_heal=$(netfs_now_ms)
    heal_host

    # The holders must find out by themselves; bounded generously (sshfs fails ~21 s into a
    # cut, GlusterFS blocks and TCP retransmits with growing pauses after the heal).
    await 120 victim-cli
    wait_line 120 "$sB" '^lost' || sc_fail "the async holder was not told that it lost lock B"
    local t_learned
    t_learned=$(netfs_now_ms)
    touch "$SUITE_OUT/go-A" "$SUITE_OUT/go-B"
    await 60 victim-async

    expect "locknix run on the cut host exits" "${SUITE_RC[victim-cli]}" 76
    grep -q '^signalled' "$sA" || sc_fail "the COMMAND on the cut host was not signalled"
    grep -q '^lost lock_lost' "$sB" || sc_fail "the async holder was not told lock_lost"
    grep -q '^wrote' "$sA" "$sB" && sc_fail "a holder on the cut host WROTE after losing its lock"
    grep -q '^skipped-write' "$sB" || sc_fail "the async holder did not skip its write"
    local late
    for late in "$dA/late" "$dB/late"; do
        if "$NETFS_ON_HOST" 2 test -e "$late"; then
            sc_fail "a late write reached the shared file system: $late"
        fi
    done
    expect "breaker exit (locknix run, lock A)" "${SUITE_RC[breaker-cli]}" 0
    expect "breaker (sync, lock B) acquired" "$(field ok "$SUITE_OUT/breaker-sync.out")" 1
    local breaks=$(($(cli_breaks breaker-cli) + $(field breaks "$SUITE_OUT/breaker-sync.out")))
    expect "breaks" "$breaks" 2
    expect "counter A" "$(counter "$dA" 2)" 2
    expect "counter B" "$(counter "$dB" 2)" 2
    netfs_wait_until 60 mount_answers 1 "$dA" || sc_fail "host1's $fs mount does not answer again"
    check_dir "$dA"
    check_dir "$dB"
    sc_note "breakers done $(secs $((t_heal - t_cut))) into the cut; both holders knew" \
        "$((t_learned - t_heal)) ms after the heal"
    local lost=0
    [ "${SUITE_RC[victim-cli]}" = 76 ] && lost=$((lost + 1))
    grep -q '^lost lock_lost' "$sB" && lost=$((lost + 1))
    sc_end 4 0 "$lost" "$breaks" $((2 - $(rc_count_exit 0 breaker-cli) -
        $(field ok "$SUITE_OUT/breaker-sync.out")))
}

# ---- lost replies and stale handles ------------------------------------------------------------

# faultfs rules matched against names containing "lock" (the lock, the claims, the breaker
# mutex) or "|host" (claims only). The critical section's files (counter, inside) are left
# alone. Three sets, one row each: lost replies and stale handles of link() (the calls that take
# the lock), lost replies of the other calls (done, then an error returned), and passing errors
# of the other calls (an error returned, nothing done). Used by suite.sh.
# shellcheck disable=SC2034
FAULTS_LINK=("link_after EIO 1 lock" "link_after ETIMEDOUT 1 lock" "link_after EEXIST 1 lock"
    "link_after ESTALE 1 lock" "link_before ESTALE 2 lock" "link_before EIO 1 lock")
# shellcheck disable=SC2034
FAULTS_REPLY=("create_after EIO 1 lock" "unlink_after EIO 1 lock" "utimens_after EIO 1 lock")
# shellcheck disable=SC2034
FAULTS_ERROR=("create_before EIO 1 lock" "unlink_before EIO 1 lock" "unlink_before EIO 1 |host"
    "utimens_before EIO 1 lock" "open_before ESTALE 2 lock" "getattr_before ESTALE 2 lock")

# Host 1 runs the blocking front end, host 2 the async one, host 3 `locknix run`, on faultfs,
# while a feeder per host arms RULES round after round. Every acquisition must either hold the
# lock (the lock file names its claim) or report a failure (and not hold it); the counter must
# be exact, no lock may be broken (an orphaned lock would be, after 15 s) and no claim left.
scenario_faults() { # NAME RULE...
    local name=$1 d h
    shift
    sc_begin faultfs "$name" 3
    d=$(fresh_dir faultfs "$name")
    for h in 1 2 3; do
        "$NETFS_ON_HOST" "$h" /bin/sh -c 'printf "clear\nreset\n" >"$1"' sh "$NETFS_FAULTFS_CTL"
    done
    # A new lock object (and so a new claim file) for every acquisition, so that the faults
    # of claim creation reach every front end.
    spawn sync-h1 1 "$WORKER" hammer --lock "$d/lock" --dir "$d" --journal "$SUITE_OUT/journal" \
        --iterations "$FAULT_SYNC" --verify 1 --lifetime-ms 10000 --slop-ms 5000 --new-lock 1
    async_worker async-h2 2 "$d" "$FAULT_CO" "$FAULT_CO_IT" 10000 5000 --new-lock 1
    cli_loop cli-h3 3 "$FAULT_CLI" "$d" 10s 5s
    rm -f "$SUITE_OUT/stop"
    for h in 1 2 3; do
        spawn_here "feeder-h$h" "$NETFS_DIR/fault-feeder.sh" "$h" "$FAULT_ROUNDS" \
            "$SUITE_OUT/stop" "$@"
    done
    await 300 sync-h1 async-h2 cli-h3
    touch "$SUITE_OUT/stop"
    await 30 feeder-h1 feeder-h2 feeder-h3

    local injected=0 n
    for h in 1 2 3; do
        n=$("$NETFS_ON_HOST" "$h" cat "$NETFS_FAULTFS_CTL" | sed -n 's/^faults //p')
        injected=$((injected + ${n:-0}))
    done
    local files=("$SUITE_OUT/sync-h1.out" "$SUITE_OUT/async-h2.out")
    cli_tally cli-h3
    local ops ok failed overlaps sections journal_overlaps breaks
    ops=$((CLI_OPS + $(sum ops "${files[@]}")))
    ok=$((CLI_HELD + $(sum ok "${files[@]}")))
    failed=$((CLI_FAILED + $(sum failed "${files[@]}")))
    read -r sections journal_overlaps <<<"$(journal_check)"
    overlaps=$(max $((CLI_OVERLAPS + $(sum overlaps "${files[@]}"))) "${journal_overlaps:-0}")
    breaks=$(($(cli_breaks cli-h3) + $(sum breaks "${files[@]}")))

    expect "operations" "$ops" $((FAULT_SYNC + FAULT_CO * FAULT_CO_IT + FAULT_CLI))
    expect "overlaps" "$overlaps" 0
    expect "acquired but the lock named another claim" "$(sum unverified "${files[@]}")" 0
    expect "failed but the lock named our claim" "$(sum orphans "${files[@]}")" 0
    expect "section errors" "$(sum section_errors "${files[@]}")" 0
    expect "counter" "$(counter "$d")" "$sections"
    expect "sections in the journal" "$sections" "$ok"
    local -a errs
    mapfile -t errs < <(err_files sync-h1 async-h2 cli-h3)
    [ "$breaks" = 0 ] || sc_fail "$breaks lock(s) broken after lifetime + slop, left held by" \
        "holders that had ended: $(cat "${errs[@]}" | grep -o 'broke the expired lock .*' |
            sed 's/.* of //' | sort | uniq -c | sed 's/^ *//' | paste -sd',')"
    [ "$CLI_WRONG" = 0 ] || sc_fail "CLI: $CLI_WRONG locknix run reported a failure after" \
        "their COMMAND had run under the lock: $(run_errors "${CLI_WRONG_RUNS[@]}")"
    # Every injected error passes; the library's front ends retry them. A run that gives up on
    # one reports a failure that waiting would have mended.
    [ "$CLI_FAILED" = 0 ] || sc_fail "CLI: $CLI_FAILED locknix run gave up on a passing error" \
        "before holding the lock: $(run_errors "${CLI_FAILED_RUNS[@]}")"
    [ "$injected" -gt 0 ] || sc_fail "no fault was injected"
    local rounds
    rounds=$(for h in 1 2 3; do field rounds "$SUITE_OUT/feeder-h$h.out"; done | paste -sd+)
    sc_note "$injected faults injected ($rounds rounds of $# rules on hosts 1+2+3);" \
        "$failed acquisitions reported failure ($CLI_FAILED of them locknix run)" \
        "${CLI_EXITS:+; locknix run exits: $CLI_EXITS}"
    check_settled async-h2
    check_dir "$d"
    sc_end "$ops" "$overlaps" "$(sum lost "${files[@]}")" "$breaks" "$failed"
}

# ---- clock skew --------------------------------------------------------------------------------

# Host 1 holds two locks without refreshing them, its wall clock (the seam's) behind by SKEW_IN
# (less than the slop) for one and by SKEW_OUT (more than the slop) for the other; hosts 2 and 3
# wait for them with true clocks. Within the slop the holder keeps its lock for its whole
# lifetime and the waiter gets it only when released. Beyond the slop the waiter breaks it at
# the holder's (early) expiry plus the slop on its own clock, before the holder's lifetime ends.
scenario_skew() { # FS
    local fs=$1 dW dX
    local lifetime=4000 slop=4000 skew_in=-1000 skew_out=-6000
    sc_begin "$fs" skew 3
    dW=$(fresh_dir "$fs" skew-within)
    dX=$(fresh_dir "$fs" skew-beyond)
    local sW=$SUITE_OUT/hold-within.state sX=$SUITE_OUT/hold-beyond.state
    local lock_opts=(--lifetime-ms "$lifetime" --slop-ms "$slop")

    spawn hold-within 1 "$WORKER" hold-lifetime --lock "$dW/lock" --state "$sW" \
        "${lock_opts[@]}" --skew-ms "$skew_in"
    spawn hold-beyond 1 "$WORKER" hold-lifetime --lock "$dX/lock" --state "$sX" \
        "${lock_opts[@]}" --skew-ms "$skew_out"
    wait_line 60 "$sW" '^held' || sc_fail "host1 did not take the lock (within)"
    wait_line 60 "$sX" '^held' || sc_fail "host1 did not take the lock (beyond)"
    spawn take-within 2 "$WORKER" hammer --lock "$dW/lock" --dir "$dW" --say-acquired 1 \
        --journal "$SUITE_OUT/journal" "${lock_opts[@]}" --timeout-ms 60000
    spawn take-beyond 3 "$WORKER" hammer --lock "$dX/lock" --dir "$dX" --say-acquired 1 \
        --journal "$SUITE_OUT/journal-X" "${lock_opts[@]}" --timeout-ms 60000
    await 60 hold-within hold-beyond take-within take-beyond

    local hW=$SUITE_OUT/hold-within.out hX=$SUITE_OUT/hold-beyond.out
    local tW=$SUITE_OUT/take-within.out tX=$SUITE_OUT/take-beyond.out
    expect "within the slop: held for the whole lifetime" "$(field held_at_end "$hW")" 1
    expect "within the slop: release" "$(field release "$hW")" ok
    expect "within the slop: the waiter acquired" "$(field ok "$tW")" 1
    expect "within the slop: breaks" "$(field breaks "$tW")" 0
    expect "beyond the slop: held for the whole lifetime" "$(field held_at_end "$hX")" 0
    expect "beyond the slop: release" "$(field release "$hX")" lock_lost
    expect "beyond the slop: the waiter acquired" "$(field ok "$tX")" 1
    expect "beyond the slop: breaks" "$(field breaks "$tX")" 1

    local expiry until acquired
    expiry=$(sed -n 's/^held expiry_ns=\([0-9]*\) .*/\1/p' "$sX")
    until=$(sed -n 's/^held .*until_ns=\([0-9]*\)$/\1/p' "$sX")
    acquired=$(sed -n 's/^acquired wall_ns=//p' "$tX" | head -n 1)
    if [[ $expiry =~ ^[0-9]+$ ]] && [[ $acquired =~ ^[0-9]+$ ]] && [[ $until =~ ^[0-9]+$ ]]; then
        # The holder's clock is behind by -skew_out: its `until` on the true clock is later.
        local until_true=$((until - skew_out * 1000000))
        [ "$acquired" -gt $((expiry + slop * 1000000)) ] ||
            sc_fail "beyond the slop: broken before expiry + slop on the breaker's clock"
        sc_note "beyond the slop (${skew_out} ms): broken $(((acquired - expiry) / 1000000 -
            slop)) ms after expiry + slop, $(((until_true - acquired) / 1000000)) ms before" \
            "the holder's lifetime ended (expected: skew - slop = $((-skew_out - slop)) ms)"
    else
        sc_fail "beyond the slop: times not reported (expiry '$expiry' acquired '$acquired')"
    fi
    local errors=0
    [ "$(field ok "$tW")" = 1 ] || errors=$((errors + 1))
    [ "$(field ok "$tX")" = 1 ] || errors=$((errors + 1))
    local lost=0
    [ "$(field release "$hX")" = lock_lost ] && lost=1
    check_dir "$dW"
    check_dir "$dX"
    sc_end 4 0 "$lost" $(($(field breaks "$tW") + $(field breaks "$tX"))) "$errors"
}

# ---- flufl.lock --------------------------------------------------------------------------------

# A flufl.lock process on host 1 and locknix processes (locknix run and the async worker) on
# the other hosts share one lock on GlusterFS.
scenario_flufl() {
    local d h
    local clis=() asyncs=()
    sc_begin gluster flufl "$NETFS_N"
    d=$(fresh_dir gluster flufl)
    if ! "$PY" -c 'import flufl.lock' 2>"$SUITE_OUT/import.err"; then
        sc_fail "flufl.lock is not importable by $PY: $(tail -n 1 "$SUITE_OUT/import.err")"
        sc_end 0 0 0 0 1
        return
    fi
    spawn flufl-h1 1 "$PY" "$FLUFL_WORKER" "$d/lock" "$d" "$SUITE_OUT/journal" host1:flufl \
        "$FLUFL_IT" 15 300
    for h in $(seq 2 "$NETFS_N"); do
        cli_loop "cli-h$h" "$h" "$FLUFL_CLI" "$d" 15s 10s
        async_worker "async-h$h" "$h" "$d" "$FLUFL_CO" "$FLUFL_CO_IT" 15000 10000
        clis+=("cli-h$h")
        asyncs+=("async-h$h")
    done
    await 400 flufl-h1 "${clis[@]}" "${asyncs[@]}"

    local -a files
    mapfile -t files < <(outs flufl-h1 "${asyncs[@]}")
    cli_tally "${clis[@]}"
    local ops ok sections journal_overlaps overlaps errors breaks
    ops=$((CLI_OPS + $(sum ops "${files[@]}")))
    ok=$((CLI_HELD + $(sum ok "${files[@]}")))
    read -r sections journal_overlaps <<<"$(journal_check)"
    overlaps=$(max $((CLI_OVERLAPS + $(sum overlaps "${files[@]}"))) "${journal_overlaps:-0}")
    errors=$((CLI_FAILED + CLI_WRONG + $(sum failed "${files[@]}") +
        $(sum section_errors "${files[@]}")))
    breaks=$(($(cli_breaks "${clis[@]}") + $(sum breaks "${files[@]}")))

    expect "flufl.lock acquisitions" "$(field ok "$SUITE_OUT/flufl-h1.out")" "$FLUFL_IT"
    expect "overlaps" "$overlaps" 0
    [ "$errors" = 0 ] || sc_fail "$errors errors (locknix run exits: ${CLI_EXITS:-none}):" \
        "$(proc_errors "${clis[@]}" "${asyncs[@]}" flufl-h1)"
    expect "counter" "$(counter "$d")" "$sections"
    expect "sections in the journal" "$sections" "$ok"
    expect "operations" "$ops" $((FLUFL_IT + (NETFS_N - 1) * (FLUFL_CLI + FLUFL_CO * FLUFL_CO_IT)))
    expect "breaks" "$breaks" 0
    check_settled "${asyncs[@]}"
    check_dir "$d"
    sc_end "$ops" "$overlaps" "$(sum lost "${files[@]}")" "$breaks" "$errors"
}
