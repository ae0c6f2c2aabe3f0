// A play session: the frame loop that ties controls, worlds, renderer and panel together, the same
// for the window (`sparseworld play`) and headless (`sparseworld run --headless`). Every stage is
// timed (player/stage_stats.h); game time is paced at kGameFramesPerSecond whatever the display.
// Test: tests/app/test_player_window.cpp (windowed), tests/app/test_cli_player.cpp (headless).
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "player/controls.h"
#include "player/stage_stats.h"
#include "render/renderer.h"
#include "sparseworld/sim/world.h"
#include "ui/panel.h"

namespace sw::player {

struct SessionParams {
  uint64_t seed = 1;
  int64_t max_frames = 0;  // stop after this many frames (0: until the user quits)
  bool pace = true;        // hold game time to game_fps (headless runs usually go flat out)
  double game_fps = kGameFramesPerSecond;
  bool show_panel = true;
  bool print_speeds = false;               // --speeds: per-stage times on stdout
  int speeds_every = kGameFramesPerSecond; // ... once per game second
  int capture_every = 0;   // read back every K-th frame for on_capture (0: never)
  bool capture_last = false;
  std::function<void(int64_t frame, const render::Capture&)> on_capture;
  ui::PanelParams panel;
  std::function<void()> attention_ui;  // the first world's attention section, if it has one
};

class Session {
 public:
  // `worlds` are fed the same actions and shown side by side (one view each).
  Session(SessionParams params, std::vector<World*> worlds, Controls& controls, render::Renderer& renderer);
  void run();

  const StageStats& stats() const { return stats_; }
  int64_t frames() const { return frame_; }
  double wall_seconds() const { return wall_s_; }
  ui::PanelState& panel_state() { return state_; }

 private:
  void reset_worlds();
  void apply(const ControlFrame& in);
  void step_worlds(const Action& action);
  std::vector<const Frame*> current_frames() const;
  ImDrawData* build_ui();
  bool wants_capture() const;
  void after_frame(bool drawn, bool captured);

  SessionParams params_;
  std::vector<World*> worlds_;
  Controls& controls_;
  render::Renderer& renderer_;
  StageStats stats_;
  ui::PanelState state_;
  RateMeter game_rate_, display_rate_;
  std::vector<Frame> scratch_;
  // Chunked worlds produce F frames per step; they are shown one per game tick so every world
  // advances at the game rate. pending_[i] holds what world i has generated but not yet shown.
  std::vector<std::deque<Frame>> pending_;
  std::vector<Frame> shown_;
  int64_t frame_ = 0;
  bool quit_ = false;
  double wall_s_ = 0;
};

}  // namespace sw::player
