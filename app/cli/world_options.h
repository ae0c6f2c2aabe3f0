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
  cmd->add_option("--memory-slots", world.memory_slots, "Neural world: sparse-forcing's persistent memory blocks per head and layer (-1: the model's)")
      ->capture_default_str()
      ->check(CLI::Range(-1, kMaxMemorySlots));
  cmd->add_option("--memory-top-k", world.memory_top_k, "Neural world: sparse-forcing's memory blocks kept per query block by score (0: every slot)")
      ->capture_default_str()
      ->check(whole_number_check(0, INT64_MAX, "[0, 2^63)"));
  cmd->add_option("--memory-distance", world.memory_distance,
                  "Neural world: frames before the generated chunk at which sparse-forcing's memory keys sit (0: at their own frames)")
      ->capture_default_str()
      ->check(whole_number_check(0, int64_t{1} << 20, "[0, 2^20]"));
}

}  // namespace sw::cli
