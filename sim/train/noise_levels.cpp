// Diffusion forcing's per-chunk noise levels: see noise_levels.h.
// Test: tests/train/test_noise_levels.cpp.
#include "noise_levels.h"

namespace sw::train {

ChunkLevels sample_chunk_levels(int64_t sequences, int64_t chunks, const ChunkLevelParams& p, const at::TensorOptions& options) {
  const at::TensorOptions f = options.dtype(at::kFloat);
  at::Tensor levels = at::sigmoid(at::randn({sequences, chunks}, f));
  at::Tensor context = at::rand({sequences, chunks}, f) < p.context_share;
  if (p.clean_prefix > 0) {
    const at::Tensor use = at::rand({sequences, 1}, f) < p.clean_prefix;
    const at::Tensor split = at::randint(0, chunks, {sequences, 1}, f.dtype(at::kLong));
    const at::Tensor before_split = at::arange(chunks, f.dtype(at::kLong)).view({1, -1}) < split;
    context = context.logical_or(before_split.logical_and(use));
  }
  return {levels.masked_fill(context, p.context_noise), context};
}

}  // namespace sw::train
