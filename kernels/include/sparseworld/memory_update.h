// Sparse-forcing persistent-memory update (issue 6): evicts the blocks at cache slots
// [evict_base, evict_base + E) into the memory slots [memory_base, memory_base + M), in place in
// the paged cache, per head, one evicted block after the other (each decision sees the memory as
// the previous block left it), exactly the rules of sparse_forcing_evict_block
// (attention/src/policy_sparse_forcing.cpp):
//   valid_j   = any token of the evicted block has count > 0
//   min slot  = the memory slot of least salience, empty slots counting as -inf (so they fill
//               first; ties: lower slot)
//   best slot = the memory slot of highest cosine(kpool) with the block, empty slots -inf (ties:
//               lower slot)
//   preserve  = valid_j && sal_j > min_sal && sal_j >= preserve_min_mass   -> overwrite the min slot
//   merge     = valid_j && !preserve && best_cos >= merge_threshold         -> count-weighted mean of
//               K and V into the best slot per token, counts and salience add, origin kept
//   with max_count > 0 every count written (preserved or merged) is min(count, max_count); the
//   mean's weights are the counts before the cap
//   drop      = valid_j && !preserve && !merge
// then the target slot's kpool is recomputed (count-weighted mean key). With use_memory off or
// M = 0 every valid block is dropped and nothing else changes. The evicted slots themselves are
// left as they are (the caller clears them). Counters (preserved, merged, dropped) are added to in
// device memory; per (block, head) action and target are written for the caller's bookkeeping.
// All arithmetic is in float with a fixed order (fma for dot products), so the CUDA kernel equals
// the CPU reference bit for bit. No at::Tensor here.
// Design: kernels/README.md. Test: tests/kernels/test_memory_update.cpp (gpu label).
#pragma once

#include <cstdint>
#include <string>

#include "sparseworld/kernels.h"
#include "sparseworld/pbsa.h"  // PbsaDtype: the 16-bit formats of K and V

namespace sw::kernels {

enum MemoryAction : int32_t { kMemNone = 0, kMemPreserved = 1, kMemMerged = 2, kMemDropped = 3 };

struct MemoryUpdateParams {
  int heads = 0;         // H
  int slots = 0;         // P: cache slots per head
  int block_tokens = 0;  // B
  int head_dim = 0;      // D
  int evict_base = 0;    // first evicted slot
  int evict_blocks = 0;  // E, processed in slot order
  int memory_base = 0;   // first memory slot
  int memory_slots = 0;  // M
  bool use_memory = true;
  float preserve_min_mass = 0.f;
  float merge_threshold = 0.5f;
  PbsaDtype dtype = PbsaDtype::kBf16;
  float max_count = 0.f;  // cap on a merged token's count; 0: none (else >= 1)
};

// The cache arrays (host for the CPU reference, device for CUDA), row-major, updated in place.
struct MemoryUpdateArgs {
  uint16_t* k = nullptr;         // [H, P, B, D] raw bf16/fp16 bits
  uint16_t* v = nullptr;         // [H, P, B, D]
  float* count = nullptr;        // [H, P, B]
  float* kpool = nullptr;        // [H, P, D]
  float* salience = nullptr;     // [H, P]
  int64_t* origin = nullptr;     // [H, P]
  int32_t* action = nullptr;     // [E, H] MemoryAction (written; null = not wanted)
  int64_t* target = nullptr;     // [E, H] memory slot the rules chose (preserve: min slot, else
                                 // best slot), -1 without memory (written; null = not wanted)
  int64_t* preserved = nullptr;  // scalar counters, added to
  int64_t* merged = nullptr;
  int64_t* dropped = nullptr;
};

// Throws std::invalid_argument naming the bad field (shapes, ranges overlapping, thresholds).
void validate(const MemoryUpdateParams& p);
// Whether the CUDA kernel takes these params (M <= 1024, B * D any); `why` says why not.
bool memory_update_cuda_supports(const MemoryUpdateParams& p, std::string* why = nullptr);

void memory_update_cpu(const MemoryUpdateArgs& a, const MemoryUpdateParams& p);
// Asynchronous on `stream`; one CTA per head walks the evicted blocks in order. The counters use
// integer atomics (order-independent sums), everything else is written by one CTA: deterministic.
void memory_update_cuda(const MemoryUpdateArgs& a, const MemoryUpdateParams& p, Stream stream);

}  // namespace sw::kernels
