// safetensors reader/writer with bounds checks; see safetensors.h for the format.
#include "safetensors.h"

#include "atomic_file.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

namespace sw::model {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // the spec's own limit
constexpr int kMaxRank = 8;

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw WeightsError("weights '" + name + "': " + what);
}

struct DtypeInfo {
  const char* name;
  at::ScalarType type;
  int64_t bytes;
};
const DtypeInfo kDtypes[] = {{"F32", at::kFloat, 4}, {"F16", at::kHalf, 2},  {"BF16", at::kBFloat16, 2},
                             {"I64", at::kLong, 8},  {"I32", at::kInt, 4},   {"U8", at::kByte, 1}};

const DtypeInfo* dtype_by_name(const std::string& s) {
  for (const auto& d : kDtypes)
    if (s == d.name) return &d;
  return nullptr;
}
const DtypeInfo* dtype_by_type(at::ScalarType t) {
  for (const auto& d : kDtypes)
    if (t == d.type) return &d;
  return nullptr;
}

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) fail(path, "cannot open for reading");
  const std::streamoff n = f.tellg();
  if (n < 0) fail(path, "cannot determine size");
  std::vector<uint8_t> bytes(static_cast<size_t>(n));
  f.seekg(0);
  f.read(reinterpret_cast<char*>(bytes.data()), n);
  if (!f) fail(path, "read failed");
  return bytes;
}

}  // namespace

TensorFile parse_safetensors(const uint8_t* data, size_t size, const std::string& name) {
  if (size < 8) fail(name, "truncated: " + std::to_string(size) + " bytes, no header length");
  uint64_t header_len;
  std::memcpy(&header_len, data, 8);
  if (header_len > kMaxHeaderBytes) fail(name, "header length " + std::to_string(header_len) + " exceeds 100 MB");
  if (header_len > size - 8) fail(name, "truncated: header length " + std::to_string(header_len) + " runs past the end of the file");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(data + 8, data + 8 + header_len);
  } catch (const std::exception& e) {
    fail(name, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail(name, "header is not a JSON object");
  const uint8_t* payload = data + 8 + header_len;
  const uint64_t payload_size = size - 8 - header_len;

  TensorFile out;
  struct Range {
    uint64_t begin, end;
    std::string tensor;
  };
  std::vector<Range> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string key = it.key();
    const auto& v = it.value();
    if (key == "__metadata__") {
      if (!v.is_object()) fail(name, "__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) fail(name, "__metadata__ entry '" + m.key() + "' is not a string");
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      fail(name, "tensor '" + key + "' lacks dtype, shape or data_offsets");
    if (!v["dtype"].is_string()) fail(name, "tensor '" + key + "': dtype is not a string");
    const DtypeInfo* dt = dtype_by_name(v["dtype"].get<std::string>());
    if (!dt) fail(name, "tensor '" + key + "': unsupported dtype " + v["dtype"].dump());
    const auto& shape_j = v["shape"];
    if (!shape_j.is_array() || shape_j.size() > kMaxRank) fail(name, "tensor '" + key + "': shape is not an array of rank <= 8");
    std::vector<int64_t> shape;
    uint64_t numel = 1;
    for (const auto& d : shape_j) {
      if (!d.is_number_unsigned()) fail(name, "tensor '" + key + "': shape entry " + d.dump() + " is not a non-negative integer");
      const uint64_t dim = d.get<uint64_t>();
      if (dim > payload_size || (dim != 0 && numel > payload_size / dim)) fail(name, "tensor '" + key + "': shape " + shape_j.dump() + " is larger than the file");
      numel *= dim;
      shape.push_back(static_cast<int64_t>(dim));
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail(name, "tensor '" + key + "': data_offsets must be two non-negative integers");
    const uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    if (b > e || e > payload_size)
      fail(name, "tensor '" + key + "': data_offsets [" + std::to_string(b) + ", " + std::to_string(e) + "] outside the " +
                     std::to_string(payload_size) + "-byte data region (truncated?)");
    if (e - b != numel * static_cast<uint64_t>(dt->bytes))
      fail(name, "tensor '" + key + "': " + std::to_string(e - b) + " bytes for shape " + shape_j.dump() + " of " + dt->name);
    ranges.push_back({b, e, key});
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dt->type));
    if (numel) std::memcpy(t.data_ptr(), payload + b, e - b);
    out.tensors[key] = t;
  }
  // The tensors must tile the data region: no overlaps, no holes, nothing trailing.
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  uint64_t at_byte = 0;
  for (const Range& r : ranges) {
    if (r.begin != at_byte) fail(name, "tensor '" + r.tensor + "' " + (r.begin < at_byte ? "overlaps another" : "leaves a hole before it"));
    at_byte = r.end;
  }
  if (at_byte != payload_size) fail(name, std::to_string(payload_size - at_byte) + " bytes after the last tensor");
  out.files.push_back(name);
  return out;
}

TensorFile read_safetensors(const std::string& path) {
  static const std::regex shard_re(R"((.*)-(\d{5})-of-(\d{5})\.safetensors)");
  std::smatch m;
  if (!std::regex_match(path, m, shard_re)) {
    const auto bytes = read_all(path);
    return parse_safetensors(bytes.data(), bytes.size(), path);
  }
  const int count = std::stoi(m[3].str());
  if (count < 1) fail(path, "shard count is zero");
  TensorFile all;
  for (int i = 1; i <= count; ++i) {
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, "-%05d-of-%05d.safetensors", i, count);
    const std::string shard = m[1].str() + suffix;
    if (!std::filesystem::exists(shard)) fail(path, "shard " + shard + " is missing");
    const auto bytes = read_all(shard);
    TensorFile part = parse_safetensors(bytes.data(), bytes.size(), shard);
    for (auto& [k, t] : part.tensors)
      if (!all.tensors.emplace(k, t).second) fail(shard, "tensor '" + k + "' appears in two shards");
    if (i == 1) all.metadata = part.metadata;
    all.files.push_back(shard);
  }
  return all;
}

namespace {

void write_one(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
               const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [k, t] : tensors) {
    const DtypeInfo* dt = dtype_by_type(t.scalar_type());
    if (!dt) fail(path, "tensor '" + k + "' has a dtype safetensors cannot store here");
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * dt->bytes;
    header[k] = {{"dtype", dt->name}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned, as the spec suggests
  const uint64_t len = text.size();
  const std::string err = detail::write_file_atomically(path, [&](std::ostream& f) {
    f.write(reinterpret_cast<const char*>(&len), 8);
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& [k, t] : tensors) f.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
  });
  if (!err.empty()) fail(path, err);
}

}  // namespace

std::vector<std::string> write_safetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                                           const std::map<std::string, std::string>& metadata,
                                           std::optional<at::ScalarType> dtype, int64_t max_file_bytes) {
  std::vector<std::vector<std::pair<std::string, at::Tensor>>> shards(1);
  int64_t in_shard = 0;
  for (const auto& [k, t0] : tensors) {
    at::Tensor t = t0.detach().to(at::kCPU);
    if (dtype && t.is_floating_point()) t = t.to(*dtype);
    t = t.contiguous();
    const int64_t bytes = t.numel() * t.element_size();
    if (in_shard > 0 && in_shard + bytes > max_file_bytes) {
      shards.emplace_back();
      in_shard = 0;
    }
    shards.back().emplace_back(k, t);
    in_shard += bytes;
  }
  std::vector<std::string> files;
  if (shards.size() == 1) {
    write_one(path, shards[0], metadata);
    files.push_back(path);
    return files;
  }
  std::string stem = path;
  const std::string ext = ".safetensors";
  if (stem.size() > ext.size() && stem.compare(stem.size() - ext.size(), ext.size(), ext) == 0) stem.resize(stem.size() - ext.size());
  for (size_t i = 0; i < shards.size(); ++i) {
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, "-%05zu-of-%05zu.safetensors", i + 1, shards.size());
    files.push_back(stem + suffix);
    write_one(files.back(), shards[i], metadata);
  }
  return files;
}

}  // namespace sw::model
