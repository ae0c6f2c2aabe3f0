#!/usr/bin/env bash
# Downloads (does not install) the Debian 12 .deb files that the GPU build needs and a headless
# GPU server may lack: header-only libraries, fmt/spdlog and GoogleTest. The server unpacks them
# with `dpkg -x` into a prefix (scripts/gpu_train_eval.sh, docs/GPU.md).
# Usage: scripts/gpu_deps.sh DIR   (run on Debian 12; DIR is created)
set -euo pipefail
dir=${1:?usage: scripts/gpu_deps.sh DIR}
mkdir -p "$dir"
cd "$dir"
apt-get download libgtest-dev libgmock-dev googletest nlohmann-json3-dev libcli11-dev libfmt-dev libfmt9 \
  libstb-dev libglm-dev libspdlog-dev libspdlog1.10
ls
