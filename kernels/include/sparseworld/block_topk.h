// Block top-k plan builder (sparse-forcing's selection, issue 6): for head h and query block qb,
//   qbar = mean over the B tokens of q[h, qb]            (float, tokens summed in order 0..B-1)
//   score[n] = sum_d fma(qbar[d], kpool[h, n, d])        (d in order 0..D-1) for candidate blocks
//   selected = the top_k candidates by score, ties to the lower block index
//   keep[h, qb, n] = always[h, qb, n] | selected[n]
// and writes the row in attention/src/plan.h's padded-CSR format: plan_index[h, qb, 0..count) the
// kept block ids ascending (only the first plan_width when more are kept), padded with the row's
// first index (0 for an empty row), plan_count = min(kept, plan_width).
// The fixed summation order and explicit fma make the CPU reference and the CUDA kernel produce
// bitwise identical scores, so their plans are equal, not just close.
// No at::Tensor here. Design notes: kernels/README.md. Test: tests/kernels/test_block_topk.cpp.
#pragma once

#include <cstdint>
#include <string>

#include "sparseworld/kernels.h"
#include "sparseworld/pbsa.h"  // PbsaDtype: the 16-bit formats of q

namespace sw::kernels {

struct BlockTopkParams {
  int heads = 0;         // H
  int q_blocks = 0;      // Qb
  int kv_blocks = 0;     // N: the KV block space of the plan (cache slots then chunk blocks)
  int block_tokens = 0;  // B
  int head_dim = 0;      // D
  int top_k = 0;         // candidates selected per row (all of them when fewer)
  int plan_width = 0;    // K: row width of plan_index, <= kv_blocks
  PbsaDtype dtype = PbsaDtype::kBf16;
};

// Host pointers for the CPU reference, device pointers for CUDA; all row-major and contiguous.
struct BlockTopkArgs {
  const uint16_t* q = nullptr;          // [H, Qb, B, D] raw bf16/fp16 bits
  const float* kpool = nullptr;         // [H, N, D] pooled keys (the cache's kpool + the chunk's)
  const uint8_t* candidate = nullptr;   // [H, N] 1 = may be selected by score (window blocks)
  const uint8_t* always = nullptr;      // [H, Qb, N] 1 = kept whatever the score; null = none
  int64_t* plan_index = nullptr;        // [H, Qb, K]
  int64_t* plan_count = nullptr;        // [H, Qb]
  uint8_t* keep = nullptr;              // [H, Qb, N] 0/1 (a torch bool tensor's bytes)
};

// Throws std::invalid_argument naming the bad field.
void validate(const BlockTopkParams& p);
// Whether the CUDA kernel takes these params (a row's scores and flags live in shared memory:
// N <= 4096, D <= 1024); `why` says why not.
bool block_topk_cuda_supports(const BlockTopkParams& p, std::string* why = nullptr);

void block_topk_cpu(const BlockTopkArgs& a, const BlockTopkParams& p);
// Asynchronous on `stream`, no host synchronisation; one CTA per (head, query block).
void block_topk_cuda(const BlockTopkArgs& a, const BlockTopkParams& p, Stream stream);

}  // namespace sw::kernels
