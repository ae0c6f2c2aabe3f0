// The SDL2 window of `sparseworld play`: resizable, Vulkan-capable, with the Dear ImGui SDL2
// backend attached. Opening it without a display fails with SetupError(NoDisplay) that suggests
// headless mode. Test: tests/app/test_player_window.cpp (under Xvfb), tests/app/test_cli_player.cpp
// (no DISPLAY -> clear message and exit code).
#pragma once

#include <string>
#include <vector>

#include <SDL2/SDL.h>
#include <vulkan/vulkan.h>

namespace sw::player {

struct WindowParams {
  std::string title = "SparseWorld";
  int width = 1280;
  int height = 720;
  int min_width = 320;   // below this the panel and the views stop being usable
  int min_height = 240;
};

class Window {
 public:
  explicit Window(const WindowParams& params = {});  // needs a current ImGui context
  ~Window();
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;

  SDL_Window* sdl() const { return window_; }
  std::vector<std::string> vulkan_instance_extensions() const;
  VkSurfaceKHR create_surface(VkInstance instance) const;  // SetupError(Surface) on failure
  VkExtent2D drawable_size() const;
  bool minimized() const;
  void set_mouse_look(bool on);

 private:
  SDL_Window* window_ = nullptr;
  bool imgui_backend_ = false;
};

}  // namespace sw::player
