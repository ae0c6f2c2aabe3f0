// The sparseworld command line: each subcommand registers itself on a CLI11 app and runs after
// parsing. main.cpp only wires them together. Test: tests/app/test_cli.cpp.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sw::cli {

// A user-facing failure: printed as one line "sparseworld: <message>", exit code 1.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Runner = std::function<int()>;

// Each returns the action to run if its subcommand was chosen.
Runner add_world_command(CLI::App& app);
Runner add_bench_command(CLI::App& app);
// Built when SW_HAVE_TORCH (SW_WITH_ATTENTION): app/cli/cmd_attn_probe.cpp.
Runner add_attn_probe_command(CLI::App& app);
#ifdef SW_HAVE_NEURAL_WORLD
Runner add_model_command(CLI::App& app);  // needs libtorch
Runner add_train_command(CLI::App& app);
Runner add_eval_command(CLI::App& app);
#endif
// The player (built when SW_HAVE_PLAYER): app/cli/cmd_play.cpp, app/cli/cmd_run.cpp.
Runner add_play_command(CLI::App& app);
Runner add_run_command(CLI::App& app);

// Writes an RGB8 image as PNG, atomically (temp file + rename). Throws UsageError on failure.
void write_png(const std::string& path, const uint8_t* rgb, int width, int height);

// Line plot of several series (x, y) into a PNG (atomic), each series its own colour, axes scaled
// to the data, horizontal guides at every integer y (decades when y is a log10 value).
void plot_series_png(const std::string& path, const std::vector<std::vector<std::pair<double, double>>>& series);

// Writes a text file (JSON results, stats) atomically: an existing file survives a failed write.
// `flag` names the option the path came from, for the error message. Throws UsageError.
void write_text_atomically(const std::string& path, const std::string& text, const std::string& flag = "");

}  // namespace sw::cli
