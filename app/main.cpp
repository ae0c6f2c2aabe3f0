// sparseworld: the command-line entry point. Subcommands live in app/cli/cmd_*.cpp; every
// user-facing failure becomes one line "sparseworld: <what>" and exit code 1 (2 for bad usage).
#include <exception>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <fmt/core.h>

#include "cli/commands.h"
#include "sparseworld/sim/episode.h"

namespace {
// libtorch's CPU allocator frees a pass's activations and allocates the same sizes again on the
// next pass. glibc hands blocks above its mmap threshold back to the OS, so every pass
// page-faults them in again: on the 2-core CPU that was a third of a rollout's time. Keep them.
void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  constexpr int kMmapThresholdBytes = 32 << 20;  // glibc's ceiling for this setting on 64-bit
  constexpr int kTrimThresholdBytes = 1 << 30;   // free memory kept at the heap's top before trimming
  mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);
  mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes);
#endif
}
}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory_for_reuse();
  CLI::App app{"SparseWorld: a real-time neural game engine with block-sparse attention", "sparseworld"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sparseworld 0.1.0");
  std::vector<sw::cli::Runner> runners = {
      sw::cli::add_world_command(app),
      sw::cli::add_bench_command(app),
  };
#ifdef SW_WITH_ATTENTION
  runners.push_back(sw::cli::add_attn_probe_command(app));
#endif
#ifdef SW_HAVE_NEURAL_WORLD
  runners.push_back(sw::cli::add_model_command(app));
  runners.push_back(sw::cli::add_train_command(app));
  runners.push_back(sw::cli::add_eval_command(app));
#endif
#ifdef SW_WITH_PLAYER
  runners.push_back(sw::cli::add_play_command(app));
  runners.push_back(sw::cli::add_run_command(app));
#endif
  // An unknown first word is a mistyped command: name it rather than CLI11's generic complaint.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    std::string names;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      known = known || sub->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      fmt::print(stderr, "sparseworld: unknown command '{}' (commands: {})\n", argv[1], names);
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    fmt::print(stderr, "sparseworld: {}\n", e.what());
    fmt::print(stderr, "Run with --help for usage.\n");
    return 2;
  }
  try {
    for (auto& run : runners) {
      const int rc = run();
      if (rc >= 0) return rc;
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "sparseworld: {}\n", e.what());
    return 1;
  }
  return 0;
}
