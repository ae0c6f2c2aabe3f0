#!/usr/bin/env bash
# Sets up, builds and runs the main job. Extra arguments go to the command.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset default
cmake --build --preset default
# The main job: play the world in a window (WASD/arrows, Shift sprint, E use, M mouse look, F1 panel).
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
  echo "play.sh: no display (DISPLAY is not set). Run it from a desktop session, or under a virtual X server:" >&2
  echo "  xvfb-run -a -s '-screen 0 1280x720x24' scripts/play.sh --frames 200 --screenshot out/play.png" >&2
  echo "or render without a window:" >&2
  echo "  ./build/default/sparseworld run --headless --agent explorer --frames 200 --screenshot-every 20 --out out/run" >&2
  exit 3
fi
exec ./build/default/sparseworld play "$@"
