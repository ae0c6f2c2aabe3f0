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
