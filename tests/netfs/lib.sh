# shellcheck shell=bash
# Helpers shared by the test-bed scripts; source env.sh first.

netfs_say() {
    printf '[netfs] %s\n' "$*" >&2
}

# netfs_phase NAME: notes the time a phase ended in $NETFS_LOG/phases (and on stderr with
# NETFS_VERBOSE=1), to see where setup and teardown time goes.
netfs_phase() {
    local now line
    now=$(netfs_now_ms)
    line="${0##*/} ${1}: $((now - ${netfs_phase_ms:-$now})) ms"
    netfs_phase_ms=$now
    if [ -d "$NETFS_LOG" ]; then echo "$line" >>"$NETFS_LOG/phases"; fi
    if [ "${NETFS_VERBOSE:-0}" = 1 ]; then netfs_say "$line"; fi
    return 0
}

netfs_die() {
    netfs_say "ERROR: $*"
    exit 1
}

# Exits 77 (the automake/ctest "skipped" code) with a message nobody can miss.
netfs_skip() {
    local bar='**********************************************************************'
    printf '\n%s\n*** NETFS TEST BED SKIPPED: %s\n*** exit status 77\n%s\n\n' \
        "$bar" "$*" "$bar" >&2
    exit 77
}

# Skips unless FUSE is usable: root and an openable /dev/fuse.
netfs_require_fuse() {
    [ "$(id -u)" = 0 ] || netfs_skip "must run as root"
    [ -c /dev/fuse ] || netfs_skip "/dev/fuse is missing (no FUSE: no GlusterFS, sshfs, faultfs)"
    (: <>/dev/fuse) 2>/dev/null || netfs_skip "/dev/fuse exists but cannot be opened"
}

# Skips unless network, UTS and mount namespaces can be made with ip netns and unshare.
netfs_require_netns() {
    command -v ip >/dev/null || netfs_skip "'ip' (iproute2) is not installed"
    ip netns list >/dev/null 2>&1 || netfs_skip "'ip netns' does not work here"
    unshare --net --uts --mount /bin/true 2>/dev/null ||
        netfs_skip "cannot create network, UTS and mount namespaces (unshare failed)"
}

# Monotonic milliseconds.
netfs_now_ms() {
    local up
    read -r up _ </proc/uptime
    up=${up/./}
    echo $((10#$up * 10))
}

# netfs_wait_until SECONDS CMD...: runs CMD every 20 ms until it succeeds; fails after SECONDS.
netfs_wait_until() {
    local deadline=$(($(netfs_now_ms) + $1 * 1000))
    shift
    until "$@"; do
        [ "$(netfs_now_ms)" -lt "$deadline" ] || return 1
        sleep 0.02
    done
}

# ---- processes we started --------------------------------------------------------------------
# A record $NETFS_STATE/pids/NAME holds "PID STARTTIME"; the start time (field 22 of
# /proc/PID/stat) makes sure that a reused pid is never taken for our process.

netfs_proc_field() {
    local field=$2 stat
    local -a fields
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) } # the command name may contain spaces and parentheses; state is field 3
    read -r -a fields <<<"$stat"
    echo "${fields[field - 3]}"
}

netfs_record_pid() { # NAME PID
    local start
    start=$(netfs_proc_field "$2" 22) || return 1
    mkdir -p "$NETFS_STATE/pids"
    echo "$2 $start" >"$NETFS_STATE/pids/$1"
}

# Prints the pid recorded under NAME if that process is still running (not a zombie).
netfs_live_pid() {
    local rec=$NETFS_STATE/pids/$1 pid start
    [ -r "$rec" ] || return 1
    read -r pid start <"$rec" || return 1
    [ "$(netfs_proc_field "$pid" 22)" = "$start" ] || return 1
    [ "$(netfs_proc_field "$pid" 3)" != Z ] || return 1
    echo "$pid"
}

netfs_recorded_names() {
    [ -d "$NETFS_STATE/pids" ] || return 0
    local f
    for f in "$NETFS_STATE/pids"/*; do
        [ -e "$f" ] && basename "$f"
    done
    return 0
}

netfs_gone() { # NAME
    ! netfs_live_pid "$1" >/dev/null
}

# netfs_stop NAME [GRACE]: waits GRACE seconds (default 0) for the process to exit by itself,
# then sends SIGTERM, then SIGKILL; forgets the record once the process is gone.
netfs_stop() {
    local name=$1 grace=${2:-0} pid
    if [ "$grace" != 0 ]; then
        netfs_wait_until "$grace" netfs_gone "$name" || true
    fi
    if pid=$(netfs_live_pid "$name"); then
        kill -TERM "$pid" 2>/dev/null || true
        if ! netfs_wait_until 5 netfs_gone "$name"; then
            netfs_say "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            netfs_wait_until 5 netfs_gone "$name" || netfs_say "$name (pid $pid) did not die"
        fi
    fi
    netfs_gone "$name" && rm -f "$NETFS_STATE/pids/$name"
}

# ---- hosts -------------------------------------------------------------------------------------

netfs_netns() { # I
    echo "$NETFS_NETNS_PREFIX$1"
}

# Runs CMD in host I's network, UTS and mount namespaces (cwd /).
netfs_in_host() {
    local i=$1
    shift
    /usr/bin/nsenter --net="/run/netns/$(netfs_netns "$i")" --uts="$NETFS_NSDIR/h$i.uts" \
        --mount="$NETFS_NSDIR/h$i.mnt" "$@"
}

# Host numbers whose namespaces exist, from the files and the netns list (also half-made ones).
netfs_existing_hosts() {
    {
        local f
        for f in "$NETFS_NSDIR"/h*.mnt "$NETFS_NSDIR"/h*.uts; do
            [ -e "$f" ] || continue
            f=${f##*/h}
            echo "${f%.*}"
        done
        ip netns list 2>/dev/null | sed -n "s/^$NETFS_NETNS_PREFIX\([0-9]\+\)\b.*/\1/p"
        ip -o link show 2>/dev/null | sed -n "s/^[0-9]*: $NETFS_VETH_PREFIX\([0-9]\+\)[@:].*/\1/p"
    } | sort -nu
}
