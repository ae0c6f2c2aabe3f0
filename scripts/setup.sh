#!/usr/bin/env bash
# Installs SparseWorld's build and test dependencies on Debian 12, idempotently.
# Usage: scripts/setup.sh [--core]   (--core: no SDL2/Vulkan/ImGui/FFmpeg, for headless servers)
# On a system without apt-get it prints the list of what to install and exits 1.
set -euo pipefail

# libopenblas0-pthread: Debian's libtorch multiplies through whichever libblas.so.3 is installed,
# and the reference BLAS made a CPU rollout ~10x slower (27.8 vs 3.0 s per chunk, docs/BENCHMARKS.md session 9).
core_packages=(
  build-essential cmake ninja-build pkg-config git
  libglm-dev libtorch-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libspdlog-dev libstb-dev
  libopenblas0-pthread
)
player_packages=(
  libsdl2-dev libvulkan-dev vulkan-tools glslc vulkan-validationlayers
  libimgui-dev libavcodec-dev libavformat-dev libswscale-dev libavutil-dev
  xvfb
)
# Listed explicitly: with --no-install-recommends they would otherwise be missing.
explicit_packages=(xauth mesa-vulkan-drivers)

want=("${core_packages[@]}")
if [[ "${1:-}" != "--core" ]]; then
  want+=("${player_packages[@]}" "${explicit_packages[@]}")
fi

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
  echo "setup.sh: no apt-get here (not Debian/Ubuntu). Install these (Debian names) by other means, then run cmake:" >&2
  echo "  ${want[*]}" >&2
  exit 1
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup.sh: all ${#want[@]} packages already installed"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
echo "setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup.sh: done"
