// Training clips generated on the fly: producer threads record reference-world episodes (a mix
// of agents, random worlds and random start points) into a bounded queue the trainer pops from.
// Test: tests/train/test_train.cpp.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sparseworld/sim/agents.h"

namespace sw::train {

struct ClipSourceParams {
  int frames = 16;
  int size = 128;
  int threads = 1;
  size_t capacity = 64;          // clips buffered ahead of the trainer
  uint64_t seed = 0;
  uint64_t world_seed_range = 1000000;  // training worlds: seeds [0, range); evaluation uses others
  std::vector<std::string> agents;  // kinds drawn from, repeats weighting (empty: agent_names())
  int max_warmup = 400;          // frames an agent plays before the first clip of a world
  int clips_per_world = 16;      // consecutive clips along one trajectory before a new world: a
                                 // world reset (map, textures) costs more than rendering a clip
};

class ClipSource {
 public:
  explicit ClipSource(const ClipSourceParams& p);
  ~ClipSource();
  Episode pop();  // blocks until a clip is ready

 private:
  void produce(int thread_index);
  ClipSourceParams p_;
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<Episode> queue_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> counter_{0};
  std::vector<std::thread> threads_;
};

}  // namespace sw::train
