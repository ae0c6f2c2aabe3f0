// Model config, weights files (round trip, sharding, checks on load) and model info.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "model/model_io.h"
#include "model/networks.h"
#include "time_shift.h"
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

TEST(ModelConfig, Latent32DiffersFromDefaultOnlyInLatentChannels) {
  ModelConfig c = named_config("latent32");
  EXPECT_EQ(c.latent_channels, 2 * named_config("default").latent_channels);
  c.latent_channels = named_config("default").latent_channels;
  c.name = "default";
  EXPECT_EQ(config_to_json(c), config_to_json(named_config("default")));
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

TEST(ModelConfig, FilesFromBeforeTheResBlockFieldLoadWithoutItAndBadValuesAreNamed) {
  nlohmann::json j = nlohmann::json::parse(config_to_json(named_config("default")));
  ASSERT_EQ(j["ae_res_blocks"], named_config("default").ae_res_blocks);
  j.erase("ae_res_blocks");
  EXPECT_EQ(config_from_json(j.dump()).ae_res_blocks, 0);
  for (int bad : {-1, 5}) {
    j["ae_res_blocks"] = bad;
    try {
      config_from_json(j.dump());
      ADD_FAILURE() << "ae_res_blocks " << bad << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("ae_res_blocks"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(std::to_string(bad)), std::string::npos) << e.what();
    }
  }
}

// The tokenizer of the models shipped until session 5 (run 8): ae_res_blocks 0, latent_channels 8.
ModelConfig shipped_tokenizer_config() {
  ModelConfig c = named_config("default");
  c.latent_channels = 8;
  c.ae_res_blocks = 0;
  return c;
}

std::map<std::string, std::vector<int64_t>> tokenizer_shapes(const ModelConfig& c) {
  WorldModel m(c);
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& [name, t] : m.state_dict())
    if (name.rfind("tokenizer.", 0) == 0) out[name] = t.sizes().vec();
  return out;
}

TEST(Tokenizer, NoResBlocksIsTheRun8Layout) {
  // Names and shapes the run-8 weights files hold (written before res blocks existed).
  const std::map<std::string, std::vector<int64_t>> want = {
      {"tokenizer.encoder.0.weight", {64, 3, 3, 3}},  {"tokenizer.encoder.0.bias", {64}},
      {"tokenizer.encoder.2.weight", {64, 64, 4, 4}}, {"tokenizer.encoder.2.bias", {64}},
      {"tokenizer.encoder.4.weight", {64, 64, 4, 4}}, {"tokenizer.encoder.4.bias", {64}},
      {"tokenizer.encoder.6.weight", {64, 64, 4, 4}}, {"tokenizer.encoder.6.bias", {64}},
      {"tokenizer.encoder.8.weight", {8, 64, 1, 1}},  {"tokenizer.encoder.8.bias", {8}},
      {"tokenizer.decoder.0.weight", {64, 8, 3, 3}},  {"tokenizer.decoder.0.bias", {64}},
      {"tokenizer.decoder.3.weight", {64, 64, 3, 3}}, {"tokenizer.decoder.3.bias", {64}},
      {"tokenizer.decoder.6.weight", {64, 64, 3, 3}}, {"tokenizer.decoder.6.bias", {64}},
      {"tokenizer.decoder.9.weight", {64, 64, 3, 3}}, {"tokenizer.decoder.9.bias", {64}},
      {"tokenizer.decoder.11.weight", {3, 64, 3, 3}}, {"tokenizer.decoder.11.bias", {3}},
      {"tokenizer.latent_scale", {1}}};
  EXPECT_EQ(tokenizer_shapes(shipped_tokenizer_config()), want);
  // A model of that layout still saves and loads (files without the ae_res_blocks field: see
  // FilesFromBeforeTheResBlockField...).
  const std::string path = temp_path("old_layout.safetensors");
  save_model(WorldModel(shipped_tokenizer_config()), path);
  auto old = load_model(path, at::kCPU, at::kFloat);
  EXPECT_EQ(old->config.ae_res_blocks, 0);
  EXPECT_EQ(old->config.latent_channels, 8);
  std::filesystem::remove(path);
}

TEST(ShippedModel, LoadsWithTheDefaultConfigInTwoShardsUnder16MB) {
  // Since session 5 the shipped model (run 11) has the default config's residual tokenizer.
  const std::string shipped = std::string(SW_SOURCE_DIR) + "/assets/model.safetensors";
  ModelInfo info;
  auto m = load_model(shipped, at::kCPU, at::kFloat, &info);
  EXPECT_EQ(config_to_json(m->config), config_to_json(named_config("default")));
  ASSERT_EQ(info.files.size(), 2u);
  int64_t total = 0;
  for (const auto& f : info.files) {
    const auto bytes = static_cast<int64_t>(fs::file_size(f));
    EXPECT_LE(bytes, 16 * 1000 * 1000) << f;
    total += bytes;
  }
  EXPECT_LE(total, 32 * 1000 * 1000);
}

namespace ref {
at::Tensor conv(const at::Tensor& x, const std::map<std::string, at::Tensor>& sd, const std::string& name, int64_t stride = 1,
                int64_t pad = 1) {
  return at::conv2d(x, sd.at("tokenizer." + name + ".weight"), sd.at("tokenizer." + name + ".bias"), stride, pad);
}
at::Tensor up2(const at::Tensor& x) { return at::upsample_nearest2d(x, {2 * x.size(2), 2 * x.size(3)}); }
}  // namespace ref

TEST(Tokenizer, NoResBlocksForwardIsOneConvPerLevel) {
  // The forward the shipped weights were trained with, written out in plain ops.
  torch::NoGradGuard ng;
  ModelConfig c = named_config("tiny");
  c.ae_res_blocks = 0;
  WorldModel m(c);
  const auto sd = m.state_dict();
  const int levels = 3;  // log2(tiny downsample 8)
  ASSERT_EQ(1 << levels, c.downsample);
  at::manual_seed(4);
  const at::Tensor rgb = at::rand({2, 3, c.frame_size, c.frame_size}) * 2 - 1;
  at::Tensor x = ref::conv(rgb, sd, "encoder.0");
  for (int l = 0; l < levels; ++l) x = ref::conv(at::silu(x), sd, "encoder." + std::to_string(2 + 2 * l), 2);
  x = ref::conv(at::silu(x), sd, "encoder." + std::to_string(2 + 2 * levels), 1, 0);
  const at::Tensor z = m.tokenizer->encode(rgb);
  EXPECT_TRUE(at::allclose(z, x, 1e-5, 1e-6));
  at::Tensor y = ref::conv(z, sd, "decoder.0");
  for (int l = 0; l < levels; ++l) y = ref::conv(ref::up2(at::silu(y)), sd, "decoder." + std::to_string(3 + 3 * l));
  y = ref::conv(at::silu(y), sd, "decoder." + std::to_string(2 + 3 * levels));
  EXPECT_TRUE(at::allclose(m.tokenizer->decode(z), y, 1e-5, 1e-6));
}

TEST(Tokenizer, ResBlocksStartAsIdentityAndAreInThePath) {
  torch::NoGradGuard ng;
  const ModelConfig c = named_config("tiny");
  ASSERT_GT(c.ae_res_blocks, 0) << "the tiny config covers the residual tokenizer";
  WorldModel m(c);
  const int levels = 3, r = c.ae_res_blocks;
  ASSERT_EQ(1 << levels, c.downsample);
  // Every level has its blocks, stably named.
  const auto sd = m.state_dict();
  for (int l = 0; l < levels; ++l)
    for (int k = 0; k < r; ++k)
      for (const std::string& name : {"tokenizer.encoder.down" + std::to_string(l) + "_res" + std::to_string(k) + ".conv2.weight",
                                      "tokenizer.decoder.up" + std::to_string(l) + "_res" + std::to_string(k) + ".conv1.bias",
                                      "tokenizer.encoder.mid_res" + std::to_string(k) + ".conv1.weight",
                                      "tokenizer.decoder.mid_res" + std::to_string(k) + ".conv2.bias"})
        EXPECT_TRUE(sd.count(name)) << name;
  at::manual_seed(5);
  const at::Tensor rgb = at::rand({2, 3, c.frame_size, c.frame_size}) * 2 - 1;
  const at::Tensor z = m.tokenizer->encode(rgb);
  EXPECT_EQ(z.sizes(), (std::vector<int64_t>{2, c.latent_channels, c.latent_grid(), c.latent_grid()}));
  const at::Tensor back = m.tokenizer->decode(z);
  EXPECT_EQ(back.sizes(), rgb.sizes());
  // Fresh blocks (second conv zero) are the identity: the tokenizer equals its convs alone.
  at::Tensor x = ref::conv(rgb, sd, "encoder.conv_in");
  for (int l = 0; l < levels; ++l) x = ref::conv(x, sd, "encoder.down" + std::to_string(l), 2);
  x = ref::conv(at::silu(x), sd, "encoder.conv_out", 1, 0);
  EXPECT_TRUE(at::allclose(z, x, 1e-5, 1e-6));
  at::Tensor y = ref::conv(z, sd, "decoder.conv_in");
  for (int l = 0; l < levels; ++l) y = ref::conv(ref::up2(y), sd, "decoder.up" + std::to_string(l) + "_conv");
  y = ref::conv(at::silu(y), sd, "decoder.conv_out");
  EXPECT_TRUE(at::allclose(back, y, 1e-5, 1e-6));
  // A trained block computes x + conv2(silu(conv1(silu(x)))), and the blocks change the output.
  for (auto& [name, t] : m.state_dict())
    if (name.find("_res") != std::string::npos) t.copy_(at::randn(t.sizes()) * 0.1);
  ResBlock block(c.ae_channels);
  for (auto& t : block->parameters()) t.copy_(at::randn(t.sizes()) * 0.1);
  const at::Tensor h = at::randn({2, c.ae_channels, 8, 8});
  const at::Tensor inner = at::conv2d(at::silu(h), block->conv1->weight, block->conv1->bias, 1, 1);
  EXPECT_TRUE(at::allclose(block->forward(h), h + at::conv2d(at::silu(inner), block->conv2->weight, block->conv2->bias, 1, 1), 1e-5, 1e-6));
  EXPECT_FALSE(at::allclose(m.tokenizer->encode(rgb), z, 1e-3, 1e-4));
  EXPECT_FALSE(at::allclose(m.tokenizer->decode(z), back, 1e-3, 1e-4));
}

TEST(WorldModel, LoadMatchingCopiesSameNameAndShapeOnly) {
  torch::NoGradGuard ng;
  ModelConfig from_c = named_config("tiny");
  from_c.latent_channels = 6;  // other latents: embed, out, anchor_embed, tokenizer ends differ
  WorldModel from(from_c);
  at::manual_seed(6);
  for (auto& [name, t] : from.state_dict()) t.copy_(at::randn(t.sizes()));
  WorldModel to(named_config("tiny"));
  const auto before = to.state_dict();
  std::map<std::string, at::Tensor> fresh_values;
  for (const auto& [name, t] : before) fresh_values[name] = t.clone();
  const std::vector<std::string> fresh = to.load_matching(from.state_dict());
  const std::set<std::string> fresh_set(fresh.begin(), fresh.end());
  const auto src = from.state_dict();
  for (const auto& [name, t] : to.state_dict()) {
    const bool same_shape = src.count(name) && src.at(name).sizes() == t.sizes();
    if (fresh_set.count(name)) EXPECT_TRUE(at::equal(t, fresh_values.at(name))) << name << " should keep its fresh init";
    else EXPECT_TRUE(same_shape && at::equal(t, src.at(name))) << name << " should be copied";
  }
  EXPECT_TRUE(at::equal(to.dit->blocks[1]->as<DiTBlock>()->qkv->weight, from.dit->blocks[1]->as<DiTBlock>()->qkv->weight));
  for (const char* name : {"dit.embed.weight", "dit.out.weight", "dit.out.bias", "dit.anchor_embed.weight", "tokenizer.encoder.conv_out.weight",
                           "tokenizer.decoder.conv_in.weight"})
    EXPECT_TRUE(fresh_set.count(name)) << name;
  // The scale of another encoder's latents is not this encoder's.
  EXPECT_TRUE(fresh_set.count("tokenizer.latent_scale"));
  EXPECT_FALSE(fresh_set.count("dit.embed.bias"));
  EXPECT_FALSE(fresh_set.count("tokenizer.encoder.conv_in.weight"));
}

TEST(WorldModel, LoadMatchingCopiesLatentScaleOnlyWithTheSameEncoder) {
  torch::NoGradGuard ng;
  WorldModel same(named_config("tiny"));
  same.tokenizer->latent_scale.fill_(3.5);
  WorldModel to(named_config("tiny"));
  std::vector<std::string> fresh = to.load_matching(same.state_dict());
  EXPECT_EQ(std::count(fresh.begin(), fresh.end(), "tokenizer.latent_scale"), 0);
  EXPECT_FLOAT_EQ(to.tokenizer->latent_scale.item<float>(), 3.5f);
  // A file whose encoder has more residual blocks contains every tensor of ours (same names, same
  // shapes) and more: another network, so its scale must not come along.
  ModelConfig deeper_c = named_config("tiny");
  deeper_c.ae_res_blocks = named_config("tiny").ae_res_blocks + 1;
  WorldModel deeper(deeper_c);
  deeper.tokenizer->latent_scale.fill_(7.0);
  WorldModel to2(named_config("tiny"));
  fresh = to2.load_matching(deeper.state_dict());
  EXPECT_EQ(std::count(fresh.begin(), fresh.end(), "tokenizer.latent_scale"), 1);
  EXPECT_FLOAT_EQ(to2.tokenizer->latent_scale.item<float>(), 1.0f);
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

// Attention moves cached keys in time with its own rotation (attn::shift_time, given the layout
// rope_time_dims names): a key the model rotated to frame p, moved by d, is the key at p + d.
TEST(Rope, TimeShiftMatchesRopeTables) {
  const ModelConfig c = named_config("tiny");
  const int64_t n = c.tokens_per_frame();
  const at::Tensor k = at::randn({c.heads, n, c.head_dim()});
  for (int64_t p : {0, 7, 500}) {
    for (int64_t d : {-300, -5, 3, 40}) {
      auto [cp, sp] = rope_tables(c, p, 1);
      auto [cq, sq] = rope_tables(c, p + d, 1);
      const at::Tensor at_p = apply_rope(k, cp, sp), at_pd = apply_rope(k, cq, sq);
      const at::Tensor moved = attn::shift_time(at_p.unsqueeze(2), d, rope_time_dims(c.head_dim()), c.rope_theta).squeeze(2);
      EXPECT_LT((moved - at_pd).abs().max().item<float>() / at_pd.abs().max().item<float>(), 1e-4) << "p " << p << " d " << d;
    }
  }
}

}  // namespace
}  // namespace sw::model
