#!/bin/bash
# Builds the benchmark drivers and runs every scenario; results go to benchmarks/results/ (or
# --out DIR): results.json, CSV files, results.md and the charts.
#
#   benchmarks/run.sh [--quick] [--out DIR] [--only-peers] [--scenarios cycle,handoff,...]
#
# Environment:
#   INSTALL=0       do not apt-get the Debian packages the drivers need
#   LOCKNIX=0       build the peer drivers only (standalone cmake of benchmarks/)
#   BUILD_DIR=DIR   build folder (default benchmarks/build)
#   GLUSTER_DIR=D   also measure on this mounted GlusterFS folder
#   BENCH_DISK_DIR, BENCH_TMPFS_DIR   the local folders (default /var/tmp and /dev/shm)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
build=${BUILD_DIR:-$here/build}
python=/usr/bin/python3
bench_args=()
out=$here/results

while [ $# -gt 0 ]; do
    case $1 in
    --quick | --only-peers) bench_args+=("$1") ;;
    --out)
        out=${2:?--out needs a folder}
        shift
        ;;
    --scenarios)
        bench_args+=("$1" "${2:?--scenarios needs a list}")
        shift
        ;;
    -h | --help)
        sed -n '2,14p' "$0"
        exit 0
        ;;
    *)
        echo "run.sh: unknown argument $1" >&2
        exit 2
        ;;
    esac
    shift
done

log() { echo "[$(date +%H:%M:%S)] $*"; }

install_packages() {
    local wanted=(cmake make gcc g++ libboost1.81-dev liblockfile-dev liblockfile-bin
        python3-flufl.lock python3-matplotlib strace)
    local missing=()
    for package in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" ||
            missing+=("$package")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return
    fi
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Everything at -O2 (the library too), whatever the generator's default for Release is.
cmake_flags=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG"
    -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG")
if command -v ninja >/dev/null; then
    cmake_flags+=(-G Ninja)
fi

peer_targets=(floor flock_driver liblockfile_driver)
locknix_targets=(locknix_blocking locknix_async async_scale)

# Builds the peer drivers (they must build) and every locknix driver the build knows, keeping
# going past failures: a driver whose part of the library has not landed yet (or does not
# build) is left out, never run stale.
build_targets() {
    local folder=$1 drivers_folder=$2 log_file=$3 target known keep_going=(-k)
    local wanted=("${peer_targets[@]}")
    known=$(cmake --build "$folder" --target help 2>/dev/null || true)
    for target in "${locknix_targets[@]}"; do
        rm -f "$drivers_folder/$target"
        if grep -qE "^(\.\.\. )?$target(:|\$)" <<<"$known"; then
            wanted+=("$target")
        fi
    done
    if [ -f "$folder/build.ninja" ]; then
        keep_going=(-k 0)
    fi
    cmake --build "$folder" -j "$(nproc)" --target "${wanted[@]}" -- "${keep_going[@]}" \
        >>"$log_file" 2>&1 || true

    for target in "${wanted[@]}"; do
        if [ ! -x "$drivers_folder/$target" ]; then
            log "$target did not build (see $log_file); its rows are left out"
            [[ " ${peer_targets[*]} " == *" $target "* ]] && return 1
        fi
    done
    return 0
}

# With the library: the top-level project, benchmarks/ added as a subdirectory.
build_with_locknix() {
    grep -q LOCKNIX_BUILD_BENCHMARKS "$repo/CMakeLists.txt" 2>/dev/null || return 1
    log "building the library and the drivers in $build/full"
    : >"$build/full.log"
    cmake -S "$repo" -B "$build/full" "${cmake_flags[@]}" -DLOCKNIX_BUILD_BENCHMARKS=ON \
        -DLOCKNIX_BUILD_TESTS=OFF -DLOCKNIX_BUILD_EXAMPLES=OFF -DLOCKNIX_BUILD_CLI=OFF \
        -DLOCKNIX_INSTALL=OFF \
        >>"$build/full.log" 2>&1 || return 1
    build_targets "$build/full" "$build/full/benchmarks" "$build/full.log" || return 1
    drivers=$build/full/benchmarks
}

# Without it: the peer drivers alone.
build_peers_only() {
    log "building the peer drivers in $build/peers"
    : >"$build/peers.log"
    cmake -S "$here" -B "$build/peers" "${cmake_flags[@]}" >>"$build/peers.log" 2>&1 &&
        build_targets "$build/peers" "$build/peers" "$build/peers.log" ||
        { cat "$build/peers.log" >&2; exit 1; }
    drivers=$build/peers
}

if [ "${INSTALL:-1}" != 0 ]; then
    install_packages
fi
mkdir -p "$build"
drivers=
if [ "${LOCKNIX:-1}" != 0 ] && ! build_with_locknix; then
    log "the library did not build (see $build/full.log); measuring the peers only"
    drivers=
fi
if [ -z "$drivers" ]; then
    build_peers_only
fi
built=()
for target in "${peer_targets[@]}" "${locknix_targets[@]}"; do
    [ -x "$drivers/$target" ] && built+=("$target")
done
log "drivers: ${built[*]}"

"$python" "$here/bench.py" --build "$drivers" --out "$out" "${bench_args[@]}"
"$python" "$here/report.py" --out "$out"
