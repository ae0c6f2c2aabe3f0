// light-forcing (arXiv 2602.04789, training-free). Hierarchical selection: per query block the top
// frames of the window by a frame-level pooled score, then the top blocks inside those frames.
// Chunk-aware growth: the share of candidate blocks kept follows
//   share = clamp(max(min, initial / (1 + growth * chunk)) * (w * contribution + 1 - w), min, 1)
// where contribution is the attention mass the last committed chunk gave the cache (per head,
// a device tensor), so the budget is applied as rank < budget on device (no host sync).
// Test: tests/attention (Methods.*).
#include <algorithm>
#include <cmath>
#include <limits>

#include "policies.h"

namespace sw::attn {

Plan plan_light_forcing(const PlanContext& c, const LightForcingParams& p, const at::Tensor& cache_share) {
  const int64_t H = c.valid.size(0), Q = c.qpool.size(1), D = c.qpool.size(2), nb = c.g->blocks_per_frame;
  const int64_t R = c.cache->ring_frames(), rb = c.cache->ring_base(), RS = R * nb;
  const float ninf = -std::numeric_limits<float>::infinity();
  const at::Tensor wv = c.valid.narrow(1, rb, RS).view({H, R, nb});
  const at::Tensor kp = c.kpool.narrow(1, rb, RS).view({H, R, nb, D});
  const at::Tensor wf = wv.to(at::kFloat);
  const at::Tensor fpool = (kp * wf.unsqueeze(-1)).sum(2) / wf.sum(2).clamp_min(1).unsqueeze(-1);  // [H, R, D]
  const at::Tensor fvalid = wv.any(2);
  const at::Tensor fscore = at::matmul(c.qpool, fpool.transpose(1, 2)).masked_fill(fvalid.logical_not().unsqueeze(1), ninf);
  const int64_t tf = std::min(p.top_frames, R);
  const at::Tensor ftop = std::get<1>(at::topk(fscore, tf, 2));
  const at::Tensor fmask = at::zeros({H, Q, R}, wv.options()).scatter_(2, ftop, true) & fvalid.unsqueeze(1);
  const at::Tensor cand = fmask.unsqueeze(-1).expand({H, Q, R, nb}).reshape({H, Q, RS}) & wv.reshape({H, 1, RS});
  const at::Tensor bscore = at::matmul(c.qpool, kp.reshape({H, RS, D}).transpose(1, 2)).masked_fill(cand.logical_not(), ninf);
  const at::Tensor order = std::get<1>(at::sort(bscore, 2, /*descending=*/true));
  const at::Tensor rank = at::empty_like(order).scatter_(
      2, order, at::arange(RS, order.options()).view({1, 1, RS}).expand({H, Q, RS}).contiguous());
  const double schedule = std::max(p.min_density, p.initial_density / (1.0 + p.growth * static_cast<double>(c.chunk_index)));
  const at::Tensor share = (cache_share.mul(p.contribution_weight).add(1.0 - p.contribution_weight))
                               .mul(schedule).clamp(p.min_density, 1.0);
  const at::Tensor budget = share.mul(static_cast<double>(tf * nb)).ceil().clamp_min(1);  // [H]
  const at::Tensor win_keep = cand & rank.to(at::kFloat).lt(budget.view({H, 1, 1}));
  at::Tensor keep = (c.valid & (c.region.eq(kSink) | c.region.eq(kChunk)).unsqueeze(0)).unsqueeze(1).expand({H, Q, c.N}).clone();
  keep.narrow(2, rb, RS).logical_or_(win_keep);
  const int64_t width = c.cache->sink_frames() * nb + tf * nb + c.C;
  return plan_from_mask(keep, width);
}

}  // namespace sw::attn
