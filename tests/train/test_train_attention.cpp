// The trainer's attention against the inference reference: with the dense mask it must be
// model::block_causal_attention on each of the B stacked sequences (the rollout is checked
// against that reference, so training and inference then see the same attention); the window
// and sparse-forcing masks keep their own chunk and the sink and never look ahead.
#include <gtest/gtest.h>

#include <limits>

#include "model/networks.h"
#include "train/train_attention.h"

namespace sw {
namespace {

double rel_err(const at::Tensor& a, const at::Tensor& b) { return ((a - b).norm() / b.norm()).item<double>(); }

TEST(TrainAttention, DenseEqualsBlockCausalReferencePerSequence) {
  torch::NoGradGuard ng;
  model::ModelConfig c = model::named_config("tiny");
  for (int frames : {2, 6, 8}) {
    for (int sequences : {1, 3}) {
      at::manual_seed(frames * 10 + sequences);
      const int64_t H = c.heads, D = c.head_dim(), N = static_cast<int64_t>(frames) * c.tokens_per_frame();
      const at::Tensor q = at::randn({H, sequences * N, D}), k = at::randn({H, sequences * N, D}), v = at::randn({H, sequences * N, D});
      train::TrainAttention attn{c, "dense"};
      attn.setup(sequences, frames, at::kCPU);
      const at::Tensor got = attn(q, k, v);
      for (int b = 0; b < sequences; ++b) {
        auto part = [&](const at::Tensor& x) { return x.narrow(1, b * N, N); };
        const at::Tensor want = model::block_causal_attention(part(q), part(k), part(v), frames, c.chunk_frames);
        EXPECT_LT(rel_err(part(got), want), 1e-5) << frames << " frames, sequence " << b << " of " << sequences;
      }
    }
  }
}

TEST(TrainAttention, EveryMaskKeepsOwnChunkAndSinkAndNeverLooksAhead) {
  torch::NoGradGuard ng;
  model::ModelConfig c = model::named_config("tiny");
  const int frames = 12;  // more than sink + window + chunk: the window drops frames
  const int64_t P = c.tokens_per_frame(), N = frames * P;
  at::manual_seed(5);
  const at::Tensor qs = at::randn({2, c.heads, N, c.head_dim()}), ks = at::randn({2, c.heads, N, c.head_dim()});
  for (const char* kind : {"dense", "window", "sparse-forcing"}) {
    train::TrainAttention attn{c, kind, 2, 2};
    attn.setup(2, frames, at::kCPU);
    const at::Tensor keep = attn.mask_bias(qs, ks).expand({2, c.heads, N, N}).isfinite();
    const at::Tensor frame = at::arange(N).div(P, "floor"), chunk = frame.div(c.chunk_frames, "floor");
    const at::Tensor qc = chunk.view({1, 1, N, 1}), kc = chunk.view({1, 1, 1, N}), kf = frame.view({1, 1, 1, N});
    EXPECT_FALSE((keep & (kc > qc)).any().item<bool>()) << kind << " looks ahead";
    EXPECT_TRUE(keep.masked_select((kc == qc).expand_as(keep)).all().item<bool>()) << kind << " drops its own chunk";
    EXPECT_TRUE(keep.masked_select(((kf < c.sink_frames) & (kc <= qc)).expand_as(keep)).all().item<bool>()) << kind << " drops the sink";
    const double kept = keep.to(at::kFloat).mean().item<double>();
    if (std::string(kind) == "dense") EXPECT_NEAR(kept, (kc <= qc).to(at::kFloat).mean().item<double>() * 1.0, 1e-6);
    else EXPECT_LT(kept, (kc <= qc).to(at::kFloat).mean().item<double>()) << kind << " should drop something at 12 frames";
  }
}

}  // namespace
}  // namespace sw
