#!/usr/bin/env bash
# scripts/build.sh [release|asan|fuzz] - configures and builds into build-<flavour>/.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
case "$flavour" in
  release) args=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan)    args=(-DCMAKE_BUILD_TYPE=Debug -DMAMORI_SANITIZE=ON -DMAMORI_BENCH=OFF) ;;
  fuzz)    args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAMORI_FUZZ=ON -DMAMORI_TESTS=OFF -DMAMORI_BENCH=OFF
                 -DCMAKE_CXX_COMPILER=clang++-14) ;;
  *) echo "usage: $0 [release|asan|fuzz]" >&2; exit 2 ;;
esac
cmake -S . -B "build-$flavour" -G Ninja "${args[@]}" >/dev/null
ninja -C "build-$flavour" -j "${JOBS:-$(nproc)}"
