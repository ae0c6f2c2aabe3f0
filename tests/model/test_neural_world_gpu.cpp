// The rollout on CUDA (bf16) matches the CPU rollout (fp32) within bf16 tolerance, for every
// attention method, plain and with action + history guidance (their variants batched into one
// forward on both devices). Skips without a CUDA device.
#include <gtest/gtest.h>

#include <torch/cuda.h>

#include <cstdio>
#include <utility>
#include <vector>

#include "engine/rollout.h"
#include "tiny_model.h"

namespace sw {
namespace {

TEST(NeuralWorldGpu, CudaRolloutMatchesCpuWithinBf16Tolerance) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device available to libtorch";
  torch::NoGradGuard ng;
  auto cpu = model::load_model(tiny_model(), at::kCPU, at::kFloat);
  auto gpu = model::load_model(tiny_model(), at::Device(at::kCUDA, 0), at::kBFloat16);
  const model::ModelConfig& c = cpu->config;
  for (attn::Method method : {attn::Method::Dense, attn::Method::Window, attn::Method::SparseForcing, attn::Method::LightForcing,
                              attn::Method::TempCache}) {
    for (const auto& [wa, wh] : std::vector<std::pair<double, double>>{{1.0, 1.0}, {1.25, 2.0}}) {
      attn::MethodConfig mc;
      mc.method = method;
      engine::Rollout rc(*cpu, mc, at::kCPU, at::kFloat, 0), rg(*gpu, mc, at::Device(at::kCUDA, 0), at::kBFloat16, 0);
      for (engine::Rollout* r : {&rc, &rg}) {
        r->set_action_guidance(wa);
        r->set_history_guidance(wh);
      }
      double worst = 0;
      for (int i = 0; i < 3; ++i) {
        const at::Tensor n = engine::Rollout::chunk_noise(c, 21, i), acts = random_actions(c.chunk_frames, 50 + i);
        const at::Tensor a = rc.generate(n, acts, c.sample_steps), b = rg.generate(n, acts, c.sample_steps).cpu();
        worst = std::max(worst, rel_err(b, a));
      }
      // bf16 has 8 mantissa bits; a few layers and steps compound to a few percent (H100: 0.0097
      // plain, 0.014-0.017 guided). Plans with data-dependent selection may pick different blocks
      // near ties, hence the looser bound.
      const double bound = method == attn::Method::Dense || method == attn::Method::Window ? 0.05 : 0.15;
      std::printf("%s action %.2f history %.2f: worst relative error %.4f (bound %.3f)\n", attn::method_name(method).c_str(), wa, wh, worst, bound);
      EXPECT_LT(worst, bound) << attn::method_name(method) << " action " << wa << " history " << wh;
    }
  }
}

}  // namespace
}  // namespace sw
