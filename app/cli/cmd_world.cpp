// `sparseworld world`: an agent plays the reference world; frames are written as PNG files and,
// optionally, the whole run as an episode file. Try:
//   sparseworld world --seed 1 --agent explorer --frames 60 --out /tmp/w --episode /tmp/w/ep.swep
#include <filesystem>
#include <memory>

#include <fmt/core.h>

#include "commands.h"
#include "number_check.h"
#include "sparseworld/sim/agents.h"
#include "sparseworld/sim/episode.h"

namespace sw::cli {

namespace {
struct WorldOptions {
  uint64_t seed = 1;
  std::string agent = "explorer";
  uint64_t agent_seed = 0;
  int frames = 100;
  std::string out;
  int size = 128;
  int every = 1;
  std::string episode;
};
}  // namespace

Runner add_world_command(CLI::App& app) {
  auto opt = std::make_shared<WorldOptions>();
  CLI::App* cmd = app.add_subcommand("world", "Render the reference world as an agent plays it (PNG frames, episode file)");
  cmd->add_option("--seed", opt->seed, "World seed (0 to 2^64-1)")->capture_default_str()->check(seed_check());
  cmd->add_option("--agent", opt->agent, "Agent: random_walk, wall_follower, explorer, out_and_back, babbler, look_back")->capture_default_str();
  cmd->add_option("--agent-seed", opt->agent_seed, "Agent seed (default: the world seed)")->check(seed_check());
  cmd->add_option("--frames", opt->frames, "Number of frames")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--out", opt->out, "Output folder for PNG frames")->required();
  cmd->add_option("--size", opt->size, "Frame width and height in pixels")->capture_default_str()->check(CLI::Range(8, 4096));
  cmd->add_option("--every", opt->every, "Write every K-th frame as PNG")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--episode", opt->episode, "Also write the run as an episode file");
  return [cmd, opt]() -> int {
    if (!*cmd) return -1;
    make_agent(opt->agent, 0);  // fails early with the list of valid agents
    std::error_code ec;
    std::filesystem::create_directories(opt->out, ec);
    if (ec || !std::filesystem::is_directory(opt->out))
      throw UsageError("--out '" + opt->out + "': cannot create folder" + (ec ? ": " + ec.message() : ""));
    WorldParams params;
    params.width = params.height = opt->size;
    EpisodeSpec spec{opt->seed, opt->agent, cmd->count("--agent-seed") ? opt->agent_seed : opt->seed, opt->frames};
    const Episode ep = record_episode(spec, params);
    int written = 0;
    for (size_t t = 0; t < ep.frame_count(); t += static_cast<size_t>(opt->every)) {
      write_png(fmt::format("{}/frame_{:06d}.png", opt->out, t), ep.frame(t), opt->size, opt->size);
      ++written;
    }
    if (!opt->episode.empty()) write_episode(opt->episode, ep);
    fmt::print("world seed {} agent {}: {} frames, {} PNG files in {}{}\n", opt->seed, opt->agent, ep.frame_count(), written,
               opt->out, opt->episode.empty() ? "" : ", episode " + opt->episode);
    return 0;
  };
}

}  // namespace sw::cli
