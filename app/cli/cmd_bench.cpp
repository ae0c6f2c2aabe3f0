// `sparseworld bench world`: reference-world render throughput, single core and all cores, at
// 128x128 and 256x256. Prints a table (and JSON with --json). Timed with steady_clock after a
// warm-up; reports the median of repeated runs.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "sparseworld/sim/agents.h"

namespace sw::cli {

#ifdef SW_WITH_BENCH_ATTENTION
Runner add_bench_attention(CLI::App* bench);  // cmd_bench_attention.cpp (CUDA libtorch only)
#endif

namespace {

struct BenchOptions {
  std::string json;
  int frames = 2000;
  int repeats = 5;
};

// Frames per second of render_view for one world on this thread, along a fixed explorer path.
double single_core_fps(int size, int frames, int repeats) {
  WorldParams params;
  params.width = params.height = size;
  ReferenceWorld world(params);
  world.reset(7);
  auto agent = make_agent("explorer", 7);
  std::vector<PlayerState> poses;  // render along a real path so all view kinds are covered
  for (int i = 0; i < frames; ++i) {
    world.apply_action(agent->act(world));
    poses.push_back(world.player());
  }
  std::vector<uint8_t> rgb(static_cast<size_t>(size) * size * 3);
  std::vector<double> fps;
  for (int r = 0; r < repeats + 1; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (const PlayerState& p : poses) {
      world.set_player(p);
      world.render(rgb.data(), size, size);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r > 0) fps.push_back(frames / s);  // the first run is warm-up
  }
  std::sort(fps.begin(), fps.end());
  return fps[fps.size() / 2];
}

// Frames per second recording episodes (agent + movement + render) on all cores.
double all_cores_fps(int size, int threads, int frames) {
  WorldParams params;
  params.width = params.height = size;
  std::vector<EpisodeSpec> specs;
  for (int i = 0; i < threads * 2; ++i) specs.push_back({static_cast<uint64_t>(100 + i), "explorer", static_cast<uint64_t>(i), frames});
  record_episodes({specs[0]}, params, 1);  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  auto eps = record_episodes(specs, params, threads);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return static_cast<double>(specs.size()) * frames / s;
}

}  // namespace

Runner add_bench_command(CLI::App& app) {
  auto opt = std::make_shared<BenchOptions>();
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks that print numbers");
  bench->require_subcommand(1);
  CLI::App* world = bench->add_subcommand("world", "Reference-world render throughput (frames/s per core and all cores)");
  world->add_option("--json", opt->json, "Also write the results as JSON");
  world->add_option("--frames", opt->frames, "Frames per timed run")->capture_default_str()->check(CLI::Range(10, 1000000));
  world->add_option("--repeats", opt->repeats, "Timed runs (median reported)")->capture_default_str()->check(CLI::Range(1, 100));
#ifdef SW_WITH_BENCH_ATTENTION
  const Runner attention = add_bench_attention(bench);
#else
  const Runner attention;
#endif
  return [world, opt, attention]() -> int {
    if (attention) {
      if (const int rc = attention(); rc != -1) return rc;
    }
    if (!*world) return -1;
    if (!opt->json.empty()) {  // fail before a minute of benchmarking, not after
      const auto parent = std::filesystem::path(opt->json).parent_path();
      if (!parent.empty() && !std::filesystem::is_directory(parent))
        throw UsageError("--json '" + opt->json + "': folder '" + parent.string() + "' does not exist");
    }
    const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    nlohmann::json results = nlohmann::json::array();
    fmt::print("{:>9} {:>22} {:>26}\n", "size", "frames/s (1 core)", fmt::format("frames/s ({} threads)", threads));
    for (int size : {128, 256}) {
      const double one = single_core_fps(size, opt->frames, opt->repeats);
      const double all = all_cores_fps(size, threads, opt->frames / 4);
      fmt::print("{:>4}x{:<4} {:>22.0f} {:>26.0f}\n", size, size, one, all);
      results.push_back({{"size", size}, {"fps_one_core", one}, {"fps_all_cores", all}, {"threads", threads}});
    }
    if (!opt->json.empty()) write_text_atomically(opt->json, results.dump(2) + "\n", "--json");
    return 0;
  };
}

}  // namespace sw::cli
