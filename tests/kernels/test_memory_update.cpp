// Sparse-forcing memory update: the CPU reference against a hand-computed sequence (preserve into
// the empty slot, merge with count-weighted means, drop; use_memory off), then the CUDA kernel
// against the CPU reference on random non-zero caches at several shapes (default model, head dim
// 128 fp16, M above one CTA's threads, no memory) into poisoned action/target outputs and non-zero
// starting counters: every cache array, action, target and counter must be equal bit for bit, and
// each random case must exercise preserve, merge and drop (so the comparison is not vacuous).
// Run: ctest -L gpu -R test_memory_update (skips without a device); compute-sanitizer on the binary.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../../kernels/src/memory_update_common.h"
#include "../../kernels/src/pbsa_common.h"
#include "device_buffer.h"
#include "gpu_util.h"
#include "sparseworld/memory_update.h"

namespace sw::kernels {
namespace {

struct Cache {
  MemoryUpdateParams p;
  std::vector<uint16_t> k, v;
  std::vector<float> count, kpool, salience;
  std::vector<int64_t> origin, target, counters;  // counters: preserved, merged, dropped
  std::vector<int32_t> action;
};

uint16_t h16(const Cache& c, float x) {
  return c.p.dtype == PbsaDtype::kBf16 ? memory_update::float_to_bf16(x) : memory_update::float_to_fp16(x);
}
float f16(const Cache& c, uint16_t x) {
  return c.p.dtype == PbsaDtype::kBf16 ? pbsa::bf16_to_float(x) : pbsa::fp16_to_float(x);
}

Cache empty_cache(const MemoryUpdateParams& p) {
  Cache c;
  c.p = p;
  const size_t HP = static_cast<size_t>(p.heads) * p.slots;
  c.k.assign(HP * p.block_tokens * p.head_dim, 0);
  c.v = c.k;
  c.count.assign(HP * p.block_tokens, 0.f);
  c.kpool.assign(HP * p.head_dim, 0.f);
  c.salience.assign(HP, 0.f);
  c.origin.assign(HP, -1);
  c.action.assign(static_cast<size_t>(p.evict_blocks) * p.heads, 0x7F7F7F7F);
  c.target.assign(c.action.size(), 0x7F7F7F7F7F7F7F7FLL);
  c.counters = {7, 11, 13};  // added to, never overwritten
  return c;
}

void run_cpu(Cache& c) {
  memory_update_cpu({c.k.data(), c.v.data(), c.count.data(), c.kpool.data(), c.salience.data(), c.origin.data(), c.action.data(),
                     c.target.data(), &c.counters[0], &c.counters[1], &c.counters[2]},
                    c.p);
}

TEST(MemoryUpdateCpu, HandComputedPreserveMergeDrop) {
  // H=1, slots [memory 0, 1 | evicted 2, 3, 4], B=2, D=2, bf16.
  MemoryUpdateParams p{1, 5, 2, 2, 2, 3, 0, 2, true, 0.f, 0.5f, PbsaDtype::kBf16};
  Cache c = empty_cache(p);
  auto put = [&](int slot, std::vector<float> k, std::vector<float> cnt, float sal, int64_t origin) {
    for (int i = 0; i < 4; ++i) c.k[slot * 4 + i] = h16(c, k[i]), c.v[slot * 4 + i] = h16(c, k[i] + 10);
    c.count[slot * 2] = cnt[0], c.count[slot * 2 + 1] = cnt[1];
    const float cs = cnt[0] + cnt[1];
    for (int d = 0; d < 2; ++d) c.kpool[slot * 2 + d] = (k[d] * cnt[0] + k[2 + d] * cnt[1]) / cs;
    c.salience[slot] = sal, c.origin[slot] = origin;
  };
  put(0, {1, 0, 1, 0}, {1, 1}, 0.5f, 100);  // memory slot 0; slot 1 empty
  put(2, {0, 1, 0, 1}, {1, 1}, 0.1f, 200);  // -> preserved into the empty slot 1 (salience -inf)
  put(3, {3, 0, 3, 0}, {1, 2}, 0.05f, 300); // 0.05 < min 0.1: cos with slot 0 = 1 -> merged into 0
  put(4, {-1, -2, -1, -2}, {1, 1}, 0.01f, 400);  // cos < 0 with both: dropped
  run_cpu(c);
  EXPECT_EQ(c.action, (std::vector<int32_t>{kMemPreserved, kMemMerged, kMemDropped}));
  EXPECT_EQ(c.target, (std::vector<int64_t>{1, 0, 0}));
  EXPECT_EQ(c.counters, (std::vector<int64_t>{8, 12, 14}));
  EXPECT_EQ(c.origin[1], 200);
  EXPECT_EQ(c.origin[0], 100);  // a merge keeps the slot's origin
  EXPECT_FLOAT_EQ(c.salience[1], 0.1f);
  EXPECT_FLOAT_EQ(c.salience[0], 0.55f);
  EXPECT_EQ(c.count[0], 2.f);
  EXPECT_EQ(c.count[1], 3.f);
  EXPECT_EQ(f16(c, c.k[0]), 2.f);                         // (1*1 + 3*1) / 2
  EXPECT_EQ(f16(c, c.k[2]), f16(c, h16(c, 7.f / 3.f)));   // (1*1 + 3*2) / 3
  EXPECT_EQ(f16(c, c.v[0]), 12.f);                        // (11 + 13) / 2
  EXPECT_NEAR(c.kpool[0], (2.f * 2 + 7.f / 3.f * 3) / 5, 1e-2);
  EXPECT_EQ(f16(c, c.k[1 * 4 + 1]), 1.f);  // preserved K copied
  // Without memory every valid block is dropped and the cache is untouched.
  p.use_memory = false;
  Cache d = empty_cache(p);
  d.count[2 * 2] = 1.f;  // only block 2 valid
  const Cache before = d;
  run_cpu(d);
  EXPECT_EQ(d.counters, (std::vector<int64_t>{7, 11, 14}));
  EXPECT_EQ(d.action, (std::vector<int32_t>{kMemDropped, kMemNone, kMemNone}));
  EXPECT_EQ(d.count, before.count);
  p.memory_base = 3;  // memory overlaps the evicted range
  EXPECT_THROW(validate(p), std::invalid_argument);
}

TEST(MemoryUpdateCpu, MaxCountCapsCountsNotWeights) {
  // Slot 0 (count 2 per token) absorbs block 1 (counts 1, 3) under a cap of 2.5.
  MemoryUpdateParams p{1, 2, 2, 2, 1, 1, 0, 1, true, 1e9f, 0.5f, PbsaDtype::kBf16, 2.5f};
  Cache c = empty_cache(p);
  for (int i = 0; i < 4; ++i) c.k[i] = h16(c, 1.f), c.k[4 + i] = h16(c, 4.f);
  c.count = {2.f, 2.f, 1.f, 3.f};
  c.kpool = {1.f, 1.f, 4.f, 4.f};
  c.salience = {0.5f, 0.1f};
  run_cpu(c);
  EXPECT_EQ(c.action, std::vector<int32_t>{kMemMerged});
  EXPECT_EQ(c.count[0], 2.5f);                        // 2 + 1 = 3, capped
  EXPECT_EQ(c.count[1], 2.5f);                        // 2 + 3 = 5, capped
  EXPECT_EQ(f16(c, c.k[0]), 2.f);                     // (1*2 + 4*1) / 3: weights before the cap
  EXPECT_EQ(f16(c, c.k[2]), f16(c, h16(c, 2.8f)));    // (1*2 + 4*3) / 5
  EXPECT_NEAR(c.kpool[0], (2.f + f16(c, h16(c, 2.8f))) / 2, 1e-6);  // equal capped counts: plain mean
  p.max_count = 0.5f;  // below one token: would give a negative log-count bias
  EXPECT_THROW(validate(p), std::invalid_argument);
}

// Random cache: blocks mostly drawn around a few cluster directions (so cosines are high within a cluster
// and merges happen), token counts mostly 1 with merged (2..5) and empty (0) entries, some wholly
// empty memory slots and evicted blocks, salience uniform; kpool consistent with K and counts.
Cache random_cache(const MemoryUpdateParams& p, uint32_t seed) {
  Cache c = empty_cache(p);
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  const int B = p.block_tokens, D = p.head_dim, kClusters = 4;
  std::vector<float> centre(static_cast<size_t>(kClusters) * D);
  for (auto& x : centre) x = nd(rng) + 0.05f;
  // Blocks of no cluster (a third of the evicted ones) point nowhere in particular: low cosine
  // with every slot, so they are dropped unless salient enough to be preserved.
  auto fill = [&](int h, int slot, bool empty, bool clustered) {
    const size_t s = static_cast<size_t>(h) * p.slots + slot;
    const int cl = static_cast<int>(u(rng) * kClusters) % kClusters;
    const float pull = clustered ? 1.f : 0.f;
    for (int t = 0; t < B; ++t) {
      const float r = u(rng);
      c.count[s * B + t] = empty ? 0.f : r < 0.05f ? 0.f : r < 0.85f ? 1.f : static_cast<float>(2 + static_cast<int>(u(rng) * 4));
      for (int d = 0; d < D; ++d) {
        c.k[(s * B + t) * D + d] = h16(c, pull * centre[cl * D + d] + 0.6f * nd(rng) + 0.05f);
        c.v[(s * B + t) * D + d] = h16(c, nd(rng) + 0.3f);
      }
    }
    float cs = 0.f;
    for (int t = 0; t < B; ++t) cs += c.count[s * B + t];
    for (int d = 0; d < D; ++d) {
      float num = 0.f;
      for (int t = 0; t < B; ++t) num += f16(c, c.k[(s * B + t) * D + d]) * c.count[s * B + t];
      c.kpool[s * D + d] = num / std::max(cs, 1e-6f);
    }
    c.salience[s] = u(rng);
    c.origin[s] = static_cast<int64_t>(rng() % 1000);
  };
  for (int h = 0; h < p.heads; ++h) {
    for (int m = 0; m < p.memory_slots; ++m) fill(h, p.memory_base + m, u(rng) < 0.25f, true);
    for (int e = 0; e < p.evict_blocks; ++e) fill(h, p.evict_base + e, u(rng) < 0.1f, u(rng) < 0.67f);
  }
  return c;
}

struct Case {
  int H, B, D, M, E;
  PbsaDtype dt;
  bool use_memory;
  float preserve_min, merge;
  float max_count = 0.f;
};
const Case kCases[] = {
    {5, 64, 64, 16, 4, PbsaDtype::kBf16, true, 0.6f, 0.5f},    // default model: 16 slots, a 4-block frame
    {3, 16, 128, 5, 8, PbsaDtype::kFp16, true, 0.5f, 0.4f, 3.f},  // head dim 128, fp16, more evictions than slots, capped counts
    {2, 32, 64, 300, 24, PbsaDtype::kBf16, true, 0.3f, 0.5f},  // M over one CTA's 256 threads
    {4, 64, 64, 16, 4, PbsaDtype::kBf16, false, 0.f, 0.5f},    // use_memory off: drops only
};

// Slots: [sink 4 | memory M | ring: 2 frames of E]; the first ring frame is evicted.
MemoryUpdateParams case_params(const Case& cs) {
  const int mb = 4, eb = mb + cs.M, P = eb + 2 * cs.E;
  return {cs.H, P, cs.B, cs.D, eb, cs.E, mb, cs.M, cs.use_memory, cs.preserve_min, cs.merge, cs.dt, cs.max_count};
}

// The random cases are not vacuous: the reference takes every decision it can on each of them.
void expect_exercised(const Case& cs, const Cache& in, const Cache& want) {
  const int64_t pres = want.counters[0] - 7, merged = want.counters[1] - 11, dropped = want.counters[2] - 13;
  EXPECT_GT(dropped, 0);
  if (cs.use_memory) {
    EXPECT_GT(pres, 0);
    EXPECT_GT(merged, 0);
    EXPECT_TRUE(want.k != in.k);
    if (cs.max_count > 0) {  // the cap was reached by some merge, and nothing exceeds it
      const auto mem = [&](const Cache& c, int h) { return c.count.begin() + (static_cast<size_t>(h) * c.p.slots + c.p.memory_base) * c.p.block_tokens; };
      bool hit = false;
      for (int h = 0; h < cs.H; ++h)
        for (int i = 0; i < cs.M * cs.B; ++i) {
          const float before = mem(in, h)[i], after = mem(want, h)[i];
          if (after != before) EXPECT_LE(after, cs.max_count);
          hit |= after == cs.max_count && before < cs.max_count && before > 0;
        }
      EXPECT_TRUE(hit) << "no merge reached max_count " << cs.max_count;
    }
  } else {
    EXPECT_EQ(pres + merged, 0);
    EXPECT_TRUE(want.k == in.k);
  }
}

TEST(MemoryUpdateCpu, RandomCasesExerciseEveryDecision) {
  uint32_t seed = 3;
  for (const Case& cs : kCases) {
    SCOPED_TRACE("M" + std::to_string(cs.M));
    const Cache in = random_cache(case_params(cs), seed++);
    Cache want = in;
    run_cpu(want);
    expect_exercised(cs, in, want);
  }
}

#ifdef SW_KERNELS_CUDA
Cache run_cuda(const Cache& in) {
  using test::DevBuf;
  DevBuf<uint16_t> k(in.k), v(in.v);
  DevBuf<float> count(in.count), kpool(in.kpool), salience(in.salience);
  DevBuf<int64_t> origin(in.origin), target(in.target), counters(in.counters);
  DevBuf<int32_t> action(in.action);
  action.poison(0x7F);
  target.poison(0x7F);
  memory_update_cuda({k.ptr, v.ptr, count.ptr, kpool.ptr, salience.ptr, origin.ptr, action.ptr, target.ptr, counters.ptr,
                      counters.ptr + 1, counters.ptr + 2},
                     in.p, nullptr);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  Cache out = in;
  out.k = k.host(), out.v = v.host(), out.count = count.host(), out.kpool = kpool.host(), out.salience = salience.host();
  out.origin = origin.host(), out.target = target.host(), out.counters = counters.host(), out.action = action.host();
  return out;
}

// Bitwise comparison of float arrays (NaN poison or 1-ulp drift both fail), with the max relative
// error in the message for diagnosis.
void expect_bitwise(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size());
  double num = 0, den = 1e-30;
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    bad += std::memcmp(&got[i], &want[i], sizeof(float)) != 0;
    num = std::max(num, std::fabs(static_cast<double>(got[i]) - want[i]));
    den = std::max(den, std::fabs(static_cast<double>(want[i])));
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " elements differ, max rel err " << num / den;
}

TEST(MemoryUpdateCuda, MatchesCpuBitwise) {
  SW_REQUIRE_CUDA();
  uint32_t seed = 3;
  for (const Case& cs : kCases) {
    SCOPED_TRACE("H" + std::to_string(cs.H) + " B" + std::to_string(cs.B) + " D" + std::to_string(cs.D) + " M" +
                 std::to_string(cs.M) + " E" + std::to_string(cs.E));
    const Cache in = random_cache(case_params(cs), seed++);
    Cache want = in;
    run_cpu(want);
    const Cache got = run_cuda(in);
    EXPECT_EQ(got.action, want.action);
    EXPECT_EQ(got.target, want.target);
    EXPECT_EQ(got.counters, want.counters);
    EXPECT_EQ(got.origin, want.origin);
    EXPECT_TRUE(got.k == want.k) << "K differs";
    EXPECT_TRUE(got.v == want.v) << "V differs";
    expect_bitwise(got.count, want.count, "count");
    expect_bitwise(got.kpool, want.kpool, "kpool");
    expect_bitwise(got.salience, want.salience, "salience");
    expect_exercised(cs, in, want);
  }
}
#endif

}  // namespace
}  // namespace sw::kernels
