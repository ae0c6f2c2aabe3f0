// LayerAttention::Impl: ties cache, method plans, executor and metrics together. Internal; tests
// include it to inspect the last plan and the cache.
// Test: tests/attention (every suite goes through it).
#pragma once

#include <memory>
#include <optional>

#include "cache.h"
#include "executor.h"
#include "metrics.h"
#include "policies.h"

namespace sw::attn {

struct LayerAttention::Impl {
  Impl(const CacheParams& cache_params, const MethodConfig& method);

  at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, bool commit);
  void reset();
  LayerStats stats() const;
  // The plan inputs of a chunk (public so the gpu tests can build both sparse-forcing plans).
  PlanContext context(const at::Tensor& qb, const at::Tensor& kb) const;
  void check_fits_cache(const MethodConfig& m) const;  // throws std::invalid_argument naming the field

  CacheParams cp;
  MethodConfig cfg;
  std::optional<MethodConfig> pending;
  Geometry g;
  PagedKVCache cache;
  std::unique_ptr<RecallTracker> tracker;
  at::Tensor hyperplanes;   // tempcache LSH
  at::Tensor cache_share;   // [H] light-forcing contribution estimate
  CacheCounters counters;
  int64_t chunks = 0;
  double scale = 1;

  // The last attend's plan and what it was checked against.
  Plan last_plan;
  at::Tensor last_valid;      // [H, N]
  at::Tensor last_kept;       // int64 scalar: kept block pairs
  int64_t last_dense_pairs = 0;
  at::Tensor last_recall;     // float scalar or undefined
  int64_t last_recall_chunk = -1;

  // Sparse-forcing's memory_time_distance: the memory's keys with their time rotation taken out
  // ([H, M, B, D] float32, all at frame 0; undefined while memory keys sit at their own frames),
  // and the frame cache.k's memory keys are rotated to now (frames may be negative early on).
  // Kept in float32 so that re-placing them every chunk does not accumulate rounding.
  at::Tensor memory_at_zero;
  std::optional<int64_t> memory_frame;

 private:
  void apply_pending();
  void check_input(const at::Tensor& t, const char* name) const;
  Plan build_plan(const PlanContext& c) const;
  void commit(const at::Tensor& kb, const at::Tensor& vb, const at::Tensor& chunk_mass);
  void evict_oldest();
  bool moves_memory_in_time() const;
  void place_memory(int64_t frame);   // memory keys to `frame` (from memory_at_zero)
  void memory_to_origins();           // memory keys back to their origin frames (feature off)
  at::Tensor memory_origin_frames() const;  // [H, M] frame of each slot's content (0 when empty)
};

}  // namespace sw::attn
