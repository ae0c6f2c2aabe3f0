// Per-stage frame timings (input, world step, upload, render, present): a ring of recent samples
// for the panel's live plots, every sample for the summaries that `run` writes to stats.json and
// `--speeds` prints, and a frames-per-second meter. Test: tests/app/test_player_units.cpp.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace sw::player {

enum class Stage { Input, WorldStep, Upload, Render, Present, kCount };
inline constexpr int kStageCount = static_cast<int>(Stage::kCount);
const char* stage_name(Stage s);  // "input", "world_step", "upload", "render", "present"

struct StageSummary {
  double mean_ms = 0, p50_ms = 0, p95_ms = 0, max_ms = 0;
  size_t samples = 0;
};

struct StageStatsParams {
  int plot_samples = 200;  // 10 s of game time at 20 frames/s
};

class StageStats {
 public:
  explicit StageStats(StageStatsParams params = {});
  void add(Stage s, double ms);
  double last_ms(Stage s) const { return last_[static_cast<int>(s)]; }
  // Ring buffer for ImGui::PlotLines(values, count, offset): oldest sample at `offset`.
  const float* plot_values(Stage s) const { return rings_[static_cast<int>(s)].data(); }
  int plot_count() const { return static_cast<int>(rings_[0].size()); }
  int plot_offset(Stage s) const { return heads_[static_cast<int>(s)]; }
  StageSummary summary(Stage s) const;
  double recent_mean_ms(Stage s, int n) const;  // mean of the last n samples (fewer if fewer exist)

 private:
  std::array<std::vector<float>, kStageCount> rings_;
  std::array<int, kStageCount> heads_{};
  std::array<double, kStageCount> last_{};
  std::array<std::vector<float>, kStageCount> all_;
};

// Times consecutive stages of one frame: lap(s) charges the time since the previous lap to s.
class StageClock {
 public:
  explicit StageClock(StageStats& stats) : stats_(stats), t_(std::chrono::steady_clock::now()) {}
  void lap(Stage s) {
    const auto now = std::chrono::steady_clock::now();
    stats_.add(s, std::chrono::duration<double, std::milli>(now - t_).count());
    t_ = now;
  }

 private:
  StageStats& stats_;
  std::chrono::steady_clock::time_point t_;
};

// Events per second over the last `window` seconds.
class RateMeter {
 public:
  explicit RateMeter(double window_s = 1.0) : window_s_(window_s) {}
  void tick(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  double rate() const;

 private:
  double window_s_;
  std::deque<std::chrono::steady_clock::time_point> ticks_;
};

// Game-time pacing: sleeps until the next tick of a fixed-rate clock, whatever the display does.
// When it falls behind by more than `max_lag_ticks` it re-anchors instead of rushing to catch up.
class Pacer {
 public:
  explicit Pacer(double hz, int max_lag_ticks = 2);
  void wait();
  double period_s() const { return period_s_; }

 private:
  double period_s_;
  int max_lag_ticks_;
  std::chrono::steady_clock::time_point next_;
};

}  // namespace sw::player
