// sparse-forcing: window blocks chosen per query block by top-k pooled score plus a spatial
// neighbourhood in the most recent frames; sink and chunk always kept, memory too (or, with
// memory_top_k, its top blocks by the same score). On eviction each
// block is preserved into memory (replacing the least salient slot), compressed into its most
// similar slot (count-weighted mean of K and V, counts add up to max_count -> log(count) bias) or
// dropped, per head,
// all with where/gather/scatter so there is no host synchronisation. On CUDA bf16/fp16 the plan and
// the eviction run as kernels instead (sparse_forcing_kernels.cpp; same rules, kernels/README.md).
// Test: tests/attention (Methods.*SparseForcing*, BoundedBytes.*; kernels vs torch: test_pbsa_dispatch, gpu).
#include <algorithm>
#include <limits>

#include "policies.h"

namespace sw::attn {

namespace {

// What both plan paths share: the kept-whatever-the-score set and the row width.
struct SparseForcingSets {
  at::Tensor win;    // [H, N] valid window blocks: the top-k candidates
  at::Tensor mem;    // [H, N] valid memory blocks when they are chosen by score (memory_top_k), else undefined
  at::Tensor fixed;  // [H, Qb, N] sink, chunk, memory (all slots) and the recent neighbourhood
  int64_t kk = 0, mk = 0, width = 0;
};

SparseForcingSets sparse_forcing_sets(const PlanContext& c, const SparseForcingParams& p) {
  const int64_t Q = c.qpool.size(1), nb = c.g->blocks_per_frame, M = c.cache->memory_slots();
  SparseForcingSets s;
  at::Tensor always = c.region.eq(kSink) | c.region.eq(kChunk);
  const bool memory_by_score = p.use_memory && p.memory_top_k > 0 && p.memory_top_k < M;
  if (p.use_memory && !memory_by_score) always = always | c.region.eq(kMemory);
  if (memory_by_score) {
    s.mem = c.valid & c.region.eq(kMemory).unsqueeze(0);
    s.mk = p.memory_top_k;
  }
  s.win = c.valid & c.region.eq(kWindow).unsqueeze(0);  // [H, N]
  const at::Tensor recent = c.frame.gt(c.newest_frame - p.neighbour_frames).view({1, 1, c.N});
  const at::Tensor near = (c.y.unsqueeze(1) - c.qy.view({1, Q, 1})).abs().le(p.neighbour_radius) &
                          (c.x.unsqueeze(1) - c.qx.view({1, Q, 1})).abs().le(p.neighbour_radius);
  const at::Tensor neigh = s.win.unsqueeze(1) & recent & near;
  s.fixed = (c.valid & always.unsqueeze(0)).unsqueeze(1) | neigh;
  const int64_t ring_slots = c.cache->ring_frames() * nb;
  s.kk = std::min(p.top_k, ring_slots);
  const int64_t side = 2 * p.neighbour_radius + 1;
  const int64_t neigh_max = p.neighbour_frames * std::min(nb, side * side);
  s.width = c.cache->sink_frames() * nb + (p.use_memory ? (memory_by_score ? s.mk : M) : 0) + c.C + std::min(ring_slots, s.kk + neigh_max);
  return s;
}

// The top `k` of `candidates` ([H, N]) per query block by `score` ([H, Qb, N], pooled q . pooled
// k), as a mask [H, Qb, N].
at::Tensor top_by_score(const PlanContext& c, const at::Tensor& score, const at::Tensor& candidates, int64_t k) {
  const float ninf = -std::numeric_limits<float>::infinity();
  const at::Tensor top = std::get<1>(at::topk(score.masked_fill(candidates.logical_not().unsqueeze(1), ninf), k, 2));
  return at::zeros({c.valid.size(0), c.qpool.size(1), c.N}, c.valid.options()).scatter_(2, top, true) & candidates.unsqueeze(1);
}

}  // namespace

Plan plan_sparse_forcing(const PlanContext& c, const SparseForcingParams& p) {
  if (!c.qblocks.defined() || !sparse_forcing_kernels_eligible(c.qblocks)) return plan_sparse_forcing_torch(c, p);
  const SparseForcingSets s = sparse_forcing_sets(c, p);
  // The block top-k kernel takes one candidate set; memory chosen by score is a second one.
  if (s.mem.defined()) return plan_sparse_forcing_torch(c, p);
  Plan plan = plan_topk_kernel(c.qblocks, c.kpool, s.win, s.fixed, s.kk, std::min(s.width, c.N));
  return plan.index.defined() ? plan : plan_sparse_forcing_torch(c, p);
}

Plan plan_sparse_forcing_torch(const PlanContext& c, const SparseForcingParams& p) {
  const SparseForcingSets s = sparse_forcing_sets(c, p);
  const at::Tensor score = at::matmul(c.qpool, c.kpool.transpose(1, 2));  // once for window and memory
  at::Tensor keep = s.fixed | top_by_score(c, score, s.win, s.kk);
  if (s.mem.defined()) keep = keep | top_by_score(c, score, s.mem, s.mk);
  return plan_from_mask(keep, s.width);
}

void sparse_forcing_evict_blocks(PagedKVCache& cache, int64_t base, int64_t n, const SparseForcingParams& p,
                                 RecallTracker* tracker, CacheCounters& counters) {
  if (sparse_forcing_kernels_eligible(cache.k) && sparse_forcing_evict_kernel(cache, base, n, p, tracker, counters)) return;
  for (int64_t s = 0; s < n; ++s) sparse_forcing_evict_block(cache, base + s, p, tracker, counters);
}

void sparse_forcing_evict_block(PagedKVCache& cache, int64_t slot, const SparseForcingParams& p,
                                RecallTracker* tracker, CacheCounters& counters) {
  const int64_t H = cache.k.size(0), B = cache.k.size(2), D = cache.k.size(3), M = cache.memory_slots();
  const at::Tensor valid_j = cache.count.select(1, slot).gt(0).any(1);  // [H]
  if (!p.use_memory || M == 0) {
    counters.dropped_blocks.add_(valid_j.sum());
    return;
  }
  const int64_t mb = cache.memory_base();
  const float ninf = -std::numeric_limits<float>::infinity();
  const at::Tensor sal_j = cache.salience.select(1, slot);
  const at::Tensor mem_valid = cache.count.narrow(1, mb, M).gt(0).any(2);  // [H, M]
  const at::Tensor mem_sal = cache.salience.narrow(1, mb, M).masked_fill(mem_valid.logical_not(), ninf);
  const auto [min_sal, min_idx] = mem_sal.min(1);
  const at::Tensor preserve = valid_j & sal_j.gt(min_sal) & sal_j.ge(p.preserve_min_mass);
  const at::Tensor kj = cache.kpool.select(1, slot);                 // [H, D]
  const at::Tensor km = cache.kpool.narrow(1, mb, M);                // [H, M, D]
  const at::Tensor sim = ((km * kj.unsqueeze(1)).sum(2) / (km.norm(2, {2}) * kj.norm(2, {1}).unsqueeze(1)).clamp_min(1e-12))
                             .masked_fill(mem_valid.logical_not(), ninf);
  const auto [best_sim, best_idx] = sim.max(1);
  const at::Tensor compress = valid_j & preserve.logical_not() & best_sim.ge(p.merge_threshold);
  const at::Tensor drop = valid_j & preserve.logical_not() & compress.logical_not();
  const at::Tensor target = at::where(preserve, min_idx, best_idx) + mb;  // [H]
  const at::Tensor write = preserve | compress;

  const at::Tensor i2 = target.view({H, 1});
  const at::Tensor i3 = i2.view({H, 1, 1}).expand({H, 1, B});
  const at::Tensor i4 = i2.view({H, 1, 1, 1}).expand({H, 1, B, D});
  const at::Tensor c_old = cache.count.gather(1, i3), c_j = cache.count.narrow(1, slot, 1);
  const at::Tensor c_sum = c_old + c_j;
  const at::Tensor w3 = write.view({H, 1, 1}), w4 = write.view({H, 1, 1, 1});
  const at::Tensor p3 = preserve.view({H, 1, 1}), p4 = preserve.view({H, 1, 1, 1});
  auto merge = [&](at::Tensor& pool) {
    const at::Tensor old = pool.gather(1, i4).to(at::kFloat), mine = pool.narrow(1, slot, 1).to(at::kFloat);
    const at::Tensor merged = (old * c_old.unsqueeze(-1) + mine * c_j.unsqueeze(-1)) / c_sum.clamp_min(1e-6).unsqueeze(-1);
    const at::Tensor next = at::where(w4, at::where(p4, mine, merged), old);
    pool.scatter_(1, i4, next.to(pool.scalar_type()));
  };
  merge(cache.k);
  merge(cache.v);
  const at::Tensor c_new = at::where(p3, c_j, c_sum);  // the mean's weights above are the counts before the cap
  cache.count.scatter_(1, i3, at::where(w3, p.max_count > 0 ? c_new.clamp_max(p.max_count) : c_new, c_old));
  const at::Tensor s_old = cache.salience.gather(1, i2);
  cache.salience.scatter_(1, i2, at::where(write.view({H, 1}), at::where(preserve.view({H, 1}), sal_j.view({H, 1}), s_old + sal_j.view({H, 1})), s_old));
  const at::Tensor o_old = cache.origin.gather(1, i2);
  cache.origin.scatter_(1, i2, at::where(preserve.view({H, 1}), cache.origin.narrow(1, slot, 1), o_old));
  cache.refresh_kpool_at(target);
  if (tracker) {
    tracker->remap(target, at::full_like(target, -1), preserve);  // the displaced content is gone
    tracker->remap(at::full_like(target, slot), target, write);
  }
  counters.preserved_blocks.add_(preserve.sum());
  counters.merged_blocks.add_(compress.sum());
  counters.dropped_blocks.add_(drop.sum());
}

}  // namespace sw::attn
