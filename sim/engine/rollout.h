// The autoregressive rollout (internal to sim/): per-layer attention state, the few-step
// rectified-flow sampler and the clean pass that commits a chunk's K/V. NeuralWorld wraps it
// with frames and stats; tests drive it directly to compare against full recomputation.
// Test: tests/model/test_neural_world.cpp.
#pragma once

#include <memory>
#include <vector>

#include "../model/networks.h"
#include "sparseworld/attention.h"

namespace sw::engine {

// The noise level before Euler step `step` of `steps` (step == steps: 0, the end): with u = 1 -
// step/steps, t = shift u / (1 + (shift - 1) u). Shift 1 is uniform; > 1 spends more of the steps
// at high noise, where the layout of the frame is decided (SD3's timestep shift).
double sampler_level(int step, int steps, double shift);

// Rectified flow: x_t = (1 - t) x0 + t * noise; the network predicts v = noise - x0; sampling
// walks t from 1 to 0 in `steps` Euler steps (at sampler_level).
class Rollout {
 public:
  // memory_slots: persistent memory blocks per head and layer (sparse-forcing's store); -1: the
  // model config's. A cache shape, fixed for the rollout's life.
  Rollout(model::WorldModel& model, const attn::MethodConfig& method, at::Device device, at::ScalarType dtype,
          int recall_every, int memory_slots = -1);
  void reset();
  void set_method(const attn::MethodConfig& m);
  // Frames enter the cache at noise level `sigma` (0: clean, the default): the committed latents
  // are noised with seeded noise (by `seed` and frame index) and the pass is told that level.
  // A model trained with noisy context (train --context-noise) then does not mistake its own
  // small errors for content, which slows the drift of long rollouts (Diffusion Forcing's
  // stabilisation; GameNGen's noise augmentation).
  void set_context_noise(double sigma, uint64_t seed);
  // Timestep shift of the sampler (sampler_level); 1, uniform steps, by default.
  void set_sample_shift(double shift);
  // Action guidance w: each sampler step uses v0 + w (va - v0), va the velocity under the chunk's
  // actions and v0 under the zero action (standing still, which the babbler agent trains on, so
  // no null token is needed). 1 (the default) is the plain model in one pass; > 1 amplifies what
  // the actions change (the model under-moves: eval's drift motion is half the truth's). The
  // commit pass always uses the true actions.
  void set_action_guidance(double w);
  double action_guidance() const { return action_guidance_; }
  // History guidance w (Diffusion Forcing's history guidance): v = vn + w (vh - vn), vh the
  // (action-guided) velocity with the cache, vn the chunk's velocity with no history at all (an
  // empty cache and a zero anchor: how every training clip starts, so the pass is in
  // distribution). w > 1 pushes each step away from the generic frame the model would draw
  // without context, towards what the history says; the no-history variant attends over the chunk
  // alone. Guidance variants run batched with the conditional chunk in one forward
  // (guided_velocity).
  void set_history_guidance(double w);
  double history_guidance() const { return history_guidance_; }
  double context_noise() const { return sigma_; }
  // Commits latents [F, C, g, g] (context frames) with their actions [F, action_dim].
  void commit(const at::Tensor& latents, const at::Tensor& actions);
  // Samples the next chunk from noise [F, C, g, g] under actions [F, action_dim] and, when
  // `commit`, runs the clean pass that writes it into the cache (evaluation predicts without
  // committing, then commits the ground truth). Returns the clean latents. `denoise_done` is
  // called between sampling and the clean pass.
  at::Tensor generate(const at::Tensor& noise, const at::Tensor& actions, int steps,
                      const std::function<void()>& denoise_done = {}, bool commit = true);
  int64_t frames_committed() const { return frame0_; }
  std::vector<attn::LayerAttention>& layers() { return layers_; }

  // Seeded noise for chunk `chunk` of a rollout started with `seed`, drawn on the CPU so the same
  // seed gives the same noise on every device.
  static at::Tensor chunk_noise(const model::ModelConfig& c, uint64_t seed, int64_t chunk);

 private:
  at::Tensor velocity(const at::Tensor& x, double t, const at::Tensor& actions, bool commit, const at::Tensor& anchor);
  // The sampler's velocity: the plain pass, or with action and/or history guidance applied.
  at::Tensor guided_velocity(const at::Tensor& x, double t, const at::Tensor& actions, const at::Tensor& anchor);
  void commit_pass(const at::Tensor& latents, const at::Tensor& actions);
  model::WorldModel& model_;
  at::Device device_;
  at::ScalarType dtype_;
  std::vector<attn::LayerAttention> layers_;
  std::vector<attn::LayerAttention> empty_layers_;  // never committed to: attention over the chunk alone
  attn::CacheParams cache_params_;                  // of layers_, for empty_layers_ (made on first use)
  int64_t frame0_ = 0;
  at::Tensor last_committed_;  // [1, C, g, g] as committed (noised): the next chunk's anchor
  double sigma_ = 0;
  double shift_ = 1;
  double action_guidance_ = 1;
  double history_guidance_ = 1;
  uint64_t noise_seed_ = 0;
};

// Reference for tests: the same sampling with every pass recomputed over the whole history
// (block-causal attention in plain ops, no cache). Returns the clean latents of each chunk.
std::vector<at::Tensor> rollout_from_scratch(model::WorldModel& model, const at::Tensor& context_latents,
                                             const at::Tensor& context_actions, const std::vector<at::Tensor>& noises,
                                             const std::vector<at::Tensor>& actions, int steps, double shift = 1.0,
                                             double action_guidance = 1.0, double history_guidance = 1.0);

}  // namespace sw::engine
