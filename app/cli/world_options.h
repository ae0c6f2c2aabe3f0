// The world-choosing flags `play` and `run` share (--world, --model, --device, --method,
// --context-noise, the sampler's guidance), declared once so both commands stay in step.
#pragma once

#include <CLI/CLI.hpp>

#include "number_check.h"
#include "player/worlds.h"

namespace sw::cli {

inline void add_world_options(CLI::App* cmd, player::WorldChoice& world) {
  cmd->add_option("--world", world.name, "World: auto (neural with the model on a GPU, else reference), reference or neural")
      ->capture_default_str();
  cmd->add_option("--model", world.model_path, "Neural world: model file (safetensors; shards found by name)")->capture_default_str();
  cmd->add_option("--device", world.device, "Neural world: auto, cpu or cuda")->capture_default_str()->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  cmd->add_option("--method", world.method, "Neural world: attention method at start (dense, window, sparse-forcing, light-forcing, tempcache)")
      ->capture_default_str();
  cmd->add_option("--context-noise", world.context_noise, "Neural world: noise level frames are committed at (match train --context-noise)")
      ->capture_default_str()->check(CLI::Range(0.0, 0.5));
  add_guidance_options(cmd, world.action_guidance, world.history_guidance, "Neural world: ");
}

}  // namespace sw::cli
