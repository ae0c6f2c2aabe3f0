#!/usr/bin/env bash
# Sets up, builds and runs the main job. Extra arguments go to the command.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset default
cmake --build --preset default
# Until the player lands, the main job renders the reference world to PNG files.
exec ./build/default/sparseworld world --seed 1 --agent explorer --frames 200 --every 10 --out out/world "$@"
