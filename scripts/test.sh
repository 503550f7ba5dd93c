#!/usr/bin/env bash
# Install what Forge needs, build it (Release), and run every test.
#   scripts/test.sh            # from a fresh Debian 12 machine, as root
# Environment: BUILD_DIR (default build), JOBS (default: all cores), CTEST_ARGS (extra ctest flags).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}

start=$(date +%s)
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD_DIR" -j "$JOBS"
built=$(date +%s)
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" ${CTEST_ARGS:-}
done_at=$(date +%s)
echo "test.sh: build $((built - start)) s, tests $((done_at - built)) s"
