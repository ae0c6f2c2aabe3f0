// The Dear ImGui panel drawn over the game: world seed, pause, reset, filtering, per-stage latency
// as live plots, frames per second, input devices, and the attention/cache section (filled by the
// neural world later; the reference world has no attention and the panel says so, no numbers).
// Test: tests/app/test_render.cpp (PanelShowsInHeadlessRender).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "player/stage_stats.h"

namespace sw::ui {

// What the panel shows and what it lets the user change; the session owns it.
struct PanelState {
  // Editable.
  uint64_t seed = 1;
  bool paused = false;
  bool smooth_filter = false;
  bool reset_requested = false;  // set by the Reset button; the session clears it
  // Shown.
  std::vector<std::string> world_names;
  std::vector<std::string> attention_lines;  // one per world without attention_ui
  std::function<void()> attention_ui;         // the neural world's section (method, knobs, stats)
  int64_t game_frame = 0;
  double game_fps = 0;
  double display_fps = 0;
  std::string input_status;
  const player::StageStats* stages = nullptr;
};

struct PanelParams {
  float x = 8, y = 8;         // top-left corner in pixels
  float width = 380;
  float plot_height = 34;
  float alpha = 0.88f;        // the game stays visible behind the panel
};

// Builds the panel's ImGui widgets for this frame (between ImGui::NewFrame and ImGui::Render).
void draw_panel(PanelState& state, const PanelParams& params = {});

// Owns the ImGui context: created before the window/renderer backends, destroyed after them.
class UiContext {
 public:
  UiContext();
  ~UiContext();
  UiContext(const UiContext&) = delete;
  UiContext& operator=(const UiContext&) = delete;
};

}  // namespace sw::ui
