#!/bin/bash
# Arms faultfs rules on one host of the bed, round after round, while the suite's workers run:
# a round writes every RULE to the host's control file, then waits until faultfs has used them
# all up (the control file lists no rule any more), then begins the next round. Stops when the
# file STOP exists, clears the rules and prints "result rounds=N".
#
# Usage: fault-feeder.sh HOST STOP RULE...      e.g. fault-feeder.sh 2 /tmp/stop 'link_after EIO'
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
. "$here/env.sh"

host=$1 stop=$2
shift 2

# Writes each rule in a write of its own, as the control language wants.
ctl_write() {
    # shellcheck disable=SC2016 # the inner shell expands its arguments
    "$NETFS_ON_HOST" "$host" /bin/sh -c 'ctl=$1; shift; for r; do printf "%s\n" "$r" >"$ctl" ||
        exit 1; done' sh "$NETFS_FAULTFS_CTL" "$@"
}

armed() {
    "$NETFS_ON_HOST" "$host" cat "$NETFS_FAULTFS_CTL" | grep -q '^rule '
}

rounds=0
while ! [ -e "$stop" ]; do
    ctl_write "$@" || {
        echo "fault-feeder: host$host refused a rule of: $*" >&2
        exit 1
    }
    rounds=$((rounds + 1))
    while armed && ! [ -e "$stop" ]; do sleep 0.1; done
done
ctl_write clear
echo "result rounds=$rounds"
