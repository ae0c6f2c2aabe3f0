// `sparseworld bench attention [--what pbsa|sparse-forcing] [--json FILE] [--export-masks DIR]`: PBSA (the engine's path,
// execute_plan_pbsa) against dense SDPA (cuDNN and FlashAttention-2 backends of
// at::scaled_dot_product_attention) in one process, bf16, at our default model's shape, the small
// 8-head shape and the Self-Forcing / Wan-1.3B shape, at densities 100/50/25/10/5%. Random block
// masks per (head, query block), the same mask for every method; dense rows at 100%. Timed with
// CUDA events after warm-up, median of kRuns, each call queued behind a spin kernel so the events
// time the GPU's work; the host path per call is its own column (back-to-back wall clock).
// --export-masks writes the masks (raw int32 + JSON) for scripts/bench_flex.py (FlexAttention on
// identical masks).
// --what sparse-forcing instead times sparse-forcing's two kernels (block top-k plan, memory update
// of one evicted frame) against the libtorch ops they replace, at the default model's shape.
// Built only with CUDA libtorch (SW_TORCH_CUDA) and nvcc. Run: see docs/BENCHMARKS.md.
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/Sleep.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "executor.h"
#include "geometry.h"
#include "policies.h"

namespace sw::cli {

namespace {

constexpr int kWarmup = 5;   // first launches pay for module loading and allocator growth
constexpr int kRuns = 30;    // timed runs; the median is reported
constexpr int64_t kBlock = 64;  // our model's block size (tokens per block)

struct Shape {
  const char* name;
  int64_t heads, head_dim, q_tokens, kv_tokens;
  int64_t block = kBlock;  // tokens per block of the masks (query and KV)
};

// (a) our default model: 5 heads, head dim 64, a chunk of 2 frames x 256 tokens against
// (1 sink + 8 window + 2 chunk) frames x 256 tokens + 16 memory blocks of 64; (b) the brief's
// small-model shape; (c) Self-Forcing / Wan-1.3B: one 3-frame chunk against the full cache, with
// blocks of 64 and, as the brief's FlexAttention column, of 128 tokens.
const Shape kShapes[] = {
    {"default", 5, 64, 2 * 256, 11 * 256 + 16 * kBlock},
    {"small", 8, 64, 1024, 16384},
    {"wan", 12, 128, 4680, 32760},
    {"wan128", 12, 128, 4680, 32760, 128},
};
const double kDensities[] = {1.0, 0.5, 0.25, 0.1, 0.05};

struct BenchAttnOptions {
  std::string json, export_masks, what = "pbsa";
  std::vector<std::string> shapes;  // empty: all
};

// The spin kernel queued ahead of each timed call must outlast the host's enqueue of that call
// (checks, allocation, tensor maps, launches); the timed span then starts with every launch of the
// call already queued, so the events measure GPU execution, not the host path (nvbench's "blocking
// kernel"). The spin is at least kMinSpinMs and 4x the slowest enqueue seen in warm-up; a run whose
// enqueue still came near the spin's end (the OS preempted the host thread) is measured again. The
// host path has its own column (host_us_per_call).
constexpr double kMinSpinMs = 2.0;

// Median milliseconds of fn on the current stream: GPU time, launches hidden behind a spin kernel.
double time_ms(const std::function<void()>& fn) {
  using clock = std::chrono::steady_clock;
  const cudaStream_t s = at::cuda::getCurrentCUDAStream().stream();
  double slowest_enqueue_ms = 0;
  for (int i = 0; i < kWarmup; ++i) {
    const auto t0 = clock::now();
    fn();
    if (i > 0) slowest_enqueue_ms = std::max(slowest_enqueue_ms, std::chrono::duration<double, std::milli>(clock::now() - t0).count());
    cudaStreamSynchronize(s);
  }
  const double spin_ms = std::max(kMinSpinMs, 4 * slowest_enqueue_ms);
  int clock_khz = 0, dev = 0;
  // A failed query would leave a 0-cycle spin: launch latency back in every number, silently.
  if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, dev) != cudaSuccess ||
      clock_khz <= 0)
    throw std::runtime_error("bench attention: cannot read the GPU clock rate to size the spin kernel");
  const auto spin_cycles = static_cast<int64_t>(spin_ms * clock_khz);
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  std::vector<float> ms;
  int exposed = 0;
  while (static_cast<int>(ms.size()) < kRuns) {
    at::cuda::sleep(spin_cycles);
    const auto t0 = clock::now();
    cudaEventRecord(a, s);
    fn();
    cudaEventRecord(b, s);
    const double enqueue_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    cudaEventSynchronize(b);
    float t = 0;
    cudaEventElapsedTime(&t, a, b);
    if (enqueue_ms < 0.8 * spin_ms) {
      ms.push_back(t);
    } else if (++exposed > kRuns) {
      throw std::runtime_error(fmt::format("bench attention: {} runs enqueued for over 80% of the {:.1f} ms spin (host too busy to time the GPU)",
                                           exposed, spin_ms));
    }
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// Wall-clock microseconds per call of fn issued back to back (kRuns x 4 calls, one sync at the
// end): when this is close to time_ms, the call is bound by the host's launch path, not the GPU.
double host_us_per_call(const std::function<void()>& fn) {
  const cudaStream_t s = at::cuda::getCurrentCUDAStream().stream();
  for (int i = 0; i < kWarmup; ++i) fn();
  cudaStreamSynchronize(s);
  const int calls = kRuns * 4;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) fn();
  cudaStreamSynchronize(s);
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / calls;
}

// Dense SDPA with exactly one backend enabled; restores all four flags to on afterwards.
double time_sdpa(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, bool cudnn) {
  at::Context& ctx = at::globalContext();
  ctx.setSDPUseFlash(!cudnn);
  ctx.setSDPUseCuDNN(cudnn);
  ctx.setSDPUseMemEfficient(false);
  ctx.setSDPUseMath(false);
  const double ms = time_ms([&] { (void)at::scaled_dot_product_attention(q, k, v); });
  ctx.setSDPUseFlash(true);
  ctx.setSDPUseCuDNN(true);
  ctx.setSDPUseMemEfficient(true);
  ctx.setSDPUseMath(true);
  return ms;
}

// Sparse-forcing at the default model's shape: 5 heads, head dim 64, blocks of 64, a chunk of
// 2 frames x 4 blocks (512 query tokens) against 1 sink frame + 16 memory slots + an 8-frame
// window of 4 blocks. Plan: the kernel vs the libtorch ops of plan_sparse_forcing_torch (pooling,
// scores, top-k, scatter, plan_from_mask) on identical inputs. Memory update: evicting one frame
// (4 blocks) with the kernel vs sparse_forcing_evict_block per block, each on its own full cache.
void bench_sparse_forcing(nlohmann::json& results) {
  attn::CacheParams cp;
  cp.heads = 5;
  cp.head_dim = 64;
  cp.block_size = 64;
  cp.chunk_frames = 2;
  cp.sink_frames = 1;
  cp.window_frames = 8;
  cp.memory_slots = 16;
  cp.dtype = at::kBFloat16;
  cp.device = at::Device(at::kCUDA, 0);
  const attn::Geometry g = attn::make_geometry(cp);
  const int64_t H = g.heads, B = g.block, D = g.head_dim, nb = g.blocks_per_frame, C = g.chunk_blocks();
  const auto dev = at::TensorOptions().device(cp.device);
  at::manual_seed(7);
  attn::SparseForcingParams sp;
  sp.merge_threshold = 0.1;  // random keys: let some blocks merge
  // A full cache: every slot valid, random K/V, pooled keys consistent, random salience.
  auto full_cache = [&] {
    attn::PagedKVCache c(g, cp);
    c.k.copy_(at::randn(c.k.sizes(), dev));
    c.v.copy_(at::randn(c.v.sizes(), dev));
    c.count.fill_(1.0);
    c.refresh_kpool(0, c.num_slots());
    c.salience.copy_(at::rand(c.salience.sizes(), dev));
    return c;
  };
  attn::PagedKVCache cache = full_cache();
  const int64_t P = cache.num_slots(), N = P + C;
  const at::Tensor qb = at::randn({H, C, B, D}, dev).to(at::kBFloat16);
  const at::Tensor kpool = at::cat({cache.kpool, at::randn({H, C, D}, dev)}, 1);
  const at::Tensor win = cache.region.eq(attn::kWindow).unsqueeze(0).expand({H, P});
  const at::Tensor cand = at::cat({win, at::zeros({H, C}, dev.dtype(at::kBool))}, 1).contiguous();
  const at::Tensor fixed = at::cat({cache.region.ne(attn::kWindow).view({1, 1, P}).expand({H, C, P}),
                                    at::ones({H, C, C}, dev.dtype(at::kBool))}, 2).contiguous();
  const int64_t width = std::min<int64_t>(N, (P - 8 * nb) + C + sp.top_k + nb);
  const double topk_kernel = time_ms([&] { (void)attn::plan_topk_kernel(qb, kpool, cand, fixed, sp.top_k, width); });
  const float ninf = -std::numeric_limits<float>::infinity();
  const double topk_torch = time_ms([&] {
    const at::Tensor qpool = qb.to(at::kFloat).mean(2);
    const at::Tensor score = at::matmul(qpool, kpool.transpose(1, 2)).masked_fill(cand.logical_not().unsqueeze(1), ninf);
    const at::Tensor top = std::get<1>(at::topk(score, sp.top_k, 2));
    const at::Tensor topmask = at::zeros({H, C, N}, dev.dtype(at::kBool)).scatter_(2, top, true) & cand.unsqueeze(1);
    (void)attn::plan_from_mask(fixed | topmask, width);
  });
  attn::PagedKVCache ck = full_cache(), ct = full_cache();
  attn::CacheCounters cnt_k, cnt_t;
  cnt_k.reset(cp.device);
  cnt_t.reset(cp.device);
  const int64_t base = ck.ring_slot(0);
  const double mem_kernel = time_ms([&] { (void)attn::sparse_forcing_evict_kernel(ck, base, nb, sp, nullptr, cnt_k); });
  const double mem_torch = time_ms([&] {
    for (int64_t s = 0; s < nb; ++s) attn::sparse_forcing_evict_block(ct, base + s, sp, nullptr, cnt_t);
  });
  fmt::print("sparse-forcing, default model (H {}, D {}, B {}, {} query blocks, {} KV blocks, top-k {}, {} memory slots)\n", H, D, B,
             C, N, sp.top_k, cp.memory_slots);
  fmt::print("{:<34} {:>10} {:>10} {:>8}\n", "op", "kernel ms", "torch ms", "speedup");
  fmt::print("{:<34} {:>10.4f} {:>10.4f} {:>7.1f}x\n", "block top-k plan (one chunk)", topk_kernel, topk_torch, topk_torch / topk_kernel);
  fmt::print("{:<34} {:>10.4f} {:>10.4f} {:>7.1f}x\n", "memory update (one frame, 4 blocks)", mem_kernel, mem_torch, mem_torch / mem_kernel);
  results.push_back({{"op", "block_topk"}, {"kernel_ms", topk_kernel}, {"torch_ms", topk_torch}, {"q_blocks", C}, {"kv_blocks", N}});
  results.push_back({{"op", "memory_update"}, {"kernel_ms", mem_kernel}, {"torch_ms", mem_torch}, {"evicted_blocks", nb},
                     {"memory_slots", cp.memory_slots}});
}

}  // namespace

Runner add_bench_attention(CLI::App* bench) {
  auto opt = std::make_shared<BenchAttnOptions>();
  CLI::App* cmd = bench->add_subcommand("attention", "PBSA vs dense cuDNN / FlashAttention-2 SDPA (CUDA, bf16)");
  cmd->add_option("--what", opt->what, "pbsa (default): PBSA vs SDPA; sparse-forcing: its top-k and memory kernels vs libtorch")
      ->check(CLI::IsMember({"pbsa", "sparse-forcing"}));
  cmd->add_option("--json", opt->json, "Also write the results as JSON");
  cmd->add_option("--export-masks", opt->export_masks, "Write the block masks (int32 + masks.json) for scripts/bench_flex.py");
  cmd->add_option("--shapes", opt->shapes, "Only these shapes (default: all)")
      ->delimiter(',')
      ->check(CLI::IsMember({"default", "small", "wan", "wan128"}));
  return [cmd, opt]() -> int {
    if (!*cmd) return -1;
    if (!at::cuda::is_available()) throw UsageError("bench attention: no CUDA device");
    if (opt->what == "sparse-forcing") {
      nlohmann::json sf = nlohmann::json::array();
      bench_sparse_forcing(sf);
      if (!opt->json.empty()) {
        std::ofstream f(opt->json);
        if (!f) throw UsageError("--json '" + opt->json + "': cannot open for writing");
        f << sf.dump(2) << "\n";
      }
      return 0;
    }
    if (!opt->export_masks.empty()) std::filesystem::create_directories(opt->export_masks);
    const auto dev = at::TensorOptions().device(at::kCUDA, 0);
    nlohmann::json results = nlohmann::json::array(), manifest = nlohmann::json::array();
    fmt::print("{:<8} {:>4} {:>3} {:>6} {:>6} {:>5} {:>10} {:>10} {:>10} {:>8} {:>12} {:>12} {:>14}\n", "shape", "H", "D", "q_tok",
               "kv_tok", "dens", "PBSA ms", "cuDNN ms", "FA2 ms", "speedup", "PBSA TF/s", "cuDNN TF/s", "PBSA us/call*");
    at::manual_seed(2024);
    for (const Shape& s : kShapes) {
      if (!opt->shapes.empty() && std::find(opt->shapes.begin(), opt->shapes.end(), s.name) == opt->shapes.end()) continue;
      const int64_t H = s.heads, D = s.head_dim, block = s.block;
      const at::Tensor q = at::randn({1, H, s.q_tokens, D}, dev).to(at::kBFloat16);
      const at::Tensor k = at::randn({1, H, s.kv_tokens, D}, dev).to(at::kBFloat16);
      const at::Tensor v = at::randn({1, H, s.kv_tokens, D}, dev).to(at::kBFloat16);
      const double cudnn_ms = time_sdpa(q, k, v, true), fa2_ms = time_sdpa(q, k, v, false);
      const double dense_flops = 4.0 * H * s.q_tokens * s.kv_tokens * D;
      // PBSA blocks: token counts rounded up to whole blocks (zero-padded), i.e. at least the dense work.
      const int64_t Qb = (s.q_tokens + block - 1) / block, N = (s.kv_tokens + block - 1) / block;
      auto blocks = [&](const at::Tensor& t, int64_t nb) {
        at::Tensor x = at::zeros({H, nb * block, D}, t.options());
        x.narrow(1, 0, t.size(2)).copy_(t[0]);
        return x.view({H, nb, block, D});
      };
      const at::Tensor qb = blocks(q, Qb), kb = blocks(k, N), vb = blocks(v, N);
      const at::Tensor count = at::ones({H, N, block}, dev.dtype(at::kFloat));
      for (double density : kDensities) {
        const int64_t kept = std::max<int64_t>(1, std::llround(density * N));
        // Random distinct blocks per (head, query block): the first `kept` of a random permutation.
        const at::Tensor idx = std::get<0>(at::rand({H, Qb, N}, dev).argsort(/*dim=*/-1, /*descending=*/false).narrow(-1, 0, kept).sort(-1));
        attn::Plan plan;
        plan.index = idx.contiguous();
        plan.count = at::full({H, Qb}, kept, dev.dtype(at::kLong));
        plan.num_kv_blocks = N;
        const double scale = 1.0 / std::sqrt(static_cast<double>(D));
        const double pbsa_ms = time_ms([&] { (void)attn::execute_plan_pbsa(qb, kb, vb, count, plan, scale, false); });
        const double pbsa_mass_ms = time_ms([&] { (void)attn::execute_plan_pbsa(qb, kb, vb, count, plan, scale, true); });
        const double pbsa_stream_us = host_us_per_call([&] { (void)attn::execute_plan_pbsa(qb, kb, vb, count, plan, scale, false); });
        const double kept_flops = 4.0 * H * Qb * kept * block * block * D;
        const double pbsa_tf = kept_flops / pbsa_ms / 1e9, cudnn_tf = dense_flops / cudnn_ms / 1e9;
        fmt::print("{:<8} {:>4} {:>3} {:>6} {:>6} {:>4.0f}% {:>10.4f} {:>10.4f} {:>10.4f} {:>7.2f}x {:>12.0f} {:>12.0f} {:>14.1f}\n", s.name, H,
                   D, s.q_tokens, s.kv_tokens, density * 100, pbsa_ms, cudnn_ms, fa2_ms, cudnn_ms / pbsa_ms, pbsa_tf, cudnn_tf, pbsa_stream_us);
        const std::string tag = fmt::format("{}_d{:03.0f}", s.name, density * 100);
        results.push_back({{"shape", s.name}, {"heads", H}, {"head_dim", D}, {"q_tokens", s.q_tokens}, {"kv_tokens", s.kv_tokens},
                           {"density", density}, {"kept_blocks_per_row", kept}, {"pbsa_ms", pbsa_ms}, {"pbsa_with_mass_ms", pbsa_mass_ms}, {"pbsa_back_to_back_us", pbsa_stream_us},
                           {"cudnn_ms", cudnn_ms}, {"fa2_ms", fa2_ms}, {"speedup_vs_cudnn", cudnn_ms / pbsa_ms},
                           {"pbsa_tflops_kept", pbsa_tf}, {"cudnn_tflops", cudnn_tf}, {"mask", tag}});
        if (!opt->export_masks.empty()) {
          // Raw little-endian int32 [H, Qb, kept]: ascending KV block ids of each row.
          const at::Tensor host = idx.to(at::kInt).cpu().contiguous();
          const std::string file = tag + ".i32";
          std::ofstream f(std::filesystem::path(opt->export_masks) / file, std::ios::binary);
          f.write(reinterpret_cast<const char*>(host.data_ptr<int32_t>()), static_cast<std::streamsize>(host.numel() * sizeof(int32_t)));
          if (!f) throw UsageError("--export-masks: cannot write " + file);
          manifest.push_back({{"name", tag}, {"file", file}, {"heads", H}, {"head_dim", D}, {"q_tokens", s.q_tokens},
                              {"kv_tokens", s.kv_tokens}, {"block", block}, {"q_blocks", Qb}, {"kv_blocks", N}, {"kept", kept},
                              {"density", density}, {"pbsa_ms", pbsa_ms}, {"cudnn_ms", cudnn_ms}});
        }
      }
    }
    fmt::print("ms columns: GPU time (each call queued behind a spin kernel, so its launches are hidden).\n"
               "* PBSA us/call: wall clock per call issued back to back (one sync at the end); above PBSA ms x 1000, the\n"
               "  call is bound by its host path (checks, allocation, launches), not by the GPU.\n");
    if (!opt->export_masks.empty()) {
      std::ofstream f(std::filesystem::path(opt->export_masks) / "masks.json");
      f << manifest.dump(2) << "\n";
      if (!f) throw UsageError("--export-masks: cannot write masks.json");
    }
    if (!opt->json.empty()) {
      std::ofstream f(opt->json);
      if (!f) throw UsageError("--json '" + opt->json + "': cannot open for writing");
      f << results.dump(2) << "\n";
    }
    return 0;
  };
}

}  // namespace sw::cli
