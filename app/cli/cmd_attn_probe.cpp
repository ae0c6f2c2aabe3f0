// `sparseworld attn-probe`: runs attention methods (attention/, issue 4) over a multi-chunk
// synthetic trace with spatio-temporal structure and prints density, recall and cache bytes per
// chunk, then a summary table (the one in docs/ATTENTION.md). Try:
//   sparseworld attn-probe --method all --chunks 24
// The trace: a smooth random feature map that a camera crops to a grid of tokens; the camera moves,
// pauses (near-duplicate frames) and comes back (revisits), so old frames matter and some frames
// repeat. q, k, v are fixed random per-head projections of the token features plus small noise.
#include <fstream>
#include <memory>
#include <thread>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "sparseworld/attention.h"

namespace sw::cli {

namespace {

struct ProbeOptions {
  std::string method = "all";
  std::string json;
  int chunks = 24;
  int heads = 4;
  int head_dim = 32;
  int grid = 16;
  int block = 64;
  int frames = 2;
  int sink = 1;
  int window = 6;
  int memory = 16;
  int top_k = 8;
  uint64_t seed = 1;
  bool quiet = false;
};

// Synthetic rollout trace: features [C, Mh, Mw] cropped by a moving camera.
class Trace {
 public:
  Trace(const ProbeOptions& o) : o_(o), gen_(at::detail::createCPUGenerator(o.seed)) {
    const int64_t map = o.grid * 4, coarse = std::max<int64_t>(2, map / 4);
    const at::Tensor low = at::randn({1, kChannels, coarse, coarse}, gen_, at::kFloat);
    map_ = at::upsample_bilinear2d(low, {map, map}, /*align_corners=*/false).squeeze(0);  // [C, map, map]
    wq_ = at::randn({o.heads, kChannels, o.head_dim}, gen_, at::kFloat) * (kSharpness / std::sqrt(double(kChannels)));
    wk_ = at::randn({o.heads, kChannels, o.head_dim}, gen_, at::kFloat) / std::sqrt(double(kChannels));
    wv_ = at::randn({o.heads, kChannels, o.head_dim}, gen_, at::kFloat) / std::sqrt(double(kChannels));
  }
  // Camera x offset of frame t: right 8 frames, pause 4, back left 8, pause 4 (period 24).
  static int64_t camera_x(int64_t t) {
    const int64_t p = t % 24;
    if (p < 8) return p;
    if (p < 12) return 8;
    if (p < 20) return 8 - (p - 12);
    return 0;
  }
  // Camera y drifts slowly, so a revisit is close to but not exactly the old view.
  static int64_t camera_y(int64_t t) { return (t / 24) % 4; }

  // q, k, v of chunk c: [H, F * grid^2, D].
  std::array<at::Tensor, 3> chunk(int64_t c) {
    std::vector<at::Tensor> feats;
    const int64_t map = map_.size(1);
    for (int64_t f = 0; f < o_.frames; ++f) {
      const int64_t t = c * o_.frames + f;
      const at::Tensor ys = (at::arange(o_.grid, at::kLong) + camera_y(t)).remainder(map);
      const at::Tensor xs = (at::arange(o_.grid, at::kLong) + camera_x(t)).remainder(map);
      at::Tensor crop = map_.index_select(1, ys).index_select(2, xs);  // [C, g, g]
      crop = crop + kNoise * at::randn(crop.sizes(), gen_, at::kFloat);
      feats.push_back(crop.reshape({kChannels, o_.grid * o_.grid}).t());  // row-major tokens
    }
    const at::Tensor x = at::cat(feats, 0).unsqueeze(0);  // [1, F*T, C]
    return {at::matmul(x, wq_), at::matmul(x, wk_), at::matmul(x, wv_)};
  }

 private:
  static constexpr int64_t kChannels = 16;
  static constexpr double kSharpness = 3.0;  // peaky attention, as trained models have
  static constexpr double kNoise = 0.03;     // per-frame noise: static frames are near-duplicates
  ProbeOptions o_;
  at::Generator gen_;
  at::Tensor map_, wq_, wk_, wv_;
};

struct Summary {
  std::string method;
  double density = 0, recall = 0;
  int64_t final_bytes = 0, peak_bytes = 0, reserved = 0, merged = 0, preserved = 0, dropped = 0, merged_tokens = 0;
};

Summary run_method(const ProbeOptions& o, attn::Method method, nlohmann::json& rows) {
  attn::CacheParams cp;
  cp.heads = o.heads;
  cp.head_dim = o.head_dim;
  cp.grid_h = cp.grid_w = o.grid;
  cp.block_size = o.block;
  cp.chunk_frames = o.frames;
  cp.sink_frames = o.sink;
  cp.window_frames = o.window;
  cp.memory_slots = o.memory;
  cp.recall_every = 1;
  attn::MethodConfig mc;
  mc.method = method;
  mc.sparse_forcing.top_k = o.top_k;
  try {
    cp.validate();
    mc.validate();
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  attn::LayerAttention layer(cp, mc);
  Trace trace(o);
  Summary s;
  s.method = attn::method_name(method);
  if (!o.quiet) fmt::print("{:<15} {:>5} {:>8} {:>8} {:>12} {:>7} {:>9} {:>7}\n", "method", "chunk", "density", "recall", "cache_bytes", "merged", "preserved", "dropped");
  for (int c = 0; c < o.chunks; ++c) {
    auto [q, k, v] = trace.chunk(c);
    layer.attend(q, k, v, /*commit=*/true);
    const attn::LayerStats st = layer.stats();
    s.density += st.density / o.chunks;
    s.recall += st.recall / o.chunks;
    s.peak_bytes = std::max(s.peak_bytes, st.cache_bytes);
    s.final_bytes = st.cache_bytes;
    s.reserved = st.reserved_bytes;
    s.merged = st.merged_blocks;
    s.preserved = st.preserved_blocks;
    s.dropped = st.dropped_blocks;
    s.merged_tokens = st.merged_tokens;
    if (!o.quiet)
      fmt::print("{:<15} {:>5} {:>8.4f} {:>8.4f} {:>12} {:>7} {:>9} {:>7}\n", s.method, c, st.density, st.recall, st.cache_bytes,
                 st.merged_blocks, st.preserved_blocks, st.dropped_blocks);
    rows.push_back({{"method", s.method}, {"chunk", c}, {"density", st.density}, {"recall", st.recall},
                    {"cache_bytes", st.cache_bytes}, {"reserved_bytes", st.reserved_bytes},
                    {"merged_blocks", st.merged_blocks}, {"preserved_blocks", st.preserved_blocks},
                    {"dropped_blocks", st.dropped_blocks}, {"merged_tokens", st.merged_tokens}});
  }
  return s;
}

}  // namespace

Runner add_attn_probe_command(CLI::App& app) {
  auto opt = std::make_shared<ProbeOptions>();
  CLI::App* cmd = app.add_subcommand("attn-probe", "Run attention methods over a synthetic rollout trace: density, recall, cache bytes per chunk");
  cmd->add_option("--method", opt->method, "dense, window, sparse-forcing, light-forcing, tempcache or all")
      ->capture_default_str()
      ->check(CLI::IsMember({"all", "dense", "window", "sparse-forcing", "light-forcing", "tempcache"}));
  cmd->add_option("--json", opt->json, "Also write every chunk's numbers as JSON");
  cmd->add_option("--chunks", opt->chunks, "Chunks to roll out")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--heads", opt->heads, "Attention heads")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--head-dim", opt->head_dim, "Head dimension")->capture_default_str()->check(CLI::Range(1, 512));
  cmd->add_option("--grid", opt->grid, "Frame is grid x grid tokens")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--block", opt->block, "Tokens per block (must tile the frame)")->capture_default_str()->check(CLI::Range(1, 65536));
  cmd->add_option("--frames", opt->frames, "Frames per chunk")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--sink", opt->sink, "Sink frames")->capture_default_str()->check(CLI::Range(0, 1024));
  cmd->add_option("--window", opt->window, "Window frames")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--memory", opt->memory, "Memory slots per head (sparse-forcing)")->capture_default_str()->check(CLI::Range(0, 65536));
  cmd->add_option("--top-k", opt->top_k, "Top-k window blocks per query block (sparse-forcing)")->capture_default_str()->check(CLI::Range(1, 65536));
  cmd->add_option("--seed", opt->seed, "Trace seed")->capture_default_str();
  cmd->add_flag("--quiet", opt->quiet, "Only print the summary table");
  return [cmd, opt]() -> int {
    if (!*cmd) return -1;
    const int64_t tokens = int64_t(opt->grid) * opt->grid;
    if (tokens % opt->block)
      throw UsageError(fmt::format("--block {}: does not tile a {}x{} frame ({} tokens)", opt->block, opt->grid, opt->grid, tokens));
    at::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    std::vector<attn::Method> methods;
    if (opt->method == "all")
      methods = {attn::Method::Dense, attn::Method::Window, attn::Method::SparseForcing, attn::Method::LightForcing,
                 attn::Method::TempCache};
    else
      methods = {attn::method_from_name(opt->method)};
    nlohmann::json rows = nlohmann::json::array();
    std::vector<Summary> all;
    for (attn::Method m : methods) all.push_back(run_method(*opt, m, rows));
    fmt::print("\n| method | mean density | mean recall | final cache bytes | peak cache bytes | reserved bytes | merged | preserved | dropped | merged tokens |\n");
    fmt::print("|---|---|---|---|---|---|---|---|---|---|\n");
    for (const Summary& s : all)
      fmt::print("| {} | {:.4f} | {:.4f} | {} | {} | {} | {} | {} | {} | {} |\n", s.method, s.density, s.recall, s.final_bytes,
                 s.peak_bytes, s.reserved, s.merged, s.preserved, s.dropped, s.merged_tokens);
    if (!opt->json.empty()) write_text_atomically(opt->json, rows.dump(2) + "\n", "--json");
    return 0;
  };
}

}  // namespace sw::cli
