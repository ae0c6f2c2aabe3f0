// The training attention (internal to sim/train): block-causal attention over B stacked
// sequences with the mask of the attention method the model trains under (dense, window, or
// sparse-forcing: top-k window blocks and top memory blocks by pooled q.k, as the rollout's
// plans pick them), as an additive bias for the fused SDPA kernel.
// Test: tests/train/test_train_attention.cpp (dense == model::block_causal_attention).
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "sparseworld/sim/model.h"

namespace sw::train {

// Block id of each token of one frame: tiles of block_size tokens, the most square tiling, the
// same grouping as attention/ uses at inference.
at::Tensor token_blocks(const model::ModelConfig& c);

struct TrainAttention {
  model::ModelConfig c;
  std::string kind;  // dense | window | sparse-forcing
  int top_k = 8, memory = 16;
  int64_t T = 0, B = 0;
  at::Tensor tok_block{};           // [N] block id within the sequence for each token
  at::Tensor blk_frame{}, blk_chunk{};  // [NB]

  // B sequences of T frames each, on `dev`; call before operator() when the shape changes.
  void setup(int64_t sequences, int64_t frames, at::Device dev);
  // q, k, v: [H, B*N, D] (the DiT's attention callback layout) -> [H, B*N, D].
  at::Tensor operator()(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) const;
  // The mask as an additive bias (0 / -inf) broadcastable to [B, H, N, N].
  at::Tensor mask_bias(const at::Tensor& qs, const at::Tensor& ks) const;
};

}  // namespace sw::train
