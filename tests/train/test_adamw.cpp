// The trainer's AdamW (sim/train/adamw.h): the update against libtorch's torch::optim::AdamW over
// several steps with a changing learning rate, global-norm clipping, and save/load resuming the
// exact trajectory. test_adamw_gpu: the fused CUDA path against the CPU path on the same inputs.
#include <gtest/gtest.h>
#include <torch/optim/adamw.h>
#include <torch/nn.h>

#include <unistd.h>

#include <filesystem>

#include "train/adamw.h"

namespace sw::train {
namespace {

std::vector<std::pair<std::string, at::Tensor>> make_params(uint64_t seed, at::Device dev) {
  at::manual_seed(seed);
  std::vector<std::pair<std::string, at::Tensor>> p;
  for (auto [name, shape] : {std::pair<const char*, std::vector<int64_t>>{"w", {7, 5}}, {"b", {5}}, {"deep.w", {3, 4, 6}}})
    p.emplace_back(name, at::randn(shape).to(dev).requires_grad_(true));
  return p;
}

// Deterministic gradients per step, identical on every device.
void set_grads(const std::vector<std::pair<std::string, at::Tensor>>& p, int step, double scale = 1.0) {
  at::manual_seed(1000 + step);
  for (const auto& [name, t] : p) t.mutable_grad() = (at::randn(t.sizes()) * scale).to(t.device());
}

double rel_err(const at::Tensor& a, const at::Tensor& b) {
  return ((a.cpu() - b.cpu()).norm() / b.cpu().norm().clamp_min(1e-12)).item<double>();
}

double lr_of(int step) { return 1e-2 * (1.0 + 0.5 * std::sin(step)); }

TEST(AdamW, MatchesLibtorchAdamWOverSteps) {
  auto ours = make_params(1, at::kCPU), ref = make_params(1, at::kCPU);
  AdamWParams ap;
  AdamW opt(ours, ap);
  std::vector<at::Tensor> ref_params;
  for (auto& [n, t] : ref) ref_params.push_back(t);
  torch::optim::AdamW ref_opt(ref_params, torch::optim::AdamWOptions(1e-2).betas({ap.beta1, ap.beta2}).weight_decay(ap.weight_decay).eps(ap.eps));
  for (int s = 0; s < 6; ++s) {
    set_grads(ours, s);
    set_grads(ref, s);
    opt.step(lr_of(s));
    for (auto& g : ref_opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr_of(s));
    ref_opt.step();
  }
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_LT(rel_err(ours[i].second, ref[i].second), 1e-5) << ours[i].first;
}

TEST(AdamW, ClipScalesToTheGlobalNormAndLeavesSmallGradients) {
  auto p = make_params(2, at::kCPU);
  AdamW opt(p, {});
  set_grads(p, 0, 10.0);
  std::vector<at::Tensor> before;
  double norm2 = 0;
  for (auto& [n, t] : p) {
    before.push_back(t.grad().clone());
    norm2 += t.grad().pow(2).sum().item<double>();
  }
  ASSERT_GT(std::sqrt(norm2), 1.0);
  opt.clip_grad_norm(1.0);
  double after2 = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    after2 += p[i].second.grad().pow(2).sum().item<double>();
    EXPECT_LT(rel_err(p[i].second.grad() * std::sqrt(norm2), before[i]), 1e-5);  // same direction, one factor
  }
  EXPECT_NEAR(std::sqrt(after2), 1.0, 1e-4);
  const at::Tensor small = p[0].second.grad().clone();
  opt.clip_grad_norm(100.0);
  EXPECT_LT(rel_err(p[0].second.grad(), small), 1e-7);
}

TEST(AdamW, SaveLoadResumesTheSameTrajectory) {
  const auto dir = std::filesystem::temp_directory_path() / ("sw_adamw_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "opt.safetensors").string();
  auto a = make_params(3, at::kCPU);
  AdamW run_a(a, {});
  for (int s = 0; s < 3; ++s) {
    set_grads(a, s);
    run_a.step(lr_of(s));
  }
  run_a.save(file);
  // A second optimizer over copies of the weights, restored from the file, continues identically.
  std::vector<std::pair<std::string, at::Tensor>> b;
  for (auto& [n, t] : a) b.emplace_back(n, t.detach().clone().requires_grad_(true));
  AdamW run_b(b, {});
  run_b.load(file);
  for (int s = 3; s < 6; ++s) {
    set_grads(a, s);
    set_grads(b, s);
    run_a.step(lr_of(s));
    run_b.step(lr_of(s));
  }
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(rel_err(b[i].second, a[i].second), 0.0) << a[i].first;
  // State for other parameters is refused with the file named.
  auto other = make_params(3, at::kCPU);
  other.pop_back();
  other.emplace_back("renamed", at::zeros({2}, at::TensorOptions().requires_grad(true)));
  AdamW wrong(other, {});
  try {
    wrong.load(file);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("renamed"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sw::train
