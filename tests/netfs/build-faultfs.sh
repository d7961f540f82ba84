#!/bin/bash
# Builds faultfs (the fault-injecting FUSE passthrough) into OUTDIR (default $NETFS_B/bin).
# Usage: build-faultfs.sh [OUTDIR]
# Needs gcc, pkg-config and libfuse3-dev (testbed-up.sh installs them).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
. "$here/env.sh"

out=${1:-$NETFS_B/bin}
mkdir -p "$out"

cflags=$(pkg-config --cflags fuse3)
libs=$(pkg-config --libs fuse3)
# shellcheck disable=SC2086 # pkg-config output is a list of words
gcc -std=c11 -O2 -g -Wall -Wextra -Werror -DHAVE_UTIMENSAT $cflags \
    -o "$out/faultfs.tmp" "$here/faultfs.c" $libs
mv -f "$out/faultfs.tmp" "$out/faultfs"
echo "built $out/faultfs"
