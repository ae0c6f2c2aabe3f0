// Model config, weights files (round trip, sharding, checks on load) and model info.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "model/model_io.h"
#include "model/networks.h"
#include "model/safetensors.h"

namespace sw::model {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) {
  const fs::path d = fs::path(testing::TempDir()) / ("sw_model_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return (d / name).string();
}

TEST(ModelConfig, NamedConfigsValidAndJsonRoundTrip) {
  for (const auto& n : config_names()) {
    const ModelConfig c = named_config(n);
    const ModelConfig back = config_from_json(config_to_json(c));
    EXPECT_EQ(config_to_json(back), config_to_json(c));
  }
  EXPECT_THROW(named_config("huge"), std::invalid_argument);
}

TEST(ModelConfig, InvalidValuesNamed) {
  auto msg = [](auto mutate) {
    ModelConfig c = named_config("tiny");
    mutate(c);
    try {
      c.validate();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(msg([](ModelConfig& c) { c.heads = 3; }).find("width"), std::string::npos);
  EXPECT_NE(msg([](ModelConfig& c) { c.block_size = 5; }).find("block_size"), std::string::npos);
  EXPECT_NE(msg([](ModelConfig& c) { c.downsample = 6; }).find("downsample"), std::string::npos);
  EXPECT_NE(msg([](ModelConfig& c) { c.chunk_frames = 0; }).find("chunk_frames"), std::string::npos);
  EXPECT_NE(msg([](ModelConfig& c) { c.anchor_frame = 2; }).find("anchor_frame"), std::string::npos);
  std::string j = config_to_json(named_config("tiny"));
  j.insert(1, "\"bogus\":1,");
  EXPECT_THROW(config_from_json(j), std::invalid_argument);
}

TEST(ModelConfig, FilesFromBeforeTheAnchorFieldLoadWithoutIt) {
  nlohmann::json j = nlohmann::json::parse(config_to_json(named_config("default")));
  ASSERT_EQ(j["anchor_frame"], 1);
  j.erase("anchor_frame");
  EXPECT_EQ(config_from_json(j.dump()).anchor_frame, 0);
}

TEST(Anchors, LastFrameOfThePreviousChunkPerSequence) {
  // 2 sequences of 6 frames, chunks of 2: frame i's anchor is frame floor(i/2)*2 - 1 of its own
  // sequence; the first chunk gets `before` (or zeros).
  const at::Tensor frames = at::arange(12, at::kFloat).view({12, 1, 1, 1}) + 1;  // frame k holds k + 1
  const at::Tensor got = chunk_anchors(frames, 2, 6).flatten();
  const std::vector<float> want = {0, 0, 2, 2, 4, 4, 0, 0, 8, 8, 10, 10};
  for (int i = 0; i < 12; ++i) EXPECT_EQ(got[i].item<float>(), want[static_cast<size_t>(i)]) << "frame " << i;
  const at::Tensor with_before = chunk_anchors(frames.narrow(0, 0, 6), 2, 6, at::full({1, 1, 1, 1}, -5.f)).flatten();
  EXPECT_EQ(with_before[0].item<float>(), -5.f);
  EXPECT_EQ(with_before[1].item<float>(), -5.f);
  EXPECT_EQ(with_before[2].item<float>(), 2.f);
}

TEST(Anchors, TheDiTReadsItsAnchorAndZeroWeightsIgnoreIt) {
  torch::NoGradGuard ng;
  const ModelConfig c = named_config("tiny");
  WorldModel m(c);
  at::manual_seed(2);
  for (auto& p : m.dit->parameters()) p.copy_(at::randn(p.sizes()) * 0.3);
  const int T = 2 * c.chunk_frames;
  const at::Tensor x = at::randn({T, c.latent_channels, c.latent_grid(), c.latent_grid()});
  const at::Tensor t = at::full({T}, 0.5), a = at::zeros({T, 5});
  auto full = [&](int, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) { return block_causal_attention(q, k, v, T, c.chunk_frames); };
  const at::Tensor anchor = at::randn_like(x);
  const at::Tensor with = m.dit->forward(x, t, a, 0, full, 0, anchor), without = m.dit->forward(x, t, a, 0, full);
  EXPECT_GT((with - without).abs().max().item<float>(), 1e-3);
  m.dit->anchor_embed->weight.zero_();
  m.dit->anchor_embed->bias.zero_();
  EXPECT_TRUE(at::allclose(m.dit->forward(x, t, a, 0, full, 0, anchor), m.dit->forward(x, t, a, 0, full)))
      << "zero anchor weights: the model without anchors";
}

TEST(Safetensors, RoundTripAllDtypes) {
  const std::string p = temp_path("rt.safetensors");
  std::map<std::string, at::Tensor> t = {{"f32", at::randn({3, 5})},
                                         {"bf16", at::randn({7}).to(at::kBFloat16)},
                                         {"f16", at::randn({2, 2}).to(at::kHalf)},
                                         {"i64", at::arange(9, at::kLong)},
                                         {"empty", at::zeros({0, 3})}};
  write_safetensors(p, t, {{"k", "v"}});
  const TensorFile back = read_safetensors(p);
  ASSERT_EQ(back.tensors.size(), t.size());
  for (const auto& [k, v] : t) {
    EXPECT_EQ(back.tensors.at(k).scalar_type(), v.scalar_type()) << k;
    EXPECT_TRUE(back.tensors.at(k).equal(v)) << k;
  }
  EXPECT_EQ(back.metadata.at("k"), "v");
  EXPECT_FALSE(fs::exists(p + ".tmp"));
}

TEST(Safetensors, ShardsAndReadsBack) {
  const std::string p = temp_path("sharded.safetensors");
  std::map<std::string, at::Tensor> t;
  for (int i = 0; i < 5; ++i) t["w" + std::to_string(i)] = at::randn({1000});  // 4000 bytes each
  const auto files = write_safetensors(p, t, {{"m", "1"}}, std::nullopt, 9000);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_NE(files[0].find("-00001-of-00003.safetensors"), std::string::npos);
  for (const auto& f : files) EXPECT_LE(fs::file_size(f), 9000u + 1000u);
  const TensorFile back = read_safetensors(files[1]);  // any shard reads the set
  ASSERT_EQ(back.tensors.size(), 5u);
  for (const auto& [k, v] : t) EXPECT_TRUE(back.tensors.at(k).equal(v));
  EXPECT_EQ(resolve_model_path(p), files[0]);
  fs::remove(files[2]);
  EXPECT_THROW(read_safetensors(files[0]), WeightsError);
}

TEST(ModelFile, InitInfoAndLoad) {
  const std::string p = temp_path("tiny.safetensors");
  init_model_file(named_config("tiny"), 1, p);
  const ModelInfo info = read_model_info(p);
  EXPECT_EQ(info.config.name, "tiny");
  EXPECT_GT(info.transformer_parameters, 1000);
  EXPECT_GT(info.tokenizer_parameters, 100);
  EXPECT_GT(info.flops_per_chunk, info.flops_per_forward);
  // The default config's size fits the shipping budget (<= 32 MB of bf16 weights).
  const ModelInfo def = compute_info(named_config("default"));
  EXPECT_LE((def.transformer_parameters + def.tokenizer_parameters) * 2, 32ll * 1000 * 1000);
}

TEST(ModelFile, WrongContentsRejectedWithFileName) {
  const std::string p = temp_path("bad.safetensors");
  // Not a SparseWorld model.
  write_safetensors(p, {{"x", at::ones({2})}}, {{"format", "other"}});
  try {
    load_model(p, at::kCPU, at::kFloat);
    FAIL();
  } catch (const WeightsError& e) {
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos);
  }
  // A tensor with the wrong shape.
  const std::string good = temp_path("good.safetensors");
  init_model_file(named_config("tiny"), 1, good);
  TensorFile tf = read_safetensors(good);
  tf.tensors["dit.embed.weight"] = at::zeros({3, 3});
  write_safetensors(p, tf.tensors, tf.metadata);
  try {
    load_model(p, at::kCPU, at::kFloat);
    FAIL();
  } catch (const WeightsError& e) {
    EXPECT_NE(std::string(e.what()).find("dit.embed.weight"), std::string::npos) << e.what();
  }
  // A missing tensor, and a truncated file.
  tf = read_safetensors(good);
  tf.tensors.erase("dit.out.bias");
  write_safetensors(p, tf.tensors, tf.metadata);
  EXPECT_THROW(load_model(p, at::kCPU, at::kFloat), WeightsError);
  fs::resize_file(good, fs::file_size(good) - 3);
  EXPECT_THROW(load_model(good, at::kCPU, at::kFloat), WeightsError);
  EXPECT_THROW(load_model(temp_path("nonexistent.safetensors"), at::kCPU, at::kFloat), WeightsError);
}

TEST(Rope, RelativeScoresDependOnlyOnOffsets) {
  // q . k after RoPE depends on the time offset, not on absolute time: shifting both by 1000
  // frames leaves scores unchanged (to fp32 precision), which is what lets rollouts run longer
  // than training clips.
  const ModelConfig c = named_config("tiny");
  at::Tensor q = at::randn({1, c.tokens_per_frame() * 2, c.head_dim()});
  at::Tensor k = at::randn({1, c.tokens_per_frame() * 2, c.head_dim()});
  auto [c0, s0] = rope_tables(c, 3, 2);
  auto [c1, s1] = rope_tables(c, 1003, 2);
  const at::Tensor a = at::matmul(apply_rope(q, c0, s0), apply_rope(k, c0, s0).transpose(1, 2));
  const at::Tensor b = at::matmul(apply_rope(q, c1, s1), apply_rope(k, c1, s1).transpose(1, 2));
  EXPECT_LT((a - b).abs().max().item<float>() / a.abs().max().item<float>(), 1e-4);
}

}  // namespace
}  // namespace sw::model
