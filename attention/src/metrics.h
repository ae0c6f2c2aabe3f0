// Plan metrics. Density: kept / dense block pairs, where dense is every block of the full history
// plus the chunk. Recall: the share of the dense softmax mass (over the full history, raw tokens)
// that the plan keeps. A history token counts as kept when the cache token that now represents it
// (itself, a merged token, or a memory slot it was preserved or compressed into) is in the plan;
// RecallTracker keeps the shadow history keys and that token -> slot map, updated on every write,
// merge and eviction. Test: tests/attention (MetricsTest.*).
#pragma once

#include <ATen/ATen.h>

#include "geometry.h"

namespace sw::attn {

class RecallTracker {
 public:
  explicit RecallTracker(const Geometry& g, at::TensorOptions key_opts);
  void reset();
  int64_t blocks() const { return n_; }

  // A frame's blocks [H, nb, B, D] written at cache slots [base, base + nb).
  void append_frame(const at::Tensor& kb, int64_t base);
  // Per head h where active[h]: tokens represented by slot from[h] are now represented by to[h]
  // (to = -1: dropped). from, to: [H] int64; active: [H] bool.
  void remap(const at::Tensor& from, const at::Tensor& to, const at::Tensor& active);
  // Per spatial block s and token t where moved[h, s, t]: slot from_base + s -> to_base + s.
  void remap_frame_tokens(int64_t from_base, int64_t to_base, const at::Tensor& moved);
  // Drops every token represented by slots [base, base + n).
  void drop_slots(int64_t base, int64_t n);

  // qb: [H, Qb, B, D], chunk_k: [H, C, B, D], keep: [H, Qb, P + C]. Returns a float scalar tensor.
  at::Tensor recall(const at::Tensor& qb, const at::Tensor& chunk_k, const at::Tensor& keep, int64_t P,
                    double scale) const;

 private:
  Geometry g_;
  at::TensorOptions key_opts_;
  at::Tensor hist_k_;  // [H, cap, B, D]
  at::Tensor rep_;     // [H, cap, B] int64 slot, -1 dropped
  int64_t n_ = 0;
};

}  // namespace sw::attn
