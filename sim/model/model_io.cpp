// Model files: random initialisation, loading with full checks, info (parameters and FLOPs).
// Test: tests/model/test_model.cpp.
#include <filesystem>

#include "model_io.h"
#include "safetensors.h"

namespace sw::model {

namespace {
constexpr const char* kConfigKey = "sparseworld_config";
constexpr const char* kFormatKey = "format";
constexpr const char* kFormat = "sparseworld-model-v1";
}  // namespace

std::string resolve_model_path(const std::string& path) {
  namespace fs = std::filesystem;
  if (fs::exists(path)) return path;
  // A sharded set is named after the path it was written to: NAME-00001-of-0000N.safetensors.
  std::string stem = path;
  const std::string ext = ".safetensors";
  if (stem.size() > ext.size() && stem.compare(stem.size() - ext.size(), ext.size(), ext) == 0) stem.resize(stem.size() - ext.size());
  const fs::path dir = fs::path(stem).parent_path().empty() ? fs::path(".") : fs::path(stem).parent_path();
  const std::string prefix = fs::path(stem).filename().string() + "-00001-of-";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().rfind(prefix, 0) == 0) return e.path().string();
  throw WeightsError("weights '" + path + "': no such file (nor shards " + stem + "-0000N-of-...)");
}

std::unique_ptr<WorldModel> load_model(const std::string& path, at::Device device, at::ScalarType dtype, ModelInfo* info) {
  const std::string file = resolve_model_path(path);
  TensorFile tf = read_safetensors(file);
  if (tf.metadata[kFormatKey] != kFormat) throw WeightsError("weights '" + file + "': not a SparseWorld model (metadata format is '" + tf.metadata[kFormatKey] + "')");
  ModelConfig config;
  try {
    config = config_from_json(tf.metadata[kConfigKey]);
  } catch (const std::invalid_argument& e) {
    throw WeightsError("weights '" + file + "': " + e.what());
  }
  auto model = std::make_unique<WorldModel>(config);
  model->load_state_dict(tf.tensors, file);
  model->to(device, dtype);
  if (info) {
    *info = compute_info(config);
    info->files = tf.files;
  }
  return model;
}

std::map<std::string, std::string> model_metadata(const ModelConfig& c) {
  return {{kFormatKey, kFormat}, {kConfigKey, config_to_json(c)}};
}

std::vector<std::string> save_model(const WorldModel& model, const std::string& path, int64_t max_file_bytes) {
  return write_safetensors(path, model.state_dict(), model_metadata(model.config), at::kBFloat16, max_file_bytes);
}

std::vector<std::string> init_model_file(const ModelConfig& config, uint64_t seed, const std::string& out_path,
                                         int64_t max_file_bytes) {
  config.validate();
  torch::manual_seed(seed);
  WorldModel model(config);
  // Fresh transformers start from adaLN-Zero (identity blocks); perturb the zero-initialised
  // output layers slightly so an untrained model still shows the sampler doing something.
  {
    torch::NoGradGuard ng;
    model.dit->out->weight.normal_(0.0, 0.02);
  }
  return save_model(model, out_path, max_file_bytes);
}

ModelInfo read_model_info(const std::string& path) {
  ModelInfo info;
  load_model(path, at::kCPU, at::kFloat, &info);
  return info;
}

}  // namespace sw::model
