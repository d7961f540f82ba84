#!/usr/bin/env bash
# Builds locknix and runs every suite: the README's test command, and what CI runs.
#
#   tests/run.sh [--quick] [--no-install] [--no-sanitizers] [--no-netfs] [--no-bench]
#
# Installs what it needs from Debian's packages (as root, or through sudo), then:
#   1. clang-format check of every C and C++ file;
#   2. a warnings-as-errors build and the whole ctest suite;
#   3. the same suite under ASan+UBSan (gcc), the unit and async suites under TSan (clang), and
#      a bounded libFuzzer run of the lock-content parser (clang);
#   4. the multi-host suite on GlusterFS, sshfs and a fault-injecting FUSE file system;
#   5. one short iteration of the benchmarks, so they do not rot.
# --quick runs steps 1 and 2 only. Build trees go to build/tests-*.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=0 install=1 sanitizers=1 netfs=1 bench=1
for arg in "$@"; do
    case $arg in
    --quick) quick=1 ;;
    --no-install) install=0 ;;
    --no-sanitizers) sanitizers=0 ;;
    --no-netfs) netfs=0 ;;
    --no-bench) bench=0 ;;
    -h | --help)
        sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "tests/run.sh: unknown option '$arg' (see --help)" >&2
        exit 64
        ;;
    esac
done
if [ "$quick" = 1 ]; then sanitizers=0 netfs=0 bench=0; fi

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}
step() { printf '\n==> %s\n' "$*"; }

if [ "$install" = 1 ]; then
    step "installing build and test packages"
    # shellcheck source=tests/packages.sh
    . "$root/tests/packages.sh"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${locknix_build_packages[@]}" "${locknix_test_packages[@]}" >/dev/null
fi

jobs=$(nproc)
failed=()

step "clang-format check"
mapfile -t sources < <(cd "$root" && git ls-files '*.cpp' '*.hpp' '*.c' '*.h')
if (cd "$root" && clang-format --dry-run -Werror "${sources[@]}"); then
    echo "clang-format: ${#sources[@]} files clean"
else
    failed+=("clang-format")
fi

# build_and_test NAME CTEST_REGEX CMAKE_ARGS...; TARGETS="a b" builds only those targets.
build_and_test() {
    local name=$1 regex=$2
    shift 2
    local dir="$root/build/tests-$name" targets=()
    [ -n "${TARGETS:-}" ] && read -ra targets <<<"--target $TARGETS"
    step "build ($name)"
    cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOCKNIX_WARNINGS_AS_ERRORS=ON \
        "$@" >/dev/null
    if ! cmake --build "$dir" -j "$jobs" "${targets[@]}" >"$dir/build.log" 2>&1; then
        tail -50 "$dir/build.log"
        failed+=("build-$name")
        return
    fi
    step "test ($name)"
    local args=(--test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600)
    [ -n "$regex" ] && args+=(-R "$regex")
    ctest "${args[@]}" || failed+=("test-$name")
}

build_and_test release ""
if [ "$sanitizers" = 1 ]; then
    build_and_test asan "" -DLOCKNIX_SANITIZE=address,undefined -DLOCKNIX_BUILD_BENCHMARKS=OFF
    build_and_test tsan '^(unit|async)\.' -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
        -DLOCKNIX_SANITIZE=thread -DLOCKNIX_BUILD_BENCHMARKS=OFF -DLOCKNIX_BUILD_EXAMPLES=OFF
    # libFuzzer needs clang and cannot link with TSan: the lock-content parser gets its own build.
    TARGETS="locknix_claim_fuzzer locknix_claim_corpus_replay" build_and_test fuzz '^fuzz\.' \
        -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DLOCKNIX_BUILD_BENCHMARKS=OFF \
        -DLOCKNIX_BUILD_EXAMPLES=OFF
fi

if [ "$netfs" = 1 ] && [ -x "$root/tests/netfs/suite.sh" ]; then
    step "multi-host suite (GlusterFS, sshfs, fault-injecting FUSE)"
    LOCKNIX_BUILD="$root/build/tests-release" "$root/tests/netfs/suite.sh" || failed+=("netfs")
fi

if [ "$bench" = 1 ] && [ -x "$root/benchmarks/run.sh" ]; then
    step "benchmarks, one short iteration"
    LOCKNIX_BUILD="$root/build/tests-release" "$root/benchmarks/run.sh" --quick \
        --out "$root/build/bench-quick" || failed+=("benchmarks")
fi

echo
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all suites passed"
