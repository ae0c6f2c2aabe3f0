// StageStats, RateMeter and Pacer. Test: tests/app/test_player_units.cpp.
#include "player/stage_stats.h"

#include <algorithm>
#include <numeric>
#include <thread>

namespace sw::player {

const char* stage_name(Stage s) {
  static constexpr const char* kNames[kStageCount] = {"input", "world_step", "upload", "render", "present"};
  return kNames[static_cast<int>(s)];
}

StageStats::StageStats(StageStatsParams params) {
  for (auto& r : rings_) r.assign(static_cast<size_t>(std::max(1, params.plot_samples)), 0.f);
}

void StageStats::add(Stage s, double ms) {
  const int i = static_cast<int>(s);
  rings_[i][heads_[i]] = static_cast<float>(ms);
  heads_[i] = (heads_[i] + 1) % static_cast<int>(rings_[i].size());
  last_[i] = ms;
  all_[i].push_back(static_cast<float>(ms));
}

StageSummary StageStats::summary(Stage s) const {
  std::vector<float> v = all_[static_cast<int>(s)];
  StageSummary out;
  out.samples = v.size();
  if (v.empty()) return out;
  std::sort(v.begin(), v.end());
  out.mean_ms = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  auto pct = [&](double p) { return static_cast<double>(v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))]); };
  out.p50_ms = pct(0.50);
  out.p95_ms = pct(0.95);
  out.max_ms = v.back();
  return out;
}

double StageStats::recent_mean_ms(Stage s, int n) const {
  const auto& v = all_[static_cast<int>(s)];
  const size_t k = std::min(v.size(), static_cast<size_t>(std::max(1, n)));
  if (k == 0) return 0.0;
  return std::accumulate(v.end() - static_cast<std::ptrdiff_t>(k), v.end(), 0.0) / static_cast<double>(k);
}

void RateMeter::tick(std::chrono::steady_clock::time_point now) {
  ticks_.push_back(now);
  while (!ticks_.empty() && std::chrono::duration<double>(now - ticks_.front()).count() > window_s_) ticks_.pop_front();
}

double RateMeter::rate() const {
  if (ticks_.size() < 2) return 0.0;
  const double span = std::chrono::duration<double>(ticks_.back() - ticks_.front()).count();
  return span > 0 ? static_cast<double>(ticks_.size() - 1) / span : 0.0;
}

Pacer::Pacer(double hz, int max_lag_ticks)
    : period_s_(1.0 / hz), max_lag_ticks_(max_lag_ticks), next_(std::chrono::steady_clock::now()) {}

void Pacer::wait() {
  const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(period_s_));
  next_ += period;
  const auto now = std::chrono::steady_clock::now();
  if (now > next_ + period * max_lag_ticks_) next_ = now;  // a stall (e.g. window dragged): don't sprint afterwards
  std::this_thread::sleep_until(next_);
}

}  // namespace sw::player
