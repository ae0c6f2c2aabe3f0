// Diffusion forcing's per-chunk noise levels (internal to sim/train): which chunks of a training
// clip stand for committed context (at the rollout's context level, no loss) and the level of the
// others (logit-normal, trained).
// Test: tests/train/test_noise_levels.cpp (shares, the clean prefix, levels in range).
#pragma once

#include <ATen/ATen.h>

namespace sw::train {

struct ChunkLevelParams {
  double context_share = 0.5;  // chance that a chunk is context (TrainParams::df_context_share)
  double context_noise = 0.1;  // the level context sits at (TrainParams::context_noise)
  // Share of sequences whose chunks before a random split (uniform over the clip's chunks) are
  // all context: at inference every frame that left the window is committed, never noisy, so
  // memory is read from clean frames; independent levels leave half of them noisy in training.
  double clean_prefix = 0;
};

struct ChunkLevels {
  at::Tensor levels;   // [sequences, chunks] noise level of each chunk
  at::Tensor context;  // [sequences, chunks] bool: a context chunk (no loss)
};

// On the device of `options` (float), drawn from the global generator.
ChunkLevels sample_chunk_levels(int64_t sequences, int64_t chunks, const ChunkLevelParams& p, const at::TensorOptions& options);

}  // namespace sw::train
