// tempcache (arXiv 2602.01801, training-free). TempCache: at commit, each key is compared with the
// key at the same spatial position of the previous frame (temporal correspondence); above the
// cosine threshold the two merge (count-weighted mean of K and V, counts add, log(count) logit
// bias), which is exact when the keys are identical (grouping lemma). The representative moves to
// the newest frame, so a static region costs one entry however long it stays and leaves the window
// only when it stops being seen. AnnSA: window blocks are kept for a query block only when a
// random-hyperplane LSH bucket of their pooled key matches the query block's (any of T tables),
// plus the last local_frames frames in full. Only LSH is implemented, no learned quantizer.
// Test: tests/attention (Methods.TempCache*, Grouping*).
#include <limits>

#include "policies.h"
#include "torch_compat.h"

namespace sw::attn {

at::Tensor make_hyperplanes(const Geometry& g, const TempCacheParams& p, at::Device device) {
  return compat::randn_cpu({g.heads, p.lsh_tables * p.lsh_bits, g.head_dim}, p.seed).to(device);
}

namespace {
at::Tensor lsh_codes(const at::Tensor& x, const at::Tensor& planes, int64_t tables, int64_t bits) {
  const at::Tensor sign = at::matmul(x, planes.transpose(1, 2)).gt(0).to(at::kLong);  // [H, n, T*bits]
  const at::Tensor weight = at::pow(2, at::arange(bits, sign.options())).view({1, 1, 1, bits});
  return (sign.view({x.size(0), x.size(1), tables, bits}) * weight).sum(-1);  // [H, n, T]
}
}  // namespace

Plan plan_tempcache(const PlanContext& c, const TempCacheParams& p, const at::Tensor& hyperplanes) {
  const int64_t H = c.valid.size(0), Q = c.qpool.size(1);
  const at::Tensor local = c.region.eq(kWindow) & c.frame.gt(c.newest_frame - p.local_frames);
  const at::Tensor always = (c.region.eq(kSink) | c.region.eq(kChunk) | local).view({1, 1, c.N});
  at::Tensor window = c.region.eq(kWindow).view({1, 1, c.N});
  if (p.annsa) {
    const at::Tensor cq = lsh_codes(c.qpool, hyperplanes, p.lsh_tables, p.lsh_bits);  // [H, Q, T]
    const at::Tensor ck = lsh_codes(c.kpool, hyperplanes, p.lsh_tables, p.lsh_bits);  // [H, N, T]
    window = window & cq.unsqueeze(2).eq(ck.unsqueeze(1)).any(-1);
  }
  const at::Tensor keep = c.valid.unsqueeze(1) & (always | window);
  return plan_from_mask(keep.expand({H, Q, c.N}), c.N);
}

void tempcache_merge_frame(PagedKVCache& cache, const Geometry& g, int64_t prev_base, int64_t new_base,
                           const TempCacheParams& p, RecallTracker* tracker, CacheCounters& counters) {
  const int64_t nb = g.blocks_per_frame;
  const at::Tensor kn = cache.k.narrow(1, new_base, nb).to(at::kFloat), kp = cache.k.narrow(1, prev_base, nb).to(at::kFloat);
  const at::Tensor vn = cache.v.narrow(1, new_base, nb).to(at::kFloat), vp = cache.v.narrow(1, prev_base, nb).to(at::kFloat);
  const at::Tensor cn = cache.count.narrow(1, new_base, nb), cp = cache.count.narrow(1, prev_base, nb);
  const at::Tensor cos = (kn * kp).sum(-1) / (kn.norm(2, {-1}) * kp.norm(2, {-1})).clamp_min(1e-12);  // [H, nb, B]
  const at::Tensor moved = cos.ge(p.merge_threshold) & cp.gt(0) & cn.gt(0);
  const at::Tensor csum = cp + cn;
  const at::Tensor m4 = moved.unsqueeze(-1);
  auto mix = [&](const at::Tensor& a, const at::Tensor& b) {
    return at::where(m4, (a * cp.unsqueeze(-1) + b * cn.unsqueeze(-1)) / csum.clamp_min(1e-6).unsqueeze(-1), b);
  };
  const at::Tensor prev_had = cp.gt(0).any(2);
  cache.k.narrow(1, new_base, nb).copy_(mix(kp, kn));
  cache.v.narrow(1, new_base, nb).copy_(mix(vp, vn));
  cache.count.narrow(1, new_base, nb).copy_(at::where(moved, csum, cn));
  at::Tensor prev_count = cache.count.narrow(1, prev_base, nb);
  prev_count.masked_fill_(moved, 0);
  cache.refresh_kpool(new_base, nb);
  cache.refresh_kpool(prev_base, nb);
  if (tracker) tracker->remap_frame_tokens(prev_base, new_base, moved);
  counters.merged_tokens.add_(moved.sum());
  counters.merged_blocks.add_((prev_had & prev_count.gt(0).any(2).logical_not()).sum());
}

}  // namespace sw::attn
