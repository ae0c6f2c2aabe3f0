// `sparseworld play`: the windowed player (SDL2 window, Vulkan swapchain, ImGui panel, keyboard,
// mouse and gamepad). Try: sparseworld play --seed 3 --speeds
// Scripted check under Xvfb: xvfb-run -a sparseworld play --frames 60 --screenshot /tmp/play.png --validation
// Test: tests/app/test_cli_player.cpp (no display, bad key map), tests/app/test_player_window.cpp.
#include <filesystem>
#include <memory>

#include <fmt/core.h>

#include "commands.h"
#include "world_options.h"
#include "player/controls.h"
#include "player/keymap.h"
#include "player/session.h"
#include "player/setup_error.h"
#include "player/window.h"
#include "player/worlds.h"
#include "render/renderer.h"
#include "ui/panel.h"

namespace sw::cli {

namespace {
struct PlayOptions {
  uint64_t seed = 1;
  player::WorldChoice world;
  std::string keymap;
  int width = 1280, height = 720;
  int world_size = 128;
  std::string filter = "nearest";
  bool side_by_side = false;
  bool speeds = false;
  bool validation = false;
  bool no_vsync = false;
  bool hide_panel = false;
  int64_t frames = 0;
  std::string screenshot;
};

int play(const PlayOptions& o) {
  const player::Keymap keymap = o.keymap.empty() ? player::default_keymap() : player::load_keymap(o.keymap);
  WorldParams wp;
  wp.width = wp.height = o.world_size;
  const bool side_by_side = o.side_by_side;
  std::string note;
  const player::WorldChoice choice = player::resolve_world(o.world, &note);
  if (!note.empty()) fmt::print("sparseworld play: {}\n", note);
  player::WorldSet worlds = player::make_worlds(choice, wp, side_by_side);
  // The neural world's frame size is its model's; every view shares it.
  wp.width = worlds.owned.front()->width();
  wp.height = worlds.owned.front()->height();

  ui::UiContext ui;
  player::WindowParams wparams;
  wparams.width = o.width;
  wparams.height = o.height;
  player::Window window(wparams);
  render::VkContextParams vp;
  vp.validation = o.validation;
  vp.instance_extensions = window.vulkan_instance_extensions();
  render::VkContext ctx(vp, [&](VkInstance instance) { return window.create_surface(instance); });
  render::RendererParams rp;
  rp.filter = o.filter == "smooth" ? render::Filter::Smooth : render::Filter::Nearest;
  rp.swapchain.vsync = !o.no_vsync;
  auto renderer = render::Renderer::windowed(ctx, window.drawable_size(), static_cast<int>(worlds.owned.size()), wp.width, wp.height, rp);
  player::Input input(keymap);
  player::WindowControls controls(window, input);

  player::SessionParams sp;
  sp.seed = o.seed;
  sp.max_frames = o.frames;
  sp.print_speeds = o.speeds;
  sp.show_panel = !o.hide_panel;
  sp.attention_ui = worlds.attention_ui;
  bool wrote_screenshot = false;
  if (!o.screenshot.empty()) {
    const auto parent = std::filesystem::path(o.screenshot).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    sp.capture_last = true;
    sp.on_capture = [&](int64_t, const render::Capture& c) {
      write_png(o.screenshot, c.rgb.data(), static_cast<int>(c.extent.width), static_cast<int>(c.extent.height));
      wrote_screenshot = true;
    };
  }
  player::Session session(sp, worlds.views(), controls, *renderer);
  fmt::print("sparseworld play: {} on {}, seed {}{}\n", choice.name, ctx.device_name(), o.seed, o.side_by_side ? ", side by side" : "");
  session.run();
  if (!o.screenshot.empty() && !wrote_screenshot)
    throw UsageError("--screenshot: the last frame was not drawn (window minimized, or the swapchain cannot be read back)");
  if (o.speeds) {
    for (int i = 0; i < player::kStageCount; ++i) {
      const auto s = session.stats().summary(static_cast<player::Stage>(i));
      fmt::print("{:>10}: mean {:.3f} ms  p95 {:.3f} ms  max {:.3f} ms\n", player::stage_name(static_cast<player::Stage>(i)), s.mean_ms,
                 s.p95_ms, s.max_ms);
    }
  }
  fmt::print("sparseworld play: {} frames in {:.1f} s{}\n", session.frames(), session.wall_seconds(),
             wrote_screenshot ? ", screenshot " + o.screenshot : "");
  if (o.validation) {
    const auto rep = ctx.validation_report();
    fmt::print("validation layer: {} errors, {} warnings\n", rep.errors, rep.warnings);
    if (rep.errors > 0) return kExitValidationErrors;
  }
  return 0;
}
}  // namespace

Runner add_play_command(CLI::App& app) {
  auto o = std::make_shared<PlayOptions>();
  CLI::App* cmd = app.add_subcommand("play", "Play a world in a window (keyboard, mouse, gamepad; ImGui panel)");
  cmd->add_option("--seed", o->seed, "World seed")->capture_default_str();
  add_world_options(cmd, o->world);
  cmd->add_option("--keymap", o->keymap, "Key map JSON (default: the built-in assets/keymap.json)");
  cmd->add_option("--width", o->width, "Window width")->capture_default_str()->check(CLI::Range(320, 8192));
  cmd->add_option("--height", o->height, "Window height")->capture_default_str()->check(CLI::Range(240, 8192));
  cmd->add_option("--world-size", o->world_size, "World frame size in pixels (square)")->capture_default_str()->check(CLI::Range(8, 2048));
  cmd->add_option("--filter", o->filter, "Upscaling filter: nearest or smooth")->capture_default_str()->check(CLI::IsMember({"nearest", "smooth"}));
  cmd->add_flag("--side-by-side", o->side_by_side, "Two worlds fed the same actions, next to each other");
  cmd->add_flag("--speeds", o->speeds, "Print per-stage times to the terminal");
  cmd->add_flag("--validation", o->validation, "Enable the Khronos validation layer; exit code 7 if it reports errors");
  cmd->add_flag("--no-vsync", o->no_vsync, "Present without waiting for the display (mailbox/immediate when offered)");
  cmd->add_flag("--hide-panel", o->hide_panel, "Start with the panel hidden (F1 toggles it)");
  cmd->add_option("--frames", o->frames, "Quit after N game frames (0: when the window is closed)")
      ->capture_default_str()
      ->check(whole_number_check(0, INT64_MAX, "[0, 2^63)"));
  cmd->add_option("--screenshot", o->screenshot, "Write the last frame (read back from the swapchain) as PNG; needs --frames");
  return [cmd, o]() -> int {
    if (!*cmd) return -1;
    if (!o->screenshot.empty() && o->frames == 0) throw UsageError("--screenshot needs --frames N (the frame it captures is the last)");
    try {
      return play(*o);
    } catch (const SetupError& e) {
      fmt::print(stderr, "sparseworld: {}\n", e.what());
      return exit_code_for(e.kind());
    }
  };
}

}  // namespace sw::cli
