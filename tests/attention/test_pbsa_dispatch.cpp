// The engine's attention on CUDA bf16 with the PBSA kernel equals the same rollout on the reference
// executor, for every method: two LayerAttention instances fed identical chunks, one with the
// reference forced (force_reference_executor, the switch SW_ATTN_REFERENCE=1 also sets). Also the
// executor directly on merged (count > 1) and empty entries, with mass. Head dim 64, blocks of 16
// tokens, so the kernel path is taken (asserted: a test that silently fell back could not fail).
// Run: ctest -L gpu -R test_pbsa_dispatch (skips without a CUDA device).
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include "attn_test_util.h"
#include "executor.h"
#include "layer_impl.h"

namespace sw::attn {
namespace {

struct ReferenceScope {  // forces the reference for its lifetime, restores the previous setting
  bool prev = reference_executor_forced();
  explicit ReferenceScope(bool on) { force_reference_executor(on); }
  ~ReferenceScope() { force_reference_executor(prev); }
};

CacheParams pbsa_params() {
  CacheParams p = test::small_params(8, 16, 2);  // 64 tokens a frame, blocks of 16 tokens
  p.head_dim = 64;
  p.dtype = at::kBFloat16;
  p.device = at::Device(at::kCUDA, 0);
  return p;
}

TEST(PbsaDispatch, EveryMethodMatchesReferenceExecutor) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const CacheParams pc = pbsa_params();
  {
    ReferenceScope off(false);
    std::string why;
    const at::Tensor probe = at::zeros({pc.heads, 1, pc.block_size, pc.head_dim}, at::TensorOptions().device(pc.device).dtype(pc.dtype));
    ASSERT_TRUE(pbsa_eligible(probe, probe, &why)) << "PBSA path not taken: " << why;
  }
  for (Method m : test::all_methods()) {
    LayerAttention ref(pc, test::config(m)), fast(pc, test::config(m));
    for (int chunk = 0; chunk < 8; ++chunk) {
      const test::Chunk c = test::to(test::random_chunk(pc, 70 + chunk), pc.dtype, pc.device);
      const bool commit = chunk % 4 != 3;
      at::Tensor a, b;
      {
        ReferenceScope on(true);
        a = ref.attend(c.q, c.k, c.v, commit);
      }
      {
        ReferenceScope off(false);
        b = fast.attend(c.q, c.k, c.v, commit);
      }
      EXPECT_LT(test::rel_err(b, a), 3e-2) << method_name(m) << " chunk " << chunk;
      const LayerStats sa = ref.stats(), sb = fast.stats();
      EXPECT_NEAR(sa.density, sb.density, 1e-9) << method_name(m) << " chunk " << chunk;
      EXPECT_EQ(sa.cache_bytes, sb.cache_bytes) << method_name(m) << " chunk " << chunk;
    }
  }
}

TEST(PbsaDispatch, ExecutorMatchesReferenceWithMergedEntriesAndMass) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const int64_t H = 3, Q = 4, N = 12, B = 64, D = 128;
  const auto opt = at::TensorOptions().device(at::kCUDA, 0);
  at::manual_seed(5);
  const at::Tensor q = (at::randn({H, Q, B, D}, opt) * 2).to(at::kBFloat16);
  const at::Tensor k = at::randn({H, N, B, D}, opt).to(at::kBFloat16), v = at::randn({H, N, B, D}, opt).to(at::kBFloat16);
  // Counts: mostly 1, some merged (2..5), some empty (0).
  const at::Tensor r = at::rand({H, N, B}, opt);
  const at::Tensor count = at::where(r.lt(0.05), at::zeros_like(r), at::where(r.gt(0.85), at::floor(r * 40).remainder(4) + 2, at::ones_like(r)));
  // Each row keeps a random subset of the blocks (about half), never none.
  const at::Tensor keep = at::rand({H, Q, N}, opt).lt(0.5);
  keep.select(2, 0).fill_(true);  // never empty: the reference gives NaN for empty rows
  const Plan plan = plan_from_mask(keep, N);
  ExecResult want, got;
  {
    ReferenceScope on(true);
    want = execute_plan(q, k, v, count, plan, 0.125, true);
  }
  {
    ReferenceScope off(false);
    ASSERT_TRUE(pbsa_eligible(q, k));
    got = execute_plan(q, k, v, count, plan, 0.125, true);
  }
  EXPECT_LT(test::rel_err(got.out, want.out), 1e-2);
  EXPECT_LT((got.lse - want.lse).abs().max().item<float>(), 1e-2);
  EXPECT_LT(test::rel_err(got.mass, want.mass), 1e-2);
}

}  // namespace
}  // namespace sw::attn
