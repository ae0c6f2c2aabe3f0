// ModelConfig: validation, named configs and JSON (stored in safetensors metadata).
// Test: tests/model/test_model.cpp.
#include <map>
#include <nlohmann/json.hpp>

#include "sparseworld/sim/model.h"

namespace sw::model {

namespace {
// Beyond a few blocks per level the tokenizer's cost at full resolution grows faster than its
// reconstruction; the bound also catches a garbled file before it allocates a huge network.
constexpr int kMaxAeResBlocks = 4;

[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw std::invalid_argument("model config: " + field + " " + why);
}
}  // namespace

void ModelConfig::validate() const {
  auto positive = [](const char* f, int v) {
    if (v < 1) bad(f, "must be >= 1, got " + std::to_string(v));
  };
  positive("frame_size", frame_size);
  positive("downsample", downsample);
  positive("latent_channels", latent_channels);
  positive("ae_channels", ae_channels);
  positive("width", width);
  positive("depth", depth);
  positive("heads", heads);
  positive("mlp_ratio", mlp_ratio);
  positive("cond_dim", cond_dim);
  positive("block_size", block_size);
  positive("window_frames", window_frames);
  if (downsample & (downsample - 1)) bad("downsample", "must be a power of two, got " + std::to_string(downsample));
  if (frame_size % downsample) bad("frame_size", std::to_string(frame_size) + " is not a multiple of downsample " + std::to_string(downsample));
  if (width % heads) bad("width", std::to_string(width) + " is not divisible by heads " + std::to_string(heads));
  if (head_dim() % 8) bad("heads", "head_dim = width / heads must be a multiple of 8 (3D RoPE), got " + std::to_string(head_dim()));
  if (action_dim != 5) bad("action_dim", "must be 5 (forward, strafe, turn, sprint, use), got " + std::to_string(action_dim));
  if (chunk_frames < 1 || chunk_frames > 8) bad("chunk_frames", "must be in [1, 8], got " + std::to_string(chunk_frames));
  if (sample_steps < 1 || sample_steps > 64) bad("sample_steps", "must be in [1, 64], got " + std::to_string(sample_steps));
  if (tokens_per_frame() % block_size) bad("block_size", std::to_string(block_size) + " does not tile a frame of " + std::to_string(tokens_per_frame()) + " tokens");
  if (sink_frames < 0) bad("sink_frames", "must be >= 0");
  if (memory_slots < 0) bad("memory_slots", "must be >= 0");
  if (!(rope_theta > 1.0)) bad("rope_theta", "must be > 1");
  if (anchor_frame != 0 && anchor_frame != 1) bad("anchor_frame", "must be 0 or 1, got " + std::to_string(anchor_frame));
  if (ae_res_blocks < 0 || ae_res_blocks > kMaxAeResBlocks)
    bad("ae_res_blocks", "must be in [0, " + std::to_string(kMaxAeResBlocks) + "], got " + std::to_string(ae_res_blocks));
}

ModelConfig named_config(const std::string& name) {
  ModelConfig c;
  if (name == "default") {
    c.name = "default";
  } else if (name == "latent32") {
    // The default shape with twice the latent channels: a 6x instead of a 12x compressed frame,
    // to raise the tokenizer's reconstruction ceiling (29.8-29.9 dB on eval's frames with 16),
    // which caps every prediction. Same token count, so attention costs the same.
    c.name = "latent32";
    c.latent_channels = 32;
  } else if (name == "tiny") {
    c.name = "tiny";
    c.frame_size = 32;
    c.downsample = 8;
    c.latent_channels = 4;
    c.ae_channels = 8;
    c.ae_res_blocks = 1;  // the residual tokenizer path, covered by every tiny test at little cost
    c.width = 32;
    c.depth = 2;
    c.heads = 2;
    c.mlp_ratio = 2;
    c.cond_dim = 16;
    c.chunk_frames = 2;
    c.sample_steps = 2;
    c.block_size = 4;
    c.sink_frames = 1;
    c.window_frames = 3;
    c.memory_slots = 4;
  } else {
    throw std::invalid_argument("unknown model config '" + name + "' (valid: " + config_list() + ")");
  }
  c.validate();
  return c;
}

std::vector<std::string> config_names() { return {"tiny", "default", "latent32"}; }

std::string config_list() {
  std::string names;
  for (const auto& n : config_names()) names += (names.empty() ? "" : ", ") + n;
  return names;
}

#define SW_CONFIG_FIELDS(X)                                                                                       \
  X(frame_size) X(downsample) X(latent_channels) X(ae_channels) X(width) X(depth) X(heads) X(mlp_ratio) X(cond_dim) \
  X(action_dim) X(rope_theta) X(chunk_frames) X(sample_steps) X(block_size) X(sink_frames) X(window_frames) X(memory_slots) \
  X(anchor_frame) X(ae_res_blocks)

std::string config_to_json(const ModelConfig& c) {
  nlohmann::json j;
  j["name"] = c.name;
#define SW_PUT(f) j[#f] = c.f;
  SW_CONFIG_FIELDS(SW_PUT)
#undef SW_PUT
  return j.dump();
}

ModelConfig config_from_json(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("model config: not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw std::invalid_argument("model config: JSON is not an object");
  ModelConfig c;
  size_t known = 0;
  auto take_string = [&](const char* f, std::string& out) {
    if (!j.contains(f) || !j[f].is_string()) bad(f, "missing or not a string");
    out = j[f].get<std::string>();
    ++known;
  };
  take_string("name", c.name);
  // Fields added after files were shipped, with the value those files mean when absent.
  if (!j.contains("anchor_frame")) j["anchor_frame"] = 0;
  if (!j.contains("ae_res_blocks")) j["ae_res_blocks"] = 0;
#define SW_GET(f)                                                                 \
  if (!j.contains(#f) || !j[#f].is_number()) bad(#f, "missing or not a number");  \
  c.f = j[#f].get<decltype(c.f)>();                                               \
  ++known;
  SW_CONFIG_FIELDS(SW_GET)
#undef SW_GET
  if (known != j.size()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string k = it.key();
      bool ok = k == "name";
#define SW_IS(f) ok = ok || k == #f;
      SW_CONFIG_FIELDS(SW_IS)
#undef SW_IS
      if (!ok) bad(k, "is not a known field");
    }
  }
  c.validate();
  return c;
}

}  // namespace sw::model
