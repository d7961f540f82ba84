#!/bin/bash
# Runs a command on test-bed host I: in its network, UTS and mount namespaces, so it sees the
# host's hostname, address and mounts. The working directory is kept (it falls back to / when
# the host has no such directory), so `cd "$NETFS_SSHFS" && on-host.sh 2 ls` lists host2's view.
#
# Usage: on-host.sh I CMD [ARG...]      e.g. on-host.sh 1 /usr/bin/python3 -c '...'
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
. "$here/env.sh"

if [ $# -lt 2 ] || ! [[ $1 =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: ${0##*/} HOST_NUMBER CMD [ARG...]" >&2
    exit 2
fi
i=$1
shift

net=/run/netns/$NETFS_NETNS_PREFIX$i
if ! [ -e "$net" ] || ! [ -e "$NETFS_NSDIR/h$i.mnt" ]; then
    echo "${0##*/}: host $i is not up (run testbed-up.sh; NETFS_B=$NETFS_B)" >&2
    exit 2
fi

wd=$PWD
if ! /usr/bin/nsenter --mount="$NETFS_NSDIR/h$i.mnt" /usr/bin/test -d "$wd" 2>/dev/null; then
    wd=/
fi
exec /usr/bin/nsenter --net="$net" --uts="$NETFS_NSDIR/h$i.uts" --mount="$NETFS_NSDIR/h$i.mnt" \
    --wd="$wd" "$@"
