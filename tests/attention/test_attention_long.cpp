// 1,000 committed chunks per bounded method: cache bytes and the reserved pool stay bounded (the
// pool never grows and pages in use never exceed it; window and light-forcing hold a constant
// count), while dense grows linearly. Label slow (a few seconds per method on 2 cores).
// Run: ctest -L slow -R test_attention_long (in the build folder).
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "attn_test_util.h"

namespace sw::attn {
namespace {

TEST(LongRollout, CacheBytesConstantOver1000ChunksForBoundedMethods) {
  at::set_num_threads(2);
  CacheParams p = test::small_params();
  const test::Chunk a = test::random_chunk(p, 1), b = test::random_chunk(p, 2);
  for (Method m : test::all_methods()) {
    if (m == Method::Dense) continue;
    LayerAttention layer(p, test::config(m));
    int64_t reserved0 = -1, steady = -1, max_bytes = 0;
    for (int chunk = 0; chunk < 1000; ++chunk) {
      // Alternate two chunks and perturb them: a long rollout with some repetition.
      const test::Chunk& c = chunk % 2 ? a : b;
      const at::Tensor k = c.k + 0.01 * static_cast<double>(chunk % 7);
      layer.attend(c.q, k, c.v, true);
      if (chunk % 50 == 49 || chunk == 999) {
        const LayerStats s = layer.stats();
        if (reserved0 < 0) reserved0 = s.reserved_bytes;
        ASSERT_EQ(s.reserved_bytes, reserved0) << method_name(m) << " chunk " << chunk;
        ASSERT_LE(s.cache_bytes, s.reserved_bytes);
        max_bytes = std::max(max_bytes, s.cache_bytes);
        if (m == Method::Window || m == Method::LightForcing) {
          if (steady < 0) steady = s.cache_bytes;
          ASSERT_EQ(s.cache_bytes, steady) << method_name(m) << " chunk " << chunk;
        }
      }
    }
    EXPECT_GT(max_bytes, 0);
  }
}

TEST(LongRollout, DenseCacheGrows) {
  at::set_num_threads(2);
  CacheParams p = test::small_params();
  LayerAttention layer(p, test::config(Method::Dense));
  std::vector<int64_t> bytes;
  for (int chunk = 0; chunk < 100; ++chunk) {
    const test::Chunk c = test::random_chunk(p, 10 + chunk % 5);
    layer.attend(c.q, c.k, c.v, true);
    if (chunk % 25 == 24) bytes.push_back(layer.stats().cache_bytes);
  }
  for (size_t i = 1; i < bytes.size(); ++i) EXPECT_GT(bytes[i], bytes[i - 1]);
  // Linear: every committed frame adds its blocks for every head.
  EXPECT_EQ(bytes[1] - bytes[0], bytes[3] - bytes[2]);
}

}  // namespace
}  // namespace sw::attn
