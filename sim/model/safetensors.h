// safetensors I/O: 8-byte little-endian header length N, N bytes of JSON header
// ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}), then
// the raw tensor bytes. The parser checks every length, offset, dtype and shape and that the
// tensors tile the data region exactly; any violation is a WeightsError naming the file.
// Large models are sharded: NAME-00001-of-00003.safetensors ...; reading any shard reads all.
// Test: tests/model/test_safetensors.cpp (round trip, truncation, fuzzing under ASan).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sparseworld/sim/model.h"

namespace sw::model {

struct TensorFile {
  std::map<std::string, at::Tensor> tensors;  // CPU tensors, owning their memory
  std::map<std::string, std::string> metadata;
  std::vector<std::string> files;             // the shards read
};

// Parses one safetensors image held in memory; `name` is used in error messages.
TensorFile parse_safetensors(const uint8_t* data, size_t size, const std::string& name);

// Reads a file, or all shards of a sharded set when `path` names one of them.
TensorFile read_safetensors(const std::string& path);

// Writes tensors (converted to `dtype` when it is defined) with metadata, atomically. When the
// payload exceeds max_file_bytes the set is split into shards named after `path`. Returns the
// files written.
std::vector<std::string> write_safetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                                           const std::map<std::string, std::string>& metadata,
                                           std::optional<at::ScalarType> dtype = std::nullopt,
                                           int64_t max_file_bytes = INT64_MAX);

}  // namespace sw::model
