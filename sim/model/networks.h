// The neural world's networks (internal to sim/): a convolutional autoencoder tokenizer and a
// diffusion transformer over latent tokens. Attention is a callback so one forward serves the
// KV-cached rollout (through sw::attn::LayerAttention plans) and full-sequence recomputation
// (block-causal reference, used by tests and training).
// Test: tests/model/test_model.cpp.
#pragma once

#include <torch/nn.h>

#include <functional>

#include "sparseworld/sim/model.h"

namespace sw::model {

// x + conv3x3(silu(conv3x3(silu(x)))) at constant width, the second conv zero-initialised: a
// fresh block is the identity, so stacks of them train stably without normalisation layers.
struct ResBlockImpl : torch::nn::Module {
  explicit ResBlockImpl(int channels);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
};
TORCH_MODULE(ResBlock);

// RGB frames [N, 3, S, S] in [-1, 1] <-> latents [N, C, S/d, S/d]. With ae_res_blocks = 0: one
// strided conv per level down, one upsample + conv per level up (modules numbered 0, 1, ... as
// the shipped weights name them). With r > 0, named stages (tokenizer.encoder.<stage>.*):
//   encoder: conv_in, per level l: down<l>_res<k> (k < r) then down<l> (stride 2), mid_res<k>,
//            act_out (SiLU), conv_out (1x1 to latent channels)
//   decoder: conv_in, mid_res<k>, per level l: up<l> (nearest x2), up<l>_conv, up<l>_res<k>,
//            act_out (SiLU), conv_out (3x3 to RGB)
struct TokenizerImpl : torch::nn::Module {
  explicit TokenizerImpl(const ModelConfig& c);
  at::Tensor encode(const at::Tensor& rgb);      // scaled latents (unit variance after AE training)
  at::Tensor decode(const at::Tensor& latents);
  torch::nn::Sequential encoder{nullptr}, decoder{nullptr};
  at::Tensor latent_scale;  // buffer, scalar: set from the latents' std after the AE stage
};
TORCH_MODULE(Tokenizer);

// Decoded frames [N, 3, S, S] in [-1, 1] -> N x S x S x 3 RGB8, rounded and clamped as the neural
// world rounds its frames: what eval and the trainer's tokenizer check score.
std::vector<uint8_t> frames_to_rgb8(const at::Tensor& rgb);

// attend(layer, q, k, v) -> out; q/k/v: [heads, tokens, head_dim] (RoPE already applied).
using AttendFn = std::function<at::Tensor(int layer, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v)>;

struct DiTBlockImpl : torch::nn::Module {
  DiTBlockImpl(const ModelConfig& c);
  // x: [T, P, D] tokens of T frames; mod_in: [T, cond_dim]; rope: cos/sin [T*P, head_dim].
  at::Tensor forward(const at::Tensor& x, const at::Tensor& cond, const at::Tensor& cos, const at::Tensor& sin, int layer,
                     const AttendFn& attend);
  int heads, head_dim;
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Linear qkv{nullptr}, proj{nullptr}, fc1{nullptr}, fc2{nullptr}, ada{nullptr};
  torch::nn::LayerNorm q_norm{nullptr}, k_norm{nullptr};
};
TORCH_MODULE(DiTBlock);

struct DiTImpl : torch::nn::Module {
  explicit DiTImpl(const ModelConfig& c);
  // latents [T, C, g, g] at per-frame noise levels t [T] in [0, 1], actions [T, action_dim],
  // absolute index of the first frame `frame0` -> velocity [T, C, g, g]. For training batches,
  // T = B * sequence_frames: B sequences stacked, RoPE time restarting at frame0 for each, and
  // the attention callback receives all B sequences' tokens in order (it must keep them apart).
  // `anchor` [T, C, g, g]: each frame's anchor latent (chunk_anchors; config.anchor_frame), an
  // undefined tensor for none (zeros, as for the first chunk of a rollout).
  at::Tensor forward(const at::Tensor& latents, const at::Tensor& t, const at::Tensor& actions, int64_t frame0,
                     const AttendFn& attend, int64_t sequence_frames = 0, const at::Tensor& anchor = {});
  ModelConfig config;
  torch::nn::Linear embed{nullptr}, t_fc1{nullptr}, t_fc2{nullptr}, a_fc{nullptr}, final_ada{nullptr}, out{nullptr};
  torch::nn::Linear anchor_embed{nullptr};  // config.anchor_frame only; zero-initialised
  torch::nn::LayerNorm final_norm{nullptr};
  torch::nn::ModuleList blocks{nullptr};

 private:
  // RoPE tables of the last (frame0, frames, device): training asks for the same ones every step
  // and building them on the host costs milliseconds.
  struct RopeCache {
    int64_t frame0 = -1, frames = -1, repeats = 0;
    at::Device device{at::kCPU};
    at::Tensor cos, sin;
  } rope_cache_;
};
TORCH_MODULE(DiT);

// The anchor of every frame of B stacked sequences of `sequence_frames` frames (each starting at a
// chunk boundary): the committed latent of the last frame before the frame's chunk, taken from
// `committed` [B*T, C, g, g]; frames of a sequence's first chunk get `before` [1 or B, C, g, g]
// (the frame committed before the sequence) or zeros when it is undefined.
at::Tensor chunk_anchors(const at::Tensor& committed, int64_t chunk_frames, int64_t sequence_frames, const at::Tensor& before = {});

// 3D RoPE tables for T frames starting at frame0: cos, sin [T*g*g, head_dim] (float32).
// Angles are computed in double from integer positions, so long rollouts keep precision.
std::pair<at::Tensor, at::Tensor> rope_tables(const ModelConfig& c, int64_t frame0, int64_t frames);
at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);
// Dims of head_dim that rotate with the frame index: the first section of every head (what
// attention needs to move cached keys in time, attn::CacheParams::rope_time_dims).
int64_t rope_time_dims(int64_t head_dim);

// Full-sequence block-causal attention in plain ops: tokens of frame i attend to frame j when
// chunk(j) <= chunk(i). The reference that cached rollouts must reproduce.
at::Tensor block_causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t frames,
                                  int64_t chunk_frames);

// Both networks and their state dict naming in weights files ("tokenizer.*", "dit.*").
struct WorldModel {
  explicit WorldModel(const ModelConfig& c);
  ModelConfig config;
  Tokenizer tokenizer;
  DiT dit;
  std::map<std::string, at::Tensor> state_dict() const;
  void load_state_dict(const std::map<std::string, at::Tensor>& tensors, const std::string& file);
  // Copies every tensor of `tensors` whose name and shape match one of this model's (train
  // --init-partial: a new tokenizer under the transformer of an older model); returns the names
  // of those that keep their current values. tokenizer.latent_scale is copied only together with
  // the whole encoder it was measured on.
  std::vector<std::string> load_matching(const std::map<std::string, at::Tensor>& tensors);
  void to(at::Device device, at::ScalarType dtype);
};

ModelInfo compute_info(const ModelConfig& c);

}  // namespace sw::model
