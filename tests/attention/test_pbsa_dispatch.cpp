// The engine's attention on CUDA bf16 with the PBSA kernel equals the same rollout on the reference
// executor, for every method: two LayerAttention instances fed identical chunks, one with the
// reference forced (force_reference_executor, the switch SW_ATTN_REFERENCE=1 also sets). Also the
// executor directly on merged (count > 1) and empty entries, with mass. Head dim 64, blocks of 16
// tokens, so the kernel path is taken (asserted: a test that silently fell back could not fail).
// Sparse-forcing's kernels (block top-k plan, memory update) against its libtorch path: on every
// chunk of a 12-chunk rollout the two plans and the two evictions from identical cache states are
// compared, and a whole rollout with the kernels (and PBSA) against one on the reference.
// Run: ctest -L gpu -R test_pbsa_dispatch (skips without a CUDA device).
#include <gtest/gtest.h>

#include <cstdio>

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include "attn_test_util.h"
#include "executor.h"
#include "layer_impl.h"
#include "policies.h"

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

// A deep copy of the cache (the class copies tensor handles, which would share storage).
PagedKVCache deep_copy(const PagedKVCache& c) {
  PagedKVCache d = c;
  for (at::Tensor* t : {&d.k, &d.v, &d.count, &d.kpool, &d.origin, &d.salience, &d.slot_frame, &d.region, &d.slot_y, &d.slot_x})
    *t = t->clone();
  return d;
}

CacheCounters zero_counters() {
  CacheCounters c;
  c.reset(at::Device(at::kCUDA, 0));
  return c;
}

// Rows (h, qb) whose kept sets differ between two plans of the same context.
int64_t differing_rows(const Plan& a, const Plan& b) {
  return a.keep.ne(b.keep).any(2).sum().item<int64_t>();
}

TEST(PbsaDispatch, SparseForcingKernelsMatchTorchPath) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const CacheParams pc = pbsa_params();  // 4 blocks a frame, window 3 frames, 4 memory slots
  MethodConfig cfg = test::config(Method::SparseForcing);
  cfg.sparse_forcing.merge_threshold = 0.1;  // random keys: cosines ~ N(0, 1/8); 0.5 would never merge
  cfg.sparse_forcing.max_count = 2;          // reached after a few merges: both paths must cap alike
  ReferenceScope off(false);
  LayerAttention fast(pc, cfg), ref(pc, cfg);
  LayerAttention::Impl& F = fast.impl();
  {
    std::string why;
    ASSERT_TRUE(sparse_forcing_kernels_eligible(F.cache.k, &why)) << "kernel path not taken: " << why;
    ReferenceScope on(true);
    ASSERT_FALSE(sparse_forcing_kernels_eligible(F.cache.k)) << "the reference switch must turn the kernels off";
  }
  constexpr int kChunks = 12;
  const int64_t nb = F.g.blocks_per_frame;
  int64_t rows = 0, differ = 0, evictions = 0;
  int64_t seen[3] = {0, 0, 0};  // preserved, merged, dropped by the isolated kernel evictions
  for (int chunk = 0; chunk < kChunks; ++chunk) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    const test::Chunk c = test::to(test::random_chunk(pc, 300 + chunk), pc.dtype, pc.device);
    // (a) The plan from both paths on the same context.
    const at::Tensor qb = tokens_to_blocks(c.q, F.g, F.g.chunk_frames), kb = tokens_to_blocks(c.k, F.g, F.g.chunk_frames);
    const PlanContext ctx = F.context(qb, kb);
    const Plan pk = plan_sparse_forcing(ctx, cfg.sparse_forcing), pt = plan_sparse_forcing_torch(ctx, cfg.sparse_forcing);
    EXPECT_EQ(check_plan(pk, ctx.valid), "");
    ASSERT_EQ(pk.index.sizes(), pt.index.sizes());
    const int64_t d = differing_rows(pk, pt);
    rows += pk.count.numel();
    differ += d;
    if (d == 0) {  // same kept sets: the CSR rows must be identical too
      EXPECT_TRUE(pk.index.equal(pt.index));
      EXPECT_TRUE(pk.count.equal(pt.count));
    }
    // (b) The eviction the commit is about to do, from the same cache state, both paths.
    if (F.cache.frames_seen >= F.cache.sink_frames() && static_cast<int64_t>(F.cache.window.size()) >= pc.window_frames) {
      const int64_t base = F.cache.ring_slot(F.cache.window.front().ring);
      PagedKVCache X = deep_copy(F.cache), Y = deep_copy(F.cache);
      CacheCounters cx = zero_counters(), cy = zero_counters();
      ASSERT_TRUE(sparse_forcing_evict_kernel(X, base, nb, cfg.sparse_forcing, nullptr, cx));
      for (int64_t s = 0; s < nb; ++s) sparse_forcing_evict_block(Y, base + s, cfg.sparse_forcing, nullptr, cy);
      EXPECT_EQ(cx.preserved_blocks.item<int64_t>(), cy.preserved_blocks.item<int64_t>());
      EXPECT_EQ(cx.merged_blocks.item<int64_t>(), cy.merged_blocks.item<int64_t>());
      EXPECT_EQ(cx.dropped_blocks.item<int64_t>(), cy.dropped_blocks.item<int64_t>());
      EXPECT_TRUE(X.count.equal(Y.count));
      EXPECT_TRUE(X.origin.equal(Y.origin));
      EXPECT_LT(test::rel_err(X.k, Y.k), 1e-2);  // bf16 merges: at most an ulp apart (rounding order)
      EXPECT_LT(test::rel_err(X.v, Y.v), 1e-2);
      EXPECT_LT(test::rel_err(X.kpool, Y.kpool), 1e-4);
      EXPECT_LT(test::rel_err(X.salience, Y.salience), 1e-5);
      seen[0] += cx.preserved_blocks.item<int64_t>();
      seen[1] += cx.merged_blocks.item<int64_t>();
      seen[2] += cx.dropped_blocks.item<int64_t>();
      ++evictions;
    }
    // (c) The rollouts: kernels + PBSA vs libtorch plan/eviction + reference executor.
    const bool commit = chunk % 4 != 3;
    at::Tensor a, b;
    {
      ReferenceScope on(true);
      a = ref.attend(c.q, c.k, c.v, commit);
    }
    b = fast.attend(c.q, c.k, c.v, commit);
    EXPECT_LT(test::rel_err(b, a), 3e-2);
  }
  // Scores differ only by rounding (cuBLAS vs the kernel's fma order), so near-ties may flip a
  // selection now and then; anything beyond 1% of rows is a real difference.
  EXPECT_LE(differ * 100, rows) << differ << " of " << rows << " plan rows differ";
  EXPECT_GE(evictions, 8);
  EXPECT_GT(seen[0], 0);  // every decision was exercised
  EXPECT_GT(seen[1], 0);
  EXPECT_GT(seen[2], 0);
  const LayerStats sr = ref.stats(), sf = fast.stats();
  EXPECT_EQ(sr.preserved_blocks, sf.preserved_blocks);
  EXPECT_EQ(sr.merged_blocks, sf.merged_blocks);
  EXPECT_EQ(sr.dropped_blocks, sf.dropped_blocks);
  EXPECT_EQ(sr.cache_bytes, sf.cache_bytes);
  EXPECT_NEAR(sr.density, sf.density, 1e-9);
  LayerAttention::Impl& R = ref.impl();
  EXPECT_TRUE(R.cache.count.equal(F.cache.count));
  EXPECT_TRUE(R.cache.origin.equal(F.cache.origin));
  EXPECT_LT(test::rel_err(F.cache.k, R.cache.k), 1e-2);
  EXPECT_LT(test::rel_err(F.cache.salience, R.cache.salience), 2e-2);  // from PBSA vs reference mass
  std::printf("sparse-forcing kernels vs torch: %lld/%lld plan rows differ, %lld evictions (preserved %lld, merged %lld, dropped %lld); "
              "rollout counters %lld/%lld/%lld\n",
              static_cast<long long>(differ), static_cast<long long>(rows), static_cast<long long>(evictions),
              static_cast<long long>(seen[0]), static_cast<long long>(seen[1]), static_cast<long long>(seen[2]),
              static_cast<long long>(sf.preserved_blocks), static_cast<long long>(sf.merged_blocks),
              static_cast<long long>(sf.dropped_blocks));
}

}  // namespace
}  // namespace sw::attn
