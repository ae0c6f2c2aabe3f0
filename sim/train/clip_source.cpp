// ClipSource (see clip_source.h).
#include "clip_source.h"

namespace sw::train {

ClipSource::ClipSource(const ClipSourceParams& p) : p_(p) {
  for (int i = 0; i < std::max(1, p_.threads); ++i) threads_.emplace_back([this, i] { produce(i); });
}

ClipSource::~ClipSource() {
  stop_ = true;
  not_full_.notify_all();
  not_empty_.notify_all();
  for (auto& t : threads_) t.join();
}

void ClipSource::produce(int) {
  WorldParams wp;
  wp.width = wp.height = p_.size;
  ReferenceWorld world(wp);
  const size_t frame_bytes = static_cast<size_t>(p_.size) * p_.size * 3;
  while (!stop_) {
    const uint64_t n = counter_.fetch_add(1);
    // SplitMix64 of (seed, n): independent worlds, agents and start points per trajectory.
    uint64_t z = p_.seed * 0x9E3779B97F4A7C15ULL + n + 1;
    auto next = [&z] {
      z += 0x9E3779B97F4A7C15ULL;
      uint64_t x = z;
      x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
      x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
      return x ^ (x >> 31);
    };
    const uint64_t world_seed = next() % p_.world_seed_range;
    const std::vector<std::string>& kinds = p_.agents.empty() ? agent_names() : p_.agents;
    const std::string agent_name = kinds[next() % kinds.size()];
    world.reset(world_seed);
    auto agent = make_agent(agent_name, next());
    const int warmup = static_cast<int>(next() % static_cast<uint64_t>(p_.max_warmup + 1));
    for (int t = 0; t < warmup; ++t) world.apply_action(agent->act(world));
    for (int c = 0; c < p_.clips_per_world && !stop_; ++c) {
      Episode ep;
      ep.width = ep.height = static_cast<uint32_t>(p_.size);
      ep.world_seed = world_seed;
      ep.metadata_json = "{\"agent\": \"" + agent_name + "\"}";
      ep.frames.resize(static_cast<size_t>(p_.frames) * frame_bytes);
      for (int t = 0; t < p_.frames; ++t) {
        const Action a = agent->act(world).clamped();
        world.apply_action(a);
        ep.actions.push_back(a);
        world.render(ep.frames.data() + static_cast<size_t>(t) * frame_bytes, p_.size, p_.size);
      }
      std::unique_lock lock(mu_);
      not_full_.wait(lock, [this] { return stop_ || queue_.size() < p_.capacity; });
      if (stop_) return;
      queue_.push_back(std::move(ep));
      not_empty_.notify_one();
    }
  }
}

Episode ClipSource::pop() {
  std::unique_lock lock(mu_);
  not_empty_.wait(lock, [this] { return !queue_.empty(); });
  Episode ep = std::move(queue_.front());
  queue_.pop_front();
  not_full_.notify_one();
  return ep;
}

}  // namespace sw::train
