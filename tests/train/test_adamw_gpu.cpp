// The trainer's AdamW on CUDA (one fused multi-tensor kernel with libtorch 2.x) against the CPU
// per-parameter path on the same weights and gradients, over several steps with clipping.
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/nn.h>

#include <cmath>

#include "train/adamw.h"

namespace sw::train {
namespace {

TEST(AdamWGpu, FusedCudaMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  std::vector<std::pair<std::string, at::Tensor>> cpu, gpu;
  at::manual_seed(7);
  for (int i = 0; i < 5; ++i) {
    const at::Tensor w = at::randn({37 + i * 11, 19});
    cpu.emplace_back("p" + std::to_string(i), w.clone().requires_grad_(true));
    gpu.emplace_back("p" + std::to_string(i), w.to(at::kCUDA).requires_grad_(true));
  }
  AdamW a(cpu, {}), b(gpu, {});
  for (int s = 0; s < 8; ++s) {
    at::manual_seed(100 + s);
    for (size_t i = 0; i < cpu.size(); ++i) {
      const at::Tensor g = at::randn(cpu[i].second.sizes()) * 3.0;
      cpu[i].second.mutable_grad() = g.clone();
      gpu[i].second.mutable_grad() = g.to(at::kCUDA);
    }
    a.clip_grad_norm(1.0);
    b.clip_grad_norm(1.0);
    const double lr = 1e-2 / (1 + s);
    a.step(lr);
    b.step(lr);
  }
  for (size_t i = 0; i < cpu.size(); ++i) {
    const double err = ((gpu[i].second.cpu() - cpu[i].second).norm() / cpu[i].second.norm()).item<double>();
    EXPECT_LT(err, 1e-5) << cpu[i].first;
    EXPECT_TRUE(std::isfinite(gpu[i].second.sum().item<double>())) << cpu[i].first;
  }
}

}  // namespace
}  // namespace sw::train
