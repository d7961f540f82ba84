# shellcheck shell=bash
# Helpers of the multi-host suite (suite.sh): the processes it starts on the hosts, bounded
# waits, the shared directories, the checks of a scenario and the table of figures.
# Source env.sh and lib.sh first; suite.sh sets LOCKNIX, WORKER, FLUFL_WORKER and SUITE_WORK.

suite_say() {
    printf '[suite] %s\n' "$*" >&2
}

# ---- processes -------------------------------------------------------------------------------
# Every process the suite starts is a session leader (setsid does not fork here: a background
# job of a script is no process-group leader), so that it and everything it starts (a
# `locknix run` loop, its COMMANDs) can be signalled as one group, and nothing else.

declare -A SUITE_PID=() # name -> pid (= process group)
declare -A SUITE_RC=()  # name -> exit status, once reaped
SUITE_OUT=""            # the directory of the current scenario's outputs

# spawn NAME HOST CMD...: runs CMD on HOST in the background; stdout in $SUITE_OUT/NAME.out,
# stderr in NAME.err.
spawn() {
    local name=$1 host=$2
    shift 2
    setsid "$NETFS_ON_HOST" "$host" "$@" >"$SUITE_OUT/$name.out" 2>"$SUITE_OUT/$name.err" \
        </dev/null &
    SUITE_PID[$name]=$!
    unset "SUITE_RC[$name]"
}

# spawn_here NAME CMD...: the same for a command (or function) in the root namespace.
spawn_here() {
    local name=$1
    shift
    setsid "$@" >"$SUITE_OUT/$name.out" 2>"$SUITE_OUT/$name.err" </dev/null &
    SUITE_PID[$name]=$!
    unset "SUITE_RC[$name]"
}

# True once NAME has exited, as bash's job table says: bash reaps its children as they exit,
# so a pid alone could be reused; a job that bash still lists as running is ours.
exited() {
    ! jobs -rp | grep -qx "${SUITE_PID[$1]}"
}

# True when no process is left in process group PGID (its leader exited). While one is, the
# kernel keeps the number reserved, so signalling the group cannot hit another process.
group_empty() {
    ! pgrep -g "$1" >/dev/null
}

# finish NAME: NAME has exited; waits up to 5 s for the rest of its process group to leave
# (a failure if something stays: it is killed), then reaps NAME into SUITE_RC.
finish() {
    local name=$1 pid=${SUITE_PID[$1]} status=0
    if ! netfs_wait_until 5 group_empty "$pid"; then
        sc_fail "$name left processes behind: $(pgrep -a -g "$pid" | paste -sd';')"
        kill -KILL -- "-$pid" 2>/dev/null || true
        netfs_wait_until 5 group_empty "$pid" || suite_say "group of $name does not die"
    fi
    wait "$pid" 2>/dev/null || status=$?
    SUITE_RC[$name]=$status
}

# Signals NAME's whole process group while NAME runs: SIGTERM, then SIGKILL after 5 s.
stop_group() {
    local pid=${SUITE_PID[$1]}
    kill -TERM -- "-$pid" 2>/dev/null || true
    if ! netfs_wait_until 5 exited "$1"; then
        kill -KILL -- "-$pid" 2>/dev/null || true
        netfs_wait_until 5 exited "$1" || suite_say "process $1 (pid $pid) does not die"
    fi
    group_empty "$pid" || kill -KILL -- "-$pid" 2>/dev/null || true
}

# await SECONDS NAME...: waits for each NAME to exit; one still running at the deadline is
# stopped, its status set to 124 and a failure noted. Returns 1 if any had to be stopped.
await() {
    local seconds=$1 name late=0 left
    shift
    local deadline=$(($(netfs_now_ms) + seconds * 1000))
    for name in "$@"; do
        [ -z "${SUITE_RC[$name]:-}" ] || continue
        left=$(((deadline - $(netfs_now_ms) + 999) / 1000))
        [ "$left" -gt 0 ] || left=0
        if ! netfs_wait_until "$left" exited "$name"; then
            sc_fail "$name still ran after ${seconds}s: stopped (see $SUITE_OUT/$name.err)"
            stop_group "$name"
            finish "$name"
            SUITE_RC[$name]=124
            late=1
            continue
        fi
        finish "$name"
    done
    return "$late"
}

# Stops every process of the suite that still runs; used at the end of a scenario and on exit.
stop_all() {
    local name
    for name in "${!SUITE_PID[@]}"; do
        [ -z "${SUITE_RC[$name]:-}" ] || continue
        if ! exited "$name"; then
            sc_fail "$name was still running at the end of the scenario: stopped"
            stop_group "$name"
        fi
        finish "$name"
    done
    SUITE_PID=()
    SUITE_RC=()
}

# wait_line SECONDS FILE REGEX: waits until a line of FILE matches REGEX (grep -E).
wait_line() {
    netfs_wait_until "$1" grep -qE -- "$3" "$2" 2>/dev/null
}

# ---- results of the workers --------------------------------------------------------------------

# field KEY FILE: the value of KEY=... on the last "result" line of FILE (empty if none).
field() {
    grep '^result ' "$2" 2>/dev/null | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# sum KEY FILE...: the sum of KEY over the result lines of the files (missing counts 0).
sum() {
    local key=$1 total=0 f v
    shift
    for f in "$@"; do
        v=$(field "$key" "$f")
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

# count_lines REGEX FILE...: lines matching REGEX over the files.
count_lines() {
    local regex=$1
    shift
    cat "$@" 2>/dev/null | grep -cE -- "$regex" || true
}

# ---- the shared directory of a scenario --------------------------------------------------------

# fresh_dir FS NAME: makes $NETFS_MNT/FS/suite-NAME (through host1) with a zero counter and
# prints its path. Lock files go there too; no name in it contains "lock" but the lock's.
fresh_dir() {
    local d=$NETFS_MNT/$1/suite-$2
    # shellcheck disable=SC2016 # the inner shell expands its arguments
    "$NETFS_ON_HOST" 1 /bin/sh -ec 'rm -rf "$1"; mkdir -p "$1"; printf "%020d" 0 >"$1/counter"' \
        sh "$d" || sc_fail "cannot prepare $d"
    echo "$d"
}

# The counter of DIR as a number, read on host HOST (default 1).
counter() { # DIR [HOST]
    local text
    text=$("$NETFS_ON_HOST" "${2:-1}" cat "$1/counter" 2>/dev/null)
    if [[ $text =~ ^[0-9]{20}$ ]]; then echo $((10#$text)); else echo "unreadable:$text"; fi
}

# Files of the lock protocol left in DIR: the lock, claims (names with '|'), broken locks
# moved aside, breaker mutexes; and the critical-section marker. sshfs's .fuse_hidden* files
# (open files removed; libfuse renames them instead) are counted apart by `hidden_files`.
leftovers() { # DIR
    "$NETFS_ON_HOST" 1 ls -A "$1" 2>&1 |
        grep -vxE 'counter|late|\.fuse_hidden[0-9a-f]+' | paste -sd' ' || true
}

hidden_files() { # DIR
    "$NETFS_ON_HOST" 1 ls -A "$1" 2>/dev/null | grep -cE '^\.fuse_hidden' || true
}

# ---- a scenario: checks, then one row of the table ---------------------------------------------

SC_FS="" SC_NAME="" SC_START=0 SC_HOSTS=0
SC_FAILS=()
SC_NOTES=()

# sc_begin FS NAME HOSTS: starts a scenario; its outputs go to $SUITE_WORK/FS-NAME/.
sc_begin() {
    SC_FS=$1 SC_NAME=$2 SC_HOSTS=$3
    SC_FAILS=()
    SC_NOTES=()
    SUITE_OUT=$SUITE_WORK/$1-$2
    mkdir -p "$SUITE_OUT"
    SC_START=$(netfs_now_ms)
    suite_say "$SC_FS / $SC_NAME: start"
}

sc_fail() {
    SC_FAILS+=("$*")
    suite_say "  FAIL: $*"
}

sc_note() {
    SC_NOTES+=("$*")
}

# expect NAME GOT WANT: a failure unless GOT equals WANT.
expect() {
    [ "$2" = "$3" ] || sc_fail "$1: got $2, want $3"
}

# expect_le NAME GOT BOUND: a failure unless GOT <= BOUND (both integers).
expect_le() {
    if ! [[ $2 =~ ^-?[0-9]+$ ]] || [ "$2" -gt "$3" ]; then
        sc_fail "$1: got $2, want at most $3"
    fi
}

# sc_end OPS OVERLAPS LOST BREAKS ERRORS: stops what still runs, writes the row.
sc_end() {
    local ops=$1 overlaps=$2 lost=$3 breaks=$4 errors=$5 wall result notes
    stop_all
    wall=$(($(netfs_now_ms) - SC_START))
    if [ ${#SC_FAILS[@]} = 0 ]; then result=PASS; else result=FAIL; fi
    notes=$(printf '%s; ' "${SC_FAILS[@]}" "${SC_NOTES[@]}")
    notes=${notes%; }
    notes=${notes#; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d.%d\t%s\t%s\n' "$SC_FS" "$SC_NAME" "$ops" \
        "$SC_HOSTS" "$overlaps" "$lost" "$breaks" "$errors" $((wall / 1000)) \
        $((wall % 1000 / 100)) "$result" "$notes" >>"$SUITE_WORK/results.tsv"
    suite_say "$SC_FS / $SC_NAME: $result in $((wall / 1000)) s (ops $ops, overlaps $overlaps," \
        "lost $lost, breaks $breaks, errors $errors)"
}

# The table of every scenario run so far, then the notes of each row.
print_table() {
    local file=$SUITE_WORK/results.tsv
    [ -s "$file" ] || return 0
    echo
    printf '| %-12s | %-11s | %5s | %5s | %8s | %4s | %6s | %6s | %8s | %-6s |\n' \
        "file system" scenario ops hosts overlaps lost breaks errors "wall (s)" result
    printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' -------------- ------------- ------- ------- \
        ---------- ------ -------- -------- ---------- --------
    local fs name ops hosts overlaps lost breaks errors wall result notes
    while IFS=$'\t' read -r fs name ops hosts overlaps lost breaks errors wall result notes; do
        printf '| %-12s | %-11s | %5s | %5s | %8s | %4s | %6s | %6s | %8s | %-6s |\n' "$fs" \
            "$name" "$ops" "$hosts" "$overlaps" "$lost" "$breaks" "$errors" "$wall" "$result"
    done <"$file"
    echo
    while IFS=$'\t' read -r fs name ops hosts overlaps lost breaks errors wall result notes; do
        [ -n "$notes" ] && echo "$fs / $name ($result): $notes"
    done <"$file"
    return 0
}
