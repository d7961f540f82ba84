#!/bin/bash
# Stands up a one-brick GlusterFS volume on this machine and FUSE-mounts it, so that the
# benchmarks can run on it:
#
#   benchmarks/gluster_local.sh up      # prints the mounted folder
#   GLUSTER_DIR=/var/tmp/locknix-bench-gluster/mnt benchmarks/run.sh
#   benchmarks/gluster_local.sh down
#
# Client and brick run on one host, so this measures the FUSE client and the Gluster protocol,
# not a network. glusterd refuses a loopback brick address, so the volume lives on an address of
# a bridge this script creates. The bridge, address, ports, sockets and state folder are this
# script's own (lnbench0, 10.79.0.1, bricks from port 49300), apart from the netfs test bed's.
# glusterd listens on the standard port 24007, but on that address only: bricks always fetch
# their volume file from port 24007. Needs root, /dev/fuse and glusterfs-server + glusterfs-client (installed unless
# INSTALL=0).
set -Eeuo pipefail

base=${GLUSTER_BENCH_BASE:-/var/tmp/locknix-bench-gluster}
bridge=lnbench0
address=10.79.0.1
port=24007
volume=lnbench
socket=$base/run/glusterd.socket

cli() { gluster --glusterd-sock="$socket" --mode=script "$@"; }

wait_for() {
    # $1 tries of 0.1 s, then the command
    local tries=$1
    shift
    for _ in $(seq "$tries"); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

up() {
    [ -c /dev/fuse ] || { echo "gluster_local: no /dev/fuse" >&2; exit 77; }
    if [ "${INSTALL:-1}" != 0 ] && ! command -v glusterd >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            glusterfs-server glusterfs-client >/dev/null
    fi
    mkdir -p "$base"/{wd,log,brick,mnt,run}
    trap 'echo "gluster_local: setup failed, see $base/log; tearing down" >&2; keep_logs=1 down' ERR

    ip link add "$bridge" type bridge
    ip addr add "$address/24" dev "$bridge"
    ip link set "$bridge" up

    cat >"$base/glusterd.vol" <<EOF
volume management
    type mgmt/glusterd
    option working-directory $base/wd
    option run-directory $base/run
    option logging-directory $base/log
    option glusterd-sockfile $socket
    option transport-type socket
    option transport.socket.bind-address $address
    option transport.socket.listen-port $port
    option ping-timeout 0
    option event-threads 1
    option base-port 49300
    option max-port 49340
end-volume
EOF
    glusterd -N -f "$base/glusterd.vol" -l "$base/log/glusterd.log" >/dev/null 2>&1 </dev/null &
    echo $! >"$base/run/glusterd.pid"
    wait_for 100 sh -c "ss -ltn | grep -q '$address:$port ' && [ -S '$socket' ]" ||
        { echo "gluster_local: glusterd did not listen, see $base/log" >&2; exit 1; }

    cli volume create "$volume" "$address:$base/brick" force >/dev/null
    cli volume start "$volume" >/dev/null
    mount -t glusterfs -o "log-file=$base/log/client.log" \
        "$address:/$volume" "$base/mnt"
    wait_for 50 mountpoint -q "$base/mnt"
    echo "$base/mnt"
}

down() {
    if mountpoint -q "$base/mnt"; then
        umount "$base/mnt"
    fi
    if [ -f "$base/run/glusterd.pid" ]; then
        cli volume stop "$volume" >/dev/null 2>&1 || true
        cli volume delete "$volume" >/dev/null 2>&1 || true
        local pid
        pid=$(cat "$base/run/glusterd.pid")
        kill "$pid" 2>/dev/null || true
        wait_for 50 sh -c "! kill -0 $pid 2>/dev/null" || true
        rm -f "$base/run/glusterd.pid"
    fi
    if ip link show "$bridge" >/dev/null 2>&1; then
        ip link del "$bridge"
    fi
    if [ "${keep_logs:-0}" = 1 ]; then
        rm -rf "${base:?}"/{wd,brick,mnt,run}
    else
        rm -rf "$base"
    fi
}

case ${1:-} in
up) up ;;
down) down ;;
*)
    echo "usage: $0 up|down" >&2
    exit 2
    ;;
esac
