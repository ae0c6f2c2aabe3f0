// CPU reference of the sparse-forcing memory update (sparseworld/memory_update.h): the policy's
// rules as plain loops, in the kernel's arithmetic order (fma dot products, sequential sums), so
// the kernel must equal it bit for bit. Test: tests/kernels/test_memory_update.cpp.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "memory_update_common.h"
#include "pbsa_common.h"
#include "sparseworld/memory_update.h"

namespace sw::kernels {

void validate(const MemoryUpdateParams& p) {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("memory_update: " + what);
  };
  need(p.heads >= 1, "heads " + std::to_string(p.heads) + " < 1");
  need(p.slots >= 1, "slots " + std::to_string(p.slots) + " < 1");
  need(p.block_tokens >= 1, "block_tokens " + std::to_string(p.block_tokens) + " < 1");
  need(p.head_dim >= 1, "head_dim " + std::to_string(p.head_dim) + " < 1");
  need(p.evict_blocks >= 0 && p.evict_base >= 0 && p.evict_base + p.evict_blocks <= p.slots, "evicted range out of [0, slots)");
  need(p.memory_slots >= 0 && p.memory_base >= 0 && p.memory_base + p.memory_slots <= p.slots, "memory range out of [0, slots)");
  need(p.memory_slots == 0 || p.evict_blocks == 0 || p.evict_base + p.evict_blocks <= p.memory_base ||
           p.memory_base + p.memory_slots <= p.evict_base,
       "evicted range overlaps the memory range");
  need(!std::isnan(p.preserve_min_mass) && !std::isnan(p.merge_threshold), "thresholds must not be NaN");
  need(p.max_count == 0.f || p.max_count >= 1.f, "max_count " + std::to_string(p.max_count) + " must be 0 (no cap) or >= 1");
}

bool memory_update_cuda_supports(const MemoryUpdateParams& p, std::string* why) {
  if (p.memory_slots > memory_update::kMaxMemorySlots) {
    if (why) *why = "memory_slots " + std::to_string(p.memory_slots) + " > " + std::to_string(memory_update::kMaxMemorySlots);
    return false;
  }
  return true;
}

void memory_update_cpu(const MemoryUpdateArgs& a, const MemoryUpdateParams& p) {
  validate(p);
  if (!a.k || !a.v || !a.count || !a.kpool || !a.salience || !a.origin || !a.preserved || !a.merged || !a.dropped)
    throw std::invalid_argument("memory_update_cpu: null pointer");
  const int H = p.heads, P = p.slots, B = p.block_tokens, D = p.head_dim, M = p.memory_slots, E = p.evict_blocks;
  const bool bf = p.dtype == PbsaDtype::kBf16;
  auto to_f = [&](uint16_t x) { return bf ? pbsa::bf16_to_float(x) : pbsa::fp16_to_float(x); };
  auto to_h = [&](float x) { return bf ? memory_update::float_to_bf16(x) : memory_update::float_to_fp16(x); };
  const float ninf = -std::numeric_limits<float>::infinity();
  const bool memory = p.use_memory && M > 0;
  for (int h = 0; h < H; ++h)
    for (int e = 0; e < E; ++e) {
      const size_t hs = static_cast<size_t>(h) * P, j = hs + p.evict_base + e;
      const size_t out = static_cast<size_t>(e) * H + h;
      const float* cj = a.count + j * B;
      const bool valid_j = std::any_of(cj, cj + B, [](float c) { return c > 0.f; });
      if (!memory) {
        *a.dropped += valid_j;
        if (a.action) a.action[out] = valid_j ? kMemDropped : kMemNone;
        if (a.target) a.target[out] = -1;
        continue;
      }
      const float sal_j = a.salience[j];
      const float* kj = a.kpool + j * D;
      float nj2 = 0.f;
      for (int d = 0; d < D; ++d) nj2 = std::fma(kj[d], kj[d], nj2);
      const float nj = std::sqrt(nj2);
      float min_sal = 0.f, best = 0.f;
      int min_idx = 0, best_idx = 0;
      for (int m = 0; m < M; ++m) {
        const size_t s = hs + p.memory_base + m;
        const float* cm = a.count + s * B;
        const bool valid = std::any_of(cm, cm + B, [](float c) { return c > 0.f; });
        float msal = ninf, sim = ninf;
        if (valid) {
          msal = a.salience[s];
          const float* km = a.kpool + s * D;
          float dot = 0.f, nm2 = 0.f;
          for (int d = 0; d < D; ++d) {
            dot = std::fma(km[d], kj[d], dot);
            nm2 = std::fma(km[d], km[d], nm2);
          }
          sim = dot / std::max(std::sqrt(nm2) * nj, memory_update::kNormEps);
        }
        if (m == 0 || msal < min_sal) min_sal = msal, min_idx = m;  // strict: ties keep the lower slot
        if (m == 0 || sim > best) best = sim, best_idx = m;
      }
      const bool preserve = valid_j && sal_j > min_sal && sal_j >= p.preserve_min_mass;
      const bool merge = valid_j && !preserve && best >= p.merge_threshold;
      const size_t t_slot = hs + p.memory_base + (preserve ? min_idx : best_idx);
      if (preserve || merge) {
        float* ct = a.count + t_slot * B;
        for (int t = 0; t < B; ++t) {
          const float c_old = ct[t], c_new = cj[t], c_sum = c_old + c_new;
          for (uint16_t* pool : {a.k, a.v}) {
            uint16_t* dst = pool + (t_slot * B + t) * D;
            const uint16_t* src = pool + (j * B + t) * D;
            for (int d = 0; d < D; ++d)
              dst[d] = preserve ? src[d]
                                : to_h((to_f(dst[d]) * c_old + to_f(src[d]) * c_new) / std::max(c_sum, memory_update::kCountEps));
          }
        }
        for (int t = 0; t < B; ++t) ct[t] = memory_update::capped(preserve ? cj[t] : ct[t] + cj[t], p.max_count);
        a.salience[t_slot] = preserve ? sal_j : a.salience[t_slot] + sal_j;
        if (preserve) a.origin[t_slot] = a.origin[j];
      }
      // The policy re-pools the chosen slot whatever happened (a no-op up to rounding otherwise).
      const float* ct = a.count + t_slot * B;
      float csum = 0.f;
      for (int t = 0; t < B; ++t) csum += ct[t];
      for (int d = 0; d < D; ++d) {
        float num = 0.f;
        for (int t = 0; t < B; ++t) num = std::fma(to_f(a.k[(t_slot * B + t) * D + d]), ct[t], num);
        a.kpool[t_slot * D + d] = num / std::max(csum, memory_update::kCountEps);
      }
      *a.preserved += preserve;
      *a.merged += merge;
      *a.dropped += valid_j && !preserve && !merge;
      if (a.action) a.action[out] = preserve ? kMemPreserved : merge ? kMemMerged : valid_j ? kMemDropped : kMemNone;
      if (a.target) a.target[out] = static_cast<int64_t>(p.memory_base + (preserve ? min_idx : best_idx));
    }
}

}  // namespace sw::kernels
