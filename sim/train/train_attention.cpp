// The training attention (see train_attention.h).
#include "train_attention.h"

#include <torch/nn.h>

#include <limits>

#include "torch_compat.h"

namespace sw::train {

// Block id of each token of one frame: tiles of block_size tokens, the most square tiling, the
// same grouping as attention/ uses at inference.
at::Tensor token_blocks(const model::ModelConfig& c) {
  const int g = c.latent_grid(), b = c.block_size;
  int best_h = 0;
  for (int th = 1; th <= g; ++th)
    if (b % th == 0 && g % th == 0 && g % (b / th) == 0 && (best_h == 0 || std::abs(th - b / th) < std::abs(best_h - b / best_h))) best_h = th;
  TORCH_CHECK(best_h > 0, "block_size ", b, " does not tile a ", g, "x", g, " token grid");
  const int th = best_h, tw = b / th, per_row = g / tw;
  std::vector<int64_t> ids(static_cast<size_t>(g * g));
  for (int y = 0; y < g; ++y)
    for (int x = 0; x < g; ++x) ids[static_cast<size_t>(y * g + x)] = (y / th) * per_row + x / tw;
  return at::tensor(ids, at::kLong);
}

void TrainAttention::setup(int64_t sequences, int64_t frames, at::Device dev) {
  B = sequences;
  T = frames;
  const int64_t P = c.tokens_per_frame(), nb = P / c.block_size;
  const at::Tensor in_frame = token_blocks(c);
  tok_block = (at::arange(T, at::kLong).unsqueeze(1) * nb + in_frame.unsqueeze(0)).reshape({T * P}).to(dev);
  blk_frame = at::arange(T * nb, at::kLong).div(nb, "floor").to(dev);
  blk_chunk = blk_frame.div(c.chunk_frames, "floor");
}

at::Tensor TrainAttention::operator()(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) const {
  const int64_t H = q.size(0), N = q.size(1) / B, D = q.size(2);
  auto split = [&](const at::Tensor& x) { return x.view({H, B, N, D}).permute({1, 0, 2, 3}); };
  const at::Tensor qs = split(q), ks = split(k), vs = split(v);
  const at::Tensor bias = mask_bias(qs, ks);  // [B or 1, H or 1, N, N]
  const at::Tensor out = compat::biased_attention(qs, ks, vs, bias);
  return out.permute({1, 0, 2, 3}).reshape({H, B * N, D});
}

// The mask as an additive bias in the attention's dtype (bf16 under CUDA autocast), expanded
// from block decisions straight to tokens: the [B, H, N, N] tensor is written once and read by
// the fused kernel as is (a boolean token mask cost a gather, a conversion and twice the bytes).
at::Tensor TrainAttention::mask_bias(const at::Tensor& qs, const at::Tensor& ks) const {
  torch::NoGradGuard ng;
  const int64_t S = c.sink_frames, W = c.window_frames, F = c.chunk_frames;
  const at::Tensor qc = blk_chunk.unsqueeze(1), kc = blk_chunk.unsqueeze(0), kf = blk_frame.unsqueeze(0);
  const at::Tensor same_chunk = qc == kc;
  const at::Tensor past = kc < qc;
  at::Tensor block_keep;
  if (kind == "dense") {
    block_keep = (same_chunk | past).unsqueeze(0).unsqueeze(0);
  } else {
    const at::Tensor chunk_start = qc * F;
    const at::Tensor sink = past & (kf < S);
    const at::Tensor in_window = past & (kf >= chunk_start - W) & (kf >= S);
    if (kind == "window") {
      block_keep = (same_chunk | sink | in_window).unsqueeze(0).unsqueeze(0);
    } else {
      // Sparse forcing: pooled q . pooled k per head picks the top-k window blocks and the top
      // memory blocks among frames that already left the window (what the persistent memory
      // would hold at inference).
      const int64_t nblk = blk_frame.size(0);
      auto pool = [&](const at::Tensor& x) {
        return at::zeros({x.size(0), x.size(1), nblk, x.size(3)}, x.options().dtype(at::kFloat))
            .index_add_(2, tok_block, x.to(at::kFloat)) / static_cast<double>(c.block_size);
      };
      const at::Tensor score = at::matmul(pool(qs), pool(ks).transpose(-2, -1));  // [B, H, NB, NB]
      const at::Tensor out_window = past & (kf < chunk_start - W) & (kf >= S);
      auto top = [&](const at::Tensor& allowed, int64_t k) {
        const int64_t kk = std::min<int64_t>(k, nblk);
        const at::Tensor s = score.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
        auto [val, idx] = s.topk(kk, -1);
        return at::zeros_like(s, s.options().dtype(at::kBool)).scatter(-1, idx, val > -std::numeric_limits<float>::infinity());
      };
      block_keep = (same_chunk | sink).unsqueeze(0).unsqueeze(0) | top(in_window, top_k);
      if (memory > 0) block_keep = block_keep | top(out_window, memory);
    }
  }
  const at::ScalarType dt = qs.is_cuda() ? at::kBFloat16 : qs.scalar_type();
  const at::Tensor block_bias = at::zeros(block_keep.sizes(), qs.options().dtype(dt))
                                    .masked_fill_(block_keep.logical_not(), -std::numeric_limits<float>::infinity());
  // [.., NB, NB] -> [.., NB, N] (small) -> [.., N, N] (one pass over the big tensor).
  return block_bias.index_select(-1, tok_block).index_select(-2, tok_block);
}

}  // namespace sw::train
