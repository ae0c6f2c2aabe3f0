#!/usr/bin/env bash
# Sets up, builds and runs every test (labels fast, slow, gpu; gpu tests skip without a device).
# Usage: scripts/test.sh [ctest args...]   e.g. scripts/test.sh -L fast
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset default
cmake --build --preset default
ctest --preset default -j "$(nproc)" "$@"
