// Shared by the memory-update CPU reference and CUDA kernel: limits, and float -> bf16/fp16
// round-to-nearest-even for the reference (the kernel uses __float2bfloat16_rn / __float2half_rn,
// which round the same way). Test: tests/kernels/test_memory_update.cpp.
#pragma once

#include <cstdint>
#include <cstring>

#ifdef __CUDACC__
#define SW_MEM_HD __host__ __device__
#else
#define SW_MEM_HD
#endif

namespace sw::kernels::memory_update {

// Threads per CTA (one CTA per head): covers B x D = 64 x 64 merges in 16 passes and M <= 256
// memory slots in one.
constexpr int kThreads = 256;
// Salience and cosine of every memory slot sit in shared memory (2 x 4 B a slot).
constexpr int kMaxMemorySlots = 1024;
// Guards of the policy's divisions (policy_sparse_forcing.cpp): merged mean and pooled key
// denominators, cosine denominator.
constexpr float kCountEps = 1e-6f;
constexpr float kNormEps = 1e-12f;

// A merged token's count under the cap (0: none). A comparison, no arithmetic: the reference and
// the kernel agree bit for bit.
SW_MEM_HD inline float capped(float count, float max_count) { return max_count > 0.f && count > max_count ? max_count : count; }

inline uint16_t float_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // quiet NaN
  return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

inline uint16_t float_to_fp16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  const uint32_t sign = (u >> 16) & 0x8000u, a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u);  // NaN
  if (a >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // >= 65520: inf
  if (a < 0x38800000u) {  // below 2^-14: fp16 subnormal (units of 2^-24) or zero
    const int e = static_cast<int>(a >> 23);
    if (e < 102) return static_cast<uint16_t>(sign);  // < 2^-25: rounds to zero
    const uint32_t m = (a & 0x7FFFFFu) | 0x800000u;
    const int shift = 126 - e;
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1u))) ++r;
    return static_cast<uint16_t>(sign | r);
  }
  uint32_t h = (a >> 13) - (112u << 10);  // rebias the exponent 127 -> 15
  const uint32_t rem = a & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

}  // namespace sw::kernels::memory_update
