// Block top-k plan builder: the CPU reference against a hand-computed row (pooling, score ties to
// the lower index, always-kept union, width truncation, empty row), then the CUDA kernel against
// the CPU reference on random non-zero bf16/fp16 inputs at several shapes (default model, head dim
// 128, N > one CTA's threads, top_k above the candidates, truncated rows, duplicated keys for exact
// score ties) into poisoned outputs: plans must be equal element for element.
// Run: ctest -L gpu -R test_block_topk (skips without a device); compute-sanitizer on the binary.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "device_buffer.h"
#include "gpu_util.h"
#include "sparseworld/block_topk.h"

namespace sw::kernels {
namespace {

uint16_t bits16(float f, PbsaDtype dt) {  // inputs here are small normal values
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if (dt == PbsaDtype::kBf16) return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const int exp = static_cast<int>((u >> 23) & 0xFF) - 127 + 15;
  if (exp <= 0) return static_cast<uint16_t>(sign);
  uint32_t h = sign | static_cast<uint32_t>(exp) << 10 | ((u & 0x7FFFFFu) >> 13);
  if ((u & 0x1FFFu) > 0x1000u || ((u & 0x1FFFu) == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(h);
}

struct Problem {
  BlockTopkParams p;
  std::vector<uint16_t> q;
  std::vector<float> kpool;
  std::vector<uint8_t> cand, always;
};

struct Plan {
  std::vector<int64_t> index, count;
  std::vector<uint8_t> keep;
};

Plan run_cpu(const Problem& pr) {
  Plan o;
  o.index.assign(static_cast<size_t>(pr.p.heads) * pr.p.q_blocks * pr.p.plan_width, -99);
  o.count.assign(static_cast<size_t>(pr.p.heads) * pr.p.q_blocks, -99);
  o.keep.assign(static_cast<size_t>(pr.p.heads) * pr.p.q_blocks * pr.p.kv_blocks, 0xCD);
  block_topk_cpu({pr.q.data(), pr.kpool.data(), pr.cand.data(), pr.always.empty() ? nullptr : pr.always.data(), o.index.data(),
                  o.count.data(), o.keep.data()},
                 pr.p);
  return o;
}

TEST(BlockTopkCpu, HandComputedRow) {
  // qbar = mean([1, 0], [1, 2]) = [1, 1]. Scores of candidates 1..4: 1, 3, 3, -1 (2 and 3 tie).
  Problem pr;
  pr.p = {1, 1, 6, 2, 2, 1, 4, PbsaDtype::kBf16};
  for (float x : {1.f, 0.f, 1.f, 2.f}) pr.q.push_back(bits16(x, PbsaDtype::kBf16));
  pr.kpool = {5, 5, 1, 0, 2, 1, 0, 3, -1, 0, 9, 9};
  pr.cand = {0, 1, 1, 1, 1, 0};
  pr.always = {1, 0, 0, 0, 0, 1};
  Plan o = run_cpu(pr);  // top_k 1: the tie goes to block 2
  EXPECT_EQ(o.count, std::vector<int64_t>{3});
  EXPECT_EQ(o.index, (std::vector<int64_t>{0, 2, 5, 0}));
  EXPECT_EQ(o.keep, (std::vector<uint8_t>{1, 0, 1, 0, 0, 1}));
  pr.p.top_k = 3;  // 2, 3 and then block 1 (score 1 > -1)
  o = run_cpu(pr);
  EXPECT_EQ(o.index, (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(o.count, std::vector<int64_t>{4});  // 5 kept, truncated to the width
  EXPECT_EQ(o.keep, (std::vector<uint8_t>{1, 1, 1, 1, 0, 1}));
  pr.p.top_k = 2;
  pr.cand.assign(6, 0);
  pr.always.assign(6, 0);  // nothing to keep: empty row padded with 0
  o = run_cpu(pr);
  EXPECT_EQ(o.count, std::vector<int64_t>{0});
  EXPECT_EQ(o.index, (std::vector<int64_t>{0, 0, 0, 0}));
  pr.p.plan_width = 7;
  EXPECT_THROW(validate(pr.p), std::invalid_argument);
}

Problem make_problem(int H, int Q, int N, int B, int D, int top_k, int width, PbsaDtype dt, uint32_t seed) {
  Problem pr;
  pr.p = {H, Q, N, B, D, top_k, width, dt};
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  pr.q.resize(static_cast<size_t>(H) * Q * B * D);
  for (auto& x : pr.q) x = bits16(nd(rng) + 0.05f, dt);
  pr.kpool.resize(static_cast<size_t>(H) * N * D);
  for (auto& x : pr.kpool) x = nd(rng) + 0.05f;
  // Every 7th block a copy of its predecessor: exact score ties, broken by the lower index.
  for (int h = 0; h < H; ++h)
    for (int n = 7; n < N; n += 7)
      std::memcpy(&pr.kpool[(static_cast<size_t>(h) * N + n) * D], &pr.kpool[(static_cast<size_t>(h) * N + n - 1) * D], D * sizeof(float));
  pr.cand.resize(static_cast<size_t>(H) * N);
  for (auto& c : pr.cand) c = u(rng) < 0.6f;
  pr.always.resize(static_cast<size_t>(H) * Q * N);
  for (auto& c : pr.always) c = u(rng) < 0.1f;
  return pr;
}

#ifdef SW_KERNELS_CUDA
Plan run_cuda(const Problem& pr) {
  using test::DevBuf;
  DevBuf<uint16_t> q(pr.q);
  DevBuf<float> kpool(pr.kpool);
  DevBuf<uint8_t> cand(pr.cand), always(pr.always);
  DevBuf<int64_t> index(static_cast<size_t>(pr.p.heads) * pr.p.q_blocks * pr.p.plan_width),
      count(static_cast<size_t>(pr.p.heads) * pr.p.q_blocks);
  DevBuf<uint8_t> keep(static_cast<size_t>(pr.p.heads) * pr.p.q_blocks * pr.p.kv_blocks);
  index.poison(0x7F);  // unwritten elements read as huge ids / counts, 0xCD keep bytes
  count.poison(0x7F);
  keep.poison(0xCD);
  block_topk_cuda({q.ptr, kpool.ptr, cand.ptr, pr.always.empty() ? nullptr : always.ptr, index.ptr, count.ptr, keep.ptr}, pr.p,
                  nullptr);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  return {index.host(), count.host(), keep.host()};
}

TEST(BlockTopkCuda, MatchesCpuExactly) {
  SW_REQUIRE_CUDA();
  struct Case {
    int H, Q, N, B, D, k, K;
    PbsaDtype dt;
    bool always;
  };
  const Case cases[] = {
      {5, 8, 84, 64, 64, 8, 60, PbsaDtype::kBf16, true},   // default model: 4 sink + 16 memory + 32 ring + 32 chunk... shape-alike
      {2, 3, 37, 16, 128, 4, 37, PbsaDtype::kFp16, true},  // head dim 128, fp16
      {3, 5, 700, 32, 64, 16, 120, PbsaDtype::kBf16, true}, // N over one CTA's 256 threads: multi-tile scan
      {1, 2, 20, 64, 64, 30, 20, PbsaDtype::kBf16, true},   // top_k above the candidate count
      {2, 4, 50, 16, 64, 8, 5, PbsaDtype::kFp16, true},     // rows truncated to the width
      {2, 4, 50, 16, 64, 8, 50, PbsaDtype::kBf16, false},   // no always-kept set
  };
  uint32_t seed = 11;
  for (const Case& c : cases) {
    const std::string what = "H" + std::to_string(c.H) + " Q" + std::to_string(c.Q) + " N" + std::to_string(c.N) + " B" +
                             std::to_string(c.B) + " D" + std::to_string(c.D) + " k" + std::to_string(c.k) + " K" + std::to_string(c.K);
    SCOPED_TRACE(what);
    Problem pr = make_problem(c.H, c.Q, c.N, c.B, c.D, c.k, c.K, c.dt, seed++);
    if (!c.always) pr.always.clear();
    const Plan want = run_cpu(pr), got = run_cuda(pr);
    EXPECT_EQ(got.count, want.count);
    EXPECT_EQ(got.index, want.index);
    EXPECT_EQ(got.keep, want.keep);
    // The case is not vacuous: some rows select by score.
    int64_t kept = 0;
    for (int64_t x : want.count) kept += x;
    EXPECT_GT(kept, 0);
  }
}
#endif

}  // namespace
}  // namespace sw::kernels
