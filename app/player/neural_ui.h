// The neural world in the player: construction from the command line's choice, and the panel's
// attention section (method switch, knobs, density, recall, cache bytes, per-stage GPU times).
// Built only with libtorch (SW_HAVE_NEURAL_WORLD). Test: tests/app/test_neural_player.cpp.
#pragma once

#include <functional>
#include <memory>

#include "player/worlds.h"

namespace sw::player {

struct NeuralWorldHandle {
  std::unique_ptr<World> world;
  std::function<void()> attention_ui;  // ImGui widgets; call between NewFrame and Render
};

NeuralWorldHandle make_neural_world(const WorldChoice& choice);

}  // namespace sw::player
