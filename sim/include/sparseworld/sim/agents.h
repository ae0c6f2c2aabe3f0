// Scripted agents that play the reference world: data generation, evaluation and memory tests.
// Deterministic from a seed. Test: tests/sim/test_agents.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sparseworld/sim/episode.h"
#include "sparseworld/sim/reference_world.h"

namespace sw {

class Agent {
 public:
  virtual ~Agent() = default;
  virtual std::string name() const = 0;
  // The action for the next frame, given the world as it is now.
  virtual Action act(const ReferenceWorld& world) = 0;
  // True while the agent sees again what it saw before (memory tests): out_and_back on its way
  // back, look_back once it has turned back to its old heading.
  virtual bool revisiting() const { return false; }
};

// Names: random_walk, wall_follower, explorer, out_and_back, babbler (random held moves),
// look_back (turns away and back in place: the same view returns).
const std::vector<std::string>& agent_names();

// Throws std::invalid_argument naming the bad name and listing the valid ones.
std::unique_ptr<Agent> make_agent(const std::string& name, uint64_t seed);

// One recorded run: an agent plays a world for `frames` frames (frame 0 is the spawn view).
struct EpisodeSpec {
  uint64_t world_seed = 0;
  std::string agent = "explorer";
  uint64_t agent_seed = 0;
  int frames = 100;
  int warmup_frames = 0;  // frames the agent plays before recording starts (not rendered)
};

Episode record_episode(const EpisodeSpec& spec, const WorldParams& params);

// Records many episodes on `threads` threads (0: all hardware threads); results in spec order,
// identical whatever the thread count. Used for training data and the render benchmark.
std::vector<Episode> record_episodes(const std::vector<EpisodeSpec>& specs, const WorldParams& params, int threads = 0);

}  // namespace sw
