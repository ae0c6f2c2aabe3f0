// `sparseworld train`: trains the neural world on the reference world (autoencoder, diffusion
// forcing, self-forcing), with a progress bar, a loss log (CSV) and its plot (PNG). Resumes from
// OUT/checkpoint.safetensors when it exists. Try (CPU, seconds):
//   sparseworld train --config tiny --out /tmp/run --ae-steps 20 --df-steps 20 --sf-steps 10 --batch 2 --clip-frames 8
// After an ae or dec stage it prints the tokenizer's reconstruction PSNR on held-out frames.
#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>
#include <unistd.h>

#include <fmt/core.h>

#include "commands.h"
#include "number_check.h"
#include "sparseworld/sim/model.h"
#include "sparseworld/sim/train.h"

namespace sw::cli {

namespace {

std::string duration(double s) {
  const int t = static_cast<int>(s);
  return t >= 3600 ? fmt::format("{}h{:02d}m", t / 3600, t / 60 % 60) : fmt::format("{}m{:02d}s", t / 60, t % 60);
}

// Loss curves (log10) of every stage, one colour each.
void plot_loss(const std::string& csv, const std::string& png) {
  std::ifstream f(csv);
  std::string line;
  std::getline(f, line);  // header
  std::vector<std::vector<std::pair<double, double>>> series;
  std::string last_stage;
  double x = 0;
  while (std::getline(f, line)) {
    std::stringstream ss(line);
    std::string stage, step, loss;
    std::getline(ss, stage, ',');
    std::getline(ss, step, ',');
    std::getline(ss, loss, ',');
    if (series.empty() || stage != last_stage) series.emplace_back();
    last_stage = stage;
    const double l = std::stod(loss);
    if (l > 0 && std::isfinite(l)) series.back().push_back({x, std::log10(l)});
    x += 1;
  }
  if (!series.empty()) plot_series_png(png, series);
}

}  // namespace

Runner add_train_command(CLI::App& app) {
  auto p = std::make_shared<train::TrainParams>();
  CLI::App* cmd = app.add_subcommand("train", "Train the neural world on the reference world (resumable)");
  cmd->add_option("--out", p->out_dir, "Run folder: checkpoint, loss.csv, loss.png, model.safetensors")->capture_default_str();
  cmd->add_option("--stages", p->stages, "Stages in order: ae, dec (decoder fine-tune), df, sf (comma-separated)")->capture_default_str();
  cmd->add_option("--config", p->config, "Model config of a fresh run: " + model::config_list())->capture_default_str();
  cmd->add_option("--init", p->init, "Start a fresh run from this model file's weights (ignored when OUT has a checkpoint)");
  cmd->add_flag("--init-partial", p->init_partial,
                "With --init: build the model from --config (and --anchor-frame) and copy only the tensors whose name and shape match");
  cmd->add_option("--device", p->device, "auto, cpu or cuda")->capture_default_str()->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  cmd->add_option("--seed", p->seed, "Seed")->capture_default_str()->check(seed_check());
  cmd->add_option("--batch", p->batch, "Clips per step")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--clip-frames", p->clip_frames, "Frames per clip")->capture_default_str()->check(CLI::Range(2, 1024));
  cmd->add_option("--ae-steps", p->ae_steps, "Autoencoder steps")->capture_default_str()->check(CLI::Range(0, 100000000));
  cmd->add_option("--dec-steps", p->dec_steps, "Decoder fine-tune steps (stage dec: encoder frozen)")->capture_default_str()->check(CLI::Range(0, 100000000));
  cmd->add_option("--df-steps", p->df_steps, "Diffusion-forcing steps")->capture_default_str()->check(CLI::Range(0, 100000000));
  cmd->add_option("--sf-steps", p->sf_steps, "Self-forcing steps")->capture_default_str()->check(CLI::Range(0, 100000000));
  cmd->add_option("--time-limit", p->time_limit_s, "Stop cleanly after this many seconds (run again to resume)")
      ->check(number_check([](double v) { return v >= 0 && std::isfinite(v); }, "[0, inf)"));
  cmd->add_option("--lr", p->lr, "Peak learning rate of the transformer")
      ->capture_default_str()
      ->check(number_check([](double v) { return v > 0 && std::isfinite(v); }, "(0, inf)"));
  cmd->add_option("--ema-decay", p->ema_decay, "EMA decay of the shipped transformer weights")->capture_default_str()->check(CLI::Range(0.0, 0.99999));
  cmd->add_option("--warmup", p->warmup_steps, "Learning-rate warm-up steps")->capture_default_str()->check(CLI::Range(0, 100000000));
  cmd->add_option("--attention", p->attention, "Training mask: dense, window, sparse-forcing")->capture_default_str();
  cmd->add_option("--agents", p->agents,
                  "Agent kinds that play the training clips, comma-separated; a kind named twice gets twice the share (default: all, equally)");
  cmd->add_option("--context-noise", p->context_noise, "Noise level of context frames in training (match play/eval --context-noise)")
      ->capture_default_str()->check(CLI::Range(0.0, 0.5));
  cmd->add_option("--sf-rollout-chunks", p->sf_rollout_chunks, "Self-forcing: chunks the model generates before the trained one")
      ->capture_default_str()->check(CLI::Range(0, 64));
  cmd->add_option("--sf-sample-steps", p->sf_sample_steps, "Self-forcing: sampler steps of those chunks")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--df-context-share", p->df_context_share, "Diffusion forcing: share of chunks at the context noise level")
      ->capture_default_str()->check(CLI::Range(0.0, 0.95));
  cmd->add_option("--df-clean-prefix", p->df_clean_prefix,
                  "Diffusion forcing: share of clips whose chunks before a random split are all clean context (as old frames are at inference)")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--df-self-context", p->df_self_context,
                  "Diffusion forcing: share of steps whose context chunks the model remakes itself from the noised truth (0: off)")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--df-self-min-level", p->df_self_min_level, "Self-made context: lowest noise level the truth is remade from")
      ->capture_default_str()->check(CLI::Range(0.01, 1.0));
  cmd->add_option("--df-self-max-level", p->df_self_max_level, "Self-made context: highest noise level the truth is remade from")
      ->capture_default_str()->check(CLI::Range(0.01, 1.0));
  cmd->add_option("--df-self-steps", p->df_self_steps, "Self-made context: sampler steps of the remake")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--anchor-frame", p->anchor_frame,
                  "1: condition each frame on the last committed frame (a model from --init gains the input, starting at zero); 0: without; -1: as the config/model has it")
      ->capture_default_str()->check(CLI::Range(-1, 1));
  cmd->add_option("--data-threads", p->data_threads, "Clip-generating threads (0: all cores but one)")->check(CLI::Range(0, 1024));
  cmd->add_option("--checkpoint-every", p->checkpoint_every, "Steps between checkpoints")->capture_default_str()->check(CLI::Range(1, 100000000));
  cmd->add_flag("--profile", p->profile, "Print the mean time of each phase of a step (synchronises: slower)");
  cmd->add_option("--log-every", p->log_every, "Steps between log lines")->capture_default_str()->check(CLI::Range(1, 100000000));
  return [cmd, p]() -> int {
    if (!*cmd) return -1;
    try {
      p->validate();
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    const bool tty = isatty(fileno(stderr));
    auto progress = [tty](const train::Progress& pr) {
      const int width = 24, filled = static_cast<int>(width * pr.step / std::max<int64_t>(1, pr.total));
      fmt::print(stderr, "{}[{}] {:>3} [{}{}] {}/{} loss {:.4f} | {:.0f} frames/s{} | {} elapsed, ETA {}{}",
                 tty ? "\r" : "", pr.stage, static_cast<int>(100 * pr.step / std::max<int64_t>(1, pr.total)), std::string(filled, '#'),
                 std::string(width - filled, '.'), pr.step, pr.total, pr.loss, pr.frames_per_s,
                 pr.tflops > 0 ? fmt::format(" | ~{:.1f} TFLOP/s", pr.tflops) : "", duration(pr.elapsed_s),
                 duration(pr.eta_s), tty ? "" : "\n");
      if (!pr.phases.empty()) fmt::print(stderr, "{}    {}\n", tty ? "\n" : "", pr.phases);
      if (tty && pr.step == pr.total) fmt::print(stderr, "\n");
    };
    auto note = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
    const train::TrainResult r = train::run_training(*p, progress, note);
    if (tty) fmt::print(stderr, "\n");
    if (r.tokenizer_psnr_frames > 0)
      fmt::print("tokenizer: reconstruction PSNR {:.2f} dB on {} held-out frames (after stage {}; log {})\n", r.tokenizer_psnr_db,
                 r.tokenizer_psnr_frames, r.tokenizer_psnr_stage, r.tokenizer_csv);
    const std::string png = p->out_dir + "/loss.png";
    plot_loss(r.loss_csv, png);
    fmt::print("{}: model {}, loss log {}, plot {}\n", r.finished ? "finished" : "stopped at the time limit (run the same command to resume)",
               r.model_path, r.loss_csv, png);
    return 0;
  };
}

}  // namespace sw::cli
