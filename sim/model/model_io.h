// Loading a model file into networks (internal to sim/). Test: tests/model/test_model.cpp.
#pragma once

#include <memory>

#include "networks.h"

namespace sw::model {

// `path` may name a single file or a sharded set (any shard, or the unsharded name).
std::string resolve_model_path(const std::string& path);
// Writes `model` as a SparseWorld model file (bf16, sharded at max_file_bytes); returns the files.
std::vector<std::string> save_model(const WorldModel& model, const std::string& path, int64_t max_file_bytes = 16 * 1000 * 1000);
// The metadata that marks a SparseWorld model file.
std::map<std::string, std::string> model_metadata(const ModelConfig& c);

std::unique_ptr<WorldModel> load_model(const std::string& path, at::Device device, at::ScalarType dtype,
                                       ModelInfo* info = nullptr);

}  // namespace sw::model
