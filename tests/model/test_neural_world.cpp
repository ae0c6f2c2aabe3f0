// The rollout engine on a tiny randomly initialised model: the KV-cached rollout equals
// recomputing every pass from scratch (dense), actions and seeds matter, replays reproduce,
// method switches are honoured. The GPU comparison is in test_neural_world_gpu.cpp.
#include <gtest/gtest.h>

#include <torch/cuda.h>

#include <filesystem>

#include "engine/rollout.h"
#include "tiny_model.h"
#include "model/model_io.h"
#include "model/safetensors.h"
#include "sparseworld/sim/neural_world.h"

namespace sw {
namespace {

namespace fs = std::filesystem;

TEST(Rollout, KvCachedEqualsRecomputeFromScratchDense) {
  torch::NoGradGuard ng;
  auto m = model::load_model(tiny_model(), at::kCPU, at::kFloat);
  const model::ModelConfig& c = m->config;
  const int F = c.chunk_frames, chunks = 4;  // more chunks than window_frames: dense keeps all
  at::manual_seed(11);
  const at::Tensor context = at::randn({F, c.latent_channels, c.latent_grid(), c.latent_grid()});
  const at::Tensor context_actions = at::zeros({F, 5});
  std::vector<at::Tensor> noises, actions;
  for (int i = 0; i < chunks; ++i) {
    noises.push_back(engine::Rollout::chunk_noise(c, 5, i));
    actions.push_back(random_actions(F, 100 + i));
  }
  engine::Rollout cached(*m, attn::MethodConfig{}, at::kCPU, at::kFloat, 0);
  cached.commit(context, context_actions);
  std::vector<at::Tensor> got;
  for (int i = 0; i < chunks; ++i) got.push_back(cached.generate(noises[i], actions[i], c.sample_steps));
  const auto want = engine::rollout_from_scratch(*m, context, context_actions, noises, actions, c.sample_steps);
  for (int i = 0; i < chunks; ++i) {
    EXPECT_LT(rel_err(got[i], want[i]), 1e-4) << "chunk " << i;
    EXPECT_GT(want[i].abs().max().item<float>(), 1e-3);
  }
}

TEST(Rollout, SamplerLevelsUniformAndShifted) {
  for (int steps : {1, 2, 4, 7}) {
    EXPECT_DOUBLE_EQ(engine::sampler_level(0, steps, 3.0), 1.0);
    EXPECT_DOUBLE_EQ(engine::sampler_level(steps, steps, 3.0), 0.0);
    for (int s = 0; s <= steps; ++s) {
      EXPECT_NEAR(engine::sampler_level(s, steps, 1.0), 1.0 - static_cast<double>(s) / steps, 1e-15);
      if (s > 0) EXPECT_LT(engine::sampler_level(s, steps, 3.0), engine::sampler_level(s - 1, steps, 3.0));
    }
  }
  // u = 1/2: shift 3 -> 1.5 / 2 = 0.75 (more of the walk at high noise); shift 1/3 -> 0.25.
  EXPECT_DOUBLE_EQ(engine::sampler_level(2, 4, 3.0), 0.75);
  EXPECT_DOUBLE_EQ(engine::sampler_level(2, 4, 1.0 / 3.0), 0.25);
}

TEST(Rollout, ShiftedSamplerCachedEqualsRecomputeAndDiffersFromUniform) {
  torch::NoGradGuard ng;
  auto m = model::load_model(tiny_model(), at::kCPU, at::kFloat);
  const model::ModelConfig& c = m->config;
  const int F = c.chunk_frames, chunks = 3, steps = 3;
  at::manual_seed(12);
  const at::Tensor context = at::randn({F, c.latent_channels, c.latent_grid(), c.latent_grid()});
  std::vector<at::Tensor> noises, actions;
  for (int i = 0; i < chunks; ++i) {
    noises.push_back(engine::Rollout::chunk_noise(c, 6, i));
    actions.push_back(random_actions(F, 200 + i));
  }
  engine::Rollout shifted(*m, attn::MethodConfig{}, at::kCPU, at::kFloat, 0);
  shifted.set_sample_shift(3.0);
  shifted.commit(context, at::zeros({F, 5}));
  const auto want = engine::rollout_from_scratch(*m, context, at::zeros({F, 5}), noises, actions, steps, 3.0);
  const auto uniform = engine::rollout_from_scratch(*m, context, at::zeros({F, 5}), noises, actions, steps, 1.0);
  for (int i = 0; i < chunks; ++i) {
    const at::Tensor got = shifted.generate(noises[i], actions[i], steps);
    EXPECT_LT(rel_err(got, want[i]), 1e-4) << "chunk " << i;
    EXPECT_GT(rel_err(want[i], uniform[i]), 1e-4) << "chunk " << i << ": the shift changed nothing";
  }
  EXPECT_THROW(shifted.set_sample_shift(0.0), std::invalid_argument);
}

TEST(Rollout, ActionGuidanceEqualsRecomputeAndOnlyActsThroughActions) {
  torch::NoGradGuard ng;
  auto m = model::load_model(tiny_model(), at::kCPU, at::kFloat);
  const model::ModelConfig& c = m->config;
  const int F = c.chunk_frames, chunks = 3, steps = 2;
  at::manual_seed(13);
  const at::Tensor context = at::randn({F, c.latent_channels, c.latent_grid(), c.latent_grid()});
  const at::Tensor context_actions = random_actions(F, 299);
  std::vector<at::Tensor> noises, actions, still;
  for (int i = 0; i < chunks; ++i) {
    noises.push_back(engine::Rollout::chunk_noise(c, 7, i));
    actions.push_back(random_actions(F, 300 + i));
    still.push_back(at::zeros({F, 5}));
  }
  const double w = 2.5;
  engine::Rollout guided(*m, attn::MethodConfig{}, at::kCPU, at::kFloat, 0);
  guided.set_action_guidance(w);
  EXPECT_DOUBLE_EQ(guided.action_guidance(), w);
  guided.commit(context, context_actions);
  const auto want = engine::rollout_from_scratch(*m, context, context_actions, noises, actions, steps, 1.0, w);
  const auto plain = engine::rollout_from_scratch(*m, context, context_actions, noises, actions, steps);
  for (int i = 0; i < chunks; ++i) {
    const at::Tensor got = guided.generate(noises[i], actions[i], steps);
    EXPECT_LT(rel_err(got, want[i]), 1e-4) << "chunk " << i;
    EXPECT_GT(rel_err(want[i], plain[i]), 1e-4) << "chunk " << i << ": guidance changed nothing";
  }
  // Standing still, the guided and the plain velocity are the same pass: guidance is a no-op.
  const auto still_guided = engine::rollout_from_scratch(*m, context, context_actions, noises, still, steps, 1.0, w);
  const auto still_plain = engine::rollout_from_scratch(*m, context, context_actions, noises, still, steps);
  for (int i = 0; i < chunks; ++i) EXPECT_LT(rel_err(still_guided[i], still_plain[i]), 1e-6) << "chunk " << i;
  // w = 0 samples as if standing still (the history keeps its actions).
  const auto zero = engine::rollout_from_scratch(*m, context, context_actions, noises, actions, steps, 1.0, 0.0);
  std::vector<at::Tensor> history_only;
  at::Tensor hist = context, hist_actions = context_actions;
  for (int i = 0; i < chunks; ++i) {
    const auto one = engine::rollout_from_scratch(*m, hist, hist_actions, {noises[i]}, {still[i]}, steps);
    EXPECT_LT(rel_err(zero[i], one[0]), 1e-4) << "chunk " << i;
    hist = at::cat({hist, zero[i]});
    hist_actions = at::cat({hist_actions, actions[i]});
  }
  EXPECT_THROW(guided.set_action_guidance(-0.5), std::invalid_argument);
  EXPECT_THROW(guided.set_action_guidance(kMaxActionGuidance + 1), std::invalid_argument);
  EXPECT_DOUBLE_EQ(guided.action_guidance(), w);  // a refused value leaves the last one
}

TEST(Rollout, HistoryGuidanceEqualsRecomputeDenseAndWindow) {
  // The no-history pass is the chunk alone, whatever the method: window's cached rollout with
  // history and action guidance matches (dense) recomputation while the history fits its window
  // (tiny: sink 1 + 3 frames; context + one chunk are 4).
  torch::NoGradGuard ng;
  auto m = model::load_model(tiny_model(), at::kCPU, at::kFloat);
  const model::ModelConfig& c = m->config;
  const int F = c.chunk_frames, chunks = 2, steps = 2;
  at::manual_seed(14);
  const at::Tensor context = at::randn({F, c.latent_channels, c.latent_grid(), c.latent_grid()});
  const at::Tensor context_actions = random_actions(F, 399);
  std::vector<at::Tensor> noises, actions;
  for (int i = 0; i < chunks; ++i) {
    noises.push_back(engine::Rollout::chunk_noise(c, 8, i));
    actions.push_back(random_actions(F, 400 + i));
  }
  // History guidance alone and with action guidance: the rollout batches two or three variants
  // into one forward, the reference runs them one by one.
  for (const auto& [wa, wh] : std::vector<std::pair<double, double>>{{1.0, 2.0}, {1.5, 2.0}}) {
    const auto want = engine::rollout_from_scratch(*m, context, context_actions, noises, actions, steps, 1.0, wa, wh);
    const auto plain = engine::rollout_from_scratch(*m, context, context_actions, noises, actions, steps, 1.0, wa);
    for (attn::Method method : {attn::Method::Dense, attn::Method::Window}) {
      attn::MethodConfig mc;
      mc.method = method;
      engine::Rollout guided(*m, mc, at::kCPU, at::kFloat, 0);
      guided.set_action_guidance(wa);
      guided.set_history_guidance(wh);
      EXPECT_DOUBLE_EQ(guided.history_guidance(), wh);
      guided.commit(context, context_actions);
      for (int i = 0; i < chunks; ++i) {
        const at::Tensor got = guided.generate(noises[i], actions[i], steps);
        EXPECT_LT(rel_err(got, want[i]), 1e-4) << attn::method_name(method) << " wa " << wa << " chunk " << i;
        EXPECT_GT(rel_err(want[i], plain[i]), 1e-4) << "wa " << wa << " chunk " << i << ": history guidance changed nothing";
      }
      EXPECT_THROW(guided.set_history_guidance(kMaxHistoryGuidance + 1), std::invalid_argument);
    }
  }
  // w = 0 ignores the history: the chunk sampled alone, as the first chunk of a rollout.
  const auto alone = engine::rollout_from_scratch(*m, context, context_actions, noises, actions, steps, 1.0, 1.0, 0.0);
  engine::Rollout fresh(*m, attn::MethodConfig{}, at::kCPU, at::kFloat, 0);
  EXPECT_LT(rel_err(alone[0], fresh.generate(noises[0], actions[0], steps)), 1e-4);
}

TEST(Rollout, WindowMethodDiffersFromDenseOnceFramesLeaveTheWindow) {
  // A guard that the comparison above can fail: dropping history changes the result.
  torch::NoGradGuard ng;
  auto m = model::load_model(tiny_model(), at::kCPU, at::kFloat);
  const model::ModelConfig& c = m->config;
  attn::MethodConfig window;
  window.method = attn::Method::Window;
  engine::Rollout dense(*m, attn::MethodConfig{}, at::kCPU, at::kFloat, 0), win(*m, window, at::kCPU, at::kFloat, 0);
  at::Tensor a, b;
  for (int i = 0; i < 6; ++i) {
    const at::Tensor n = engine::Rollout::chunk_noise(c, 9, i), acts = random_actions(c.chunk_frames, i);
    a = dense.generate(n, acts, c.sample_steps);
    b = win.generate(n, acts, c.sample_steps);
  }
  EXPECT_GT(rel_err(a, b), 1e-4);
}

std::vector<Frame> run_world(NeuralWorldParams p, uint64_t seed, int chunks, float forward) {
  NeuralWorld w(p);
  w.reset(seed);
  std::vector<Frame> all, frames;
  for (int i = 0; i < chunks; ++i) {
    Action a;
    a.forward = forward;
    a.turn = 0.5f * forward;
    w.step(std::vector<Action>(static_cast<size_t>(w.chunk_frames()), a), frames);
    all.insert(all.end(), frames.begin(), frames.end());
  }
  return all;
}

NeuralWorldParams cpu_params() {
  NeuralWorldParams p;
  p.model_path = tiny_model();
  p.device = "cpu";
  return p;
}

TEST(NeuralWorld, SameSeedIdenticalDifferentSeedDiffers) {
  const auto a = run_world(cpu_params(), 3, 3, 1.f), b = run_world(cpu_params(), 3, 3, 1.f), c = run_world(cpu_params(), 4, 3, 1.f);
  ASSERT_EQ(a.size(), 6u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].rgb, b[i].rgb) << "frame " << i;
  EXPECT_NE(a.back().rgb, c.back().rgb);
}

TEST(NeuralWorld, ActionsChangeTheOutput) {
  const auto fwd = run_world(cpu_params(), 3, 2, 1.f), back = run_world(cpu_params(), 3, 2, -1.f);
  EXPECT_NE(fwd.back().rgb, back.back().rgb);
}

TEST(NeuralWorld, ActionGuidanceFromParamsOrSetterAlikeAndKeptOverReset) {
  NeuralWorldParams p = cpu_params();
  p.action_guidance = 3.0;
  const auto from_params = run_world(p, 3, 2, 1.f), plain = run_world(cpu_params(), 3, 2, 1.f);
  EXPECT_NE(from_params.back().rgb, plain.back().rgb);
  NeuralWorld w(cpu_params());
  w.set_action_guidance(3.0);
  EXPECT_THROW(w.set_action_guidance(-1.0), std::invalid_argument);
  EXPECT_DOUBLE_EQ(w.action_guidance(), 3.0);
  w.reset(3);
  std::vector<Frame> all, frames;
  Action a;
  a.forward = 1.f;
  a.turn = 0.5f;
  for (int i = 0; i < 2; ++i) {
    w.step(std::vector<Action>(static_cast<size_t>(w.chunk_frames()), a), frames);
    all.insert(all.end(), frames.begin(), frames.end());
  }
  ASSERT_EQ(all.size(), from_params.size());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].rgb, from_params[i].rgb) << "frame " << i;
}

TEST(NeuralWorld, MethodSwitchHonouredOnTheNextChunk) {
  NeuralWorld w(cpu_params());
  w.reset(1);
  std::vector<Frame> frames;
  const std::vector<Action> acts(static_cast<size_t>(w.chunk_frames()));
  for (int i = 0; i < 5; ++i) w.step(acts, frames);
  EXPECT_EQ(w.neural_stats().method, "dense");
  const int64_t dense_bytes = w.neural_stats().cache_bytes;
  attn::MethodConfig m;
  m.method = attn::Method::Window;
  w.set_method(m);
  w.step(acts, frames);
  EXPECT_EQ(w.neural_stats().method, "window");
  for (int i = 0; i < 5; ++i) w.step(acts, frames);
  EXPECT_LT(w.neural_stats().cache_bytes, dense_bytes + 1) << "window bounds the cache";
  attn::MethodConfig bad;
  bad.method = attn::Method::SparseForcing;
  bad.sparse_forcing.top_k = 0;
  EXPECT_THROW(w.set_method(bad), std::invalid_argument);
  EXPECT_EQ(w.neural_stats().method, "window");
}

TEST(NeuralWorld, EveryMethodRunsAndReportsStats) {
  for (attn::Method method : {attn::Method::Dense, attn::Method::Window, attn::Method::SparseForcing, attn::Method::LightForcing,
                              attn::Method::TempCache}) {
    NeuralWorldParams p = cpu_params();
    p.method.method = method;
    p.recall_every = 1;
    NeuralWorld w(p);
    w.reset(2);
    std::vector<Frame> frames;
    for (int i = 0; i < 5; ++i) w.step(std::vector<Action>(static_cast<size_t>(w.chunk_frames())), frames);
    const NeuralStats& s = w.neural_stats();
    EXPECT_EQ(s.method, attn::method_name(method));
    EXPECT_GT(s.cache_bytes, 0);
    EXPECT_GT(s.density, 0.0);
    EXPECT_LE(s.density, 1.0 + 1e-9);
    EXPECT_GE(s.recall, 0.0) << s.method;
    EXPECT_LE(s.recall, 1.0 + 1e-6);
    EXPECT_EQ(frames.size(), static_cast<size_t>(w.chunk_frames()));
  }
}

TEST(NeuralWorld, BadParamsAndActionCountsRejected) {
  NeuralWorldParams p = cpu_params();
  p.device = "tpu";
  EXPECT_THROW(NeuralWorld{p}, std::invalid_argument);
  p = cpu_params();
  p.context_frames = 3;  // not a multiple of chunk_frames (2)
  EXPECT_THROW(NeuralWorld{p}, std::invalid_argument);
  p = cpu_params();
  p.sample_shift = -1;
  EXPECT_THROW(NeuralWorld{p}, std::invalid_argument);
  p = cpu_params();
  p.action_guidance = kMaxActionGuidance * 2;
  EXPECT_THROW(NeuralWorld{p}, std::invalid_argument);
  p = cpu_params();
  p.history_guidance = -1;
  EXPECT_THROW(NeuralWorld{p}, std::invalid_argument);
  NeuralWorld w(cpu_params());
  std::vector<Frame> frames;
  EXPECT_THROW(w.step(std::vector<Action>(3), frames), std::invalid_argument);
}

}  // namespace
}  // namespace sw
