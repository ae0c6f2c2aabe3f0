// Core pieces of attention/: params validation, block geometry, plan construction, the reference
// executor (against plain full attention) and the grouping lemma behind merged entries.
// Run: ctest -L fast -R test_attention_core (in the build folder).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "attn_test_util.h"
#include "executor.h"
#include "geometry.h"
#include "plan.h"
#include "time_shift.h"

namespace sw::attn {
namespace {

using test::rel_err;

void expect_rejected(const CacheParams& p, const std::string& field_and_value) {
  try {
    p.validate();
    make_geometry(p);
    FAIL() << "accepted " << field_and_value;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(field_and_value), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
}

TEST(ParamsTest, RejectsInvalidValuesNamingFieldAndValue) {
  CacheParams p = test::small_params();
  p.window_frames = 0;
  expect_rejected(p, "window_frames = 0");
  p = test::small_params();
  p.memory_slots = -1;
  expect_rejected(p, "memory_slots = -1");
  p = test::small_params();
  p.block_size = 3;  // 16 tokens per frame
  expect_rejected(p, "block_size = 3");
  p = test::small_params();
  p.grid_h = 2;
  p.grid_w = 8;
  p.block_size = 8;  // 2x4 tiles fit
  EXPECT_NO_THROW(make_geometry(p));
  p.grid_h = 3;
  p.grid_w = 4;
  p.block_size = 8;  // 12 tokens per frame
  expect_rejected(p, "block_size = 8");

  MethodConfig m;
  m.method = Method::SparseForcing;
  m.sparse_forcing.top_k = 0;
  try {
    m.validate();
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("sparse_forcing.top_k = 0"), std::string::npos) << e.what();
  }
  m.sparse_forcing.top_k = 1;
  EXPECT_NO_THROW(m.validate());
  m.method = Method::LightForcing;
  m.light_forcing.min_density = 0.0;
  EXPECT_THROW(m.validate(), std::invalid_argument);
  m.method = Method::TempCache;
  m.tempcache.lsh_bits = 0;
  EXPECT_THROW(m.validate(), std::invalid_argument);
  EXPECT_THROW(method_from_name("sparse"), std::invalid_argument);
  for (Method x : test::all_methods()) EXPECT_EQ(method_from_name(method_name(x)), x);
}

TEST(GeometryTest, MostSquareTileAndRoundTrip) {
  CacheParams p = test::small_params(16, 64);
  Geometry g = make_geometry(p);
  EXPECT_EQ(g.tile_h, 8);
  EXPECT_EQ(g.tile_w, 8);
  EXPECT_EQ(g.blocks_per_frame, 4);
  p = test::small_params(4, 8);  // 2x4 or 4x2 on a 4x4 grid
  g = make_geometry(p);
  EXPECT_EQ(g.tile_h * g.tile_w, 8);
  EXPECT_EQ(g.blocks_per_frame, 2);
  const at::Tensor x = at::arange(p.heads * 2 * 16 * p.head_dim, at::kFloat).view({p.heads, 32, p.head_dim});
  const at::Tensor b = tokens_to_blocks(x, g, 2);
  EXPECT_TRUE(at::equal(blocks_to_tokens(b, g, 2), x));
  // Block 0 of frame 0 is the top-left tile: token (r, c) is row-major index r * 4 + c.
  const at::Tensor first = b.select(0, 0).select(0, 0).select(1, 0);  // [B] of feature 0
  for (int64_t i = 0; i < g.block; ++i) {
    const int64_t r = i / g.tile_w, c = i % g.tile_w;
    EXPECT_EQ(first[i].item<float>(), x[0][r * 4 + c][0].item<float>());
  }
}

// Rotations compose (a then b == a + b), keep norms, leave the spatial dims alone, and the time
// dims move against the written-out rotate-half formula.
TEST(TimeShiftTest, ComposesKeepsNormAndTouchesOnlyTimeDims) {
  const int64_t H = 2, n = 3, B = 4, D = 12, dims = 6;
  const double theta = 50.0;
  const at::Tensor k = compat::randn_cpu({H, n, B, D}, 77);
  const at::Tensor a = compat::randn_cpu({H, n}, 78).mul(40).round(), b = compat::randn_cpu({H, n}, 79).mul(40).round();
  const at::Tensor ab = shift_time(shift_time(k, a, dims, theta), b, dims, theta);
  EXPECT_LT(test::rel_err(ab, shift_time(k, a + b, dims, theta)), 1e-5);
  EXPECT_LT(test::rel_err(shift_time(k, 0, dims, theta), k), 1e-7);
  const at::Tensor moved = shift_time(k, a, dims, theta);
  EXPECT_LT(test::rel_err(moved.norm(2, {3}), k.norm(2, {3})), 1e-5);
  EXPECT_TRUE(at::equal(moved.narrow(3, dims, D - dims), k.narrow(3, dims, D - dims)));
  EXPECT_GT(test::rel_err(moved, k), 0.1);
  for (int64_t i = 0; i < dims / 2; ++i) {  // head 1, key 2, token 3, pair (i, i + dims/2)
    const double ang = a[1][2].item<double>() * std::pow(theta, -2.0 * static_cast<double>(i) / dims);
    const double x = k[1][2][3][i].item<double>(), y = k[1][2][3][i + dims / 2].item<double>();
    EXPECT_NEAR(moved[1][2][3][i].item<double>(), x * std::cos(ang) - y * std::sin(ang), 1e-5) << i;
    EXPECT_NEAR(moved[1][2][3][i + dims / 2].item<double>(), y * std::cos(ang) + x * std::sin(ang), 1e-5) << i;
  }
  EXPECT_THROW(shift_time(k, a.narrow(1, 0, 2), dims, theta), std::invalid_argument);
  EXPECT_THROW(shift_time(k, a, 5, theta), std::invalid_argument);
}

TEST(PlanTest, FromMaskIsSortedCountedAndPadded) {
  const at::Tensor keep = compat::randn_cpu({2, 3, 10}, 5).gt(0.3);
  keep.select(2, 7).fill_(true);  // every row non-empty
  const Plan p = plan_from_mask(keep, 10);
  EXPECT_EQ(check_plan(p, at::ones({2, 10}, at::kBool)), "");
  EXPECT_TRUE(at::equal(p.count, keep.sum(2)));
  // A row that names an empty (not valid) block is caught.
  at::Tensor valid = at::ones({2, 10}, at::kBool);
  valid[0][7] = false;
  EXPECT_NE(check_plan(p, valid), "");
}

// Executor with a dense plan over random blocks equals softmax attention over the same tokens.
TEST(ExecutorTest, DensePlanMatchesFullAttention) {
  for (auto [H, Q, N, B, D] : std::vector<std::array<int64_t, 5>>{{1, 2, 5, 4, 8}, {3, 4, 9, 16, 16}, {2, 1, 3, 64, 32}}) {
    const at::Tensor q = compat::randn_cpu({H, Q, B, D}, 11), k = compat::randn_cpu({H, N, B, D}, 12),
                     v = compat::randn_cpu({H, N, B, D}, 13);
    const Plan plan = plan_from_mask(at::ones({H, Q, N}, at::kBool), N);
    const ExecResult r = execute_plan(q, k, v, at::ones({H, N, B}), plan, 1.0 / std::sqrt(double(D)), true);
    const at::Tensor ref = test::full_attention(q.reshape({H, Q * B, D}), k.reshape({H, N * B, D}), v.reshape({H, N * B, D}));
    EXPECT_LT(rel_err(r.out.reshape({H, Q * B, D}), ref), 1e-5);
    // Each query token spreads mass 1 over the blocks.
    EXPECT_LT(rel_err(r.mass.sum(1), at::full({H}, double(Q * B))), 1e-5);
    const at::Tensor lse = at::logsumexp(at::matmul(q.reshape({H, Q * B, D}).to(at::kDouble),
                                                    k.reshape({H, N * B, D}).to(at::kDouble).transpose(1, 2)) / std::sqrt(double(D)), -1);
    EXPECT_LT(rel_err(r.lse.reshape({H, Q * B}), lse), 1e-5);
  }
}

// A sparse plan equals full attention with the dropped blocks masked out, and mass lands only
// on kept blocks.
TEST(ExecutorTest, SparsePlanMatchesMaskedAttention) {
  const int64_t H = 2, Q = 3, N = 8, B = 4, D = 8;
  const at::Tensor q = compat::randn_cpu({H, Q, B, D}, 21), k = compat::randn_cpu({H, N, B, D}, 22),
                   v = compat::randn_cpu({H, N, B, D}, 23);
  at::Tensor keep = compat::randn_cpu({H, Q, N}, 24).gt(0);
  keep.select(2, 0).fill_(true);
  const Plan plan = plan_from_mask(keep, N);
  const ExecResult r = execute_plan(q, k, v, at::ones({H, N, B}), plan, 1.0 / std::sqrt(double(D)), true);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t qb = 0; qb < Q; ++qb) {
      std::vector<at::Tensor> ks, vs;
      for (int64_t n = 0; n < N; ++n)
        if (keep[h][qb][n].item<bool>()) ks.push_back(k[h][n]), vs.push_back(v[h][n]);
      const at::Tensor ref = test::full_attention(q[h][qb], at::cat(ks), at::cat(vs));
      EXPECT_LT(rel_err(r.out[h][qb], ref), 1e-5) << h << "," << qb;
    }
  EXPECT_EQ((r.mass * keep.any(1).logical_not().to(at::kFloat)).abs().max().item<float>(), 0.f);
}

// Grouping lemma: c identical keys with values v_1..v_c attend exactly like one key with logit
// bias log(c) and value mean(v_i). Merge duplicates token-wise and compare.
TEST(ExecutorTest, GroupingLemmaMergedKeysAreExact) {
  const int64_t H = 2, Q = 2, B = 4, D = 16, base = 3;
  const double scale = 0.25;
  const at::Tensor q = compat::randn_cpu({H, Q, B, D}, 31);
  const at::Tensor k = compat::randn_cpu({H, base, B, D}, 32);
  // Unmerged: blocks 0..2 plus two exact copies of block 1's keys (with their own values).
  const at::Tensor v = compat::randn_cpu({H, base + 2, B, D}, 33);
  const at::Tensor k_full = at::cat({k, k.narrow(1, 1, 1), k.narrow(1, 1, 1)}, 1);
  const Plan p_full = plan_from_mask(at::ones({H, Q, base + 2}, at::kBool), base + 2);
  const ExecResult full = execute_plan(q, k_full, v, at::ones({H, base + 2, B}), p_full, scale, false);
  // Merged: block 1 with count 3 and the mean of the three values.
  at::Tensor v_m = v.narrow(1, 0, base).clone();
  v_m.select(1, 1).copy_((v.select(1, 1) + v.select(1, 3) + v.select(1, 4)) / 3);
  at::Tensor cnt = at::ones({H, base, B});
  cnt.select(1, 1).fill_(3);
  const Plan p_m = plan_from_mask(at::ones({H, Q, base}, at::kBool), base);
  const ExecResult merged = execute_plan(q, k, v_m, cnt, p_m, scale, false);
  EXPECT_LT(rel_err(merged.out, full.out), 1e-6);
  EXPECT_LT(rel_err(merged.lse, full.lse), 1e-6);
  // Without the bias it is not the same (the test can fail).
  const ExecResult nobias = execute_plan(q, k, v_m, at::ones({H, base, B}), p_m, scale, false);
  EXPECT_GT(rel_err(nobias.out, full.out), 1e-3);
}

}  // namespace
}  // namespace sw::attn
