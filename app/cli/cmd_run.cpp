// `sparseworld run --headless`: renders a session offscreen through Vulkan (world views upscaled,
// ImGui panel included, no window, no display) and writes PNG screenshots plus stats.json. Runs
// on lavapipe in CI. Try:
//   sparseworld run --headless --agent explorer --frames 100 --out /tmp/run --screenshot-every 25
//   sparseworld run --headless --actions ep.swep --out /tmp/replay      (replays an episode file)
// Test: tests/app/test_cli_player.cpp.
#include <filesystem>
#include <fstream>
#include <memory>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "world_options.h"
#include "player/controls.h"
#include "player/session.h"
#include "player/setup_error.h"
#include "player/worlds.h"
#include "render/renderer.h"
#include "sparseworld/sim/episode.h"
#include "ui/panel.h"

namespace sw::cli {

namespace {
struct RunOptions {
  bool headless = false;
  player::WorldChoice world;
  std::string agent;
  std::string actions;
  uint64_t seed = 1;
  uint64_t agent_seed = 0;
  int64_t frames = 0;
  std::string out;
  int screenshot_every = 0;
  int width = 960, height = 540;
  int world_size = 128;
  std::string filter = "nearest";
  bool side_by_side = false;
  bool no_panel = false;
  bool speeds = false;
  bool validation = false;
  bool realtime = false;
};

int run(const RunOptions& o, const CLI::App& cmd) {
  // Inputs first: a bad episode or agent name fails before any Vulkan work.
  Episode episode;
  uint64_t seed = o.seed;
  int world_size = o.world_size;
  int64_t frames = o.frames;
  if (!o.actions.empty()) {
    episode = read_episode(o.actions);
    if (episode.width != episode.height)
      throw UsageError(fmt::format("--actions '{}': episode frames are {}x{}, the player shows square worlds", o.actions, episode.width, episode.height));
    if (!cmd.count("--seed")) seed = episode.world_seed;
    if (!cmd.count("--world-size")) world_size = static_cast<int>(episode.width);
    if (frames == 0) frames = static_cast<int64_t>(episode.frame_count());
    if (frames > static_cast<int64_t>(episode.frame_count()))
      throw UsageError(fmt::format("--frames {}: the episode '{}' has only {} frames", frames, o.actions, episode.frame_count()));
  } else {
    make_agent(o.agent, 0);  // names the valid agents on a typo
    if (frames <= 0) throw UsageError("--frames N is required with --agent");
  }
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (ec || !std::filesystem::is_directory(o.out))
    throw UsageError("--out '" + o.out + "': cannot create folder" + (ec ? ": " + ec.message() : ""));

  WorldParams wp;
  wp.width = wp.height = world_size;
  // An agent decides from the ground truth's state, so a neural run with an agent shows the
  // reference world beside it.
  std::string note;
  const player::WorldChoice choice = player::resolve_world(o.world, &note);
  if (!note.empty()) fmt::print("sparseworld run: {}\n", note);
  const bool side_by_side = o.side_by_side || (choice.name == "neural" && !o.agent.empty());
  if (side_by_side && !o.side_by_side) fmt::print("sparseworld run: --agent with --world neural shows the ground truth side by side\n");
  player::WorldSet worlds = player::make_worlds(choice, wp, side_by_side);
  wp.width = worlds.owned.front()->width();
  wp.height = worlds.owned.front()->height();
  std::unique_ptr<player::Controls> controls;
  if (!o.actions.empty())
    controls = std::make_unique<player::ReplayControls>(episode.actions, o.actions);
  else
    controls = std::make_unique<player::AgentControls>(make_agent(o.agent, cmd.count("--agent-seed") ? o.agent_seed : seed), *worlds.reference);

  ui::UiContext ui;
  render::VkContextParams vp;
  vp.validation = o.validation;  // no surface extensions: works without any display
  render::VkContext ctx(vp);
  render::RendererParams rp;
  rp.filter = o.filter == "smooth" ? render::Filter::Smooth : render::Filter::Nearest;
  auto renderer = render::Renderer::headless(ctx, {static_cast<uint32_t>(o.width), static_cast<uint32_t>(o.height)},
                                             static_cast<int>(worlds.owned.size()), wp.width, wp.height, rp);

  nlohmann::json shots = nlohmann::json::array();
  player::SessionParams sp;
  sp.seed = seed;
  sp.max_frames = frames;
  sp.pace = o.realtime;
  sp.show_panel = !o.no_panel;
  sp.attention_ui = worlds.attention_ui;
  sp.print_speeds = o.speeds;
  sp.capture_every = o.screenshot_every;
  sp.capture_last = true;
  sp.on_capture = [&](int64_t frame, const render::Capture& c) {
    const std::string name = fmt::format("frame_{:06d}.png", frame);
    write_png((std::filesystem::path(o.out) / name).string(), c.rgb.data(), static_cast<int>(c.extent.width), static_cast<int>(c.extent.height));
    if (shots.empty() || shots.back() != name) shots.push_back(name);
  };
  player::Session session(sp, worlds.views(), *controls, *renderer);
  session.run();

  nlohmann::json stages = nlohmann::json::object();
  for (int i = 0; i < player::kStageCount; ++i) {
    const auto s = session.stats().summary(static_cast<player::Stage>(i));
    stages[player::stage_name(static_cast<player::Stage>(i))] = {
        {"mean_ms", s.mean_ms}, {"p50_ms", s.p50_ms}, {"p95_ms", s.p95_ms}, {"max_ms", s.max_ms}, {"samples", s.samples}};
  }
  nlohmann::json world_names = nlohmann::json::array();
  for (const auto& w : worlds.owned) world_names.push_back(w->name());
  const Frame& last = worlds.owned.front()->current_frame();
  const auto rep = ctx.validation_report();
  nlohmann::json stats = {
      {"worlds", world_names},
      {"seed", seed},
      {"input", o.actions.empty() ? nlohmann::json{{"agent", o.agent}} : nlohmann::json{{"actions", o.actions}}},
      {"frames", session.frames()},
      {"game_frame_index", worlds.owned.front()->last_stats().frame_index},
      {"output_size", {o.width, o.height}},
      {"world_size", {wp.width, wp.height}},
      {"panel", !o.no_panel},
      {"filter", o.filter},
      {"device", ctx.device_name()},
      {"wall_seconds", session.wall_seconds()},
      {"frames_per_second", session.wall_seconds() > 0 ? static_cast<double>(session.frames()) / session.wall_seconds() : 0.0},
      {"stages", stages},
      {"final_frame_hash", fmt::format("{:016x}", frame_hash(last.rgb.data(), last.rgb.size()))},
      {"screenshots", shots},
      {"validation", {{"enabled", rep.enabled}, {"errors", rep.errors}, {"warnings", rep.warnings}, {"messages", rep.messages}}},
  };
  const std::string stats_path = (std::filesystem::path(o.out) / "stats.json").string();
  write_text_atomically(stats_path, stats.dump(2) + "\n");
  fmt::print("sparseworld run: {} frames of {} on {} in {:.2f} s ({:.1f} frames/s), {} screenshots, {}\n", session.frames(),
             choice.name, ctx.device_name(), session.wall_seconds(), stats["frames_per_second"].get<double>(), shots.size(), stats_path);
  if (o.validation) {
    fmt::print("validation layer: {} errors, {} warnings\n", rep.errors, rep.warnings);
    if (rep.errors > 0) return kExitValidationErrors;
  }
  return 0;
}
}  // namespace

Runner add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Run a session without a window: offscreen Vulkan render, PNG screenshots, stats.json");
  cmd->add_flag("--headless", o->headless, "Render offscreen (required: the windowed session is `sparseworld play`)");
  add_world_options(cmd, o->world);
  auto* agent = cmd->add_option("--agent", o->agent, "Agent that plays: random_walk, wall_follower, explorer, out_and_back, babbler, look_back");
  auto* actions = cmd->add_option("--actions", o->actions, "Episode file whose actions are replayed (its seed and size unless given)");
  agent->excludes(actions);
  cmd->add_option("--seed", o->seed, "World seed")->capture_default_str();
  cmd->add_option("--agent-seed", o->agent_seed, "Agent seed (default: the world seed)");
  cmd->add_option("--frames", o->frames, "Number of frames (default with --actions: the whole episode)")->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  cmd->add_option("--out", o->out, "Output folder: screenshots and stats.json")->required();
  cmd->add_option("--screenshot-every", o->screenshot_every, "Also write every K-th frame as PNG (the last frame is always written)")
      ->check(CLI::Range(1, 100000000));
  cmd->add_option("--width", o->width, "Output width")->capture_default_str()->check(CLI::Range(64, 8192));
  cmd->add_option("--height", o->height, "Output height")->capture_default_str()->check(CLI::Range(64, 8192));
  cmd->add_option("--world-size", o->world_size, "World frame size in pixels (square)")->capture_default_str()->check(CLI::Range(8, 2048));
  cmd->add_option("--filter", o->filter, "Upscaling filter: nearest or smooth")->capture_default_str()->check(CLI::IsMember({"nearest", "smooth"}));
  cmd->add_flag("--side-by-side", o->side_by_side, "Two worlds fed the same actions, next to each other");
  cmd->add_flag("--no-panel", o->no_panel, "Leave the ImGui panel out of the screenshots");
  cmd->add_flag("--speeds", o->speeds, "Print per-stage times to the terminal");
  cmd->add_flag("--validation", o->validation, "Enable the Khronos validation layer; exit code 7 if it reports errors");
  cmd->add_flag("--realtime", o->realtime, "Pace at the game rate (20 frames/s) instead of as fast as possible");
  return [cmd, o]() -> int {
    if (!*cmd) return -1;
    if (!o->headless) throw UsageError("run: only --headless is available; for a window use `sparseworld play`");
    if (o->agent.empty() == o->actions.empty()) throw UsageError("run: give either --agent NAME or --actions FILE");
    try {
      return run(*o, *cmd);
    } catch (const SetupError& e) {
      fmt::print(stderr, "sparseworld: {}\n", e.what());
      return exit_code_for(e.kind());
    }
  };
}

}  // namespace sw::cli
