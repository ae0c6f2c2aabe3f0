// The sparsity methods. Each plan builder turns a PlanContext (pooled scores, slot metadata over
// the KV block space [cache slots P | chunk blocks C]) into a keep mask with a host-known row width,
// using only fixed-shape device ops (topk/sort/scatter, no nonzero or .item()). Cache-side hooks
// (sparse-forcing memory update, tempcache merging) run at commit time.
// Test: tests/attention/test_attention_methods.cpp.
#pragma once

#include <string>

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
  at::Tensor qblocks;   // [H, Qb, B, D] the chunk's q blocks (cache dtype); the top-k kernel pools them
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
// Runs the block top-k kernel (kernels/, sparseworld/block_topk.h) when sparse_forcing_kernels_eligible,
// else plan_sparse_forcing_torch; both give the same plan up to score rounding.
Plan plan_sparse_forcing(const PlanContext& c, const SparseForcingParams& p);
Plan plan_sparse_forcing_torch(const PlanContext& c, const SparseForcingParams& p);
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
// Evicts the n blocks at [base, base + n) in slot order: the memory-update kernel
// (sparseworld/memory_update.h, same rules) when sparse_forcing_kernels_eligible(cache.k), else
// sparse_forcing_evict_block per block. Does not clear the slots (the caller does).
void sparse_forcing_evict_blocks(PagedKVCache& cache, int64_t base, int64_t n, const SparseForcingParams& p,
                                 RecallTracker* tracker, CacheCounters& counters);

// Kernel paths of sparse-forcing (sparse_forcing_kernels.cpp). Eligible: t (q blocks or cache K) on
// CUDA in bf16/fp16, the reference not forced (SW_ATTN_REFERENCE=1 / force_reference_executor
// switch the whole engine to the libtorch paths), a build with CUDA libtorch and nvcc.
bool sparse_forcing_kernels_eligible(const at::Tensor& t, std::string* why = nullptr);
// fixed: [H, Qb, N] bool kept whatever the score; candidates: [H, N] bool window blocks.
// Returns a Plan with undefined tensors when the kernel does not take the shape (N > 4096).
Plan plan_topk_kernel(const at::Tensor& qblocks, const at::Tensor& kpool, const at::Tensor& candidates,
                      const at::Tensor& fixed, int64_t top_k, int64_t width);
// False (nothing done) when the kernel does not take the shape (M > 1024); throws on a malformed
// cache (not contiguous, wrong dtypes).
bool sparse_forcing_evict_kernel(PagedKVCache& cache, int64_t base, int64_t n, const SparseForcingParams& p,
                                 RecallTracker* tracker, CacheCounters& counters);
// TempCache: tokens of the frame just written at new_base that are near-duplicates of the same
// position in the previous frame (prev_base) absorb it (count-weighted mean, counts add); the
// previous token is emptied, so the representative always lives in the newest frame.
void tempcache_merge_frame(PagedKVCache& cache, const Geometry& g, int64_t prev_base, int64_t new_base,
                           const TempCacheParams& p, RecallTracker* tracker, CacheCounters& counters);

}  // namespace sw::attn
