// Recording episodes, one or many in parallel (one world per thread, work handed out by an
// atomic counter, so results do not depend on the thread count). Test: tests/sim/test_agents.cpp.
#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include "sparseworld/sim/agents.h"

namespace sw {

Episode record_episode(const EpisodeSpec& spec, const WorldParams& params) {
  if (spec.frames < 1) throw std::invalid_argument("episode frames must be >= 1, got " + std::to_string(spec.frames));
  ReferenceWorld world(params);
  world.reset(spec.world_seed);
  auto agent = make_agent(spec.agent, spec.agent_seed);
  for (int t = 0; t < spec.warmup_frames; ++t) world.apply_action(agent->act(world));
  Episode ep;
  ep.width = static_cast<uint32_t>(params.width);
  ep.height = static_cast<uint32_t>(params.height);
  ep.world_seed = spec.world_seed;
  nlohmann::json meta = {{"agent", spec.agent},     {"agent_seed", spec.agent_seed},     {"map_size", params.map_size},
                         {"fov", params.fov},        {"walk_speed", params.walk_speed},   {"turn_speed", params.turn_speed},
                         {"fps", kGameFramesPerSecond}, {"warmup_frames", spec.warmup_frames}, {"generator", "sparseworld reference world v1"}};
  ep.metadata_json = meta.dump();
  ep.actions.reserve(static_cast<size_t>(spec.frames));
  ep.frames.resize(static_cast<size_t>(spec.frames) * ep.frame_bytes());
  ep.actions.push_back(Action{});
  world.render(ep.frames.data(), params.width, params.height);
  for (int t = 1; t < spec.frames; ++t) {
    const Action a = agent->act(world).clamped();
    world.apply_action(a);
    ep.actions.push_back(a);
    world.render(ep.frames.data() + static_cast<size_t>(t) * ep.frame_bytes(), params.width, params.height);
  }
  return ep;
}

std::vector<Episode> record_episodes(const std::vector<EpisodeSpec>& specs, const WorldParams& params, int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<Episode> out(specs.size());
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < specs.size() && !failed;) {
      try {
        out[i] = record_episode(specs[i], params);
      } catch (...) {
        if (!failed.exchange(true)) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
  return out;
}

}  // namespace sw
