// Builds the worlds a session shows: one, or two fed the same actions for the side-by-side view
// (today reference beside reference; later the neural world beside its ground truth).
// Test: tests/app/test_cli_player.cpp (RunSideBySide).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sparseworld/sim/reference_world.h"

namespace sw::player {

struct WorldSet {
  std::vector<std::unique_ptr<World>> owned;
  ReferenceWorld* reference = nullptr;  // the first world, which agents look at
  std::vector<World*> views() const {
    std::vector<World*> v;
    for (const auto& w : owned) v.push_back(w.get());
    return v;
  }
};

// `name`: "reference" (the only world so far); throws std::invalid_argument naming the valid ones.
WorldSet make_worlds(const std::string& name, const WorldParams& params, bool side_by_side);

}  // namespace sw::player
