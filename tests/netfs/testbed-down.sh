#!/bin/bash
# Tears down the network file system test bed made by testbed-up.sh, in dependency order:
# client mounts -> client daemons -> servers -> namespaces -> links. It stops only the
# processes recorded in $NETFS_STATE/pids, and then checks that no mount, namespace, link,
# listener or recorded process is left; anything left is reported and the exit status is 1.
# Safe to run when the bed is half made or already gone. Keeps $NETFS_LOG and $NETFS_BIN.
# A process that something else started on a host is reported, not killed; it keeps that host's
# namespaces (and a lazily detached mount) alive until it exits.
#
# Environment: NETFS_B / B (see env.sh); the host count is taken from what testbed-up recorded.
# Exit status: 0 clean, 1 something is left, 77 the machine cannot host a bed at all.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
. "$here/env.sh"
# shellcheck source=lib.sh
. "$here/lib.sh"

FUSE_KINDS="gluster sshfs sshfs-cached faultfs"

# Unmounts every FUSE mount of host I; lazily when something on the host still uses it, and
# then prints the daemon's name: it will not leave by itself while the mount is in use.
unmount_host() { # I
    local i=$1
    [ -e "$NETFS_NSDIR/h$i.mnt" ] || return 0
    # shellcheck disable=SC2016,SC2086 # the inner shell expands its arguments
    /usr/bin/nsenter --mount="$NETFS_NSDIR/h$i.mnt" /bin/sh -c '
        mnt=$1 i=$2
        shift 2
        for fs; do
            mountpoint -q "$mnt/$fs" || continue
            umount "$mnt/$fs" 2>/dev/null && continue
            echo "[netfs] $mnt/$fs on host$i is busy; detaching it lazily" >&2
            umount -l "$mnt/$fs" && echo "$fs-h$i"
        done' sh "$NETFS_MNT" "$i" $NETFS_FILESYSTEMS
}

# The namespaces of the hosts, "net:[INODE] hostI" and "mnt:[INODE] hostI", taken before they
# are removed so that a process still in one can be found afterwards.
HOST_NAMESPACES=""

note_host_namespaces() { # I
    local i=$1 ino
    if ino=$(stat -L -c %i "/run/netns/$NETFS_NETNS_PREFIX$i" 2>/dev/null); then
        HOST_NAMESPACES+="net:[$ino] host$i"$'\n'
    fi
    if ino=$(stat -L -c %i "$NETFS_NSDIR/h$i.mnt" 2>/dev/null); then
        HOST_NAMESPACES+="mnt:[$ino] host$i"$'\n'
    fi
}

# Processes in a host's namespaces ("PID hostI CMDLINE"); ours are stopped by then, so these
# were started by someone else, e.g. a test that left a process behind.
strays() {
    [ -n "$HOST_NAMESPACES" ] || return 0
    local pid host
    find /proc -mindepth 3 -maxdepth 3 -path '/proc/[0-9]*/ns/*' \( -name net -o -name mnt \) \
        -printf '%p %l\n' 2>/dev/null |
        awk 'NR == FNR { host[$1] = $2; next }
             ($2 in host) { split($1, p, "/"); if (!(p[3] in seen)) print p[3], host[$2]; seen[p[3]] }' \
            <(printf '%s' "$HOST_NAMESPACES") - |
        while read -r pid host; do
            echo "$pid $host $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
        done
}

remove_host() { # I
    local i=$1 ns=$NETFS_NETNS_PREFIX$1 f
    for f in "$NETFS_NSDIR/h$i.mnt" "$NETFS_NSDIR/h$i.uts"; do
        [ -e "$f" ] || continue
        mountpoint -q "$f" && umount "$f"
        rm -f "$f"
    done
    if [ -e "/run/netns/$ns" ]; then
        ip netns del "$ns"
    fi
    # Deleting the namespace deletes its veth pair, a moment later.
    ip link del "$NETFS_VETH_PREFIX$i" 2>/dev/null || true
}

pid_gone() { # PID
    ! kill -0 "$1" 2>/dev/null || [ "$(netfs_proc_field "$1" 3)" = Z ]
}

# Prints what is left of the bed, one thing a line; prints nothing when it is all gone.
leftovers() {
    local name pid i
    for name in $(netfs_recorded_names); do
        pid=$(netfs_live_pid "$name") && echo "process $name (pid $pid)"
    done
    findmnt -rn -o TARGET | grep -F "$NETFS_B/" | sed 's/^/mount /'
    ip netns list 2>/dev/null | grep "^${NETFS_NETNS_PREFIX}[0-9]" | sed 's/^/netns /'
    ip -o link show 2>/dev/null | grep -oE "(${NETFS_VETH_PREFIX}[0-9]+|$NETFS_BRIDGE)[@:]" |
        tr -d '@:' | sed 's/^/link /'
    ss -Hltn "src $NETFS_SERVER_IP" 2>/dev/null | sed 's/^/listener /'
    strays | sed 's/^/process not ours: /'
    return 0
}

main() {
    local t0 hosts i name fs pid
    t0=$(netfs_now_ms)
    netfs_require_fuse
    command -v ip >/dev/null || netfs_skip "'ip' (iproute2) is not installed"

    hosts=$(netfs_existing_hosts)
    if ! [ -e "$NETFS_STATE" ] && [ -z "$hosts" ] &&
        ! ip link show "$NETFS_BRIDGE" >/dev/null 2>&1; then
        netfs_say "no test bed at $NETFS_B"
        return 0
    fi

    # 1. Clients: unmount everywhere at once, then wait for the daemons to leave by themselves.
    netfs_phase start
    local lazy=" "
    for i in $hosts; do
        note_host_namespaces "$i"
        lazy+="$(unmount_host "$i" | tr '\n' ' ')"
    done
    netfs_phase unmount
    for i in $hosts; do
        for fs in $FUSE_KINDS; do
            case $lazy in
                *" $fs-h$i "*) netfs_stop "$fs-h$i" ;;
                *) netfs_stop "$fs-h$i" 10 ;;
            esac
        done
    done
    for name in $(netfs_recorded_names); do
        case $name in ssh-h*) netfs_stop "$name" 5 ;; esac # sshfs's ssh, gone with sshfs
    done

    netfs_phase "wait for clients"

    # 2. Servers. The volume state lives in $NETFS_B, so the brick and glusterd are just stopped.
    local sshd_children=""
    if pid=$(netfs_live_pid sshd); then
        sshd_children=$(pgrep -P "$pid" || true)
    fi
    netfs_stop gluster-brick
    netfs_stop glusterd
    netfs_stop sshd
    # Per-connection sshd processes leave with their clients; stop any that lingers.
    for pid in $sshd_children; do
        netfs_wait_until 5 pid_gone "$pid" || kill -TERM "$pid" 2>/dev/null || true
    done

    # Any other recorded process (none are expected).
    for name in $(netfs_recorded_names); do netfs_stop "$name"; done

    netfs_phase "stop servers"

    # 3. Namespaces and links.
    strays | sed 's/^/[netfs] WARNING: not started by the bed, still running: /' >&2
    for i in $hosts; do remove_host "$i"; done
    if ip link show "$NETFS_BRIDGE" >/dev/null 2>&1; then
        ip link del "$NETFS_BRIDGE"
    fi
    if mountpoint -q "$NETFS_NSDIR"; then
        umount "$NETFS_NSDIR"
    fi

    netfs_phase "remove hosts"

    # 4. Files: everything but the logs and the faultfs binary, unless something is still mounted.
    local left
    left=$(leftovers)
    if [ -z "$left" ]; then
        find "$NETFS_B" -mindepth 1 -maxdepth 1 ! -name log ! -name bin -exec rm -rf {} +
        netfs_say "test bed down in $(($(netfs_now_ms) - t0)) ms; nothing left"
        return 0
    fi
    netfs_say "test bed down, but these are left:"
    printf '%s\n' "$left" | sed 's/^/[netfs]   /' >&2
    return 1
}

main "$@"
