// Diffusion forcing's per-chunk noise levels: context chunks in their share and at the context
// level, the others in (0, 1); with a clean prefix, the chunks before each clip's split are all
// context, so the first chunk is nearly always context and the last one keeps the plain share.
#include <gtest/gtest.h>

#include "train/noise_levels.h"

namespace sw {
namespace {

using train::ChunkLevelParams;

double share(const at::Tensor& b) { return b.to(at::kFloat).mean().item<double>(); }

TEST(NoiseLevels, ContextShareAndLevels) {
  at::manual_seed(1);
  ChunkLevelParams p;
  p.context_share = 0.3;
  p.context_noise = 0.15;
  const auto l = train::sample_chunk_levels(4000, 24, p, at::TensorOptions());
  ASSERT_EQ(l.levels.sizes(), (at::IntArrayRef{4000, 24}));
  EXPECT_NEAR(share(l.context), 0.3, 0.01);
  EXPECT_TRUE(l.levels.masked_select(l.context).eq(0.15).all().item<bool>());
  const at::Tensor trained = l.levels.masked_select(l.context.logical_not());
  EXPECT_GT(trained.min().item<double>(), 0.0);
  EXPECT_LT(trained.max().item<double>(), 1.0);
  EXPECT_NEAR(trained.mean().item<double>(), 0.5, 0.01);  // logit-normal around 0.5
  // Every column alike without a clean prefix.
  EXPECT_NEAR(share(l.context.select(1, 0)), 0.3, 0.03);
  EXPECT_NEAR(share(l.context.select(1, 23)), 0.3, 0.03);
}

TEST(NoiseLevels, CleanPrefixMakesEveryChunkBeforeTheSplitContext) {
  at::manual_seed(2);
  ChunkLevelParams p;  // context share 0.5
  p.clean_prefix = 1;
  const int64_t chunks = 24;
  const auto l = train::sample_chunk_levels(4000, chunks, p, at::TensorOptions());
  // Chunk 0 is before the split unless the split is 0 (1 in 24): 0.5 + 0.5 * 23/24 = 0.979.
  EXPECT_NEAR(share(l.context.select(1, 0)), 0.5 + 0.5 * 23.0 / 24.0, 0.01);
  // The last chunk is never before the split: the plain share.
  EXPECT_NEAR(share(l.context.select(1, chunks - 1)), 0.5, 0.03);
  // Overall: 0.5 + 0.5 * mean(split) / chunks, the split uniform over 0..23 (mean 11.5).
  EXPECT_NEAR(share(l.context), 0.5 + 0.5 * 11.5 / 24.0, 0.01);
  // Half the clips with a prefix: half the prefix effect on chunk 0.
  at::manual_seed(3);
  p.clean_prefix = 0.5;
  const auto h = train::sample_chunk_levels(4000, chunks, p, at::TensorOptions());
  EXPECT_NEAR(share(h.context.select(1, 0)), 0.5 + 0.25 * 23.0 / 24.0, 0.03);
}

}  // namespace
}  // namespace sw
