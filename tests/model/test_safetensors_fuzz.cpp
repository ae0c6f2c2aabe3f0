// safetensors parser robustness, compiled with AddressSanitizer + UBSan: every truncation of a
// valid file and thousands of random mutations must either parse or raise WeightsError, never
// crash, read out of bounds or overflow.
#include <gtest/gtest.h>

#include <random>

#include "model/safetensors.h"

// libtorch's own allocations are not instrumented and look like leaks at exit.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }

namespace sw::model {
namespace {

std::vector<uint8_t> valid_file() {
  const std::string path = testing::TempDir() + "/fuzz_seed.safetensors";
  write_safetensors(path,
                    {{"a", at::arange(12, at::kFloat).reshape({3, 4})}, {"b", at::ones({5}, at::kBFloat16)}, {"c", at::zeros({0}, at::kFloat)}},
                    {{"format", "x"}});
  FILE* f = fopen(path.c_str(), "rb");
  std::vector<uint8_t> bytes(1 << 16);
  bytes.resize(fread(bytes.data(), 1, bytes.size(), f));
  fclose(f);
  return bytes;
}

void parse_or_reject(const std::vector<uint8_t>& bytes) {
  try {
    TensorFile tf = parse_safetensors(bytes.data(), bytes.size(), "fuzz");
    for (auto& [k, t] : tf.tensors) (void)t.sum();  // touch the data
  } catch (const WeightsError&) {
  }
}

TEST(SafetensorsFuzz, ValidFileParses) {
  const auto bytes = valid_file();
  TensorFile tf = parse_safetensors(bytes.data(), bytes.size(), "seed");
  ASSERT_EQ(tf.tensors.size(), 3u);
  EXPECT_TRUE(tf.tensors["a"].equal(at::arange(12, at::kFloat).reshape({3, 4})));
  EXPECT_EQ(tf.metadata["format"], "x");
}

TEST(SafetensorsFuzz, EveryTruncationRejected) {
  const auto bytes = valid_file();
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(n));
    EXPECT_THROW(parse_safetensors(cut.data(), cut.size(), "cut"), WeightsError) << "length " << n;
  }
}

TEST(SafetensorsFuzz, RandomMutationsNeverCrash) {
  const auto seed = valid_file();
  std::mt19937_64 rng(42);
  for (int i = 0; i < 3000; ++i) {
    auto b = seed;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t pos = rng() % b.size();
      switch (rng() % 4) {
        case 0: b[pos] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
        case 1: b[pos] = static_cast<uint8_t>(rng()); break;
        case 2: b.resize(pos); break;
        default: b.insert(b.begin() + static_cast<long>(pos), static_cast<uint8_t>("0123456789,[]{}\"-"[rng() % 17])); break;
      }
      if (b.empty()) break;
    }
    parse_or_reject(b);
  }
}

TEST(SafetensorsFuzz, HostileHeadersRejected) {
  auto with_header = [](const std::string& json, size_t payload) {
    std::vector<uint8_t> b(8);
    const uint64_t n = json.size();
    std::memcpy(b.data(), &n, 8);
    b.insert(b.end(), json.begin(), json.end());
    b.resize(b.size() + payload, 0);
    return b;
  };
  const std::string cases[] = {
      R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}})",  // numel overflow
      R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})",                       // reversed
      R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551615]}})",    // past the end
      R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})",                      // negative dim
      R"({"t":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})",                       // unsupported dtype
      R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"u":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",  // overlap
      R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",                       // hole
      R"({"t":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}})",       // rank > 8
      R"({"__metadata__":{"k":3}})",                                                     // non-string metadata
      R"([1,2,3])",                                                                      // not an object
  };
  for (const auto& c : cases) EXPECT_THROW(parse_safetensors(with_header(c, 16).data(), with_header(c, 16).size(), "h"), WeightsError) << c;
  std::vector<uint8_t> huge(8, 0xFF);  // header length 2^64 - 1
  EXPECT_THROW(parse_safetensors(huge.data(), huge.size(), "h"), WeightsError);
}

}  // namespace
}  // namespace sw::model
