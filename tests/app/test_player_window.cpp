// The windowed player under a real X server (ctest runs this binary through xvfb-run): a Vulkan
// swapchain on an SDL2 window, scripted SDL key events walking the player through the real event
// path, resize and minimize/restore mid-session, the Khronos validation layer on and silent, and
// `sparseworld play` itself writing a screenshot read back from the swapchain.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <map>

#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC  // private copy, like app/cli/image_io.cpp does for the writer
#include <stb_image.h>

#include "common/run_cli.h"
#include "player/controls.h"
#include "player/session.h"
#include "render/renderer.h"
#include "sparseworld/sim/reference_world.h"
#include "ui/panel.h"

namespace sw::player {
namespace {

// The real WindowControls, with script steps run before the polls of chosen frames.
class ScriptedControls final : public Controls {
 public:
  ScriptedControls(WindowControls& inner, std::map<int, std::function<void()>> script) : inner_(inner), script_(std::move(script)) {}
  ControlFrame poll() override {
    if (auto it = script_.find(frame_++); it != script_.end()) it->second();
    return inner_.poll();
  }
  void new_ui_frame(VkExtent2D t, double dt) override { inner_.new_ui_frame(t, dt); }
  std::string status() const override { return inner_.status(); }

 private:
  WindowControls& inner_;
  std::map<int, std::function<void()>> script_;
  int frame_ = 0;
};

void push_key(SDL_Scancode sc, bool down) {
  SDL_Event e{};
  e.type = down ? SDL_KEYDOWN : SDL_KEYUP;
  e.key.state = down ? SDL_PRESSED : SDL_RELEASED;
  e.key.keysym.scancode = sc;
  e.key.keysym.sym = SDL_GetKeyFromScancode(sc);
  SDL_PushEvent(&e);
}

TEST(PlayerWindow, WalksResizesMinimizesWithoutValidationErrors) {
  ASSERT_NE(std::getenv("DISPLAY"), nullptr) << "run through xvfb-run (ctest does)";
  ui::UiContext ui;
  Window window(WindowParams{"sw test", 640, 480});
  render::VkContextParams vp;
  vp.validation = true;
  vp.instance_extensions = window.vulkan_instance_extensions();
  render::VkContext ctx(vp, [&](VkInstance i) { return window.create_surface(i); });
  ASSERT_TRUE(ctx.validation_report().enabled);
  auto renderer = render::Renderer::windowed(ctx, window.drawable_size(), 1, 128, 128);
  EXPECT_EQ(renderer->extent().width, 640u);
  Input input(default_keymap());
  WindowControls window_controls(window, input);
  ReferenceWorld world;

  PlayerState before, after_walk;
  std::vector<VkExtent2D> captured_sizes;
  std::map<int, std::function<void()>> script = {
      {2, [&] { before = world.player(); push_key(SDL_SCANCODE_W, true); }},
      {6, [&] { push_key(SDL_SCANCODE_W, false); }},
      {8, [&] { after_walk = world.player(); SDL_SetWindowSize(window.sdl(), 800, 600); }},
      {14, [&] { SDL_MinimizeWindow(window.sdl()); }},
      {18, [&] { SDL_RestoreWindow(window.sdl()); }},
      {22, [&] { SDL_SetWindowSize(window.sdl(), 320, 240); }},
  };
  ScriptedControls controls(window_controls, script);
  SessionParams sp;
  sp.seed = 3;
  sp.max_frames = 30;
  sp.pace = false;
  sp.capture_every = 1;
  sp.on_capture = [&](int64_t, const render::Capture& c) { captured_sizes.push_back(c.extent); };
  Session session(sp, {&world}, controls, *renderer);
  session.run();

  // W held over frames 2..5 (key up arrives at frame 6): 4 steps forward along the heading.
  const float dx = after_walk.x - before.x, dy = after_walk.y - before.y;
  EXPECT_NEAR(std::hypot(dx, dy), 4 * world.params().walk_speed, 1e-3);
  EXPECT_GT(dx * std::cos(before.angle) + dy * std::sin(before.angle), 0.f);
  // The swapchain followed the window.
  auto saw = [&](uint32_t w, uint32_t h) {
    return std::any_of(captured_sizes.begin(), captured_sizes.end(), [&](VkExtent2D e) { return e.width == w && e.height == h; });
  };
  EXPECT_TRUE(saw(640, 480));
  EXPECT_TRUE(saw(800, 600));
  EXPECT_TRUE(saw(320, 240));
  EXPECT_EQ(session.frames(), 30);
  const auto rep = ctx.validation_report();
  EXPECT_EQ(rep.errors, 0) << (rep.messages.empty() ? "" : rep.messages[0]);
}

TEST(PlayerWindow, PlayCommandWritesASwapchainScreenshot) {
  const std::filesystem::path shot = std::filesystem::path(SW_BINARY_DIR) / "test_player_window_play.png";
  std::filesystem::remove(shot);
  const auto r = test::run_cli("play --frames 40 --side-by-side --validation --speeds --screenshot " + shot.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("validation layer: 0 errors"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("render"), std::string::npos) << r.output;
  int w = 0, h = 0, n = 0;
  unsigned char* img = stbi_load(shot.c_str(), &w, &h, &n, 3);
  ASSERT_NE(img, nullptr);
  EXPECT_EQ(w, 1280);
  EXPECT_EQ(h, 720);
  // Not a blank image: the views and the panel put many distinct colours on screen.
  std::vector<bool> seen(1 << 15);
  int distinct = 0;
  for (int i = 0; i < w * h; ++i) {
    const int key = (img[i * 3] >> 3) << 10 | (img[i * 3 + 1] >> 3) << 5 | (img[i * 3 + 2] >> 3);
    if (!seen[key]) seen[key] = true, ++distinct;
  }
  stbi_image_free(img);
  EXPECT_GT(distinct, 100);
}

}  // namespace
}  // namespace sw::player
