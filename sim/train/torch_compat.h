// The few libtorch calls that differ between Debian's 1.13 (CPU) and PyTorch 2.x (CUDA), in one
// place: fused scaled-dot-product attention and bf16 autocast.
#pragma once

#include <ATen/ATen.h>
#include <torch/version.h>

#if TORCH_VERSION_MAJOR >= 2
#include <ATen/autocast_mode.h>
#endif

namespace sw::train::compat {

// softmax(q k^T * scale + mask) v with a boolean keep-mask broadcastable to [B, H, Nq, Nk].
inline at::Tensor masked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& keep) {
#if TORCH_VERSION_MAJOR >= 2
  return at::scaled_dot_product_attention(q, k, v, keep);
#else
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  at::Tensor s = at::matmul(q, k.transpose(-2, -1)) * scale;
  s = s.masked_fill(keep.logical_not(), -std::numeric_limits<float>::infinity());
  return at::matmul(at::softmax(s, -1), v);
#endif
}

// softmax(q k^T * scale + bias) v with an additive bias (0 or -inf) broadcastable to
// [B, H, Nq, Nk], in q's dtype under autocast: the fused kernels read it as is, where a boolean
// mask would first be converted to a bias of the same size.
inline at::Tensor biased_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias) {
#if TORCH_VERSION_MAJOR >= 2
  return at::scaled_dot_product_attention(q, k, v, bias);
#else
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  return at::matmul(at::softmax(at::matmul(q, k.transpose(-2, -1)) * scale + bias.to(q.dtype()), -1), v);
#endif
}

// One fused multi-tensor AdamW step where libtorch has it (2.x, CUDA): ~10 small ops per
// parameter otherwise, which made the optimizer a tenth of a training step. False: not
// available, the caller runs the per-parameter update.
inline bool fused_adamw(at::TensorList params, at::TensorList grads, at::TensorList exp_avgs, at::TensorList exp_avg_sqs,
                        at::TensorList steps, double lr, double beta1, double beta2, double weight_decay, double eps) {
#if TORCH_VERSION_MAJOR >= 2
  if (params.empty() || !params[0].is_cuda()) return false;
  at::_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, {}, steps, lr, beta1, beta2, weight_decay, eps, false, false);
  return true;
#else
  (void)params, (void)grads, (void)exp_avgs, (void)exp_avg_sqs, (void)steps, (void)lr, (void)beta1, (void)beta2,
      (void)weight_decay, (void)eps;
  return false;
#endif
}

// bf16 autocast on CUDA for the scope of the guard (no-op on CPU and on libtorch 1.x).
class AutocastGuard {
 public:
  explicit AutocastGuard(bool cuda) : on_(cuda) {
#if TORCH_VERSION_MAJOR >= 2
    if (on_) {
      at::autocast::set_autocast_enabled(at::kCUDA, true);
      at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    }
#endif
  }
  ~AutocastGuard() {
#if TORCH_VERSION_MAJOR >= 2
    if (on_) {
      at::autocast::set_autocast_enabled(at::kCUDA, false);
      at::autocast::clear_cache();
    }
#endif
  }

 private:
  bool on_;
};

}  // namespace sw::train::compat
