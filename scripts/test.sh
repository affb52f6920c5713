#!/usr/bin/env bash
# The whole test suite: install dependencies, build twice (Release, and Debug with AddressSanitizer + UBSan), run
# every test in both. Corpus tests run when the labelled corpus is unpacked (MAMORI_CORPUS, default
# /tmp/mamori-corpus) and skip otherwise.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
"$here/install-deps.sh"
"$here/build.sh" release
(cd build-release && ctest --output-on-failure -j "$(nproc)")
"$here/build.sh" asan
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp}
(cd build-asan && ctest --output-on-failure -j "$(nproc)")
echo "all tests passed (release and asan/ubsan builds)"
