// Shared by the PBSA CPU reference and CUDA kernel: tiling constants that decide the workspace
// layout, and 16-bit -> float conversion for the reference. Test: tests/kernels/test_pbsa.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "sparseworld/pbsa.h"

namespace sw::kernels::pbsa {

// Tokens per query tile and per KV tile: 64 = one default block; a 128-token block is two tiles
// (the 16x64 S fragment per warp keeps the registers of head dim 128 under 255, no spills), smaller
// blocks are one tile of their own size.
constexpr int kMaxTile = 64;
// Split-KV: aim for this many CTAs per SM (two fit by shared memory at head dim 128)...
constexpr int kTargetCtasPerSm = 2;
// ...never give a split fewer KV tiles than this (each split pays a pipeline fill + a combine)...
constexpr int kMinTilesPerSplit = 4;
// ...and never more splits than this (the combine kernel reads every split's partial).
constexpr int kMaxSplits = 16;
// Workspace sections start on this boundary (cp.async/vector loads need 16 B; 256 keeps sections
// on separate cache lines).
constexpr size_t kWorkspaceAlign = 256;

inline int tile_tokens(int block_tokens) { return block_tokens < kMaxTile ? block_tokens : kMaxTile; }
inline int tiles_per_block(int block_tokens) { return block_tokens / tile_tokens(block_tokens); }
inline size_t align_up(size_t x) { return (x + kWorkspaceAlign - 1) / kWorkspaceAlign * kWorkspaceAlign; }

// Workspace layout: [split partial out: S*H*Qb*B*D f32 | split partial lse: S*H*Qb*B f32] when
// S > 1, then [per-(row, KV tile) log2 of the tile's exp-sum: H*Qb*(K*tiles)*B f32] when want_mass.
struct WorkspaceLayout {
  size_t opart = 0, lsepart = 0, tile_ls = 0, total = 0;
};
inline WorkspaceLayout workspace_layout(const PbsaParams& p, int splits) {
  WorkspaceLayout w;
  const size_t rows = static_cast<size_t>(p.heads) * p.q_blocks * p.block_tokens;
  size_t at = 0;
  if (splits > 1) {
    w.opart = at;
    at = align_up(at + sizeof(float) * splits * rows * p.head_dim);
    w.lsepart = at;
    at = align_up(at + sizeof(float) * splits * rows);
  }
  if (p.want_mass) {
    w.tile_ls = at;
    at = align_up(at + sizeof(float) * rows * p.plan_width * tiles_per_block(p.block_tokens));
  }
  w.total = at;
  return w;
}

inline float bf16_to_float(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

inline float fp16_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu, u;
  if (exp == 0x1F) {
    u = sign | 0x7F800000u | (man << 13);  // inf / nan
  } else if (exp == 0) {
    if (man == 0) {
      u = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      do { man <<= 1; ++e; } while (!(man & 0x400u));
      u = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | ((man & 0x3FFu) << 13);
    }
  } else {
    u = sign | (exp + 127 - 15) << 23 | man << 13;
  }
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

}  // namespace sw::kernels::pbsa
