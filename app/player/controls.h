// What drives a session: the player's devices in a window (WindowControls), or, headless, a
// scripted agent (AgentControls) or an episode file's actions (ReplayControls). Each hands the
// session one action per game frame plus UI commands, and prepares ImGui's frame.
// Test: tests/app/test_player_window.cpp (WindowControls), tests/app/test_cli_player.cpp (run).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <vulkan/vulkan.h>

#include "player/input.h"
#include "player/window.h"
#include "sparseworld/sim/agents.h"
#include "sparseworld/sim/reference_world.h"

namespace sw::player {

struct ControlFrame {
  Action action;
  InputCommands commands;
  bool resized = false;
  VkExtent2D drawable{0, 0};
};

class Controls {
 public:
  virtual ~Controls() = default;
  virtual ControlFrame poll() = 0;
  // Before ImGui::NewFrame: display size and time step for the panel.
  virtual void new_ui_frame(VkExtent2D target, double dt_s) = 0;
  virtual std::string status() const = 0;  // a line for the panel
};

class WindowControls final : public Controls {
 public:
  WindowControls(Window& window, Input& input) : window_(window), input_(input) {}
  ControlFrame poll() override;
  void new_ui_frame(VkExtent2D target, double dt_s) override;
  std::string status() const override;

 private:
  Window& window_;
  Input& input_;
};

// Headless ImGui frames: no SDL backend, so the display size and time step are set by hand.
void headless_ui_frame(VkExtent2D target, double dt_s);

class AgentControls final : public Controls {
 public:
  AgentControls(std::unique_ptr<Agent> agent, const ReferenceWorld& world) : agent_(std::move(agent)), world_(world) {}
  ControlFrame poll() override;
  void new_ui_frame(VkExtent2D target, double dt_s) override { headless_ui_frame(target, dt_s); }
  std::string status() const override { return "input: agent " + agent_->name(); }

 private:
  std::unique_ptr<Agent> agent_;
  const ReferenceWorld& world_;
  int64_t polls_ = 0;
};

// Plays back recorded actions: poll() number t returns actions[t] (action 0, the spawn no-op,
// is never applied because the session shows frame 0 without stepping).
class ReplayControls final : public Controls {
 public:
  ReplayControls(std::vector<Action> actions, std::string source) : actions_(std::move(actions)), source_(std::move(source)) {}
  ControlFrame poll() override;
  void new_ui_frame(VkExtent2D target, double dt_s) override { headless_ui_frame(target, dt_s); }
  std::string status() const override { return "input: replay " + source_; }

 private:
  std::vector<Action> actions_;
  std::string source_;
  size_t next_ = 0;
};

}  // namespace sw::player
