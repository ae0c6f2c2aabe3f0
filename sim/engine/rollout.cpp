// Rollout: the sampler loop over the transformer with per-layer LayerAttention (see rollout.h).
#include "rollout.h"

#include <ATen/CPUGeneratorImpl.h>

#include "sparseworld/sim/neural_world.h"

namespace sw::engine {

Rollout::Rollout(model::WorldModel& model, const attn::MethodConfig& method, at::Device device, at::ScalarType dtype,
                 int recall_every, int memory_slots)
    : model_(model), device_(device), dtype_(dtype) {
  const model::ModelConfig& c = model.config;
  attn::CacheParams cp;
  cp.heads = c.heads;
  cp.head_dim = c.head_dim();
  cp.grid_h = cp.grid_w = c.latent_grid();
  cp.block_size = c.block_size;
  cp.chunk_frames = c.chunk_frames;
  cp.sink_frames = c.sink_frames;
  cp.window_frames = c.window_frames;
  cp.memory_slots = memory_slots >= 0 ? memory_slots : c.memory_slots;
  cp.dtype = dtype;
  cp.device = device;
  cp.recall_every = recall_every;
  cp.rope_time_dims = model::rope_time_dims(c.head_dim());
  cp.rope_theta = c.rope_theta;
  for (int i = 0; i < c.depth; ++i) layers_.emplace_back(cp, method);
  cache_params_ = cp;
}

void Rollout::reset() {
  for (auto& l : layers_) l.reset();
  frame0_ = 0;
  last_committed_ = at::Tensor();
}

void Rollout::set_method(const attn::MethodConfig& m) {
  for (auto& l : layers_) l.set_method(m);
}

namespace {
// v0 + w (va - v0): one formula for the cached rollout and the recomputing reference.
at::Tensor guided(const at::Tensor& v_cond, const at::Tensor& v_uncond, double w) { return v_uncond + w * (v_cond - v_uncond); }
}  // namespace

at::Tensor Rollout::velocity(const at::Tensor& x, double t, const at::Tensor& actions, bool commit, const at::Tensor& anchor) {
  const at::Tensor tt = at::full({x.size(0)}, t, at::TensorOptions().dtype(at::kFloat).device(device_));
  return model_.dit->forward(
      x, tt, actions, frame0_,
      [&](int layer, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) { return layers_[static_cast<size_t>(layer)].attend(q, k, v, commit); },
      0, anchor);
}

at::Tensor Rollout::guided_velocity(const at::Tensor& x, double t, const at::Tensor& actions, const at::Tensor& anchor) {
  const bool by_action = action_guidance_ != 1.0, by_history = history_guidance_ != 1.0;
  if (!by_action && !by_history) return velocity(x, t, actions, false, anchor);
  // One forward over the chunk stacked with its guidance variants, so the projections and MLPs of
  // the two or three passes run as one (the rollout is launch-bound on a GPU: ~8 ms per pass of
  // mostly small kernels). Only attention is per variant: the actions-still variant reads the
  // cache like the conditional one, the no-history variant an empty cache. DiT::forward gives
  // every `F`-frame sequence the same RoPE positions.
  const int64_t F = x.size(0);
  const at::Tensor zero_anchor = at::zeros_like(x);
  const at::Tensor own_anchor = anchor.defined() ? anchor : zero_anchor;
  std::vector<at::Tensor> xs, acts, anchors;
  std::vector<std::vector<attn::LayerAttention>*> caches;
  auto add_variant = [&](const at::Tensor& variant_actions, const at::Tensor& variant_anchor, std::vector<attn::LayerAttention>& cache) {
    xs.push_back(x);
    acts.push_back(variant_actions);
    anchors.push_back(variant_anchor);
    caches.push_back(&cache);
  };
  add_variant(actions, own_anchor, layers_);
  if (by_action) add_variant(at::zeros_like(actions), own_anchor, layers_);
  if (by_history) add_variant(actions, zero_anchor, empty_layers_);
  const int64_t parts = static_cast<int64_t>(xs.size());
  const at::Tensor tt = at::full({parts * F}, t, at::TensorOptions().dtype(at::kFloat).device(device_));
  const at::Tensor v_all = model_.dit->forward(
      at::cat(xs), tt, at::cat(acts), frame0_,
      [&](int layer, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
        const int64_t n = q.size(1) / parts;  // tokens of one variant ([H, N, hd])
        std::vector<at::Tensor> out;
        for (int64_t i = 0; i < parts; ++i)
          out.push_back((*caches[static_cast<size_t>(i)])[static_cast<size_t>(layer)].attend(q.narrow(1, i * n, n), k.narrow(1, i * n, n),
                                                                                           v.narrow(1, i * n, n), false));
        return at::cat(out, 1);
      },
      F, model_.config.anchor_frame ? at::cat(anchors) : at::Tensor());
  const std::vector<at::Tensor> v = v_all.chunk(parts, 0);
  at::Tensor out = v[0];
  if (by_action) out = guided(out, v[1], action_guidance_);
  if (by_history) out = guided(out, v[parts - 1], history_guidance_);
  return out;
}

void Rollout::set_context_noise(double sigma, uint64_t seed) {
  if (!(sigma >= 0 && sigma < 1)) throw std::invalid_argument("rollout: context noise must be in [0, 1), got " + std::to_string(sigma));
  sigma_ = sigma;
  noise_seed_ = seed;
}

double sampler_level(int step, int steps, double shift) {
  const double u = 1.0 - static_cast<double>(step) / steps;
  return shift * u / (1.0 + (shift - 1.0) * u);
}

void Rollout::set_action_guidance(double w) {
  if (!valid_action_guidance(w))
    throw std::invalid_argument("rollout: action guidance must be in [0, " + std::to_string(kMaxActionGuidance) + "], got " + std::to_string(w));
  action_guidance_ = w;
}

void Rollout::set_history_guidance(double w) {
  if (!valid_history_guidance(w))
    throw std::invalid_argument("rollout: history guidance must be in [0, " + std::to_string(kMaxHistoryGuidance) + "], got " + std::to_string(w));
  history_guidance_ = w;
  if (w != 1.0 && empty_layers_.empty()) {
    // Dense over an empty cache is the chunk attending to itself, whatever the rollout's method.
    attn::CacheParams cp = cache_params_;
    cp.recall_every = 0;
    for (int i = 0; i < model_.config.depth; ++i) empty_layers_.emplace_back(cp, attn::MethodConfig{});
  }
}

void Rollout::set_sample_shift(double shift) {
  if (!valid_sample_shift(shift)) throw std::invalid_argument("rollout: sample shift must be in (0, 100], got " + std::to_string(shift));
  shift_ = shift;
}

// The pass that writes frames' K/V: at the context noise level, with noise that depends only on
// (seed, first frame index), drawn on the CPU like chunk_noise so every device agrees.
void Rollout::commit_pass(const at::Tensor& latents, const at::Tensor& actions) {
  at::Tensor x = latents;
  if (sigma_ > 0) {
    std::vector<at::Tensor> parts;  // one seeded chunk of noise per chunk_frames frames committed
    for (int64_t f = 0; f < x.size(0); f += model_.config.chunk_frames) parts.push_back(chunk_noise(model_.config, noise_seed_ ^ 0xC0417E87ULL, frame0_ + f));
    const at::Tensor noise = at::cat(parts).narrow(0, 0, x.size(0));
    x = (1 - sigma_) * x + sigma_ * noise.to(x.device(), x.scalar_type());
  }
  const int64_t F = model_.config.chunk_frames;
  at::Tensor anchor;
  if (model_.config.anchor_frame) {
    // Anchors are per chunk: a pass that started mid-chunk would need a frame from before it.
    TORCH_CHECK(frame0_ % F == 0, "rollout: frames are committed in whole chunks of ", F, " (", frame0_, " committed so far)");
    anchor = model::chunk_anchors(x, F, x.size(0), last_committed_);
  }
  velocity(x, sigma_, actions, true, anchor);
  last_committed_ = x.narrow(0, x.size(0) - 1, 1);
  frame0_ += latents.size(0);
}

void Rollout::commit(const at::Tensor& latents, const at::Tensor& actions) {
  torch::NoGradGuard ng;
  commit_pass(latents.to(device_, dtype_), actions.to(device_, dtype_));
}

at::Tensor Rollout::generate(const at::Tensor& noise, const at::Tensor& actions, int steps,
                             const std::function<void()>& denoise_done, bool commit) {
  torch::NoGradGuard ng;
  const at::Tensor a = actions.to(device_, dtype_);
  at::Tensor x = noise.to(device_, dtype_);
  at::Tensor anchor;
  if (model_.config.anchor_frame && last_committed_.defined()) anchor = last_committed_.expand_as(x);
  for (int s = 0; s < steps; ++s) {
    const double t = sampler_level(s, steps, shift_), t_next = sampler_level(s + 1, steps, shift_);
    x = x + (t_next - t) * guided_velocity(x, t, a, anchor);
  }
  if (denoise_done) denoise_done();
  if (!commit) return x;
  commit_pass(x, a);  // writes this chunk's K/V into the cache
  return x;
}

at::Tensor Rollout::chunk_noise(const model::ModelConfig& c, uint64_t seed, int64_t chunk) {
  // Mix seed and chunk (SplitMix64 finaliser) so neighbouring chunks get unrelated streams.
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(chunk + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(z);
  return at::randn({c.chunk_frames, c.latent_channels, c.latent_grid(), c.latent_grid()}, gen, at::TensorOptions().dtype(at::kFloat));
}

std::vector<at::Tensor> rollout_from_scratch(model::WorldModel& model, const at::Tensor& context_latents,
                                             const at::Tensor& context_actions, const std::vector<at::Tensor>& noises,
                                             const std::vector<at::Tensor>& actions, int steps, double shift,
                                             double action_guidance, double history_guidance) {
  torch::NoGradGuard ng;
  const int64_t F = model.config.chunk_frames;
  at::Tensor history = context_latents, history_actions = context_actions;
  std::vector<at::Tensor> out;
  auto full_attend = [&](int64_t frames) {
    return [frames, F](int, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
      return model::block_causal_attention(q, k, v, frames, F);
    };
  };
  for (size_t c = 0; c < noises.size(); ++c) {
    at::Tensor x = noises[c].to(history.dtype());
    const at::Tensor acts = at::cat({history_actions, actions[c].to(history.dtype())}, 0);
    const int64_t frames = history.size(0) + F;
    for (int s = 0; s < steps; ++s) {
      const double t = sampler_level(s, steps, shift), t_next = sampler_level(s + 1, steps, shift);
      at::Tensor tt = at::cat({at::zeros({history.size(0)}), at::full({F}, t)});
      const at::Tensor seq = at::cat({history, x}, 0);
      const at::Tensor anchor = model.config.anchor_frame ? model::chunk_anchors(seq, F, frames) : at::Tensor();
      at::Tensor v = model.dit->forward(seq, tt, acts, 0, full_attend(frames), 0, anchor).narrow(0, history.size(0), F);
      if (action_guidance != 1.0) {
        // Only the chunk's own actions are zeroed: the history keeps its conditioning, as the
        // cache's K/V do in the rollout.
        const at::Tensor still = at::cat({history_actions, at::zeros_like(actions[c]).to(history.dtype())}, 0);
        v = guided(v, model.dit->forward(seq, tt, still, 0, full_attend(frames), 0, anchor).narrow(0, history.size(0), F), action_guidance);
      }
      if (history_guidance != 1.0) {
        // The chunk alone: no history, the zero anchor of a sequence's first chunk.
        const at::Tensor alone = model.config.anchor_frame ? model::chunk_anchors(x, F, F) : at::Tensor();
        v = guided(v, model.dit->forward(x, at::full({F}, t), actions[c].to(history.dtype()), 0, full_attend(F), 0, alone), history_guidance);
      }
      x = x + (t_next - t) * v;
    }
    out.push_back(x);
    history = at::cat({history, x}, 0);
    history_actions = acts;
  }
  return out;
}

}  // namespace sw::engine
