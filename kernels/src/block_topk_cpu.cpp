// CPU reference of the block top-k plan builder (sparseworld/block_topk.h): plain loops with the
// kernel's summation order and explicit fma, so the kernel must match it exactly (plans equal).
// Test: tests/kernels/test_block_topk.cpp (hand-computed case + gpu comparison).
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "block_topk_common.h"
#include "pbsa_common.h"
#include "sparseworld/block_topk.h"

namespace sw::kernels {

void validate(const BlockTopkParams& p) {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("block_topk: " + what);
  };
  need(p.heads >= 1, "heads " + std::to_string(p.heads) + " < 1");
  need(p.q_blocks >= 1, "q_blocks " + std::to_string(p.q_blocks) + " < 1");
  need(p.kv_blocks >= 1, "kv_blocks " + std::to_string(p.kv_blocks) + " < 1");
  need(p.block_tokens >= 1, "block_tokens " + std::to_string(p.block_tokens) + " < 1");
  need(p.head_dim >= 1, "head_dim " + std::to_string(p.head_dim) + " < 1");
  need(p.top_k >= 0, "top_k " + std::to_string(p.top_k) + " < 0");
  need(p.plan_width >= 1 && p.plan_width <= p.kv_blocks,
       "plan_width " + std::to_string(p.plan_width) + " out of [1, kv_blocks]");
}

bool block_topk_cuda_supports(const BlockTopkParams& p, std::string* why) {
  auto no = [&](const std::string& w) {
    if (why) *why = w;
    return false;
  };
  if (p.kv_blocks > block_topk::kMaxKvBlocks) return no("kv_blocks " + std::to_string(p.kv_blocks) + " > " + std::to_string(block_topk::kMaxKvBlocks));
  if (p.head_dim > block_topk::kMaxHeadDim) return no("head_dim " + std::to_string(p.head_dim) + " > 1024");
  return true;
}

void block_topk_cpu(const BlockTopkArgs& a, const BlockTopkParams& p) {
  validate(p);
  if (!a.q || !a.kpool || !a.candidate || !a.plan_index || !a.plan_count || !a.keep)
    throw std::invalid_argument("block_topk_cpu: null pointer");
  const int H = p.heads, Q = p.q_blocks, N = p.kv_blocks, B = p.block_tokens, D = p.head_dim, K = p.plan_width;
  auto to_f = [&](uint16_t x) { return p.dtype == PbsaDtype::kBf16 ? pbsa::bf16_to_float(x) : pbsa::fp16_to_float(x); };
  std::vector<float> qbar(D), score(N);
  for (int h = 0; h < H; ++h)
    for (int qb = 0; qb < Q; ++qb) {
      const size_t row = static_cast<size_t>(h) * Q + qb;
      for (int d = 0; d < D; ++d) {
        float s = 0.f;
        for (int t = 0; t < B; ++t) s += to_f(a.q[(row * B + t) * D + d]);
        qbar[d] = s / static_cast<float>(B);
      }
      const uint8_t* cand = a.candidate + static_cast<size_t>(h) * N;
      for (int n = 0; n < N; ++n) {
        if (!cand[n]) continue;
        const float* kp = a.kpool + (static_cast<size_t>(h) * N + n) * D;
        float acc = 0.f;
        for (int d = 0; d < D; ++d) acc = std::fma(qbar[d], kp[d], acc);
        score[n] = acc;
      }
      uint8_t* keep = a.keep + row * N;
      const uint8_t* always = a.always ? a.always + row * N : nullptr;
      for (int n = 0; n < N; ++n) {
        bool sel = false;
        if (cand[n]) {
          int rank = 0;
          for (int m = 0; m < N && rank < p.top_k; ++m)
            if (cand[m] && m != n && block_topk::ranks_above(score[m], m, score[n], n)) ++rank;
          sel = rank < p.top_k;
        }
        keep[n] = static_cast<uint8_t>(sel || (always && always[n]));
      }
      int64_t* idx = a.plan_index + row * K;
      int total = 0;
      for (int n = 0; n < N; ++n)
        if (keep[n]) {
          if (total < K) idx[total] = n;
          ++total;
        }
      const int cnt = std::min(total, K);
      const int64_t pad = cnt > 0 ? idx[0] : 0;
      for (int e = cnt; e < K; ++e) idx[e] = pad;
      a.plan_count[row] = cnt;
    }
}

}  // namespace sw::kernels
