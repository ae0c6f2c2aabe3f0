// The sparsity methods. Each plan builder turns a PlanContext (pooled scores, slot metadata over
// the KV block space [cache slots P | chunk blocks C]) into a keep mask with a host-known row width,
// using only fixed-shape device ops (topk/sort/scatter, no nonzero or .item()). Cache-side hooks
// (sparse-forcing memory update, tempcache merging) run at commit time.
// Test: tests/attention/test_attention_methods.cpp.
#pragma once

#include <ATen/ATen.h>

#include "cache.h"
#include "metrics.h"
#include "plan.h"

namespace sw::attn {

struct PlanContext {
  const Geometry* g = nullptr;
  const PagedKVCache* cache = nullptr;
  int64_t P = 0, C = 0, N = 0;
  at::Tensor qpool;     // [H, Qb, D] float32
  at::Tensor kpool;     // [H, N, D] float32
  at::Tensor valid;     // [H, N] bool
  at::Tensor region;    // [N] int64 Region
  at::Tensor frame;     // [N] int64, -1 for memory / empty
  at::Tensor y, x;      // [H, N] int64 block-grid position (memory slots: of their content)
  at::Tensor qy, qx;    // [Qb] int64
  int64_t newest_frame = -1;  // last committed frame
  int64_t chunk_index = 0;    // committed chunks so far
  int64_t window_frames = 0;  // W
};

Plan plan_dense(const PlanContext& c);
Plan plan_window(const PlanContext& c);
Plan plan_sparse_forcing(const PlanContext& c, const SparseForcingParams& p);
// cache_share: [H] float, share of the last committed chunk's attention mass that went to the cache.
Plan plan_light_forcing(const PlanContext& c, const LightForcingParams& p, const at::Tensor& cache_share);
// hyperplanes: [H, tables * bits, D] float32 (make_hyperplanes).
Plan plan_tempcache(const PlanContext& c, const TempCacheParams& p, const at::Tensor& hyperplanes);
at::Tensor make_hyperplanes(const Geometry& g, const TempCacheParams& p, at::Device device);

// Device counters of cache events (int64 scalars).
struct CacheCounters {
  at::Tensor merged_blocks, preserved_blocks, dropped_blocks, merged_tokens;
  void reset(at::Device device);
};

// Sparse-forcing: the block at slot (leaving the window) is preserved into memory, compressed
// into its most similar memory slot, or dropped, per head. tracker may be null.
void sparse_forcing_evict_block(PagedKVCache& cache, int64_t slot, const SparseForcingParams& p,
                                RecallTracker* tracker, CacheCounters& counters);
// TempCache: tokens of the frame just written at new_base that are near-duplicates of the same
// position in the previous frame (prev_base) absorb it (count-weighted mean, counts add); the
// previous token is emptied, so the representative always lives in the newest frame.
void tempcache_merge_frame(PagedKVCache& cache, const Geometry& g, int64_t prev_base, int64_t new_base,
                           const TempCacheParams& p, RecallTracker* tracker, CacheCounters& counters);

}  // namespace sw::attn
