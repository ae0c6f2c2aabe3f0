// Internal to the PBSA CUDA kernels (pbsa.cu: mma.sync; pbsa_sm90.cu, pbsa_sm90_ws.cu: wgmma): the per-KV-tile
// softmax step and the epilogue (store_rows) every kernel runs on the same per-warp row layout
// (16 rows a warp, S and O in the m16n8 accumulator layout: this thread holds rows lane/4 and lane/4 + 8, columns 2 * (lane & 3)
// + {0, 1} of every n8 tile). Header-only and fully inlined with compile-time sizes, so each
// kernel compiles to the code it had when the step was written out in it (no shared memory, no
// barrier). Design: kernels/README.md ("Pipelining and softmax", "Block mass").
// Test: tests/kernels/test_pbsa.cpp (gpu label) runs both kernels against the CPU reference.
#pragma once

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

namespace sw::kernels::pbsa {

constexpr unsigned kFullMask = 0xffffffffu;
constexpr float kLn2 = 0.6931471805599453f;  // the kernels keep logits in log2; LSE is natural

__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;  // ex2.approx(-inf) = +0, which masking relies on
}

// One KV tile of the online softmax, log2 domain, for this warp's 16 query rows:
//   p = s * scale_log2 + log2(count) (count 0 or a bad block id: -inf, the token is masked); the
//   log2 is skipped when one warp vote says every token of the tile has count 1 (unmerged tokens,
//   the common case); then the running max m_run, the rescale of O and l_run by 2^(m_old - m_new),
//   p = 2^(p - m), l_run += row sums of p. A row masked so far keeps m_run = -inf and exponentiates
//   against 0 (no NaN).
// With tile_ls non-null, also stores per row the log2 of the tile's exp-sum, absolute (m + log2
// sum p: independent of the running max and of the split), at tile_ls[ls_slot(hr)] for this
// thread's row lane/4 + 8 hr (ls_slot is called only there, so a kernel without mass pays nothing).
// s and p may be the same array (the mma.sync kernel overwrites S in place; the wgmma kernel keeps
// S written only by wgmma and passes a separate p). counts: the tile's KV counts in shared memory.
// tile_softmax_deferred is the same step without touching O: it returns in alpha the factor O's
// rows must be multiplied by before the next P.V accumulates into them, so a kernel can run this
// tile's softmax while the previous tile's P.V is still in flight (pbsa_sm90_ws.cu).
template <int NT, class LsSlot>
__device__ __forceinline__ void tile_softmax_deferred(const float (&s)[NT][4], float (&p)[NT][4], float (&alpha)[2],
                                                      float (&m_run)[2], float (&l_run)[2], const float* counts, bool ok,
                                                      float scale_log2, int lane, float* tile_ls, const LsSlot& ls_slot) {
  float2 cv[NT];
  bool all_one = true;
#pragma unroll
  for (int j = 0; j < NT; ++j) {
    cv[j] = *reinterpret_cast<const float2*>(counts + j * 8 + (lane & 3) * 2);
    all_one &= cv[j].x == 1.f && cv[j].y == 1.f;
  }
  all_one = __all_sync(kFullMask, all_one && ok);
#pragma unroll
  for (int j = 0; j < NT; ++j) {
    float b0 = 0.f, b1 = 0.f;
    if (!all_one) {
      b0 = ok && cv[j].x > 0.f ? __log2f(cv[j].x) : -INFINITY;
      b1 = ok && cv[j].y > 0.f ? __log2f(cv[j].y) : -INFINITY;
    }
    p[j][0] = s[j][0] * scale_log2 + b0;
    p[j][1] = s[j][1] * scale_log2 + b1;
    p[j][2] = s[j][2] * scale_log2 + b0;
    p[j][3] = s[j][3] * scale_log2 + b1;
  }

  float m_use[2];
#pragma unroll
  for (int hr = 0; hr < 2; ++hr) {
    float mx = m_run[hr];
#pragma unroll
    for (int j = 0; j < NT; ++j) mx = fmaxf(mx, fmaxf(p[j][2 * hr], p[j][2 * hr + 1]));
    mx = fmaxf(mx, __shfl_xor_sync(kFullMask, mx, 1));
    mx = fmaxf(mx, __shfl_xor_sync(kFullMask, mx, 2));
    m_use[hr] = mx == -INFINITY ? 0.f : mx;  // all masked so far: exponents stay -inf -> 0, no NaN
    alpha[hr] = fast_exp2(m_run[hr] - m_use[hr]);
    m_run[hr] = mx;
    l_run[hr] *= alpha[hr];
  }
  float tile_sum[2] = {0.f, 0.f};
#pragma unroll
  for (int j = 0; j < NT; ++j) {
#pragma unroll
    for (int i = 0; i < 4; ++i) p[j][i] = fast_exp2(p[j][i] - m_use[i >> 1]);
    tile_sum[0] += p[j][0] + p[j][1];
    tile_sum[1] += p[j][2] + p[j][3];
  }
  l_run[0] += tile_sum[0];
  l_run[1] += tile_sum[1];
  if (tile_ls != nullptr) {
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
      float ts = tile_sum[hr];
      ts += __shfl_xor_sync(kFullMask, ts, 1);
      ts += __shfl_xor_sync(kFullMask, ts, 2);
      if ((lane & 3) == 0) tile_ls[ls_slot(hr)] = ts > 0.f ? m_use[hr] + __log2f(ts) : -INFINITY;
    }
  }
}

// O's rows (this thread's rows lane/4 and lane/4 + 8) times alpha.
template <int DT>
__device__ __forceinline__ void scale_rows(float (&o)[DT][4], const float (&alpha)[2]) {
#pragma unroll
  for (int j = 0; j < DT; ++j) {
    o[j][0] *= alpha[0];
    o[j][1] *= alpha[0];
    o[j][2] *= alpha[1];
    o[j][3] *= alpha[1];
  }
}

template <int NT, int DT, class LsSlot>
__device__ __forceinline__ void tile_softmax(const float (&s)[NT][4], float (&p)[NT][4], float (&o)[DT][4],
                                             float (&m_run)[2], float (&l_run)[2], const float* counts, bool ok,
                                             float scale_log2, int lane, float* tile_ls, const LsSlot& ls_slot) {
  float alpha[2];
  tile_softmax_deferred(s, p, alpha, m_run, l_run, counts, ok, scale_log2, lane, tile_ls, ls_slot);
  scale_rows(o, alpha);
}

// Epilogue of one warp's 16 rows (rows lane/4 and lane/4 + 8 of the warp, from global row
// `row0`): O normalised by the row sum, natural-log LSE; a row with no live token gets 0 and -inf.
// out/lse point at this split's partials (or the final outputs without a split).
template <int D>
__device__ __forceinline__ void store_rows(float* out, float* lse, int64_t row0, int lane, const float (&o)[D / 8][4],
                                           const float (&m_run)[2], const float (&l_run)[2]) {
#pragma unroll
  for (int hr = 0; hr < 2; ++hr) {
    float l = l_run[hr];
    l += __shfl_xor_sync(kFullMask, l, 1);
    l += __shfl_xor_sync(kFullMask, l, 2);
    const bool live = l > 0.f;
    const float inv = live ? 1.f / l : 0.f;
    const int64_t row = row0 + (lane >> 2) + hr * 8;
    float* orow = out + row * D + (lane & 3) * 2;
#pragma unroll
    for (int j = 0; j < D / 8; ++j)
      *reinterpret_cast<float2*>(orow + j * 8) = make_float2(o[j][2 * hr] * inv, o[j][2 * hr + 1] * inv);
    if ((lane & 3) == 0) lse[row] = live ? (m_run[hr] + log2f(l)) * kLn2 : -INFINITY;
  }
}

}  // namespace sw::kernels::pbsa
