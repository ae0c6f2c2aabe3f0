// `sparseworld model init|info|rollout`: create a randomly initialised model of a named config,
// print a model file's config, parameters and FLOPs, and roll a model out headless with any
// attention method, printing per-chunk latency, cache bytes and density.
// Try: sparseworld model init --config tiny --out /tmp/t.safetensors && sparseworld model info /tmp/t.safetensors
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "number_check.h"
#include "sparseworld/sim/agents.h"
#include "sparseworld/sim/neural_world.h"

namespace sw::cli {

namespace {

struct ModelOptions {
  std::string config = "default";
  std::string out;
  uint64_t seed = 0;
  std::string file;
  // rollout
  std::string method = "dense";
  int chunks = 20;
  std::string device = "auto";
  std::string agent = "explorer";
  std::string frames_out;
  std::string json;
  int recall_every = 0;
  int steps = 0;
  double context_noise = 0.1;
  double action_guidance = 1.0, history_guidance = 1.0;
};

std::string human(double v) {
  const char* units[] = {"", "K", "M", "G", "T"};
  int u = 0;
  while (v >= 1000.0 && u < 4) { v /= 1000.0; ++u; }
  return fmt::format("{:.2f}{}", v, units[u]);
}

int run_info(const ModelOptions& o) {
  const model::ModelInfo info = model::read_model_info(o.file);
  const model::ModelConfig& c = info.config;
  fmt::print("model {} ({} file{})\n", o.file, info.files.size(), info.files.size() == 1 ? "" : "s");
  fmt::print("  config        {}\n", c.name);
  fmt::print("  frames        {}x{} RGB -> latents {}x{}x{} ({} tokens/frame)\n", c.frame_size, c.frame_size, c.latent_grid(),
             c.latent_grid(), c.latent_channels, c.tokens_per_frame());
  fmt::print("  tokenizer     conv width {}, {} residual block{} per level{}\n", c.ae_channels, c.ae_res_blocks,
             c.ae_res_blocks == 1 ? "" : "s", c.ae_res_blocks ? "" : " (one conv per level)");
  fmt::print("  transformer   width {}, depth {}, heads {} (head dim {}), mlp x{}, cond {}\n", c.width, c.depth, c.heads,
             c.head_dim(), c.mlp_ratio, c.cond_dim);
  fmt::print("  rollout       chunk {} frames, {} sampling steps + 1 clean pass, block {} tokens, sink {} + window {} frames, memory {} slots\n",
             c.chunk_frames, c.sample_steps, c.block_size, c.sink_frames, c.window_frames, c.memory_slots);
  fmt::print("  anchor frame  {}\n", c.anchor_frame ? "yes (each chunk also reads the last committed frame as input channels)" : "no");
  fmt::print("  parameters    {} transformer + {} tokenizer = {}\n", human(info.transformer_parameters),
             human(info.tokenizer_parameters), human(info.transformer_parameters + info.tokenizer_parameters));
  fmt::print("  FLOPs         {} per transformer pass, {} per chunk ({} per frame)\n", human(info.flops_per_forward),
             human(info.flops_per_chunk), human(info.flops_per_chunk / c.chunk_frames));
  return 0;
}

int run_rollout(const ModelOptions& o) {
  NeuralWorldParams p;
  p.model_path = o.file;
  p.device = o.device;
  p.recall_every = o.recall_every;
  p.sample_steps = o.steps;
  p.context_noise = o.context_noise;
  p.action_guidance = o.action_guidance;
  p.history_guidance = o.history_guidance;
  try {
    p.method.method = attn::method_from_name(o.method);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--method: ") + e.what());
  }
  NeuralWorld world(p);
  if (!o.frames_out.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.frames_out, ec);
    if (ec) throw UsageError("--frames-out '" + o.frames_out + "': " + ec.message());
  }
  // Actions from an agent playing the reference world of the same seed: realistic input.
  WorldParams wp;
  wp.width = wp.height = 32;
  ReferenceWorld ref(wp);
  ref.reset(o.seed);
  auto agent = make_agent(o.agent, o.seed);
  world.reset(o.seed);
  const int F = world.chunk_frames();
  fmt::print("{:>6} {:>11} {:>11} {:>11} {:>11} {:>13} {:>8} {:>8}\n", "chunk", "total ms", "denoise ms", "commit ms",
             "decode ms", "cache bytes", "density", "recall");
  nlohmann::json rows = nlohmann::json::array();
  std::vector<double> totals;
  std::vector<Frame> frames;
  for (int chunk = 0; chunk < o.chunks; ++chunk) {
    std::vector<Action> acts;
    for (int i = 0; i < F; ++i) {
      acts.push_back(agent->act(ref));
      ref.apply_action(acts.back());
    }
    world.step(acts, frames);
    const NeuralStats& s = world.neural_stats();
    const double total = s.denoise_ms + s.commit_ms + s.decode_ms;
    totals.push_back(total);
    fmt::print("{:>6} {:>11.3f} {:>11.3f} {:>11.3f} {:>11.3f} {:>13} {:>8.3f} {:>8}\n", chunk, total, s.denoise_ms, s.commit_ms,
               s.decode_ms, s.cache_bytes, s.density, s.recall >= 0 ? fmt::format("{:.3f}", s.recall) : "-");
    rows.push_back({{"chunk", chunk}, {"total_ms", total}, {"denoise_ms", s.denoise_ms}, {"commit_ms", s.commit_ms},
                    {"decode_ms", s.decode_ms}, {"cache_bytes", s.cache_bytes}, {"density", s.density}, {"recall", s.recall}});
    if (!o.frames_out.empty())
      for (size_t i = 0; i < frames.size(); ++i)
        write_png(fmt::format("{}/frame_{:06d}.png", o.frames_out, chunk * F + static_cast<int>(i)), frames[i].rgb.data(),
                  frames[i].width, frames[i].height);
  }
  std::vector<double> warm(totals.begin() + std::min<size_t>(2, totals.size() - 1), totals.end());
  std::sort(warm.begin(), warm.end());
  const double median = warm[warm.size() / 2];
  fmt::print("method {} on {} ({} timing): median {:.3f} ms per chunk of {} frames = {:.1f} frames/s (chunks after the first 2)\n",
             o.method, world.device_name(), world.neural_stats().gpu_timed ? "CUDA events" : "host clock", median, F,
             1000.0 * F / median);
  if (!o.json.empty())
    write_text_atomically(o.json, nlohmann::json{{"method", o.method}, {"device", world.device_name()}, {"median_ms", median}, {"chunks", rows}}.dump(2) + "\n",
                          "--json");
  return 0;
}

}  // namespace

Runner add_model_command(CLI::App& app) {
  auto o = std::make_shared<ModelOptions>();
  CLI::App* cmd = app.add_subcommand("model", "Create, inspect and roll out neural world models");
  cmd->require_subcommand(1);
  CLI::App* init = cmd->add_subcommand("init", "Write a randomly initialised model of a named config (safetensors, bf16)");
  init->add_option("--config", o->config, "Config name: " + model::config_list())->capture_default_str();
  init->add_option("--out", o->out, "Output file (.safetensors; sharded at 16 MB)")->required();
  init->add_option("--seed", o->seed, "Initialisation seed")->capture_default_str()->check(seed_check());
  CLI::App* info = cmd->add_subcommand("info", "Print a model file's config, parameter count and FLOPs per chunk");
  info->add_option("file", o->file, "Model file")->required();
  CLI::App* roll = cmd->add_subcommand("rollout", "Roll a model out headless; print per-chunk latency, cache bytes, density");
  roll->add_option("file", o->file, "Model file")->required();
  roll->add_option("--method", o->method, "Attention method: dense, window, sparse-forcing, light-forcing, tempcache")->capture_default_str();
  roll->add_option("--chunks", o->chunks, "Chunks to generate")->capture_default_str()->check(CLI::Range(1, 1000000));
  roll->add_option("--device", o->device, "auto, cpu or cuda")->capture_default_str()->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  roll->add_option("--seed", o->seed, "World and noise seed")->capture_default_str()->check(seed_check());
  roll->add_option("--agent", o->agent, "Agent that chooses the actions")->capture_default_str();
  roll->add_option("--steps", o->steps, "Sampling steps (0: the model's)")->capture_default_str()->check(CLI::Range(0, 64));
  roll->add_option("--context-noise", o->context_noise, "Noise level frames are committed at (match train --context-noise)")
      ->capture_default_str()->check(CLI::Range(0.0, 0.5));
  add_guidance_options(roll, o->action_guidance, o->history_guidance);
  roll->add_option("--recall-every", o->recall_every, "Measure recall against dense every N chunks")->check(CLI::Range(0, 1000000));
  roll->add_option("--frames-out", o->frames_out, "Write generated frames as PNG into this folder");
  roll->add_option("--json", o->json, "Also write per-chunk results as JSON");
  return [cmd, init, info, roll, o]() -> int {
    if (!*cmd) return -1;
    if (*init) {
      model::ModelConfig c;
      try {
        c = model::named_config(o->config);
      } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--config: ") + e.what());
      }
      const auto parent = std::filesystem::path(o->out).parent_path();
      std::error_code ec;
      if (!parent.empty()) std::filesystem::create_directories(parent, ec);
      if (ec) throw UsageError("--out '" + o->out + "': cannot create folder: " + ec.message());
      const auto files = model::init_model_file(c, o->seed, o->out);
      for (const auto& f : files) fmt::print("wrote {}\n", f);
      return 0;
    }
    if (*info) return run_info(*o);
    if (*roll) {
      make_agent(o->agent, 0);  // fails early, listing valid agents
      return run_rollout(*o);
    }
    return -1;
  };
}

}  // namespace sw::cli
