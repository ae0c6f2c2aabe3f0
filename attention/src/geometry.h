// Block geometry: how a frame's row-major token grid is tiled into blocks of B tokens, and the
// permutation between token order (what the model passes) and block order (what the cache holds).
// Test: tests/attention/test_attention_core.cpp (GeometryTest.*).
#pragma once

#include <ATen/ATen.h>

#include "sparseworld/attention.h"

namespace sw::attn {

struct Geometry {
  int64_t heads = 0, head_dim = 0;
  int64_t grid_h = 0, grid_w = 0, tokens_per_frame = 0;
  int64_t block = 0, tile_h = 0, tile_w = 0;    // block = tile_h * tile_w
  int64_t tiles_y = 0, tiles_x = 0;             // blocks per frame = tiles_y * tiles_x
  int64_t blocks_per_frame = 0;
  int64_t chunk_frames = 0;
  int64_t chunk_blocks() const { return chunk_frames * blocks_per_frame; }
};

// Most square tile (tile_h * tile_w == block_size, tile_h | grid_h, tile_w | grid_w); throws
// std::invalid_argument when block_size does not tile the grid.
Geometry make_geometry(const CacheParams& p);

// [H, F*T, D] tokens -> [H, F*nb, B, D] blocks, and back.
at::Tensor tokens_to_blocks(const at::Tensor& x, const Geometry& g, int64_t frames);
at::Tensor blocks_to_tokens(const at::Tensor& x, const Geometry& g, int64_t frames);

}  // namespace sw::attn
