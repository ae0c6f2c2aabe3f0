// PBSA forward for Hopper (sm_90a): the same contract as the mma.sync kernel in pbsa.cu (plan rows
// of KV blocks, log-count bias, split-KV partials, per-tile mass log-sums), with the two GEMMs on
// warpgroup MMA (wgmma). One CTA = one warpgroup of 4 warps per (head, 64-row query tile[, split]);
// two CTAs per SM at head dim 128 (80.5 KiB shared memory each).
//   - Q: cp.async into shared memory once, then ldmatrix into registers: Q.K^T is wgmma with A from
//     registers (halves the shared-memory reads of an SS wgmma at M = 64; Q is reused every tile).
//   - K, V tiles of 64 tokens gathered through the plan row with cp.async (any block order, 16-byte
//     chunks), double-buffered, stored in the 128-byte-swizzle canonical layout wgmma reads: 8-row
//     x 128-byte atoms, 1024-byte aligned, 16-byte chunk c of row r at c ^ (r & 7); a 128-wide head
//     dim is two atom columns. K is the K-major B operand of Q.K^T (m64n64k16); V is the MN-major
//     (transposed) B operand of P.V (m64nDk16), so neither is transposed in memory.
//   - P goes from the S accumulators straight into A registers (the wgmma accumulator layout of a
//     warp is the m16n8 layout, which is the k16 A-fragment layout), as in the mma.sync kernel.
//   - Softmax, bias and mass log-sums are the mma.sync kernel's (one helper, pbsa_tile_softmax.cuh),
//     and so is the epilogue, per warp of 16 rows.
//   - The tile layout and the descriptors are pbsa_sm90_layout.h (host+device: the CPU test decodes
//     the descriptors against the PTX ISA's canonical layouts at head dims 64 and 128).
// Built only for sm_90a (kernels/CMakeLists.txt); pbsa.cu launches it on compute capability 9.0:
// automatically at head dim 128, when PbsaParams::kernel / SW_PBSA_KERNEL ask for it at head dims
// 64 and 128. Design and status (the head-dim-64 failure on the H100): kernels/README.md
// ("Hopper path").
// Test: tests/kernels/test_pbsa.cpp (gpu label) runs this kernel and the mma.sync kernel against the
// CPU reference (random inputs, several shapes, head dims 64/128, poisoned outputs, determinism).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "cuda_check.h"
#include "pbsa_cta_work.cuh"
#include "pbsa_cuda.h"
#include "pbsa_sm90_layout.h"
#include "pbsa_sm90_ops.cuh"
#include "pbsa_tile_softmax.cuh"

namespace sw::kernels::pbsa {

namespace {

using namespace sm90;  // tile, shared-memory layout and descriptors: pbsa_sm90_layout.h

constexpr int kThreads = 128;  // one warpgroup

template <int D>
__device__ __forceinline__ void load_tile(uint32_t dst, const uint16_t* src, int tid) {
  constexpr int kChunks = D / 8;
#pragma unroll
  for (int i = tid; i < kTile * kChunks; i += kThreads) {
    const int r = i / kChunks, c = i % kChunks;
    cp_async16(dst + sw128(r, c), src + r * D + c * 8);
  }
}

template <Sm90Pipeline PIPE>
constexpr int kStages = PIPE == Sm90Pipeline::kDeferred3 ? 3 : 2;

template <class T, int D, Sm90Pipeline PIPE>
__global__ void __launch_bounds__(kThreads) pbsa_fwd_sm90_kernel(const KernelArgs args) {
#ifdef SW_SM90_DEVICE
  constexpr int kNTiles = kTile / 8;  // n8 tiles of S per warp
  constexpr int kDTiles = D / 8;      // n8 tiles of O per warp
  constexpr int kKSteps = D / 16;     // k16 steps of Q.K^T
  constexpr int kS = kStages<PIPE>;
  using L = Layout<D, kS>;
  static_assert(D == 64 || D == 128, "head dim 64 or 128");

  extern __shared__ unsigned char smem_raw[];
  const uint32_t base = (static_cast<uint32_t>(__cvta_generic_to_shared(smem_raw)) + kAtomBytes - 1) & ~uint32_t(kAtomBytes - 1);
  const uint32_t shift = base - static_cast<uint32_t>(__cvta_generic_to_shared(smem_raw));
  if (shift > L::kSlack) __trap();  // the layout would run past the allocation
  unsigned char* const base_ptr = smem_raw + shift;
  const uint32_t sQ = base + L::kQ;
  auto stage_k = [&](int s) { return base + L::kK0 + s * 2 * L::kTileBytes; };  // = base + L::k(s)
  auto stage_v = [&](int s) { return stage_k(s) + L::kTileBytes; };             // = base + L::v(s)
  auto stage_c = [&](int s) { return reinterpret_cast<const float*>(base_ptr + L::kCount) + s * kTile; };

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int B = args.block_tokens;
  const CtaWork<kTile> work(args);
  const int subs = work.subs, qt = work.qt, hq = work.hq, split = work.split, t_begin = work.t_begin, t_end = work.t_end;
  auto tile_src = [&](int t, bool& ok) { return work.tile_src(args, t, ok); };
  auto load_kv = [&](int t, int s) {
    bool ok;
    const int64_t tok = tile_src(t, ok);
    load_tile<D>(stage_k(s), args.k + tok * D, tid);
    load_tile<D>(stage_v(s), args.v + tok * D, tid);
    if (tid < kTile / 4)
      cp_async16(static_cast<uint32_t>(__cvta_generic_to_shared(stage_c(s))) + tid * 16, args.count + tok + tid * 4);
  };

  const int64_t q_row0 = work.q_row0;
  if (t_begin < t_end) {
    load_tile<D>(sQ, args.q + q_row0 * D, tid);
    load_kv(t_begin, 0);
  }
  cp_async_commit();
  if constexpr (kS == 3) {  // second tile in flight before the loop; one commit group per tile
    if (t_begin + 1 < t_end) load_kv(t_begin + 1, 1);
    cp_async_commit();
  }

  float o[kDTiles][4];
#pragma unroll
  for (int j = 0; j < kDTiles; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.f;
  float s[kNTiles][4];  // written only by wgmma (the first k step overwrites)
  float m_run[2] = {-INFINITY, -INFINITY};  // rows lane/4 and lane/4 + 8 of the warp, log2 domain
  float l_run[2] = {0.f, 0.f};
  // Q fragments, the A registers of every Q.K^T, ldmatrix'd in the first iteration. They start as
  // zeros on purpose: defined only by the ldmatrix (in the loop, or hoisted in front of it), ptxas
  // 13.0 did not keep them live around the loop at head dim 64 and gave their registers to the P.V's
  // packed P and to softmax temporaries, so every KV tile after a CTA's first multiplied K by the
  // last tile's P (SASS: the Q.K^T and P.V HGMMAs read A from the same R88-R103; the H100 failure
  // of 2026-11). With this second definition they are written only by the zeroing and the ldmatrix.
  // kernels/README.md ("Hopper path", head dim 64).
  uint32_t qf[kKSteps][4];
#pragma unroll
  for (int ks = 0; ks < kKSteps; ++ks) qf[ks][0] = qf[ks][1] = qf[ks][2] = qf[ks][3] = 0u;
  const int wrow = warp * 16;  // the wgmma accumulator rows of this warp

  // The loop leaves only through the break after the last P.V's wait, so ptxas sees no wgmma in
  // flight on any exit path (otherwise it injects a wait on the loop's back edge).
  for (int t = t_begin; t_begin < t_end; ++t) {
    const int stage = (t - t_begin) % kS;
    if constexpr (PIPE == Sm90Pipeline::kSerial) {
      if (t + 1 < t_end) load_kv(t + 1, stage ^ 1);
      cp_async_commit();
      cp_async_wait<1>();  // everything but the prefetch just issued has landed
    } else {
      cp_async_wait<kS - 2>();  // tile t has landed (kDeferred3: tile t + 1 may still be in flight)
    }
    fence_proxy_async();
    __syncthreads();
    if (t == t_begin) {
#pragma unroll
      for (int ks = 0; ks < kKSteps; ++ks) ldmatrix_x4(qf[ks], sQ + sw128(wrow + (lane & 15), ks * 2 + (lane >> 4)));
    }

    // S = Q K^T (64 x 64 per warpgroup, 16 rows per warp).
    wgmma_fence();
#pragma unroll
    for (int ks = 0; ks < kKSteps; ++ks) T::qk(s, qf[ks], desc_k(stage_k(stage), ks), ks > 0);
    wgmma_commit();
    wgmma_wait<0>();  // kDeferred: also retires the previous tile's P.V
    fence_regs(s);
    fence_regs(o);
    if constexpr (PIPE != Sm90Pipeline::kSerial) {
      __syncthreads();  // every warp's P.V of tile t-1 is done: its stage may be refilled
      const int ahead = t + kS - 1;  // the tile that lands in tile t-1's stage
      if (ahead < t_end) load_kv(ahead, (stage + kS - 1) % kS);
      cp_async_commit();
    }

    bool ok;
    (void)tile_src(t, ok);
    // Logits and probabilities go to p, never back into s: s is written only by wgmma, so ptxas
    // can keep the deferred P.V and the next Q.K^T in one wgmma pipeline stage (no serialisation).
    float p[kNTiles][4];
    tile_softmax(s, p, o, m_run, l_run, stage_c(stage), ok, args.scale_log2, lane, args.tile_ls, [&](int hr) {
      const int row = qt * kTile + wrow + (lane >> 2) + hr * 8;  // row within the query block
      return (static_cast<int64_t>(hq) * args.plan_width * subs + t) * B + row;
    });

    // O += P V: P from the S accumulators, rounded to the input type.
    uint32_t pa[kTile / 16][4];
#pragma unroll
    for (int kk = 0; kk < kTile / 16; ++kk) {
      pa[kk][0] = T::pack(p[2 * kk][0], p[2 * kk][1]);
      pa[kk][1] = T::pack(p[2 * kk][2], p[2 * kk][3]);
      pa[kk][2] = T::pack(p[2 * kk + 1][0], p[2 * kk + 1][1]);
      pa[kk][3] = T::pack(p[2 * kk + 1][2], p[2 * kk + 1][3]);
    }
    fence_regs(o);
    wgmma_fence();
#pragma unroll
    for (int kk = 0; kk < kTile / 16; ++kk) T::pv(o, pa[kk], desc_v(stage_v(stage), kk));
    wgmma_commit();
    if (PIPE == Sm90Pipeline::kSerial || t + 1 == t_end) {  // kDeferred*: only the last P.V waits here
      wgmma_wait<0>();
      fence_regs(o);
      if constexpr (PIPE == Sm90Pipeline::kSerial) __syncthreads();  // stage free before it is refilled
    }
    if (t + 1 == t_end) break;
  }
  cp_async_wait<0>();

  float* out = args.out + static_cast<int64_t>(split) * args.heads * args.q_blocks * B * D;
  float* lse = args.lse + static_cast<int64_t>(split) * args.heads * args.q_blocks * B;
  store_rows<D>(out, lse, q_row0 + wrow, lane, o, m_run, l_run);
#else
  __trap();  // never launched: pbsa.cu dispatches here only on sm_90 devices
#endif
}

template <class T, int D, Sm90Pipeline PIPE>
void launch(const KernelArgs& ka, int ctas, int splits, cudaStream_t stream) {
  constexpr size_t smem = Layout<D, kStages<PIPE>>::kAlloc;
  static const bool configured = [] {  // > 48 KiB of dynamic shared memory needs an opt-in, once
    CUDA_CHECK(cudaFuncSetAttribute(pbsa_fwd_sm90_kernel<T, D, PIPE>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
    return true;
  }();
  (void)configured;
  pbsa_fwd_sm90_kernel<T, D, PIPE><<<dim3(ctas, splits), kThreads, smem, stream>>>(ka);
  CUDA_CHECK(cudaGetLastError());
}

template <class T, int D>
void launch_pipe(const KernelArgs& ka, int ctas, int splits, Sm90Pipeline pipe, cudaStream_t stream) {
  if (pipe == Sm90Pipeline::kSerial) return launch<T, D, Sm90Pipeline::kSerial>(ka, ctas, splits, stream);
  if (pipe == Sm90Pipeline::kDeferred3) return launch<T, D, Sm90Pipeline::kDeferred3>(ka, ctas, splits, stream);
  return launch<T, D, Sm90Pipeline::kDeferred>(ka, ctas, splits, stream);
}

template <class T>
void launch_dim(const KernelArgs& ka, int D, int ctas, int splits, Sm90Pipeline pipe, cudaStream_t stream) {
  if (D == 64) return launch_pipe<T, 64>(ka, ctas, splits, pipe, stream);
  return launch_pipe<T, 128>(ka, ctas, splits, pipe, stream);
}

}  // namespace

void launch_fwd_sm90(const KernelArgs& ka, bool fp16, int head_dim, int ctas, int splits, Sm90Pipeline pipe, cudaStream_t stream) {
  if (head_dim != 64 && head_dim != 128) throw std::invalid_argument("pbsa sm90: head_dim " + std::to_string(head_dim));
  if (ka.block_tokens % kTile != 0) throw std::invalid_argument("pbsa sm90: block_tokens " + std::to_string(ka.block_tokens));
  if (fp16) launch_dim<Fp16>(ka, head_dim, ctas, splits, pipe, stream);
  else launch_dim<Bf16>(ka, head_dim, ctas, splits, pipe, stream);
}

}  // namespace sw::kernels::pbsa
