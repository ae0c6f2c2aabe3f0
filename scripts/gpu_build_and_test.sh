#!/usr/bin/env bash
# Builds the core configuration (scripts/gpu_configure.sh: no SDL2/Vulkan/ImGui/FFmpeg) on a
# headless GPU server, then runs the gpu-labelled tests. SW_DEPS_PREFIX=/tmp/deps/usr points at
# unpacked .deb files of the header-only dependencies and GoogleTest (see docs/GPU.md).
# Usage: scripts/gpu_build_and_test.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/gpu}
scripts/gpu_configure.sh "$build"
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" -L gpu --output-on-failure
