// `sparseworld eval`: the neural world against the reference world on held-out worlds, for every
// attention method: teacher-forced next-chunk PSNR/SSIM and action fidelity, rollout PSNR/SSIM at
// horizons, the out-and-back revisit test (free, and with the way out teacher-forced: memory
// recall), drift.
// Prints a table, writes JSON and a PSNR-vs-horizon plot. Try (CPU, tiny model, seconds):
//   sparseworld model init --config tiny --out /tmp/t.safetensors
//   sparseworld eval --model /tmp/t.safetensors --seeds 1 --horizons 1,2 --drift-seconds 3 --revisit-seconds 10 --out /tmp/eval
#include <cmath>
#include <filesystem>
#include <memory>
#include <sstream>

#include <fmt/core.h>

#include "commands.h"
#include "number_check.h"
#include "sparseworld/sim/eval.h"
#include "sparseworld/sim/neural_world.h"

namespace sw::cli {

namespace {
struct EvalOptions {
  eval::EvalParams params;
  std::string methods = "all";
  std::string horizons = "1,5,20,60";
  std::string out = "eval";
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}
// Side-by-side strips of the first rollout: the ground truth on top, then one row per method, one
// column per kept frame, with a gap between tiles. False when no frame was kept.
bool write_strips(const std::string& path, const eval::EvalReport& r) {
  if (r.methods.empty() || r.methods[0].strip_truth.empty()) return false;
  const auto& first = r.methods[0];
  const int S = first.strip_truth[0].width, gap = std::max(2, S / 32);
  const int cols = static_cast<int>(first.strip_truth.size()), rows = 1 + static_cast<int>(r.methods.size());
  const int W = cols * S + (cols - 1) * gap, H = rows * S + (rows - 1) * gap;
  std::vector<uint8_t> img(static_cast<size_t>(W) * H * 3, 255);
  auto blit = [&](const Frame& f, int row, int col) {
    for (int y = 0; y < S; ++y)
      std::copy_n(f.rgb.data() + static_cast<size_t>(y) * S * 3, static_cast<size_t>(S) * 3,
                  img.data() + (static_cast<size_t>(row * (S + gap) + y) * W + static_cast<size_t>(col) * (S + gap)) * 3);
  };
  for (int c = 0; c < cols; ++c) blit(first.strip_truth[static_cast<size_t>(c)], 0, c);
  for (size_t m = 0; m < r.methods.size(); ++m)
    for (int c = 0; c < cols && c < static_cast<int>(r.methods[m].strip_generated.size()); ++c)
      blit(r.methods[m].strip_generated[static_cast<size_t>(c)], static_cast<int>(m) + 1, c);
  write_png(path, img.data(), W, H);
  return true;
}

}  // namespace

Runner add_eval_command(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* cmd = app.add_subcommand("eval", "Measure the neural world against the reference world (PSNR, SSIM, drift) per method");
  cmd->add_option("--model", o->params.model_path, "Model file")->required();
  cmd->add_option("--methods", o->methods, "Comma-separated attention methods, or all")->capture_default_str();
  cmd->add_option("--context-noise", o->params.context_noise, "Noise level frames are committed at (match train --context-noise)")
      ->capture_default_str()->check(CLI::Range(0.0, 0.5));
  cmd->add_option("--seeds", o->params.seeds, "Held-out worlds")->capture_default_str()->check(CLI::Range(1, 10000));
  cmd->add_option("--horizons", o->horizons, "Rollout horizons in seconds (comma-separated)")->capture_default_str();
  const CLI::Validator seconds_check = number_check([](double v) { return v > 0 && std::isfinite(v); }, "(0, inf)");
  cmd->add_option("--drift-seconds", o->params.drift_seconds, "Length of the drift rollout (seconds of game time)")->capture_default_str()->check(seconds_check);
  cmd->add_option("--revisit-seconds", o->params.revisit_seconds, "Length of the out-and-back rollout of the revisit test")->capture_default_str()->check(seconds_check);
  cmd->add_option("--recall-seconds", o->params.recall_seconds,
                  "Length of the memory-recall run: the revisit route with the way out teacher-forced (0: --revisit-seconds)")
      ->capture_default_str()
      ->check(number_check([](double v) { return v >= 0 && std::isfinite(v); }, "[0, inf)"));
  cmd->add_option("--revisit-agent", o->params.revisit_agent,
                  "Who walks the revisit and recall runs: out_and_back (retraces a route) or look_back (turns away and back in place)")
      ->capture_default_str()
      ->check(CLI::IsMember(eval::revisit_agent_names()));
  cmd->add_option("--device", o->params.device, "auto, cpu or cuda")->capture_default_str()->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  cmd->add_option("--steps", o->params.sample_steps, "Sampling steps (0: the model's)")->capture_default_str()->check(CLI::Range(0, 64));
  cmd->add_option("--sample-shift", o->params.sample_shift, "Sampler timestep shift (1: uniform steps; > 1: more steps at high noise)")
      ->capture_default_str()
      ->check(number_check(valid_sample_shift, fmt::format("(0, {}]", kMaxSampleShift)));
  add_guidance_options(cmd, o->params.action_guidance, o->params.history_guidance);
  cmd->add_option("--out", o->out, "Output folder: eval.json and psnr_vs_horizon.png")->capture_default_str();
  // Sparse-forcing's knobs (the panel's), to find what its long rollouts depend on (e.g. the
  // freeze on one wall: with and without the persistent memory).
  auto& sf = o->params.attention.sparse_forcing;
  cmd->add_option("--sf-top-k", sf.top_k, "Sparse-forcing: window blocks kept per query block")
      ->capture_default_str()
      ->check(whole_number_check(1, INT64_MAX, "[1, 2^63)"));
  cmd->add_option("--sf-neighbour-frames", sf.neighbour_frames, "Sparse-forcing: recent frames whose nearby blocks are always kept")
      ->capture_default_str()
      ->check(number_check([](double v) { return v >= 0 && std::isfinite(v); }, "[0, inf)"));
  cmd->add_option("--sf-memory-top-k", sf.memory_top_k, "Sparse-forcing: memory blocks kept per query block by score (0: every slot)")
      ->capture_default_str()
      ->check(whole_number_check(0, INT64_MAX, "[0, 2^63)"));
  cmd->add_option("--memory-slots", o->params.memory_slots, "Sparse-forcing: persistent memory blocks per head and layer (-1: the model's)")
      ->capture_default_str()
      ->check(CLI::Range(-1, kMaxMemorySlots));
  cmd->add_option("--sf-memory", sf.use_memory, "Sparse-forcing: attend to and update the persistent memory (true/false)")
      ->capture_default_str();
  cmd->add_option("--sf-merge-threshold", sf.merge_threshold, "Sparse-forcing: cosine at or above which an evicted block merges")
      ->capture_default_str()
      ->check(CLI::Range(-1.0, 1.0));
  cmd->add_option("--sf-max-count", sf.max_count, "Sparse-forcing: cap on a merged memory token's count (0: none)")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& s) {
            double v = -1;
            try {
              v = std::stod(s);
            } catch (const std::exception&) {
            }
            return v == 0 || v >= 1 ? std::string() : "'" + s + "' is not 0 (no cap) or a count >= 1";
          },
          "0 or >= 1"));
  cmd->add_option("--sf-memory-distance", sf.memory_time_distance,
                  "Sparse-forcing: frames before the generated chunk at which every memory key sits (0: at its own frame)")
      ->capture_default_str()
      ->check(whole_number_check(0, int64_t{1} << 20, "[0, 2^20]"));
  cmd->add_option("--sf-salience-decay", sf.salience_decay, "Sparse-forcing: per-chunk decay of a block's salience")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  return [cmd, o]() -> int {
    if (!*cmd) return -1;
    if (o->methods != "all") o->params.methods = split(o->methods);
    o->params.horizons_s.clear();
    for (const auto& h : split(o->horizons)) {
      try {
        o->params.horizons_s.push_back(std::stod(h));
      } catch (const std::exception&) {
        throw UsageError("--horizons: '" + h + "' is not a number");
      }
    }
    try {
      o->params.validate();
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    std::error_code ec;
    std::filesystem::create_directories(o->out, ec);
    if (ec) throw UsageError("--out '" + o->out + "': " + ec.message());
    const eval::EvalReport r = eval::run_eval(o->params, [](const std::string& m) { fmt::print(stderr, "{}\n", m); });
    std::string head = fmt::format("{:<15} {:>10} {:>8}", "method", "TF PSNR", "TF SSIM");
    for (double h : r.horizons_s) head += fmt::format(" {:>12}", fmt::format("{}s PSNR/SSIM", h));
    fmt::print("{} {:>8} {:>8} {:>8} {:>6} {:>7} {:>10} {:>8}\n", head, "actions", "revisit", "recall", "drift", "detail", "ms/chunk", "density");
    std::vector<std::vector<std::pair<double, double>>> series;
    for (const auto& m : r.methods) {
      std::string line = fmt::format("{:<15} {:>10.2f} {:>8.3f}", m.method, m.teacher_psnr, m.teacher_ssim);
      series.emplace_back();
      for (size_t h = 0; h < r.horizons_s.size(); ++h) {
        line += fmt::format(" {:>12}", fmt::format("{:.2f}/{:.3f}", m.horizon_psnr[h], m.horizon_ssim[h]));
        series.back().push_back({r.horizons_s[h], m.horizon_psnr[h]});
      }
      fmt::print("{} {:>7.1f}% {:>8} {:>8} {:>6} {:>7.2f} {:>10.1f} {:>8.3f}\n", line, 100.0 * m.action_accuracy,
                 m.revisit_frames ? fmt::format("{:.2f}", m.revisit_psnr) : "-", m.recall_frames ? fmt::format("{:.2f}", m.recall_psnr) : "-",
                 m.drift_ok ? "ok" : "FAIL", m.drift_detail,
                 m.ms_per_chunk, m.attention_density);
    }
    for (const auto& m : r.methods) {
      std::string line = fmt::format("{:<15} rollout PSNR, mean of the last second before each horizon:", m.method);
      for (size_t h = 0; h < r.horizons_s.size(); ++h) line += fmt::format(" {}s {:.2f}", r.horizons_s[h], m.horizon_psnr_last_second[h]);
      fmt::print("{}\n", line);
    }
    for (const auto& m : r.methods) {  // which actions fail (recovered / scored per taken class)
      std::string line = fmt::format("{:<15} action fidelity by class:", m.method);
      for (size_t c = 0; c < m.action_confusion.size(); ++c) {
        int64_t total = 0;
        for (int64_t v : m.action_confusion[c]) total += v;
        line += fmt::format(" {} {}/{}", eval::action_class_names()[c], m.action_confusion[c][c], total);
      }
      fmt::print("{}\n", line);
    }
    if (!r.methods.empty())  // the same frames for every method
      fmt::print("teacher-forced baselines: copy the previous frame {:.2f} dB, tokenizer reconstruction {:.2f} dB (ceiling), "
                 "which keeps {:.2f} of the truth's detail\n",
                 r.methods[0].teacher_copy_psnr, r.methods[0].tokenizer_psnr, r.methods[0].tokenizer_detail);
    if (!r.methods.empty() && r.methods[0].recall_nearest_left_view_psnr >= 0)
      fmt::print("recall baseline: the nearest true view of the way out that left the window {:.2f} dB\n", r.methods[0].recall_nearest_left_view_psnr);
    write_text_atomically(o->out + "/eval.json", r.json() + "\n", "--out");
    plot_series_png(o->out + "/psnr_vs_horizon.png", series);
    const bool strips = write_strips(o->out + "/strips.png", r);
    fmt::print("wrote {0}/eval.json, {0}/psnr_vs_horizon.png{1}\n", o->out, strips ? fmt::format(" and {}/strips.png", o->out) : "");
    return 0;
  };
}

}  // namespace sw::cli
