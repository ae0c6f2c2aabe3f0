// Block top-k plan builder on the GPU (sparseworld/block_topk.h). One CTA of kThreads per
// (head, query block) row: pool the row's q into shared memory (thread per dim, tokens in order),
// score every candidate (thread per block, dims in order, __fmaf_rn: the CPU reference's exact
// arithmetic), select by rank (a candidate is kept when fewer than top_k candidates rank above
// it; O(N * top_k) per thread with early exit, N ~ 100 in sparse-forcing), OR in the always-kept
// set, then compact the keep flags into the ascending padded-CSR row with a ballot/popc block scan.
// No atomics, no host synchronisation; deterministic. Design: kernels/README.md.
// Test: tests/kernels/test_block_topk.cpp (gpu label; exact match against the CPU reference).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <stdexcept>

#include "block_topk_common.h"
#include "cuda_check.h"
#include "sparseworld/block_topk.h"

namespace sw::kernels {

namespace {

using block_topk::kThreads;
constexpr int kWarps = kThreads / 32;
constexpr unsigned kFullMask = 0xffffffffu;

struct KernelArgs {
  BlockTopkArgs a;
  int Q, N, B, D, top_k, K;
};

template <bool kBf16>
__device__ __forceinline__ float load16(const uint16_t* p) {
  const uint16_t x = __ldg(p);
  if constexpr (kBf16) return __uint_as_float(static_cast<uint32_t>(x) << 16);
  else return __half2float(__ushort_as_half(x));
}

template <bool kBf16>
__global__ void __launch_bounds__(kThreads) block_topk_kernel(KernelArgs ka) {
  extern __shared__ float smem[];  // qbar[D] | score[N] | cand[N] | flag[N]
  __shared__ int warp_sum[kWarps];
  __shared__ int first_kept;
  const int Q = ka.Q, N = ka.N, B = ka.B, D = ka.D, K = ka.K;
  const int row = blockIdx.x, h = row / Q, tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  float* qbar = smem;
  float* score = qbar + D;
  uint8_t* cand = reinterpret_cast<uint8_t*>(score + N);
  uint8_t* flag = cand + N;

  // 1. Pool q: thread d sums token t = 0..B-1 in order (coalesced across threads at each t).
  const uint16_t* q = ka.a.q + static_cast<size_t>(row) * B * D;
  for (int d = tid; d < D; d += kThreads) {
    float s = 0.f;
    for (int t = 0; t < B; ++t) s = __fadd_rn(s, load16<kBf16>(q + static_cast<size_t>(t) * D + d));
    qbar[d] = __fdiv_rn(s, static_cast<float>(B));
  }
  const uint8_t* cand_g = ka.a.candidate + static_cast<size_t>(h) * N;
  for (int n = tid; n < N; n += kThreads) cand[n] = cand_g[n] ? 1 : 0;
  __syncthreads();

  // 2. Scores of the candidates (non-candidates are never read).
  const float* kpool = ka.a.kpool + static_cast<size_t>(h) * N * D;
  for (int n = tid; n < N; n += kThreads) {
    if (!cand[n]) continue;
    const float* kp = kpool + static_cast<size_t>(n) * D;
    float acc = 0.f;
    for (int d = 0; d < D; ++d) acc = __fmaf_rn(qbar[d], __ldg(kp + d), acc);
    score[n] = acc;
  }
  __syncthreads();

  // 3. Selection by rank, union with the always-kept set.
  const size_t rowN = static_cast<size_t>(row) * N;
  for (int n = tid; n < N; n += kThreads) {
    bool sel = false;
    if (cand[n]) {
      const float sn = score[n];
      int rank = 0;
      for (int m = 0; m < N && rank < ka.top_k; ++m)
        if (cand[m] && m != n && block_topk::ranks_above(score[m], m, sn, n)) ++rank;
      sel = rank < ka.top_k;
    }
    const uint8_t f = (sel || (ka.a.always && ka.a.always[rowN + n])) ? 1 : 0;
    flag[n] = f;
    ka.a.keep[rowN + n] = f;
  }
  if (tid == 0) first_kept = 0;
  __syncthreads();

  // 4. Compaction: exclusive scan of the flags, kThreads blocks at a time.
  int64_t* idx = ka.a.plan_index + static_cast<size_t>(row) * K;
  int base = 0;
  for (int start = 0; start < N; start += kThreads) {
    const int n = start + tid;
    const bool f = n < N && flag[n];
    const unsigned bal = __ballot_sync(kFullMask, f);
    if (lane == 0) warp_sum[warp] = __popc(bal);
    __syncthreads();
    int off = base, total = 0;
    for (int w = 0; w < kWarps; ++w) {
      if (w < warp) off += warp_sum[w];
      total += warp_sum[w];
    }
    const int pos = off + __popc(bal & ((1u << lane) - 1u));
    if (f && pos < K) idx[pos] = n;
    if (f && pos == 0) first_kept = n;
    base += total;
    __syncthreads();  // warp_sum is rewritten by the next tile; first_kept is read below
  }
  const int cnt = base < K ? base : K;
  const int64_t pad = first_kept;  // 0 for an empty row, as plan_from_mask gives
  for (int e = cnt + tid; e < K; e += kThreads) idx[e] = pad;
  if (tid == 0) ka.a.plan_count[row] = cnt;
}

}  // namespace

void block_topk_cuda(const BlockTopkArgs& a, const BlockTopkParams& p, Stream stream) {
  validate(p);
  std::string why;
  if (!block_topk_cuda_supports(p, &why)) throw std::invalid_argument("block_topk_cuda: " + why);
  if (!a.q || !a.kpool || !a.candidate || !a.plan_index || !a.plan_count || !a.keep)
    throw std::invalid_argument("block_topk_cuda: null pointer");
  const KernelArgs ka{a, p.q_blocks, p.kv_blocks, p.block_tokens, p.head_dim, p.top_k, p.plan_width};
  const size_t smem = sizeof(float) * (p.head_dim + p.kv_blocks) + 2 * static_cast<size_t>(p.kv_blocks);
  const unsigned rows = static_cast<unsigned>(p.heads) * static_cast<unsigned>(p.q_blocks);
  const cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
  if (p.dtype == PbsaDtype::kBf16) block_topk_kernel<true><<<rows, kThreads, smem, s>>>(ka);
  else block_topk_kernel<false><<<rows, kThreads, smem, s>>>(ka);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace sw::kernels
