// dense (every valid block) and window (sink + last W frames + chunk) plans.
// Test: tests/attention (Methods.DenseEqualsFullAttention, Methods.WindowEqualsMaskedAttention).
#include "policies.h"

namespace sw::attn {

void CacheCounters::reset(at::Device device) {
  const auto o = at::TensorOptions().device(device).dtype(at::kLong);
  merged_blocks = at::zeros({}, o);
  preserved_blocks = at::zeros({}, o);
  dropped_blocks = at::zeros({}, o);
  merged_tokens = at::zeros({}, o);
}

Plan plan_dense(const PlanContext& c) {
  const int64_t Q = c.qpool.size(1);
  return plan_from_mask(c.valid.unsqueeze(1).expand({c.valid.size(0), Q, c.N}), c.N);
}

Plan plan_window(const PlanContext& c) {
  const int64_t Q = c.qpool.size(1), nb = c.g->blocks_per_frame;
  // The cache may briefly hold more than W frames (after a switch from dense); the plan still
  // looks at the last W only.
  const at::Tensor recent = c.region.eq(kWindow) & c.frame.gt(c.newest_frame - c.window_frames);
  const at::Tensor keep = c.valid & (c.region.eq(kSink) | c.region.eq(kChunk) | recent).unsqueeze(0);
  const int64_t width = c.cache->sink_frames() * nb + c.window_frames * nb + c.C;
  return plan_from_mask(keep.unsqueeze(1).expand({keep.size(0), Q, c.N}), width);
}

}  // namespace sw::attn
