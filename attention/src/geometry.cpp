// Block geometry and the token <-> block permutation. Test: tests/attention (GeometryTest.*).
#include "geometry.h"

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace sw::attn {

Geometry make_geometry(const CacheParams& p) {
  p.validate();
  Geometry g;
  g.heads = p.heads;
  g.head_dim = p.head_dim;
  g.grid_h = p.grid_h;
  g.grid_w = p.grid_w;
  g.tokens_per_frame = p.frame_tokens();
  g.block = p.block_size;
  g.chunk_frames = p.chunk_frames;
  int64_t best_h = 0;
  for (int64_t th = 1; th <= p.block_size; ++th) {
    if (p.block_size % th || p.grid_h % th) continue;
    const int64_t tw = p.block_size / th;
    if (p.grid_w % tw) continue;
    // Square tiles keep a block spatially compact, which is what makes pooled scores meaningful.
    if (best_h == 0 || std::llabs(th - tw) < std::llabs(best_h - p.block_size / best_h)) best_h = th;
  }
  if (best_h == 0)
    throw std::invalid_argument("block_size " + std::to_string(p.block_size) + " does not tile the " +
                                std::to_string(p.grid_h) + "x" + std::to_string(p.grid_w) + " token grid");
  g.tile_h = best_h;
  g.tile_w = p.block_size / best_h;
  g.tiles_y = p.grid_h / g.tile_h;
  g.tiles_x = p.grid_w / g.tile_w;
  g.blocks_per_frame = g.tiles_y * g.tiles_x;
  return g;
}

at::Tensor tokens_to_blocks(const at::Tensor& x, const Geometry& g, int64_t frames) {
  return x.reshape({g.heads, frames, g.tiles_y, g.tile_h, g.tiles_x, g.tile_w, g.head_dim})
      .permute({0, 1, 2, 4, 3, 5, 6})
      .reshape({g.heads, frames * g.blocks_per_frame, g.block, g.head_dim});
}

at::Tensor blocks_to_tokens(const at::Tensor& x, const Geometry& g, int64_t frames) {
  return x.reshape({g.heads, frames, g.tiles_y, g.tiles_x, g.tile_h, g.tile_w, g.head_dim})
      .permute({0, 1, 2, 4, 3, 5, 6})
      .reshape({g.heads, frames * g.tokens_per_frame, g.head_dim});
}

}  // namespace sw::attn
