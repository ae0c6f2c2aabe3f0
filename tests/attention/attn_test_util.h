// Shared helpers for the attention tests: small shapes, seeded random chunks, and plain full
// attention over token-ordered K/V as the independent reference.
#pragma once

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "sparseworld/attention.h"
#include "torch_compat.h"

namespace sw::attn::test {

inline CacheParams small_params(int64_t grid = 4, int64_t block = 4, int64_t frames = 2) {
  CacheParams p;
  p.heads = 2;
  p.head_dim = 8;
  p.grid_h = p.grid_w = grid;
  p.block_size = block;
  p.chunk_frames = frames;
  p.sink_frames = 1;
  p.window_frames = 3;
  p.memory_slots = 4;
  return p;
}

inline MethodConfig config(Method m) {
  MethodConfig c;
  c.method = m;
  c.sparse_forcing.top_k = 2;
  c.light_forcing.top_frames = 2;
  c.light_forcing.initial_density = 0.75;
  c.light_forcing.min_density = 0.25;
  return c;
}

inline const std::vector<Method>& all_methods() {
  static const std::vector<Method> m = {Method::Dense, Method::Window, Method::SparseForcing, Method::LightForcing,
                                        Method::TempCache};
  return m;
}

struct Chunk {
  at::Tensor q, k, v;  // [H, F*T, D] float32 on CPU
};

inline Chunk random_chunk(const CacheParams& p, uint64_t seed) {
  const int64_t n = p.chunk_frames * p.frame_tokens();
  Chunk c;
  c.q = compat::randn_cpu({p.heads, n, p.head_dim}, seed * 3 + 1);
  c.k = compat::randn_cpu({p.heads, n, p.head_dim}, seed * 3 + 2);
  c.v = compat::randn_cpu({p.heads, n, p.head_dim}, seed * 3 + 3);
  return c;
}

inline Chunk to(const Chunk& c, at::ScalarType t, at::Device d = at::kCPU) {
  return {c.q.to(d, t), c.k.to(d, t), c.v.to(d, t)};
}

// softmax(q K^T / sqrt(D)) V over token-ordered keys/values, in float64.
inline at::Tensor full_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  const at::Tensor p = at::softmax(at::matmul(q.to(at::kDouble), k.to(at::kDouble).transpose(-1, -2)) * scale, -1);
  return at::matmul(p, v.to(at::kDouble));
}

inline double rel_err(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.to(at::kDouble).cpu(), y = b.to(at::kDouble).cpu();
  return (x - y).norm().item<double>() / std::max(1e-30, y.norm().item<double>());
}

}  // namespace sw::attn::test
