#!/bin/bash
# Arms faultfs rules on one host of the bed while the suite's workers run: a round writes every
# RULE to the host's control file, then waits until faultfs has used them all up (the control
# file lists no rule any more). After ROUNDS rounds, or once the file STOP exists, it clears the
# rules and prints "result rounds=N" (the rounds begun).
#
# Usage: fault-feeder.sh HOST ROUNDS STOP RULE...
#   e.g. fault-feeder.sh 2 3 /tmp/stop 'link_after EIO 1 lock' 'link_before ESTALE 2 lock'
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
. "$here/env.sh"

host=$1 max_rounds=$2 stop=$3
shift 3

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
while [ "$rounds" -lt "$max_rounds" ] && ! [ -e "$stop" ]; do
    ctl_write "$@" || {
        echo "fault-feeder: host$host refused a rule of: $*" >&2
        exit 1
    }
    rounds=$((rounds + 1))
    while armed && ! [ -e "$stop" ]; do sleep 0.1; done
done
while armed && ! [ -e "$stop" ]; do sleep 0.1; done
ctl_write clear
echo "result rounds=$rounds"
