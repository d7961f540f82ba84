# The Debian 12 packages locknix needs; sourced by tests/run.sh and examples/demo.sh.
# shellcheck shell=bash disable=SC2034
locknix_build_packages=(
    ca-certificates git cmake make g++ pkg-config
    libboost1.81-dev libboost-test1.81-dev
)
locknix_test_packages=(
    clang clang-format libclang-rt-14-dev
    python3 python3-flufl.lock util-linux procps strace
)
