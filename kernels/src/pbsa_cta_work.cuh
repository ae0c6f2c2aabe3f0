// Internal to the PBSA CUDA kernels (pbsa.cu: mma.sync, pbsa_sm90.cu and pbsa_sm90_ws.cu: wgmma):
// which work one CTA does, the same for every kernel. A CTA takes CTA_TILES consecutive query tiles
// of TILE rows of one query block (1; 2 for the warp-specialised kernel's two consumer warpgroups):
// blockIdx.x = (head * q_blocks + query block) * (tiles per block / CTA_TILES) + tile group;
// blockIdx.y = KV split. The CTA runs KV tiles [t_begin, t_end) of its plan
// row (the row's count clamped to [0, plan_width]; with splits, equal ranges of tiles in split
// order, which the merge kernel relies on). Header-only, inlined: the kernels keep their registers.
// Test: tests/kernels/test_pbsa.cpp (gpu label) runs all three kernels against the CPU reference.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "pbsa_cuda.h"

namespace sw::kernels::pbsa {

template <int TILE, int CTA_TILES = 1>
struct CtaWork {
  int subs;        // query tiles per query block = KV tiles per KV block
  int qt, hq, h;   // first query tile of the CTA within its block; h * q_blocks + query block; head
  int split;
  int t_begin, t_end;
  const int64_t* idx_row;  // the plan row: KV block ids
  int64_t q_row0;          // first query row of the CTA in [H * Qb * B]

  __device__ __forceinline__ explicit CtaWork(const KernelArgs& a) {
    const int B = a.block_tokens;
    subs = B / TILE;
    const int groups = subs / CTA_TILES;
    qt = static_cast<int>(blockIdx.x) % groups * CTA_TILES;
    hq = static_cast<int>(blockIdx.x) / groups;
    h = hq / a.q_blocks;
    split = static_cast<int>(blockIdx.y);
    idx_row = a.plan_index + static_cast<int64_t>(hq) * a.plan_width;
    const int64_t cnt64 = a.plan_count[hq];
    const int cnt = static_cast<int>(cnt64 < 0 ? 0 : (cnt64 > a.plan_width ? a.plan_width : cnt64));
    const int n_tiles = cnt * subs;
    t_begin = 0;
    t_end = n_tiles;
    if (a.splits > 1) {
      const int per = (n_tiles + a.splits - 1) / a.splits;
      t_begin = min(split * per, n_tiles);
      t_end = min(t_begin + per, n_tiles);
    }
    q_row0 = static_cast<int64_t>(hq) * B + static_cast<int64_t>(qt) * TILE;
  }

  // KV tile t -> its first token in [H * N * B]; a block id outside [0, N) loads block 0 and
  // reports !ok (the tile is masked).
  __device__ __forceinline__ int64_t tile_src(const KernelArgs& a, int t, bool& ok) const {
    const int e = t / subs, sub = t - e * subs;
    int64_t n = __ldg(idx_row + e);
    ok = n >= 0 && n < a.kv_blocks;
    if (!ok) n = 0;
    return (static_cast<int64_t>(h) * a.kv_blocks + n) * a.block_tokens + static_cast<int64_t>(sub) * TILE;
  }
};

}  // namespace sw::kernels::pbsa
