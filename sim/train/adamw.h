// AdamW (decoupled weight decay) for the trainer (internal to sim/): state as named tensors saved
// as safetensors beside the checkpoint (atomic); gradient clipping and the update run as
// multi-tensor ops with no host synchronisation, so the host can queue the next step while the GPU
// finishes this one. On CUDA with libtorch 2.x the update is one fused kernel per step.
// Test: tests/train/test_adamw.cpp (against torch::optim::AdamW; CUDA fused vs CPU).
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <utility>
#include <vector>

namespace sw::train {

struct AdamWParams {
  double beta1 = 0.9, beta2 = 0.99, weight_decay = 0.01, eps = 1e-8;
};

class AdamW {
 public:
  AdamW(std::vector<std::pair<std::string, at::Tensor>> params, const AdamWParams& p);
  void zero_grad();
  // Scales the gradients so their global L2 norm is at most `max_norm` (on the device).
  void clip_grad_norm(double max_norm);
  void step(double lr);
  void save(const std::string& path) const;
  // Restores the state; a file that does not match these parameters is an error naming it.
  void load(const std::string& path);

 private:
  std::vector<at::Tensor> grads() const;
  AdamWParams p_;
  std::vector<std::string> names_;
  std::vector<at::Tensor> params_, m_, v_;
  at::Tensor step_;
};

}  // namespace sw::train
