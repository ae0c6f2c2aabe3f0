// Tokenizer and diffusion transformer (see networks.h). adaLN-Zero: per-frame conditioning
// (action + noise level) produces shift/scale/gate for each block, zero-initialised so a fresh
// model starts as the identity on its residual stream.
#include "networks.h"

#include <cmath>

#include "safetensors.h"

namespace sw::model {

namespace F = torch::nn::functional;

// ---------------------------------------------------------------- tokenizer
ResBlockImpl::ResBlockImpl(int channels) {
  conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, channels, 3).padding(1)));
  conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, channels, 3).padding(1)));
  torch::NoGradGuard ng;
  conv2->weight.zero_();
  conv2->bias.zero_();
}

at::Tensor ResBlockImpl::forward(const at::Tensor& x) { return x + conv2->forward(F::silu(conv1->forward(F::silu(x)))); }

namespace {
torch::nn::Conv2d conv(int in, int out, int kernel, int stride = 1) {
  // "Same" padding for the 1x1 and 3x3 convs; the 4x4 stride-2 conv halves the side exactly.
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel == 1 ? 0 : 1));
}
torch::nn::Upsample upsample2() {
  return torch::nn::Upsample(torch::nn::UpsampleOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest));
}
}  // namespace

TokenizerImpl::TokenizerImpl(const ModelConfig& c) {
  const int a = c.ae_channels, r = c.ae_res_blocks;
  const int levels = static_cast<int>(std::log2(c.downsample));
  torch::nn::Sequential enc, dec;
  if (r == 0) {
    // The shipped model's layout: unnamed modules, so its weights keep their names (encoder.0, ...).
    enc->push_back(conv(3, a, 3));
    for (int i = 0; i < levels; ++i) {
      enc->push_back(torch::nn::SiLU());
      enc->push_back(conv(a, a, 4, 2));
    }
    enc->push_back(torch::nn::SiLU());
    enc->push_back(conv(a, c.latent_channels, 1));
    dec->push_back(conv(c.latent_channels, a, 3));
    for (int i = 0; i < levels; ++i) {
      dec->push_back(torch::nn::SiLU());
      dec->push_back(upsample2());
      dec->push_back(conv(a, a, 3));
    }
    dec->push_back(torch::nn::SiLU());
    dec->push_back(conv(a, 3, 3));
  } else {
    auto res = [&](torch::nn::Sequential& seq, const std::string& prefix) {
      for (int k = 0; k < r; ++k) seq->push_back(prefix + "res" + std::to_string(k), ResBlock(a));
    };
    enc->push_back("conv_in", conv(3, a, 3));
    for (int l = 0; l < levels; ++l) {
      res(enc, "down" + std::to_string(l) + "_");
      enc->push_back("down" + std::to_string(l), conv(a, a, 4, 2));
    }
    res(enc, "mid_");
    enc->push_back("act_out", torch::nn::SiLU());
    enc->push_back("conv_out", conv(a, c.latent_channels, 1));
    dec->push_back("conv_in", conv(c.latent_channels, a, 3));
    res(dec, "mid_");
    for (int l = 0; l < levels; ++l) {
      // Names as temporaries: Sequential's variadic push_back would take an lvalue string for a module.
      dec->push_back("up" + std::to_string(l), upsample2());
      dec->push_back("up" + std::to_string(l) + "_conv", conv(a, a, 3));
      res(dec, "up" + std::to_string(l) + "_");
    }
    dec->push_back("act_out", torch::nn::SiLU());
    dec->push_back("conv_out", conv(a, 3, 3));
  }
  encoder = register_module("encoder", enc);
  decoder = register_module("decoder", dec);
  latent_scale = register_buffer("latent_scale", at::ones({1}));
}

std::vector<uint8_t> frames_to_rgb8(const at::Tensor& rgb) {
  const at::Tensor u8 = ((rgb.to(at::kFloat) + 1.0) * 127.5).round().clamp(0, 255).to(at::kByte).permute({0, 2, 3, 1}).contiguous().cpu();
  return std::vector<uint8_t>(u8.data_ptr<uint8_t>(), u8.data_ptr<uint8_t>() + u8.numel());
}

at::Tensor TokenizerImpl::encode(const at::Tensor& rgb) { return encoder->forward(rgb) * latent_scale; }
at::Tensor TokenizerImpl::decode(const at::Tensor& latents) { return decoder->forward(latents / latent_scale); }

// ---------------------------------------------------------------- RoPE
namespace {
struct RopeSplit {
  int64_t t, y, x;  // dims per axis, each even, summing to head_dim
};
RopeSplit rope_split(int64_t head_dim) {
  RopeSplit s;
  s.t = (head_dim / 4) & ~int64_t{1};
  s.y = ((head_dim - s.t) / 2) & ~int64_t{1};
  s.x = head_dim - s.t - s.y;
  return s;
}
}  // namespace

int64_t rope_time_dims(int64_t head_dim) { return rope_split(head_dim).t; }

std::pair<at::Tensor, at::Tensor> rope_tables(const ModelConfig& c, int64_t frame0, int64_t frames) {
  const int64_t g = c.latent_grid(), hd = c.head_dim(), n = frames * g * g;
  const RopeSplit s = rope_split(hd);
  std::vector<float> cos_v(static_cast<size_t>(n * hd)), sin_v(cos_v.size());
  for (int64_t f = 0; f < frames; ++f)
    for (int64_t y = 0; y < g; ++y)
      for (int64_t x = 0; x < g; ++x) {
        const int64_t tok = (f * g + y) * g + x;
        int64_t col = 0;
        // Each axis section is rotate-half style: first half paired with second half.
        for (auto [dims, pos] : {std::pair<int64_t, int64_t>{s.t, frame0 + f}, {s.y, y}, {s.x, x}}) {
          const int64_t half = dims / 2;
          for (int64_t i = 0; i < half; ++i) {
            const double freq = std::pow(c.rope_theta, -2.0 * static_cast<double>(i) / static_cast<double>(dims));
            const double ang = static_cast<double>(pos) * freq;
            const float cv = static_cast<float>(std::cos(ang)), sv = static_cast<float>(std::sin(ang));
            cos_v[tok * hd + col + i] = cv;
            cos_v[tok * hd + col + half + i] = cv;
            sin_v[tok * hd + col + i] = sv;
            sin_v[tok * hd + col + half + i] = sv;
          }
          col += dims;
        }
      }
  auto opts = at::TensorOptions().dtype(at::kFloat);
  return {at::from_blob(cos_v.data(), {n, hd}, opts).clone(), at::from_blob(sin_v.data(), {n, hd}, opts).clone()};
}

at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  // x: [H, N, hd]. rotate_half within each axis section: (a, b) -> (-b, a).
  const RopeSplit s = rope_split(x.size(-1));
  std::vector<at::Tensor> parts;
  int64_t col = 0;
  for (int64_t dims : {s.t, s.y, s.x}) {
    const int64_t half = dims / 2;
    parts.push_back(-x.narrow(-1, col + half, half));
    parts.push_back(x.narrow(-1, col, half));
    col += dims;
  }
  const at::Tensor rotated = at::cat(parts, -1);
  return x * cos.to(x.dtype()) + rotated * sin.to(x.dtype());
}

at::Tensor block_causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t frames,
                                  int64_t chunk_frames) {
  const int64_t n = q.size(1), per_frame = n / frames;
  at::Tensor frame = at::arange(n, at::TensorOptions().dtype(at::kLong).device(q.device())).div(per_frame, "floor");
  at::Tensor chunk = frame.div(chunk_frames, "floor");
  at::Tensor allowed = chunk.unsqueeze(1) >= chunk.unsqueeze(0);  // [n, n]: query chunk >= key chunk
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  at::Tensor scores = at::matmul(q.to(at::kFloat), k.to(at::kFloat).transpose(1, 2)) * scale;
  scores = scores.masked_fill(allowed.logical_not().unsqueeze(0), -std::numeric_limits<float>::infinity());
  return at::matmul(at::softmax(scores, -1), v.to(at::kFloat)).to(q.dtype());
}

at::Tensor chunk_anchors(const at::Tensor& committed, int64_t chunk_frames, int64_t sequence_frames, const at::Tensor& before) {
  const int64_t T = committed.size(0), S = sequence_frames, B = T / S;
  TORCH_CHECK(S > 0 && T % S == 0, "chunk_anchors: ", T, " frames are not whole sequences of ", S);
  const auto shape = committed.sizes().slice(1);
  std::vector<int64_t> seq_shape{B, S};
  seq_shape.insert(seq_shape.end(), shape.begin(), shape.end());
  const at::Tensor seqs = committed.reshape(seq_shape);
  const at::Tensor first = before.defined() ? before.to(committed.dtype()).unsqueeze(1).expand_as(seqs.narrow(1, 0, 1))
                                            : at::zeros_like(seqs.narrow(1, 0, 1));
  // Position 0 of `padded` is the frame before the sequence; frame i's anchor is position
  // floor(i / F) * F (the last frame of the previous chunk, shifted by the padding).
  const at::Tensor padded = at::cat({first, seqs}, 1);
  const at::Tensor idx = at::arange(S, at::TensorOptions().dtype(at::kLong).device(committed.device())).div(chunk_frames, "floor") * chunk_frames;
  return padded.index_select(1, idx).reshape(committed.sizes());
}

// ---------------------------------------------------------------- transformer
DiTBlockImpl::DiTBlockImpl(const ModelConfig& c) : heads(c.heads), head_dim(c.head_dim()) {
  const int d = c.width;
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).elementwise_affine(false).eps(1e-6)));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).elementwise_affine(false).eps(1e-6)));
  qkv = register_module("qkv", torch::nn::Linear(d, 3 * d));
  proj = register_module("proj", torch::nn::Linear(d, d));
  // QK-norm keeps attention logits bounded in bf16 and under sparse plans.
  q_norm = register_module("q_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({head_dim}).eps(1e-6)));
  k_norm = register_module("k_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({head_dim}).eps(1e-6)));
  fc1 = register_module("fc1", torch::nn::Linear(d, d * c.mlp_ratio));
  fc2 = register_module("fc2", torch::nn::Linear(d * c.mlp_ratio, d));
  ada = register_module("ada", torch::nn::Linear(c.cond_dim, 6 * d));
  torch::NoGradGuard ng;
  ada->weight.zero_();
  ada->bias.zero_();
}

at::Tensor DiTBlockImpl::forward(const at::Tensor& x, const at::Tensor& cond, const at::Tensor& cos, const at::Tensor& sin,
                                 int layer, const AttendFn& attend) {
  const int64_t T = x.size(0), P = x.size(1), D = x.size(2);
  auto mod = ada->forward(cond).unsqueeze(1).chunk(6, -1);  // each [T, 1, D]
  at::Tensor h = norm1->forward(x) * (1 + mod[1]) + mod[0];
  at::Tensor qkv_t = qkv->forward(h).view({T * P, 3, heads, head_dim}).permute({1, 2, 0, 3});  // [3, H, N, hd]
  at::Tensor q = q_norm->forward(qkv_t[0]), k = k_norm->forward(qkv_t[1]), v = qkv_t[2].contiguous();
  q = apply_rope(q, cos, sin).contiguous();
  k = apply_rope(k, cos, sin).contiguous();
  at::Tensor a = attend(layer, q, k, v);                 // [H, N, hd]
  a = a.permute({1, 0, 2}).reshape({T, P, D});
  at::Tensor out = x + mod[2] * proj->forward(a);
  h = norm2->forward(out) * (1 + mod[4]) + mod[3];
  return out + mod[5] * fc2->forward(F::gelu(fc1->forward(h), F::GELUFuncOptions().approximate("tanh")));
}

DiTImpl::DiTImpl(const ModelConfig& c) : config(c) {
  embed = register_module("embed", torch::nn::Linear(c.latent_channels, c.width));
  t_fc1 = register_module("t_fc1", torch::nn::Linear(c.cond_dim, c.cond_dim));
  t_fc2 = register_module("t_fc2", torch::nn::Linear(c.cond_dim, c.cond_dim));
  a_fc = register_module("a_fc", torch::nn::Linear(c.action_dim, c.cond_dim));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < c.depth; ++i) blocks->push_back(DiTBlock(c));
  final_norm = register_module("final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.width}).elementwise_affine(false).eps(1e-6)));
  final_ada = register_module("final_ada", torch::nn::Linear(c.cond_dim, 2 * c.width));
  out = register_module("out", torch::nn::Linear(c.width, c.latent_channels));
  if (c.anchor_frame) anchor_embed = register_module("anchor_embed", torch::nn::Linear(c.latent_channels, c.width));
  torch::NoGradGuard ng;
  // Zero: a model without anchors loads into one with them (train --init) and starts unchanged.
  if (c.anchor_frame) {
    anchor_embed->weight.zero_();
    anchor_embed->bias.zero_();
  }
  final_ada->weight.zero_();
  final_ada->bias.zero_();
  out->weight.zero_();
  out->bias.zero_();
}

at::Tensor DiTImpl::forward(const at::Tensor& latents, const at::Tensor& t, const at::Tensor& actions, int64_t frame0,
                            const AttendFn& attend, int64_t sequence_frames, const at::Tensor& anchor) {
  const ModelConfig& c = config;
  const int64_t T = latents.size(0), g = c.latent_grid();
  // Sinusoidal noise-level embedding (t scaled to [0, 1000] like the usual diffusion timestep).
  const int64_t half = c.cond_dim / 2;
  at::Tensor freqs = at::exp(at::arange(half, t.options().dtype(at::kFloat)) * (-std::log(10000.0) / static_cast<double>(half)));
  at::Tensor ang = t.to(at::kFloat).unsqueeze(1) * 1000.0 * freqs.unsqueeze(0);
  at::Tensor temb = at::cat({at::cos(ang), at::sin(ang)}, 1);
  if (temb.size(1) < c.cond_dim) temb = at::cat({temb, at::zeros({T, c.cond_dim - temb.size(1)}, temb.options())}, 1);
  temb = temb.to(latents.dtype());
  at::Tensor cond = t_fc2->forward(F::silu(t_fc1->forward(temb))) + a_fc->forward(actions.to(latents.dtype()));
  cond = F::silu(cond);

  at::Tensor x = embed->forward(latents.flatten(2).transpose(1, 2));  // [T, P, D]
  if (c.anchor_frame) {
    // The bias applies with or without an anchor: "no anchor" is the zero latent, as in training.
    const at::Tensor a = anchor.defined() ? anchor.to(latents.dtype()) : at::zeros_like(latents);
    TORCH_CHECK(a.sizes() == latents.sizes(), "DiT::forward: anchor ", a.sizes(), " does not match latents ", latents.sizes());
    x = x + anchor_embed->forward(a.flatten(2).transpose(1, 2));
  }
  const int64_t seq = sequence_frames > 0 ? sequence_frames : T;
  TORCH_CHECK(T % seq == 0, "DiT::forward: ", T, " frames are not a whole number of ", seq, "-frame sequences");
  RopeCache& rc = rope_cache_;
  if (rc.frame0 != frame0 || rc.frames != seq || rc.repeats != T / seq || rc.device != latents.device()) {
    auto [cos_t, sin_t] = rope_tables(c, frame0, seq);
    rc = RopeCache{frame0, seq, T / seq, latents.device(), cos_t.repeat({T / seq, 1}).to(latents.device()),
                   sin_t.repeat({T / seq, 1}).to(latents.device())};
  }
  const at::Tensor &cos = rc.cos, &sin = rc.sin;
  for (size_t i = 0; i < blocks->size(); ++i) x = blocks[i]->as<DiTBlock>()->forward(x, cond, cos, sin, static_cast<int>(i), attend);
  auto mod = final_ada->forward(cond).unsqueeze(1).chunk(2, -1);
  x = final_norm->forward(x) * (1 + mod[1]) + mod[0];
  return out->forward(x).transpose(1, 2).reshape({T, c.latent_channels, g, g});
}

// ---------------------------------------------------------------- whole model
WorldModel::WorldModel(const ModelConfig& c) : config(c), tokenizer(c), dit(c) {}

std::map<std::string, at::Tensor> WorldModel::state_dict() const {
  std::map<std::string, at::Tensor> out;
  for (const auto& p : tokenizer->named_parameters()) out["tokenizer." + p.key()] = p.value();
  for (const auto& b : tokenizer->named_buffers()) out["tokenizer." + b.key()] = b.value();
  for (const auto& p : dit->named_parameters()) out["dit." + p.key()] = p.value();
  return out;
}

void WorldModel::load_state_dict(const std::map<std::string, at::Tensor>& tensors, const std::string& file) {
  torch::NoGradGuard ng;
  auto params = state_dict();
  for (auto& [name, param] : params) {
    auto it = tensors.find(name);
    if (it == tensors.end()) throw WeightsError("weights '" + file + "': missing tensor '" + name + "'");
    if (it->second.sizes() != param.sizes())
      throw WeightsError("weights '" + file + "': tensor '" + name + "' has shape " + std::string(c10::str(it->second.sizes())) +
                         ", the config needs " + std::string(c10::str(param.sizes())));
    if (!it->second.is_floating_point()) throw WeightsError("weights '" + file + "': tensor '" + name + "' is not floating point");
    param.copy_(it->second.to(param.dtype()));
  }
  if (tensors.size() != params.size()) {
    for (const auto& [name, t] : tensors)
      if (!params.count(name)) throw WeightsError("weights '" + file + "': unexpected tensor '" + name + "'");
  }
}

std::vector<std::string> WorldModel::load_matching(const std::map<std::string, at::Tensor>& tensors) {
  torch::NoGradGuard ng;
  auto mine = state_dict();
  auto matches = [&](const std::string& name) {
    auto it = tensors.find(name);
    return it != tensors.end() && it->second.sizes() == mine.at(name).sizes() && it->second.is_floating_point();
  };
  // latent_scale normalises what this encoder produces: it only means something with the
  // encoder it was measured on.
  // The same encoder means the same set of encoder tensors on both sides, all matching (a file
  // with more residual blocks per level would otherwise pass: ours would all be found in it).
  bool whole_encoder = true;
  size_t mine_encoder = 0, file_encoder = 0;
  for (const auto& [name, t] : mine)
    if (name.rfind("tokenizer.encoder.", 0) == 0) {
      ++mine_encoder;
      whole_encoder = whole_encoder && matches(name);
    }
  for (const auto& [name, t] : tensors) file_encoder += name.rfind("tokenizer.encoder.", 0) == 0;
  whole_encoder = whole_encoder && mine_encoder == file_encoder;
  std::vector<std::string> fresh;
  for (auto& [name, t] : mine) {
    if (matches(name) && (name != "tokenizer.latent_scale" || whole_encoder)) t.copy_(tensors.at(name).to(t.dtype()));
    else fresh.push_back(name);
  }
  return fresh;
}

void WorldModel::to(at::Device device, at::ScalarType dtype) {
  tokenizer->to(device, dtype);
  dit->to(device, dtype);
}

ModelInfo compute_info(const ModelConfig& c) {
  ModelInfo info;
  info.config = c;
  WorldModel m(c);
  for (const auto& p : m.tokenizer->parameters()) info.tokenizer_parameters += p.numel();
  for (const auto& p : m.dit->parameters()) info.transformer_parameters += p.numel();
  // Matmul FLOPs (2 per multiply-add) for one pass over a chunk whose queries see a full window.
  const double D = c.width, N = static_cast<double>(c.chunk_frames) * c.tokens_per_frame();
  const double kv = static_cast<double>(c.sink_frames + c.window_frames + c.chunk_frames) * c.tokens_per_frame();
  const double per_layer = N * (2 * 3 * D * D + 2 * D * D + 2 * 2 * D * D * c.mlp_ratio) + 2 * 2 * N * kv * D;
  info.flops_per_forward = c.depth * per_layer + N * 2 * 2 * c.latent_channels * D;
  // Decoder convs (3x3 kernels): ae_res_blocks residual blocks of two convs at the latent
  // resolution, then per upsampling level one conv and the blocks at its output resolution, then
  // the RGB conv. The small latent -> width input conv is left out.
  const double width_conv = 2.0 * c.ae_channels * c.ae_channels * 9;  // FLOPs per pixel of one width -> width conv
  const double g = c.latent_grid();
  double dec = 2.0 * c.ae_res_blocks * width_conv * g * g;
  for (int s = c.latent_grid(); s < c.frame_size; s *= 2) dec += (1.0 + 2.0 * c.ae_res_blocks) * width_conv * (2.0 * s) * (2.0 * s);
  dec += 2.0 * c.frame_size * c.frame_size * c.ae_channels * 3 * 9;
  info.flops_per_chunk = (c.sample_steps + 1) * info.flops_per_forward + c.chunk_frames * dec;
  return info;
}

}  // namespace sw::model
