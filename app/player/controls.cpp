// Controls implementations. Test: tests/app/test_player_window.cpp, tests/app/test_cli_player.cpp.
#include "player/controls.h"

#include <imgui.h>
#include <imgui_impl_sdl.h>

namespace sw::player {

ControlFrame WindowControls::poll() {
  ControlFrame out;
  const bool ui_keyboard = ImGui::GetIO().WantCaptureKeyboard;
  SDL_Event e;
  while (SDL_PollEvent(&e)) {
    ImGui_ImplSDL2_ProcessEvent(&e);
    input_.handle(e, ui_keyboard);
    if (e.type == SDL_WINDOWEVENT && SDL_GetWindowFromID(e.window.windowID) == window_.sdl() &&
        (e.window.event == SDL_WINDOWEVENT_SIZE_CHANGED || e.window.event == SDL_WINDOWEVENT_RESTORED ||
         e.window.event == SDL_WINDOWEVENT_MINIMIZED || e.window.event == SDL_WINDOWEVENT_MAXIMIZED)) {
      out.resized = true;
    }
    if (e.type == SDL_WINDOWEVENT && e.window.event == SDL_WINDOWEVENT_CLOSE) out.commands.quit = true;
  }
  if (out.resized) out.drawable = window_.drawable_size();
  const InputCommands c = input_.take_commands();
  out.commands.quit |= c.quit;
  out.commands.toggle_pause = c.toggle_pause;
  out.commands.reset = c.reset;
  out.commands.toggle_panel = c.toggle_panel;
  out.commands.toggle_filter = c.toggle_filter;
  out.commands.toggle_mouse_look = c.toggle_mouse_look;
  if (c.toggle_mouse_look) {
    input_.set_mouse_look(!input_.mouse_look());
    window_.set_mouse_look(input_.mouse_look());
  }
  out.action = input_.take_action();
  return out;
}

void WindowControls::new_ui_frame(VkExtent2D, double) { ImGui_ImplSDL2_NewFrame(); }

std::string WindowControls::status() const {
  const std::string pad = input_.gamepad_name();
  return std::string("input: keyboard, mouse look ") + (input_.mouse_look() ? "on" : "off") + " | gamepad: " +
         (pad.empty() ? "none" : pad);
}

void headless_ui_frame(VkExtent2D target, double dt_s) {
  ImGuiIO& io = ImGui::GetIO();
  io.DisplaySize = ImVec2(static_cast<float>(target.width), static_cast<float>(target.height));
  io.DisplayFramebufferScale = ImVec2(1.f, 1.f);
  io.DeltaTime = static_cast<float>(dt_s > 0 ? dt_s : 1e-3);
}

ControlFrame AgentControls::poll() {
  ControlFrame out;
  // Poll 0 is the spawn frame, which the session shows without stepping: asking the agent then
  // would advance its random state and break equality with `sparseworld world` episodes.
  if (polls_++ > 0) out.action = agent_->act(world_);
  return out;
}

ControlFrame ReplayControls::poll() {
  ControlFrame out;
  if (next_ < actions_.size()) out.action = actions_[next_];
  ++next_;
  return out;
}

}  // namespace sw::player
