// The neural world model's configuration, weights files and metadata (no torch in this header).
// A ModelConfig is stored in the weights file's metadata, so a file is self-describing.
// Test: tests/model/test_model.cpp; CLI: sparseworld model init|info.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace sw::model {

struct ModelConfig {
  std::string name = "default";
  // Frames and tokenizer: frame_size x frame_size RGB <-> latent_grid x latent_grid x latent_channels.
  int frame_size = 128;
  int downsample = 8;         // frame_size / downsample = latent grid side (one token per latent pixel)
  int latent_channels = 16;
  int ae_channels = 64;       // autoencoder conv width
  // Residual blocks per resolution level in encoder and decoder (and at the latent resolution);
  // 0 is the plain strided-conv tokenizer whose ~26.4 dB reconstruction capped every prediction
  // of the first shipped model. 0 in files written before the field existed.
  int ae_res_blocks = 2;
  // Transformer.
  int width = 320;
  int depth = 8;
  int heads = 5;
  int mlp_ratio = 4;
  int cond_dim = 128;         // per-frame conditioning (action + noise level) feeding adaLN
  int action_dim = 5;         // sw::Action::kDim
  double rope_theta = 10000.0;
  // Rollout.
  int chunk_frames = 2;       // F: frames denoised jointly
  int sample_steps = 4;       // rectified-flow steps per chunk (then one clean pass)
  int block_size = 64;        // B: tokens per attention block (a spatial tile of one frame)
  int sink_frames = 1;
  int window_frames = 8;
  int memory_slots = 16;
  // 1: every frame also gets, as extra input channels, the committed latent of the last frame
  // before its chunk (GameNGen / DIAMOND condition on past frames this way). Copying and warping
  // the previous view is then a short path instead of something attention has to learn; trained
  // with attention alone, the model predicted worse than copying the previous frame (2026-11-23).
  // 0 in files written before the field existed.
  int anchor_frame = 1;

  int latent_grid() const { return frame_size / downsample; }
  int tokens_per_frame() const { return latent_grid() * latent_grid(); }
  int head_dim() const { return width / heads; }
  void validate() const;  // throws std::invalid_argument naming the field and value
};

// Named configs: "tiny" (tests, CPU in seconds), "default" (the shipped model's shape) and
// "latent32" (default with a 32-channel latent).
ModelConfig named_config(const std::string& name);
std::vector<std::string> config_names();
std::string config_list();  // the names, comma-separated (help texts, errors)

std::string config_to_json(const ModelConfig& c);
ModelConfig config_from_json(const std::string& json);  // unknown or missing fields -> error naming them

// A weights file that cannot be used: message names the file and what is wrong.
class WeightsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ModelInfo {
  ModelConfig config;
  int64_t transformer_parameters = 0;
  int64_t tokenizer_parameters = 0;
  double flops_per_forward = 0;   // one transformer pass over one chunk against a full window
  double flops_per_chunk = 0;     // sample_steps + 1 passes + decoding the chunk's frames
  std::vector<std::string> files; // shards read
};

// Writes a randomly initialised model of `config` (bf16 weights, sharded at max_file_bytes).
// Returns the files written.
std::vector<std::string> init_model_file(const ModelConfig& config, uint64_t seed, const std::string& out_path,
                                         int64_t max_file_bytes = 16 * 1000 * 1000);
ModelInfo read_model_info(const std::string& path);

}  // namespace sw::model
