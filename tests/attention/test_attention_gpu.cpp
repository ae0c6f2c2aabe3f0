// Each method on CUDA tensors matches the same method on CPU tensors (same inputs, same seeds),
// in float32 and bfloat16, including stats. Skips when no CUDA device is present.
// Run: ctest -L gpu -R test_attention_gpu (on the GPU machine).
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include "attn_test_util.h"

namespace sw::attn {
namespace {

TEST(Gpu, EveryMethodOnCudaMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  for (at::ScalarType dt : {at::kFloat, at::kBFloat16}) {
    for (Method m : test::all_methods()) {
      CacheParams pc = test::small_params(8, 16, 2);
      pc.dtype = dt;
      pc.recall_every = 2;
      CacheParams pg = pc;
      pg.device = at::Device(at::kCUDA, 0);
      LayerAttention cpu(pc, test::config(m)), gpu(pg, test::config(m));
      const double tol = dt == at::kFloat ? 1e-4 : 3e-2;
      for (int chunk = 0; chunk < 8; ++chunk) {
        const test::Chunk c = test::random_chunk(pc, 50 + chunk);
        const at::Tensor a = cpu.attend(c.q.to(dt), c.k.to(dt), c.v.to(dt), chunk % 4 != 3);
        const at::Tensor b = gpu.attend(c.q.to(pg.device, dt), c.k.to(pg.device, dt), c.v.to(pg.device, dt), chunk % 4 != 3);
        ASSERT_TRUE(b.is_cuda());
        EXPECT_LT(test::rel_err(b, a), tol) << method_name(m) << " chunk " << chunk;
        const LayerStats sa = cpu.stats(), sb = gpu.stats();
        EXPECT_NEAR(sa.density, sb.density, 1e-9) << method_name(m) << " chunk " << chunk;
        EXPECT_EQ(sa.cache_bytes, sb.cache_bytes) << method_name(m);
        EXPECT_NEAR(sa.recall, sb.recall, 1e-3) << method_name(m);
      }
    }
  }
}

}  // namespace
}  // namespace sw::attn
