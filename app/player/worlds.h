// Builds the worlds a session shows: one, or two fed the same actions for the side-by-side view
// (the neural world beside its ground truth, or reference beside reference).
// Test: tests/app/test_cli_player.cpp (RunSideBySide), tests/app/test_neural_player.cpp.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sparseworld/sim/reference_world.h"

namespace sw::player {

// The bundled model (assets/ of the source tree the binary was built from).
#ifndef SW_DEFAULT_MODEL
#define SW_DEFAULT_MODEL "assets/model.safetensors"
#endif

// Which world to build and, for the neural one, from what.
struct WorldChoice {
  std::string name = "auto";                       // auto | reference | neural
  std::string model_path = SW_DEFAULT_MODEL;
  std::string device = "auto";                     // neural: auto | cpu | cuda
  // neural: attention method at start. Sparse-forcing (with its memory counts capped, max_count 1):
  // with the shipped model (run 11) its 300-s rollout stays within the truth's image statistics,
  // it beats window at 20 s, 60 s and on revisits, and its cache is bounded (docs/BENCHMARKS.md,
  // session 6; uncapped it froze on a wall, so sessions 5 started with window).
  std::string method = "sparse-forcing";
  double context_noise = 0.1;                      // neural: noise level of committed frames
  double action_guidance = 1.0;                    // neural: NeuralWorldParams::action_guidance
  double history_guidance = 1.0;                   // neural: NeuralWorldParams::history_guidance
  int memory_slots = -1;                           // neural: NeuralWorldParams::memory_slots (-1: the model's)
  int64_t memory_top_k = 0;                        // neural: SparseForcingParams::memory_top_k at start
  int64_t memory_distance = 0;                     // neural: SparseForcingParams::memory_time_distance at start
};

struct WorldSet {
  std::vector<std::unique_ptr<World>> owned;
  ReferenceWorld* reference = nullptr;  // the ground truth agents look at (nullptr: none shown)
  // Draws the panel's attention section for the first world (empty: it has no attention).
  std::function<void()> attention_ui;
  std::vector<World*> views() const {
    std::vector<World*> v;
    for (const auto& w : owned) v.push_back(w.get());
    return v;
  }
};

// `auto`: the neural world with the model where it can play in real time (this build has it, a
// CUDA device, the model file), else the reference world; `note` (when not null) says which and
// why. Other names are returned as they are.
WorldChoice resolve_world(const WorldChoice& choice, std::string* note);

// `auto` is resolved first (resolve_world). Throws std::invalid_argument naming the bad choice (unknown world, method, device) and
// model::WeightsError for a bad model file. The neural world's frame size comes from its model;
// `params` sizes the reference world (set to the model's size when shown beside a neural world).
WorldSet make_worlds(const WorldChoice& choice, WorldParams params, bool side_by_side);

// Names --world takes in this build ("auto", "reference", plus "neural" when built with libtorch).
std::vector<std::string> world_names();

}  // namespace sw::player
