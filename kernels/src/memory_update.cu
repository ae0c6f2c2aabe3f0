// Sparse-forcing memory update on the GPU (sparseworld/memory_update.h). One CTA of kThreads per
// head walks the evicted blocks in slot order (each decision depends on the memory the previous
// one left, so blocks are sequential; heads are independent). Per block: thread m scores memory
// slot m (validity, salience, cosine with dims in order and __fmaf_rn), thread 0 picks min/best
// slot with lower-index ties and decides, all threads merge K/V element-wise (B x D), then counts,
// then thread d re-pools the target's key. The arithmetic is the CPU reference's, op for op
// (__fmul_rn/__fadd_rn/__fdiv_rn: no contraction), so results are bitwise equal. Counters: one
// integer atomicAdd per head and counter at the end. Design: kernels/README.md.
// Test: tests/kernels/test_memory_update.cpp (gpu label).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <stdexcept>

#include "cuda_check.h"
#include "memory_update_common.h"
#include "sparseworld/memory_update.h"

namespace sw::kernels {

namespace {

using memory_update::kCountEps;
using memory_update::kNormEps;
using memory_update::kThreads;

template <bool kBf16>
__device__ __forceinline__ float to_f(uint16_t x) {
  if constexpr (kBf16) return __uint_as_float(static_cast<uint32_t>(x) << 16);
  else return __half2float(__ushort_as_half(x));
}

template <bool kBf16>
__device__ __forceinline__ uint16_t to_h(float x) {
  if constexpr (kBf16) return __bfloat16_as_ushort(__float2bfloat16_rn(x));
  else return __half_as_ushort(__float2half_rn(x));
}

template <bool kBf16>
__global__ void __launch_bounds__(kThreads) memory_update_kernel(MemoryUpdateArgs a, MemoryUpdateParams p) {
  extern __shared__ float smem[];  // msal[M] | sim[M]
  __shared__ int s_decision, s_target;  // decision: MemoryAction
  const int h = blockIdx.x, tid = threadIdx.x;
  const int P = p.slots, B = p.block_tokens, D = p.head_dim, M = p.memory_slots, H = p.heads;
  const bool memory = p.use_memory && M > 0;
  float* msal = smem;
  float* sim = smem + M;
  const float ninf = -__int_as_float(0x7f800000);
  const size_t hs = static_cast<size_t>(h) * P;
  long long n_pres = 0, n_merge = 0, n_drop = 0;  // thread 0's tallies

  for (int e = 0; e < p.evict_blocks; ++e) {
    const size_t j = hs + p.evict_base + e;
    const float* cj = a.count + j * B;
    bool any = false;
    for (int t = tid; t < B; t += kThreads) any |= cj[t] > 0.f;
    const bool valid_j = __syncthreads_or(any);
    const size_t out = static_cast<size_t>(e) * H + h;
    if (!memory) {
      if (tid == 0) {
        n_drop += valid_j;
        if (a.action) a.action[out] = valid_j ? kMemDropped : kMemNone;
        if (a.target) a.target[out] = -1;
      }
      continue;  // valid_j came from a barrier: every thread takes the same branch
    }
    // Score the memory slots.
    const float* kj = a.kpool + j * D;
    float nj2 = 0.f;
    for (int d = 0; d < D; ++d) nj2 = __fmaf_rn(kj[d], kj[d], nj2);
    const float nj = __fsqrt_rn(nj2);
    for (int m = tid; m < M; m += kThreads) {
      const size_t s = hs + p.memory_base + m;
      const float* cm = a.count + s * B;
      bool valid = false;
      for (int t = 0; t < B && !valid; ++t) valid = cm[t] > 0.f;
      float ms = ninf, sm = ninf;
      if (valid) {
        ms = a.salience[s];
        const float* km = a.kpool + s * D;
        float dot = 0.f, nm2 = 0.f;
        for (int d = 0; d < D; ++d) {
          dot = __fmaf_rn(km[d], kj[d], dot);
          nm2 = __fmaf_rn(km[d], km[d], nm2);
        }
        sm = __fdiv_rn(dot, fmaxf(__fmul_rn(__fsqrt_rn(nm2), nj), kNormEps));
      }
      msal[m] = ms;
      sim[m] = sm;
    }
    __syncthreads();
    if (tid == 0) {
      float min_sal = msal[0], best = sim[0];
      int min_idx = 0, best_idx = 0;
      for (int m = 1; m < M; ++m) {
        if (msal[m] < min_sal) min_sal = msal[m], min_idx = m;  // strict: ties keep the lower slot
        if (sim[m] > best) best = sim[m], best_idx = m;
      }
      const float sal_j = a.salience[j];
      const bool preserve = valid_j && sal_j > min_sal && sal_j >= p.preserve_min_mass;
      const bool merge = valid_j && !preserve && best >= p.merge_threshold;
      const int target = p.memory_base + (preserve ? min_idx : best_idx);
      const size_t ts = hs + target;
      if (preserve || merge) {
        a.salience[ts] = preserve ? sal_j : __fadd_rn(a.salience[ts], sal_j);
        if (preserve) a.origin[ts] = a.origin[j];
      }
      n_pres += preserve;
      n_merge += merge;
      n_drop += valid_j && !preserve && !merge;
      s_decision = preserve ? kMemPreserved : merge ? kMemMerged : valid_j ? kMemDropped : kMemNone;
      s_target = target;
      if (a.action) a.action[out] = s_decision;
      if (a.target) a.target[out] = target;
    }
    __syncthreads();
    const int decision = s_decision;
    const size_t ts = hs + s_target;
    float* ct = a.count + ts * B;
    if (decision == kMemPreserved || decision == kMemMerged) {
      const bool preserve = decision == kMemPreserved;
      for (int i = tid; i < B * D; i += kThreads) {
        const int t = i / D;
        const float c_old = ct[t], c_new = cj[t];
        const float denom = fmaxf(__fadd_rn(c_old, c_new), kCountEps);
        uint16_t* const pools[2] = {a.k, a.v};
        for (uint16_t* pool : pools) {
          uint16_t* dst = pool + ts * B * D + i;
          const uint16_t src = pool[j * B * D + i];
          *dst = preserve ? src
                          : to_h<kBf16>(__fdiv_rn(__fadd_rn(__fmul_rn(to_f<kBf16>(*dst), c_old), __fmul_rn(to_f<kBf16>(src), c_new)), denom));
        }
      }
      __syncthreads();  // every merge has read the old counts
      for (int t = tid; t < B; t += kThreads) ct[t] = memory_update::capped(preserve ? cj[t] : __fadd_rn(ct[t], cj[t]), p.max_count);
      __syncthreads();
    }
    // Re-pool the chosen slot (the policy does it whatever happened).
    float csum = 0.f;
    for (int t = 0; t < B; ++t) csum = __fadd_rn(csum, ct[t]);
    const uint16_t* kt = a.k + ts * B * D;
    for (int d = tid; d < D; d += kThreads) {
      float num = 0.f;
      for (int t = 0; t < B; ++t) num = __fmaf_rn(to_f<kBf16>(kt[static_cast<size_t>(t) * D + d]), ct[t], num);
      a.kpool[ts * D + d] = __fdiv_rn(num, fmaxf(csum, kCountEps));
    }
    __syncthreads();  // the next block reads this slot's kpool, count and salience
  }
  if (tid == 0) {
    if (n_pres) atomicAdd(reinterpret_cast<unsigned long long*>(a.preserved), static_cast<unsigned long long>(n_pres));
    if (n_merge) atomicAdd(reinterpret_cast<unsigned long long*>(a.merged), static_cast<unsigned long long>(n_merge));
    if (n_drop) atomicAdd(reinterpret_cast<unsigned long long*>(a.dropped), static_cast<unsigned long long>(n_drop));
  }
}

}  // namespace

void memory_update_cuda(const MemoryUpdateArgs& a, const MemoryUpdateParams& p, Stream stream) {
  validate(p);
  std::string why;
  if (!memory_update_cuda_supports(p, &why)) throw std::invalid_argument("memory_update_cuda: " + why);
  if (!a.k || !a.v || !a.count || !a.kpool || !a.salience || !a.origin || !a.preserved || !a.merged || !a.dropped)
    throw std::invalid_argument("memory_update_cuda: null pointer");
  if (p.evict_blocks == 0) return;
  const size_t smem = 2 * sizeof(float) * static_cast<size_t>(p.memory_slots);
  const cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
  if (p.dtype == PbsaDtype::kBf16) memory_update_kernel<true><<<p.heads, kThreads, smem, s>>>(a, p);
  else memory_update_kernel<false><<<p.heads, kThreads, smem, s>>>(a, p);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace sw::kernels
