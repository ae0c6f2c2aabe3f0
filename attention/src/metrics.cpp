// Recall tracking against dense attention over the full history. Costs memory for every key ever
// committed and a dense pass when measured, so it only runs when CacheParams::recall_every > 0.
// Test: tests/attention (MetricsTest.*).
#include "metrics.h"

namespace sw::attn {

RecallTracker::RecallTracker(const Geometry& g, at::TensorOptions key_opts) : g_(g), key_opts_(key_opts) { reset(); }

void RecallTracker::reset() {
  const int64_t cap = 4 * g_.blocks_per_frame;
  hist_k_ = at::zeros({g_.heads, cap, g_.block, g_.head_dim}, key_opts_);
  rep_ = at::full({g_.heads, cap, g_.block}, -1, key_opts_.dtype(at::kLong));
  n_ = 0;
}

void RecallTracker::append_frame(const at::Tensor& kb, int64_t base) {
  const int64_t nb = g_.blocks_per_frame;
  if (n_ + nb > hist_k_.size(1)) {  // amortised doubling: only host-known sizes change
    const int64_t add = hist_k_.size(1);
    hist_k_ = at::cat({hist_k_, at::zeros_like(hist_k_)}, 1);
    rep_ = at::cat({rep_, at::full({g_.heads, add, g_.block}, -1, rep_.options())}, 1);
  }
  hist_k_.narrow(1, n_, nb).copy_(kb);
  rep_.narrow(1, n_, nb).copy_(at::arange(base, base + nb, rep_.options()).view({1, nb, 1}).expand({g_.heads, nb, g_.block}));
  n_ += nb;
}

void RecallTracker::remap(const at::Tensor& from, const at::Tensor& to, const at::Tensor& active) {
  at::Tensor r = rep_.narrow(1, 0, n_);
  const at::Tensor hit = r.eq(from.view({-1, 1, 1})) & active.view({-1, 1, 1});
  r.copy_(at::where(hit, to.view({-1, 1, 1}).expand_as(r), r));
}

void RecallTracker::remap_frame_tokens(int64_t from_base, int64_t to_base, const at::Tensor& moved) {
  const int64_t nb = g_.blocks_per_frame, H = g_.heads, B = g_.block;
  at::Tensor r = rep_.narrow(1, 0, n_).view({H, n_ / nb, nb, B});
  const at::Tensor s = at::arange(nb, rep_.options()).view({1, 1, nb, 1});
  const at::Tensor hit = r.eq(s + from_base) & moved.view({H, 1, nb, B});
  r.copy_(at::where(hit, (s + to_base).expand_as(r), r));
}

void RecallTracker::drop_slots(int64_t base, int64_t n) {
  at::Tensor r = rep_.narrow(1, 0, n_);
  r.masked_fill_(r.ge(base) & r.lt(base + n), -1);
}

at::Tensor RecallTracker::recall(const at::Tensor& qb, const at::Tensor& chunk_k, const at::Tensor& keep, int64_t P,
                                 double scale) const {
  const int64_t H = qb.size(0), Q = qb.size(1), B = qb.size(2), D = qb.size(3), C = chunk_k.size(1);
  const int64_t N = keep.size(2);
  const at::Tensor keys = at::cat({hist_k_.narrow(1, 0, n_), chunk_k.to(hist_k_.scalar_type())}, 1)
                              .to(at::kFloat).reshape({H, (n_ + C) * B, D});
  const at::Tensor p = at::softmax(at::matmul(qb.to(at::kFloat).reshape({H, Q * B, D}), keys.transpose(1, 2)).mul_(scale), -1);
  const at::Tensor mass = p.view({H, Q, B, n_ + C, B}).sum(2);  // [H, Q, n + C, B]
  // Tokens with no representative gather from an extra always-false column.
  const at::Tensor keep_ext = at::cat({keep, at::zeros({H, Q, 1}, keep.options())}, 2).to(at::kFloat);
  const at::Tensor rep = rep_.narrow(1, 0, n_);
  const at::Tensor idx = at::where(rep.lt(0), at::full_like(rep, N), rep).reshape({H, 1, n_ * B}).expand({H, Q, n_ * B});
  const at::Tensor kept_hist = keep_ext.gather(2, idx).view({H, Q, n_, B});
  const at::Tensor kept_chunk = keep.narrow(2, P, C).to(at::kFloat).unsqueeze(-1);
  const at::Tensor total = (mass.narrow(2, 0, n_) * kept_hist).sum() + (mass.narrow(2, n_, C) * kept_chunk).sum();
  return total / static_cast<double>(H * Q * B);
}

}  // namespace sw::attn
