// PagedKVCache: one layer's K/V in a preallocated pool of fixed-size blocks (pages of B tokens),
// per head, with three regions: sink frames (kept forever), persistent memory slots and a ring of
// window frames. Slot layout [sink S*nb | memory M | ring R*nb]: the ring is last so that growing
// it (dense method) appends slots without renumbering any existing one.
// Every token carries a count (how many original tokens it stands for; 0 = empty), so merged
// entries get a log(count) logit bias and empty entries are masked.
// Test: tests/attention/test_attention_core.cpp (CacheTest.*).
#pragma once

#include <deque>
#include <vector>

#include <ATen/ATen.h>

#include "geometry.h"

namespace sw::attn {

enum Region : int64_t { kSink = 0, kMemory = 1, kWindow = 2, kChunk = 3 };

class PagedKVCache {
 public:
  PagedKVCache(const Geometry& g, const CacheParams& p);
  void reset();

  int64_t sink_base() const { return 0; }
  int64_t memory_base() const { return sink_frames_ * g_.blocks_per_frame; }
  int64_t ring_base() const { return memory_base() + memory_slots_; }
  int64_t ring_frames() const { return ring_frames_; }
  int64_t num_slots() const { return ring_base() + ring_frames_ * g_.blocks_per_frame; }
  int64_t memory_slots() const { return memory_slots_; }
  int64_t sink_frames() const { return sink_frames_; }

  // Per head and slot: [H, P, ...]. count is float so that log(count) needs no conversion.
  at::Tensor k, v;          // [H, P, B, D] cache dtype
  at::Tensor count;         // [H, P, B] float32
  at::Tensor kpool;         // [H, P, D] float32, count-weighted mean key of the block
  at::Tensor origin;        // [H, P] int64, global block id (frame * nb + s) of the block's content, -1 none
  at::Tensor salience;      // [H, P] float32, decayed attention mass received
  at::Tensor slot_frame;    // [P] int64, frame held by a sink/ring slot, -1 otherwise
  at::Tensor region;        // [P] int64 Region
  at::Tensor slot_y, slot_x;// [P] int64 block-grid position of sink/ring slots (memory: from origin)

  at::Tensor valid() const;  // [H, P] bool: any token with count > 0

  // Host bookkeeping of which frame sits in which ring frame; identical for all heads.
  struct WindowFrame {
    int64_t frame;
    int64_t ring;
  };
  int64_t frames_seen = 0;
  std::deque<WindowFrame> window;
  std::vector<int64_t> free_ring;  // kept sorted descending; back() is the lowest free ring frame

  int64_t ring_slot(int64_t ring) const { return ring_base() + ring * g_.blocks_per_frame; }
  // Writes frame (kb, vb: [H, nb, B, D]) at slots [base, base + nb) with count 1.
  void write_frame(int64_t base, int64_t frame, const at::Tensor& kb, const at::Tensor& vb);
  void clear_slots(int64_t base, int64_t n);
  void refresh_kpool(int64_t base, int64_t n);
  void refresh_kpool_at(const at::Tensor& slots);  // [H] one slot per head
  void grow_ring(int64_t extra_frames);  // appends empty ring frames (reallocates the pool)

  int64_t bytes_per_head_slot() const;
  int64_t reserved_bytes() const { return bytes_per_head_slot() * g_.heads * num_slots(); }
  at::Tensor bytes_in_use() const;  // device int64 scalar

 private:
  void allocate();
  Geometry g_;
  at::TensorOptions opts_;
  c10::ScalarType dtype_;
  int64_t sink_frames_, memory_slots_, ring_frames_, initial_ring_frames_;
};

}  // namespace sw::attn
