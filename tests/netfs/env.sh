# shellcheck shell=bash
# The names and paths of the network file system test bed, in one place.
# Source it: . tests/netfs/env.sh
#
# Optional inputs:
#   NETFS_B (or B)     base directory of the bed             default /tmp/locknix-netfs
#   NETFS_N (or N)     number of hosts                       default: as recorded by testbed-up.sh,
#                                                            else 3
#   NETFS_SUBNET       first three octets of the bridge net  default 10.77.0
#
# Every path below is the same on every host; a mount path is an empty directory outside the hosts.

export NETFS_B=${NETFS_B:-${B:-/tmp/locknix-netfs}}
export NETFS_STATE=$NETFS_B/state # pids, host count, logs of the daemons

if [ -z "${NETFS_N:-}" ]; then
    if [ -n "${N:-}" ]; then
        NETFS_N=$N
    elif [ -r "$NETFS_STATE/hosts" ]; then
        NETFS_N=$(cat "$NETFS_STATE/hosts")
    else
        NETFS_N=3
    fi
fi
export NETFS_N

export NETFS_SUBNET=${NETFS_SUBNET:-10.77.0}
export NETFS_SERVER_IP=$NETFS_SUBNET.1 # the root namespace: sshd, glusterd and the brick
export NETFS_BRIDGE=lnxnfs0
export NETFS_NETNS_PREFIX=lnxnfs-h # network namespace of host I: ${NETFS_NETNS_PREFIX}I
export NETFS_VETH_PREFIX=lnxnfs-v  # root side of host I's link: ${NETFS_VETH_PREFIX}I
export NETFS_SSH_PORT=2222
export NETFS_GLUSTER_PORT=24007
export NETFS_GLUSTER_VOLUME=locknix

export NETFS_BIN=$NETFS_B/bin     # faultfs
export NETFS_NSDIR=$NETFS_B/ns    # UTS and mount namespace files of the hosts
export NETFS_LOG=$NETFS_B/log

# Server-side directories (root namespace). Touch the brick only through a mount.
export NETFS_EXPORT=$NETFS_B/export                   # what both sshfs mounts serve
export NETFS_FAULTFS_BACKING=$NETFS_B/faultfs-backing # what every faultfs mount passes through to
export NETFS_GLUSTER_BRICK=$NETFS_B/gluster/brick

# Mount points, the same path on every host.
export NETFS_MNT=$NETFS_B/mnt
export NETFS_GLUSTER=$NETFS_MNT/gluster           # GlusterFS FUSE client, default caching
export NETFS_SSHFS=$NETFS_MNT/sshfs               # sshfs -o dir_cache=no,reconnect
export NETFS_SSHFS_CACHED=$NETFS_MNT/sshfs-cached # sshfs -o reconnect, default directory cache
export NETFS_FAULTFS=$NETFS_MNT/faultfs           # faultfs, one daemon per host
export NETFS_FAULTFS_CTL=$NETFS_FAULTFS/.faultfs-ctl
export NETFS_FILESYSTEMS="gluster sshfs sshfs-cached faultfs" # names under $NETFS_MNT

NETFS_ON_HOST=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/on-host.sh
export NETFS_ON_HOST

# The address of host I.
netfs_host_ip() {
    echo "$NETFS_SUBNET.$((10 + $1))"
}
