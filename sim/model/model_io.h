// Loading a model file into networks (internal to sim/). Test: tests/model/test_model.cpp.
#pragma once

#include <memory>

#include "networks.h"

namespace sw::model {

// `path` may name a single file or a sharded set (any shard, or the unsharded name).
std::string resolve_model_path(const std::string& path);
std::unique_ptr<WorldModel> load_model(const std::string& path, at::Device device, at::ScalarType dtype,
                                       ModelInfo* info = nullptr);

}  // namespace sw::model
