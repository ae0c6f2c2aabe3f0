// The five methods through the LayerAttention facade: dense equals full attention, window equals
// masked full attention, every plan is well formed, tempcache merging is exact on identical keys,
// recall behaves, params changes apply on the next chunk, bytes are bounded.
// Run: ctest -L fast -R test_attention_methods (in the build folder).
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "attn_test_util.h"
#include "layer_impl.h"
#include "time_shift.h"

namespace sw::attn {
namespace {

using test::rel_err;

struct Threads : ::testing::Environment {
  void SetUp() override { at::set_num_threads(2); }
};
const auto* const threads_env = ::testing::AddGlobalTestEnvironment(new Threads);

// Token-ordered history of committed frames, to build independent references.
struct History {
  std::vector<at::Tensor> k, v;  // per frame [H, T, D]
  void add(const test::Chunk& c, const CacheParams& p) {
    for (int64_t f = 0; f < p.chunk_frames; ++f) {
      k.push_back(c.k.narrow(1, f * p.frame_tokens(), p.frame_tokens()));
      v.push_back(c.v.narrow(1, f * p.frame_tokens(), p.frame_tokens()));
    }
  }
  // Frames kept by a window: [0, sink) and the last `window`.
  std::pair<at::Tensor, at::Tensor> keys(const test::Chunk& c, int64_t sink, int64_t window) const {
    std::vector<at::Tensor> ks, vs;
    const int64_t n = static_cast<int64_t>(k.size());
    for (int64_t f = 0; f < n; ++f)
      if (f < sink || f >= n - window) ks.push_back(k[f]), vs.push_back(v[f]);
    ks.push_back(c.k);
    vs.push_back(c.v);
    return {at::cat(ks, 1), at::cat(vs, 1)};
  }
};

TEST(Methods, DenseEqualsFullAttention) {
  for (auto [grid, block, frames] : std::vector<std::array<int64_t, 3>>{{4, 4, 2}, {8, 16, 3}, {4, 16, 1}}) {
    for (at::ScalarType dt : {at::kFloat, at::kHalf, at::kBFloat16}) {
      if (dt != at::kFloat && grid != 4) continue;  // reduced precision: one shape is enough
      CacheParams p = test::small_params(grid, block, frames);
      p.dtype = dt;
      LayerAttention layer(p, test::config(Method::Dense));
      History hist;
      const double tol = dt == at::kFloat ? 1e-5 : dt == at::kHalf ? 5e-3 : 3e-2;
      for (int chunk = 0; chunk < 4; ++chunk) {
        const test::Chunk c = test::to(test::random_chunk(p, 100 + chunk), dt);
        const at::Tensor out = layer.attend(c.q, c.k, c.v, true);
        ASSERT_EQ(out.scalar_type(), dt);
        const auto [k, v] = hist.keys(c, 0, 1 << 20);
        EXPECT_LT(rel_err(out, test::full_attention(c.q, k, v)), tol) << "grid " << grid << " B " << block << " chunk " << chunk;
        hist.add(c, p);
      }
      EXPECT_DOUBLE_EQ(layer.stats().density, 1.0);
    }
  }
}

TEST(Methods, WindowEqualsMaskedFullAttention) {
  for (auto [sink, window] : std::vector<std::array<int64_t, 2>>{{1, 3}, {0, 2}, {2, 1}}) {
    CacheParams p = test::small_params();
    p.sink_frames = sink;
    p.window_frames = window;
    LayerAttention layer(p, test::config(Method::Window));
    History hist;
    for (int chunk = 0; chunk < 6; ++chunk) {
      const test::Chunk c = test::random_chunk(p, 200 + chunk);
      const at::Tensor out = layer.attend(c.q, c.k, c.v, true);
      const auto [k, v] = hist.keys(c, sink, window);
      EXPECT_LT(rel_err(out, test::full_attention(c.q, k, v)), 1e-5) << "S " << sink << " W " << window << " chunk " << chunk;
      hist.add(c, p);
    }
  }
}

// Random chunks where some frames repeat the previous frame's keys, so tempcache merges and
// sparse-forcing evicts into memory.
test::Chunk structured_chunk(const CacheParams& p, uint64_t seed, const test::Chunk* prev) {
  test::Chunk c = test::random_chunk(p, seed);
  if (prev && seed % 2 == 0) {
    const int64_t T = p.frame_tokens(), last = (p.chunk_frames - 1) * T;
    for (int64_t f = 0; f < p.chunk_frames; ++f) c.k.narrow(1, f * T, T).copy_(prev->k.narrow(1, last, T));
  }
  return c;
}

TEST(Methods, EveryPlanIsInRangeSortedUniqueAndBlockCausal) {
  for (Method m : test::all_methods()) {
    for (auto [grid, block] : std::vector<std::array<int64_t, 2>>{{4, 4}, {8, 8}}) {
      CacheParams p = test::small_params(grid, block);
      p.recall_every = 2;
      LayerAttention layer(p, test::config(m));
      test::Chunk prev;
      for (int chunk = 0; chunk < 7; ++chunk) {
        const test::Chunk c = structured_chunk(p, 300 + chunk, chunk ? &prev : nullptr);
        layer.attend(c.q, c.k, c.v, /*commit=*/chunk % 3 != 2);
        auto& impl = layer.impl();
        ASSERT_EQ(check_plan(impl.last_plan, impl.last_valid), "") << method_name(m) << " chunk " << chunk;
        const LayerStats s = layer.stats();
        EXPECT_GT(s.density, 0.0);
        EXPECT_LE(s.density, 1.0 + 1e-12);
        if (s.recall >= 0) {
          EXPECT_GE(s.recall, 0.0);
          EXPECT_LE(s.recall, 1.0 + 1e-5);
        }
        prev = c;
      }
    }
  }
}

// Frames whose keys are identical across time (values differ): tempcache merges them and, by the
// grouping lemma, its output equals dense attention over the unmerged history.
TEST(Methods, TempCacheMergingIdenticalKeysIsExact) {
  CacheParams p = test::small_params();
  p.window_frames = 32;
  p.sink_frames = 1;
  MethodConfig mc = test::config(Method::TempCache);
  mc.tempcache.annsa = false;
  mc.tempcache.merge_threshold = 0.9999;
  LayerAttention tc(p, mc), dense(p, test::config(Method::Dense));
  const at::Tensor frame_k = compat::randn_cpu({p.heads, p.frame_tokens(), p.head_dim}, 77);
  for (int chunk = 0; chunk < 6; ++chunk) {
    test::Chunk c = test::random_chunk(p, 400 + chunk);
    c.k = frame_k.repeat({1, p.chunk_frames, 1});
    const at::Tensor a = tc.attend(c.q, c.k, c.v, true), b = dense.attend(c.q, c.k, c.v, true);
    EXPECT_LT(rel_err(a, b), 1e-5) << "chunk " << chunk;
  }
  const LayerStats s = tc.stats(), d = dense.stats();
  // 12 frames: the sink, then 11 window frames of which the last holds all 10 merges of each token.
  EXPECT_EQ(s.merged_tokens, p.heads * p.frame_tokens() * 10);
  EXPECT_LT(s.cache_bytes, d.cache_bytes / 4);
  EXPECT_LT(s.density, d.density);
}

TEST(Methods, RecallIsOneForDenseAndFallsAsTopKShrinks) {
  CacheParams p = test::small_params(8, 4);  // 16 blocks per frame
  p.window_frames = 4;
  p.recall_every = 1;
  LayerAttention layer(p, test::config(Method::Dense));
  for (int chunk = 0; chunk < 3; ++chunk) {
    const test::Chunk c = test::random_chunk(p, 500 + chunk);
    layer.attend(c.q, c.k, c.v, true);
    EXPECT_NEAR(layer.stats().recall, 1.0, 1e-5);
  }
  const test::Chunk c = test::random_chunk(p, 600);
  double last_recall = 2, last_density = 2;
  MethodConfig mc = test::config(Method::SparseForcing);
  mc.sparse_forcing.use_memory = false;
  mc.sparse_forcing.neighbour_frames = 0;
  std::vector<double> recalls;
  for (int64_t k : {128, 32, 16, 8, 4, 2, 1}) {
    mc.sparse_forcing.top_k = k;
    layer.set_method(mc);
    layer.attend(c.q, c.k, c.v, /*commit=*/false);
    const LayerStats s = layer.stats();
    EXPECT_LE(s.recall, last_recall + 1e-6) << "top_k " << k;
    EXPECT_LE(s.density, last_density) << "top_k " << k;
    last_recall = s.recall;
    last_density = s.density;
    recalls.push_back(s.recall);
  }
  EXPECT_NEAR(recalls.front(), 1.0, 1e-5);  // 128 >= every cached window block: nothing dropped
  EXPECT_LT(recalls.back(), recalls.front() - 0.05);
}

TEST(Methods, ParamsChangeTakesEffectOnNextChunk) {
  CacheParams p = test::small_params(8, 4);
  LayerAttention layer(p, test::config(Method::SparseForcing));
  MethodConfig wide = test::config(Method::SparseForcing);
  wide.sparse_forcing.top_k = 40;
  layer.set_method(wide);
  for (int chunk = 0; chunk < 4; ++chunk) {
    const test::Chunk c = test::random_chunk(p, 700 + chunk);
    layer.attend(c.q, c.k, c.v, true);
  }
  const double before = layer.stats().density;
  MethodConfig narrow = wide;
  narrow.sparse_forcing.top_k = 1;
  narrow.sparse_forcing.neighbour_frames = 0;
  layer.set_method(narrow);
  EXPECT_EQ(layer.stats().density, before);  // nothing ran yet
  const test::Chunk c = test::random_chunk(p, 800);
  layer.attend(c.q, c.k, c.v, true);
  EXPECT_LT(layer.stats().density, before * 0.8);
  // Switching method at run time works too: window after sparse-forcing.
  layer.set_method(test::config(Method::Window));
  layer.attend(c.q, c.k, c.v, true);
  EXPECT_EQ(layer.stats().method, "window");
  EXPECT_THROW(layer.set_method([] { MethodConfig m = test::config(Method::SparseForcing); m.sparse_forcing.top_k = 0; return m; }()),
               std::invalid_argument);
}

TEST(Methods, BytesBoundedForBoundedMethodsAndGrowingForDense) {
  CacheParams p = test::small_params();
  for (Method m : test::all_methods()) {
    LayerAttention layer(p, test::config(m));
    std::vector<int64_t> bytes, reserved;
    for (int chunk = 0; chunk < 24; ++chunk) {
      const test::Chunk c = test::random_chunk(p, 900 + chunk);
      layer.attend(c.q, c.k, c.v, true);
      const LayerStats s = layer.stats();
      bytes.push_back(s.cache_bytes);
      reserved.push_back(s.reserved_bytes);
      EXPECT_LE(s.cache_bytes, s.reserved_bytes);
    }
    if (m == Method::Dense) {
      EXPECT_GT(bytes.back(), 2 * bytes[4]);
      EXPECT_GT(reserved.back(), reserved.front());
    } else {
      EXPECT_EQ(reserved.back(), reserved.front()) << method_name(m);
      // Once the window is full, the fixed-region methods hold exactly the same number of pages;
      // memory / merging methods vary below the bound.
      const auto [lo, hi] = std::minmax_element(bytes.begin() + 8, bytes.end());
      if (m == Method::Window || m == Method::LightForcing) EXPECT_EQ(*lo, *hi) << method_name(m);
      EXPECT_LE(*hi, reserved.front()) << method_name(m);
    }
  }
}

TEST(Methods, SparseForcingPreservesCompressesAndDrops) {
  CacheParams p = test::small_params(4, 4);
  p.memory_slots = 3;
  MethodConfig mc = test::config(Method::SparseForcing);
  mc.sparse_forcing.merge_threshold = 0.0;
  LayerAttention layer(p, mc);
  for (int chunk = 0; chunk < 10; ++chunk) {
    const test::Chunk c = test::random_chunk(p, 1000 + chunk);
    layer.attend(c.q, c.k, c.v, true);
  }
  const LayerStats s = layer.stats();
  const int64_t nb = 4;  // blocks per frame
  const int64_t evicted_frames = 10 * p.chunk_frames - p.sink_frames - p.window_frames;
  EXPECT_GE(s.preserved_blocks, p.heads * p.memory_slots);
  EXPECT_GT(s.merged_blocks + s.dropped_blocks, 0);
  EXPECT_EQ(s.preserved_blocks + s.merged_blocks + s.dropped_blocks, p.heads * nb * evicted_frames);
  // Memory slots are all in use.
  auto& impl = layer.impl();
  EXPECT_TRUE(impl.cache.valid().narrow(1, impl.cache.memory_base(), p.memory_slots).all().item<bool>());
}

TEST(Methods, SparseForcingMaxCountBoundsMemoryCounts) {
  CacheParams p = test::small_params(4, 4);
  p.memory_slots = 3;
  MethodConfig mc = test::config(Method::SparseForcing);
  mc.sparse_forcing.merge_threshold = 0.0;  // merge nearly everything: counts would reach ~10 uncapped
  auto max_memory_count = [&](double cap) {
    mc.sparse_forcing.max_count = cap;
    LayerAttention layer(p, mc);
    for (int chunk = 0; chunk < 10; ++chunk) {
      const test::Chunk c = test::random_chunk(p, 1000 + chunk);
      layer.attend(c.q, c.k, c.v, true);
    }
    auto& impl = layer.impl();
    return impl.cache.count.narrow(1, impl.cache.memory_base(), p.memory_slots).max().item<float>();
  };
  EXPECT_GT(max_memory_count(0), 3.f);
  EXPECT_EQ(max_memory_count(3), 3.f);
  mc.sparse_forcing.max_count = 0.5;
  EXPECT_THROW(mc.sparse_forcing.validate(), std::invalid_argument);
}

// memory_top_k: each query block keeps that many memory blocks (the best by pooled score), not
// every slot; at or above the slot count it is the all-slots plan, to the bit.
TEST(Methods, SparseForcingMemoryTopKKeepsThatManyMemoryBlocks) {
  CacheParams p = test::small_params(4, 4);
  p.memory_slots = 4;
  MethodConfig all = test::config(Method::SparseForcing), few = all, every = all;
  all.sparse_forcing.merge_threshold = few.sparse_forcing.merge_threshold = every.sparse_forcing.merge_threshold = 0.0;
  few.sparse_forcing.memory_top_k = 2;
  every.sparse_forcing.memory_top_k = p.memory_slots;
  LayerAttention a(p, all), b(p, few), e(p, every);
  for (int chunk = 0; chunk < 8; ++chunk) {
    const test::Chunk c = test::random_chunk(p, 1200 + chunk);
    const at::Tensor out_all = a.attend(c.q, c.k, c.v, true), out_few = b.attend(c.q, c.k, c.v, true), out_every = e.attend(c.q, c.k, c.v, true);
    EXPECT_EQ(rel_err(out_every, out_all), 0.0) << "chunk " << chunk;
    // Memory slots kept per (head, query block), from each plan's valid entries.
    auto memory_kept = [&](LayerAttention& layer) {
      auto& impl = layer.impl();
      const at::Tensor idx = impl.last_plan.index, cnt = impl.last_plan.count;
      const at::Tensor used = at::arange(idx.size(2)).view({1, 1, -1}).lt(cnt.unsqueeze(-1));
      const int64_t mb = impl.cache.memory_base();
      return (idx.ge(mb) & idx.lt(mb + p.memory_slots) & used).sum(2);  // [H, Qb]
    };
    const at::Tensor filled = a.impl().cache.valid().narrow(1, a.impl().cache.memory_base(), p.memory_slots).sum(1);  // [H]
    if (chunk >= 4) {  // the memory is full by then (3 frames evicted per 2-frame chunk from chunk 2 on)
      ASSERT_EQ(filled.min().item<int64_t>(), p.memory_slots);
      EXPECT_EQ(memory_kept(a).min().item<int64_t>(), p.memory_slots);
      EXPECT_EQ(memory_kept(b).max().item<int64_t>(), 2);
      EXPECT_EQ(memory_kept(b).min().item<int64_t>(), 2);
      EXPECT_GT(rel_err(out_few, out_all), 1e-4) << "chunk " << chunk;
      EXPECT_LT(b.stats().density, a.stats().density);
    }
  }
  few.sparse_forcing.memory_top_k = -1;
  EXPECT_THROW(few.sparse_forcing.validate(), std::invalid_argument);
}

// memory_time_distance: every memory key is its frame's key moved in time to `distance` frames
// before the chunk being generated, whatever frame it came from; turned off, each goes back to
// its own frame.
TEST(Methods, SparseForcingMemoryTimeDistanceKeepsMemoryThatFarBack) {
  CacheParams p = test::small_params(4, 4);
  p.memory_slots = 3;
  p.rope_time_dims = 4;
  p.rope_theta = 100.0;  // a fast rotation: frames apart give clearly different keys
  MethodConfig mc = test::config(Method::SparseForcing);
  mc.sparse_forcing.merge_threshold = 1.0;  // random keys never merge: each slot holds one frame's block
  mc.sparse_forcing.memory_time_distance = 5;
  LayerAttention layer(p, mc);
  auto& impl = layer.impl();
  const int64_t nb = impl.g.blocks_per_frame, mb = impl.cache.memory_base();
  std::vector<at::Tensor> frame_blocks;  // per committed frame: [H, nb, B, D] keys as the model gave them
  auto expect_memory_at = [&](const std::function<int64_t(int64_t)>& frame_of, const std::string& when) {
    int64_t checked = 0;
    for (int64_t h = 0; h < p.heads; ++h)
      for (int64_t m = 0; m < p.memory_slots; ++m) {
        const int64_t origin = impl.cache.origin[h][mb + m].item<int64_t>();
        if (origin < 0) continue;
        const int64_t f = origin / nb, b = origin % nb;
        const at::Tensor given = frame_blocks[static_cast<size_t>(f)].narrow(0, h, 1).narrow(1, b, 1);  // [1, 1, B, D]
        const at::Tensor want = shift_time(given, frame_of(f) - f, p.rope_time_dims, p.rope_theta);
        EXPECT_LT(rel_err(impl.cache.k.narrow(0, h, 1).narrow(1, mb + m, 1), want), 1e-5) << when << " head " << h << " slot " << m;
        ++checked;
      }
    EXPECT_GT(checked, 0) << when;
  };
  for (int chunk = 0; chunk < 10; ++chunk) {
    const test::Chunk c = test::random_chunk(p, 1300 + chunk);
    const at::Tensor kb = tokens_to_blocks(c.k, impl.g, p.chunk_frames);
    for (int64_t f = 0; f < p.chunk_frames; ++f) frame_blocks.push_back(kb.narrow(1, f * nb, nb));
    const int64_t first_frame = impl.cache.frames_seen;
    layer.attend(c.q, c.k, c.v, true);
    if (chunk >= 2) expect_memory_at([&](int64_t) { return first_frame - 5; }, "chunk " + std::to_string(chunk));
  }
  EXPECT_GT(layer.stats().preserved_blocks, 0);
  // Switched off: the next attend puts each memory key back at its own frame.
  mc.sparse_forcing.memory_time_distance = 0;
  layer.set_method(mc);
  const test::Chunk c = test::random_chunk(p, 1400);
  layer.attend(c.q, c.k, c.v, false);
  expect_memory_at([](int64_t f) { return f; }, "switched off");
  // A cache that does not know the model's rotary layout refuses the knob, naming it.
  p.rope_time_dims = 0;
  mc.sparse_forcing.memory_time_distance = 5;
  try {
    LayerAttention unknown(p, mc);
    FAIL() << "accepted memory_time_distance without rope_time_dims";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("sparse_forcing.memory_time_distance = 5"), std::string::npos) << e.what();
  }
}

TEST(Methods, RejectsBadInputsWithOneLine) {
  CacheParams p = test::small_params();
  LayerAttention layer(p, test::config(Method::Dense));
  const test::Chunk c = test::random_chunk(p, 1);
  try {
    layer.attend(c.q.narrow(1, 0, 8), c.k, c.v, true);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("attend: q has shape [2, 8, 8], expected [2, 32, 8]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(layer.attend(c.q, c.k.to(at::kHalf), c.v, true), std::invalid_argument);
}

}  // namespace
}  // namespace sw::attn
