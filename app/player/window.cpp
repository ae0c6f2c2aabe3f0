// Window implementation. Test: tests/app/test_player_window.cpp.
#include "player/window.h"

#include <cstdlib>

#include <SDL2/SDL_vulkan.h>
#include <fmt/core.h>
#include <imgui_impl_sdl.h>

#include "player/setup_error.h"

namespace sw::player {

namespace {
constexpr Uint32 kSubsystems = SDL_INIT_VIDEO | SDL_INIT_GAMECONTROLLER | SDL_INIT_EVENTS;
const char* kHeadlessHint = "run without a window: sparseworld run --headless --agent explorer --frames 200 --out out/run";
}  // namespace

Window::Window(const WindowParams& params) {
  if (SDL_InitSubSystem(kSubsystems) != 0)
    throw SetupError(SetupError::Kind::NoDisplay,
                     fmt::format("no display: SDL cannot open a window ({}); set DISPLAY (or start Xvfb), or {}", SDL_GetError(),
                                 kHeadlessHint));
  // Without X11/Wayland, SDL 2.26 falls back to its offscreen/dummy drivers, which cannot show a
  // Vulkan window: call that what it is, no display.
  const std::string driver = SDL_GetCurrentVideoDriver() ? SDL_GetCurrentVideoDriver() : "none";
  if (driver == "offscreen" || driver == "dummy" || driver == "evdev") {
    SDL_QuitSubSystem(kSubsystems);
    throw SetupError(SetupError::Kind::NoDisplay,
                     fmt::format("no display: SDL found no X11 or Wayland display (DISPLAY is {}; SDL fell back to its '{}' "
                                 "video driver); set DISPLAY (or start Xvfb), or {}",
                                 std::getenv("DISPLAY") ? std::string("'") + std::getenv("DISPLAY") + "'" : "not set", driver, kHeadlessHint));
  }
  window_ = SDL_CreateWindow(params.title.c_str(), SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, params.width, params.height,
                            SDL_WINDOW_VULKAN | SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
  if (!window_) {
    const std::string err = SDL_GetError();
    SDL_QuitSubSystem(kSubsystems);
    throw SetupError(SetupError::Kind::NoDisplay,
                     fmt::format("cannot open a Vulkan window on video driver '{}' ({}); {}", driver, err, kHeadlessHint));
  }
  SDL_SetWindowMinimumSize(window_, params.min_width, params.min_height);
  imgui_backend_ = ImGui_ImplSDL2_InitForVulkan(window_);
}

Window::~Window() {
  if (imgui_backend_) ImGui_ImplSDL2_Shutdown();
  if (window_) SDL_DestroyWindow(window_);
  SDL_QuitSubSystem(kSubsystems);
}

std::vector<std::string> Window::vulkan_instance_extensions() const {
  unsigned n = 0;
  if (!SDL_Vulkan_GetInstanceExtensions(window_, &n, nullptr))
    throw SetupError(SetupError::Kind::NoVulkan, fmt::format("SDL has no Vulkan support here: {}", SDL_GetError()));
  std::vector<const char*> names(n);
  SDL_Vulkan_GetInstanceExtensions(window_, &n, names.data());
  return {names.begin(), names.end()};
}

VkSurfaceKHR Window::create_surface(VkInstance instance) const {
  VkSurfaceKHR surface = VK_NULL_HANDLE;
  if (!SDL_Vulkan_CreateSurface(window_, instance, &surface))
    throw SetupError(SetupError::Kind::Surface, fmt::format("cannot create a Vulkan surface for the window: {}", SDL_GetError()));
  return surface;
}

VkExtent2D Window::drawable_size() const {
  int w = 0, h = 0;
  SDL_Vulkan_GetDrawableSize(window_, &w, &h);
  return {static_cast<uint32_t>(std::max(0, w)), static_cast<uint32_t>(std::max(0, h))};
}

bool Window::minimized() const { return (SDL_GetWindowFlags(window_) & SDL_WINDOW_MINIMIZED) != 0; }

void Window::set_mouse_look(bool on) { SDL_SetRelativeMouseMode(on ? SDL_TRUE : SDL_FALSE); }

}  // namespace sw::player
