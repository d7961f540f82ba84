#!/bin/bash
# Brings up the multi-host network file system test bed (see README.md):
#   - NETFS_N hosts (default 3): each a network + UTS + mount namespace, hostname hostI,
#     address $NETFS_SUBNET.(10+I) on bridge $NETFS_BRIDGE; the root namespace is the server,
#     $NETFS_SERVER_IP;
#   - on every host, at the same paths: a GlusterFS volume (FUSE client), two sshfs mounts of
#     one export (dir_cache=no and default caching), and a faultfs mount (own daemon per host,
#     all passing through to one backing directory).
# Every daemon is started here and recorded in $NETFS_STATE/pids; testbed-down.sh stops them.
# A bed left over from an earlier run is torn down first.
#
# Environment: NETFS_B / B, NETFS_N / N, NETFS_SUBNET (see env.sh);
#   INSTALL=0             do not install missing Debian packages
#   SSHFS_OPTS            options of $NETFS_SSHFS         (default dir_cache=no,reconnect)
#   SSHFS_CACHED_OPTS     options of $NETFS_SSHFS_CACHED  (default reconnect)
#   GLUSTER_VOLUME_SET    "key=value ..." volume options set before the volume starts
#   GLUSTER_CLIENT_OPTS   extra glusterfs client arguments, e.g. "--attribute-timeout=0"
#   FAULTFS_OPTS          extra faultfs (FUSE) options
# Exit status: 0 up, 77 the machine cannot host the bed (no FUSE or namespaces), else failure.
set -Eeuo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
requested_n=${NETFS_N:-${N:-3}}
# shellcheck source=env.sh
. "$here/env.sh"
# shellcheck source=lib.sh
. "$here/lib.sh"

PACKAGES=(iproute2 util-linux procps openssh-server openssh-client sshfs fuse3 libfuse3-dev
    pkg-config gcc libc6-dev glusterfs-server glusterfs-client python3)

install_packages() {
    local missing=() installed p
    # dpkg-query fails when it has never heard of one of them: that one is missing too.
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null |
        awk '$2 == "installed" { print $1 }' || true)
    for p in "${PACKAGES[@]}"; do
        grep -qx "$p" <<<"$installed" || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0

    netfs_say "installing ${missing[*]}"
    local apt=(apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 -q -y)
    export DEBIAN_FRONTEND=noninteractive
    if ! "${apt[@]}" install --no-install-recommends "${missing[@]}" >"$NETFS_LOG/apt.log" 2>&1
    then
        "${apt[@]}" update >>"$NETFS_LOG/apt.log" 2>&1 || true
        "${apt[@]}" install --no-install-recommends "${missing[@]}" >>"$NETFS_LOG/apt.log" 2>&1 ||
            netfs_die "apt-get install failed; see $NETFS_LOG/apt.log"
    fi
}

# Starts CMD in the background, its output on $NETFS_LOG/NAME.log, and records it as NAME.
# nsenter and the daemons exec, so the recorded pid is the daemon's own.
start_daemon() { # NAME CMD...
    local name=$1
    shift
    "$@" </dev/null >"$NETFS_LOG/$name.log" 2>&1 &
    netfs_record_pid "$name" $! || netfs_die "$name exited at once: $(cat "$NETFS_LOG/$name.log")"
}

# The command prefix that runs a program on host I.
on_host() { # I
    local i=$1
    ON_HOST=(/usr/bin/nsenter --net="/run/netns/$(netfs_netns "$i")" --uts="$NETFS_NSDIR/h$i.uts"
        --mount="$NETFS_NSDIR/h$i.mnt")
}

listening() { # ADDRESS PORT
    ss -Hltn "src $1 and sport = :$2" 2>/dev/null | grep -q .
}

# Fails as soon as the daemon NAME died, so that a failed start is reported without waiting.
alive_or_die() {
    netfs_live_pid "$1" >/dev/null || netfs_die "$1 died; its log $NETFS_LOG/$1.log says:
$(tail -n 20 "$NETFS_LOG/$1.log")"
}

wait_listener() { # NAME ADDRESS PORT
    for _ in $(seq 1 500); do
        listening "$2" "$3" && return 0
        alive_or_die "$1"
        sleep 0.02
    done
    netfs_die "$1 is not listening on $2:$3 after 10 s"
}

make_bridge() {
    ip link add "$NETFS_BRIDGE" type bridge
    ip addr add "$NETFS_SERVER_IP/24" dev "$NETFS_BRIDGE"
    ip link set "$NETFS_BRIDGE" up
}

make_hosts() {
    # Namespace files may only be bind-mounted on a private mount.
    mount --bind "$NETFS_NSDIR" "$NETFS_NSDIR"
    mount --make-private "$NETFS_NSDIR"

    # Names and no route out: a host reaches only the bridge, and never asks a real DNS server.
    {
        echo "127.0.0.1 localhost"
        echo "$NETFS_SERVER_IP netfs-server"
        for i in $(seq 1 "$NETFS_N"); do echo "$(netfs_host_ip "$i") host$i"; done
    } >"$NETFS_B/etc/hosts"
    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$NETFS_B/etc/resolv.conf"
    # Each host bind-mounts its own copies over these, so they must exist (a minimal root file
    # system, such as a debootstrap minbase, may have neither); an empty one changes nothing.
    local f
    for f in /etc/hosts /etc/resolv.conf; do
        if [ ! -e "$f" ]; then
            netfs_say "$f is missing: creating an empty one for the hosts' bind mounts"
            : >"$f"
        fi
    done

    local i ns
    for i in $(seq 1 "$NETFS_N"); do
        ns=$(netfs_netns "$i")
        ip netns add "$ns"
        ip link add "$NETFS_VETH_PREFIX$i" type veth peer name eth0 netns "$ns"
        ip link set "$NETFS_VETH_PREFIX$i" master "$NETFS_BRIDGE" up
        ip -n "$ns" addr add "$(netfs_host_ip "$i")/24" dev eth0
        ip -n "$ns" link set lo up
        ip -n "$ns" link set eth0 up

        touch "$NETFS_NSDIR/h$i.uts" "$NETFS_NSDIR/h$i.mnt"
        # shellcheck disable=SC2016 # the inner shell expands its arguments
        /usr/bin/nsenter --net="/run/netns/$ns" /usr/bin/unshare --uts="$NETFS_NSDIR/h$i.uts" \
            --mount="$NETFS_NSDIR/h$i.mnt" --propagation private /bin/sh -ec \
            'hostname "$1"; mount --bind "$2/hosts" /etc/hosts
             mount --bind "$2/resolv.conf" /etc/resolv.conf' sh "host$i" "$NETFS_B/etc"
    done
}

start_sshd() {
    local d=$NETFS_B/ssh
    mkdir -p "$d"
    chmod 700 "$d"
    ssh-keygen -q -t ed25519 -N '' -C netfs-host -f "$d/host_key"
    ssh-keygen -q -t ed25519 -N '' -C netfs-client -f "$d/client_key"
    echo "from=\"$NETFS_SUBNET.0/24\",restrict $(cat "$d/client_key.pub")" >"$d/authorized_keys"
    cat >"$d/sshd_config" <<EOF
ListenAddress $NETFS_SERVER_IP:$NETFS_SSH_PORT
HostKey $d/host_key
PidFile none
AuthorizedKeysFile $d/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
AllowUsers root@$NETFS_SUBNET.*
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
MaxStartups 100:30:200
Subsystem sftp internal-sftp
EOF
    cat >"$d/ssh_config" <<EOF
Host *
  User root
  Port $NETFS_SSH_PORT
  IdentityFile $d/client_key
  IdentitiesOnly yes
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  LogLevel ERROR
  BatchMode yes
  ServerAliveInterval 5
  ServerAliveCountMax 3
EOF
    # sshd runs in a mount namespace of its own with an empty /run, so that its privilege
    # separation directory /run/sshd is made there and not on the machine.
    # shellcheck disable=SC2016 # the inner shell expands its arguments
    start_daemon sshd /usr/bin/unshare --mount --propagation private /bin/sh -ec '
        mount -t tmpfs -o mode=755 netfs-run /run
        mkdir -m 755 /run/sshd
        /usr/sbin/sshd -t -f "$1"
        exec /usr/sbin/sshd -D -e -f "$1"' sh "$d/sshd_config"
}

# glusterd runs in a mount namespace of its own, with an empty /run and its own
# /var/lib/glusterd: it and the brick write there whatever their configuration says, and that
# way nothing of theirs lands outside $NETFS_B. gsyncd is replaced there by a stub: glusterd
# runs it about twenty times at start (Python, 0.1-0.5 s each) only to configure
# geo-replication, which the bed does not use.
start_glusterd() {
    local g=$NETFS_B/gluster gsyncd
    mkdir -p "$g/wd" "$g/run" "$g/varlib" "$NETFS_LOG/gluster" "$NETFS_GLUSTER_BRICK"
    gsyncd=$(find /usr/lib /usr/libexec -path '*/glusterfs/gsyncd' -type f -print -quit \
        2>/dev/null || true)
    # shellcheck disable=SC2016 # a script
    printf '#!/bin/sh\n[ "$1" != --version ] || echo "gsyncd.py stub of the netfs test bed"\n' \
        >"$g/gsyncd-stub"
    chmod 755 "$g/gsyncd-stub"
    cat >"$g/glusterd.vol" <<EOF
volume management
    type mgmt/glusterd
    option working-directory $g/wd
    option run-directory $g/run
    option logging-directory $NETFS_LOG/gluster
    option glusterd-sockfile $g/run/glusterd.socket
    option transport-type socket
    option transport.socket.bind-address $NETFS_SERVER_IP
    option transport.socket.listen-port $NETFS_GLUSTER_PORT
    option ping-timeout 0
    option event-threads 1
    option base-port 49152
    option max-port 49251
end-volume
EOF
    # shellcheck disable=SC2016 # the inner shell expands its arguments
    start_daemon glusterd /usr/bin/unshare --mount --propagation private /bin/sh -ec '
        mount -t tmpfs -o mode=755 netfs-run /run
        mount --bind "$1" /var/lib/glusterd
        if [ -n "$2" ]; then mount --bind "$5" "$2"; fi
        exec /usr/sbin/glusterd -N -f "$3" -l "$4"' \
        sh "$g/varlib" "$gsyncd" "$g/glusterd.vol" "$NETFS_LOG/gluster/glusterd.log" \
        "$g/gsyncd-stub"
}

# The gluster command, in glusterd's mount namespace (it too writes to /var/lib/glusterd).
gluster_cli() {
    /usr/bin/nsenter --mount --target "$(netfs_live_pid glusterd)" \
        /usr/sbin/gluster --mode=script --glusterd-sock="$NETFS_B/gluster/run/glusterd.socket" \
        --log-file="$NETFS_LOG/gluster/cli.log" "$@" >>"$NETFS_LOG/gluster/cli.out" 2>&1 ||
        netfs_die "gluster $* failed: $(tail -n 5 "$NETFS_LOG/gluster/cli.out")"
}

make_volume() {
    local vol=$NETFS_GLUSTER_VOLUME kv pidfile
    gluster_cli volume create "$vol" "$NETFS_SERVER_IP:$NETFS_GLUSTER_BRICK" force
    for kv in ${GLUSTER_VOLUME_SET:-}; do
        gluster_cli volume set "$vol" "${kv%%=*}" "${kv#*=}"
    done
    gluster_cli volume start "$vol"

    # The brick daemon (glusterfsd) is started by glusterd; record it as ours too.
    pidfile=$(find "$NETFS_B/gluster/run/vols/$vol" -name '*.pid' -print -quit 2>/dev/null)
    [ -n "$pidfile" ] || netfs_die "no brick pid file under $NETFS_B/gluster/run/vols/$vol"
    netfs_record_pid gluster-brick "$(cat "$pidfile")" || netfs_die "the brick died at start"
}

start_fuse_clients() { # I KIND: KIND is sshfs (both sshfs mounts and faultfs) or gluster
    local i=$1 ssh=$NETFS_B/ssh
    on_host "$i"
    if [ "$2" = gluster ]; then
        # shellcheck disable=SC2086 # GLUSTER_CLIENT_OPTS is a list of arguments
        start_daemon "gluster-h$i" "${ON_HOST[@]}" /usr/sbin/glusterfs -N \
            --volfile-server="$NETFS_SERVER_IP" --volfile-server-port="$NETFS_GLUSTER_PORT" \
            --volfile-id="$NETFS_GLUSTER_VOLUME" --log-file="$NETFS_LOG/gluster/client-h$i.log" \
            ${GLUSTER_CLIENT_OPTS:-} "$NETFS_GLUSTER"
        return
    fi
    start_daemon "sshfs-h$i" "${ON_HOST[@]}" /usr/bin/sshfs -f -F "$ssh/ssh_config" \
        -o "${SSHFS_OPTS:-dir_cache=no,reconnect}" \
        "$NETFS_SERVER_IP:$NETFS_EXPORT" "$NETFS_SSHFS"
    start_daemon "sshfs-cached-h$i" "${ON_HOST[@]}" /usr/bin/sshfs -f -F "$ssh/ssh_config" \
        -o "${SSHFS_CACHED_OPTS:-reconnect}" \
        "$NETFS_SERVER_IP:$NETFS_EXPORT" "$NETFS_SSHFS_CACHED"
    # shellcheck disable=SC2086 # FAULTFS_OPTS is a list of arguments
    start_daemon "faultfs-h$i" "${ON_HOST[@]}" "$NETFS_BIN/faultfs" \
        "$NETFS_FAULTFS_BACKING" "$NETFS_FAULTFS" -f ${FAULTFS_OPTS:-}
}

# True once the daemon NAME has its FUSE mount at MOUNT (seen in its own mount namespace).
has_mount() { # NAME MOUNT
    local pid
    pid=$(netfs_live_pid "$1") || return 1
    awk -v m="$2" '$5 == m && / - fuse/ { found = 1 } END { exit !found }' \
        "/proc/$pid/mountinfo" 2>/dev/null
}

wait_mounts() {
    local i fs name
    for i in $(seq 1 "$NETFS_N"); do
        for fs in $NETFS_FILESYSTEMS; do
            name=$fs-h$i
            for _ in $(seq 1 1500); do
                has_mount "$name" "$NETFS_MNT/$fs" && break
                alive_or_die "$name"
                sleep 0.02
            done
            has_mount "$name" "$NETFS_MNT/$fs" ||
                netfs_die "$NETFS_MNT/$fs is not mounted on host$i after 30 s"
            netfs_in_host "$i" /usr/bin/timeout 30 /usr/bin/stat -f "$NETFS_MNT/$fs" >/dev/null ||
                netfs_die "$NETFS_MNT/$fs on host$i does not answer"
        done
    done
    record_ssh_clients
}

# sshfs starts ssh detached (its parent is init); find those by their config file and host.
record_ssh_clients() {
    local pid ino i k=0
    for pid in $(pgrep -f -- "^ssh .*-F$NETFS_B/ssh/ssh_config"); do
        ino=$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) || continue
        for i in $(seq 1 "$NETFS_N"); do
            if [ "$(stat -L -c %i "/run/netns/$(netfs_netns "$i")")" = "$ino" ]; then
                k=$((k + 1))
                netfs_record_pid "ssh-h$i-$k" "$pid" || true
            fi
        done
    done
}

# Says why setup failed, and tears down a half-made bed.
on_exit() {
    local status=$?
    if [ "$setup_started" = 1 ] && [ "$setup_done" = 0 ]; then
        netfs_say "testbed-up failed (status $status); tearing down what was set up"
        "$here/testbed-down.sh" >&2 || true
        [ "$status" != 0 ] || status=1
    elif [ "$status" != 0 ] && [ "$status" != 77 ]; then
        netfs_say "testbed-up failed (status $status) before setting anything up"
    fi
    exit "$status"
}

setup_started=0
setup_done=0

main() {
    local t0
    t0=$(netfs_now_ms)
    trap on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    netfs_require_fuse

    rm -rf "$NETFS_LOG"
    mkdir -p "$NETFS_LOG"
    if [ "${INSTALL:-1}" != 0 ]; then
        install_packages
    fi
    netfs_require_netns

    # Clean whatever an earlier run left, with the names it recorded.
    if [ -e "$NETFS_STATE" ] || [ -n "$(netfs_existing_hosts)" ] ||
        ip link show "$NETFS_BRIDGE" >/dev/null 2>&1; then
        netfs_say "tearing down an earlier test bed first"
        "$here/testbed-down.sh" || netfs_die "could not tear down the earlier test bed"
    fi

    local t1
    t1=$(netfs_now_ms)
    export NETFS_N=$requested_n
    if ! [[ $NETFS_N =~ ^[1-9][0-9]?$ ]] || [ "$NETFS_N" -gt 80 ]; then
        netfs_die "N must be 1..80, not '$NETFS_N'"
    fi

    setup_started=1

    mkdir -p "$NETFS_STATE/pids" "$NETFS_LOG" "$NETFS_NSDIR" "$NETFS_B/etc" "$NETFS_EXPORT" \
        "$NETFS_FAULTFS_BACKING"
    local fs
    for fs in $NETFS_FILESYSTEMS; do mkdir -p "$NETFS_MNT/$fs"; done
    echo "$NETFS_N" >"$NETFS_STATE/hosts"

    # glusterd takes the longest to get ready: start the servers first.
    netfs_phase start
    make_bridge
    start_glusterd
    start_sshd
    netfs_phase "start servers"
    if ! [ -x "$NETFS_BIN/faultfs" ] || [ "$here/faultfs.c" -nt "$NETFS_BIN/faultfs" ]; then
        "$here/build-faultfs.sh" "$NETFS_BIN" >/dev/null
    fi
    netfs_phase "build faultfs"
    make_hosts
    netfs_phase "make hosts"

    wait_listener sshd "$NETFS_SERVER_IP" "$NETFS_SSH_PORT"
    local i
    for i in $(seq 1 "$NETFS_N"); do start_fuse_clients "$i" sshfs; done
    netfs_phase "start sshfs and faultfs"

    wait_listener glusterd "$NETFS_SERVER_IP" "$NETFS_GLUSTER_PORT"
    netfs_phase "wait for glusterd"
    make_volume
    netfs_phase "make volume"
    for i in $(seq 1 "$NETFS_N"); do start_fuse_clients "$i" gluster; done

    wait_mounts
    netfs_phase "wait for mounts"
    setup_done=1

    local t2
    t2=$(netfs_now_ms)
    echo "$((t2 - t1))" >"$NETFS_STATE/setup-ms"
    netfs_say "test bed up: $NETFS_N hosts in $((t2 - t1)) ms (packages and checks $((t1 - t0)) ms)"
    netfs_say "mounts on every host: $NETFS_GLUSTER $NETFS_SSHFS $NETFS_SSHFS_CACHED $NETFS_FAULTFS"
    netfs_say "run on host I: $here/on-host.sh I CMD...; tear down: $here/testbed-down.sh"
}

main "$@"
