#!/usr/bin/env bash
# Configures the core build (no SDL2/Vulkan/ImGui/FFmpeg) on a headless GPU server that has only
# the CUDA toolkit, CMake, Ninja and a PyTorch install (libtorch is taken from it). Header-only
# dependencies and GoogleTest may come from Debian .deb files unpacked into a prefix:
# SW_DEPS_PREFIX=/tmp/deps/usr (docs/GPU.md). Shared by gpu_build_and_test.sh and gpu_train_eval.sh.
# Usage: scripts/gpu_configure.sh BUILD_DIR
# Test: the device calls of both scripts; without torch it names the missing piece.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: gpu_configure.sh BUILD_DIR}
if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then export PATH=/usr/local/cuda/bin:$PATH; fi
torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)' 2>/dev/null) || {
  echo "gpu_configure.sh: python3 cannot import torch; install PyTorch (CUDA build) first" >&2
  exit 1
}
prefix=$torch_prefix
[[ -n ${SW_DEPS_PREFIX:-} ]] && prefix="$SW_DEPS_PREFIX;$prefix"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSW_PLAYER=OFF \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CUDA_ARCHITECTURES="${SW_CUDA_ARCHITECTURES:-90}"
