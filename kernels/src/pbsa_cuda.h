// Internal to the PBSA CUDA path: the kernel argument block shared by the portable mma.sync kernel
// (pbsa.cu, any sm_80+) and the Hopper wgmma kernel (pbsa_sm90.cu, built for sm_90a only), and the
// entry point pbsa.cu dispatches to when the device and shape allow it.
// Test: tests/kernels/test_pbsa.cpp (gpu label) runs both kernels against the CPU reference.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace sw::kernels::pbsa {

struct KernelArgs {
  const uint16_t* q;
  const uint16_t* k;
  const uint16_t* v;
  const float* count;
  const int64_t* plan_index;
  const int64_t* plan_count;
  float* out;      // final output (splits == 1) or split partials [S, H*Qb*B, D]
  float* lse;      // final lse (splits == 1) or split partials [S, H*Qb*B]
  float* tile_ls;  // [H*Qb, K*tiles, B] log2 of each tile's exp-sum, or null
  int heads, q_blocks, kv_blocks, block_tokens, plan_width, splits;
  float scale_log2;  // scale * log2(e): logits are kept in the log2 domain
};

// Pipeline variants of the wgmma kernel (kernels/README.md, "Hopper path"): kSerial waits for each
// P.V before the next tile's barrier; kDeferred leaves P.V in flight while the next tile's Q.K^T is
// issued, so the tensor core gets both back to back; kDeferred3 is kDeferred with three K/V stages
// (prefetch two tiles ahead; 113 KiB at head dim 128, still two CTAs per SM).
enum class Sm90Pipeline { kSerial, kDeferred, kDeferred3 };

#ifdef SW_PBSA_SM90
// Launches the sm_90a kernel: 64-token tiles (block_tokens 64 or 128), head dim 64 or 128, one
// warpgroup per (head, query tile[, split]). Same outputs and workspace as the mma.sync kernel.
void launch_fwd_sm90(const KernelArgs& ka, bool fp16, int head_dim, int ctas, int splits, Sm90Pipeline pipe, cudaStream_t stream);
// Launches the warp-specialised sm_90a kernel (pbsa_sm90_ws.cu): block_tokens a multiple of 128,
// one CTA per (head, pair of query tiles[, split]), two consumer warpgroups and a TMA producer
// warpgroup.
// overlap: each warpgroup issues the next tile's Q.K^T before this tile's P.V (FlashAttention-3's
// in-warpgroup pipelining); false: Q.K^T, softmax, P.V in turn.
void launch_fwd_sm90_ws(const KernelArgs& ka, bool fp16, int head_dim, int splits, bool overlap, cudaStream_t stream);
#endif

}  // namespace sw::kernels::pbsa
