// Episode file reader and writer; the format is documented in sparseworld/sim/episode.h.
// Test: tests/sim/test_episode.cpp (round trip, truncation, corruption, bad headers).
#include "sparseworld/sim/episode.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "atomic_file.h"
#include "sparseworld/sim/reference_world.h"

namespace sw {

namespace {

constexpr char kMagic[8] = {'S', 'W', 'E', 'P', 'I', 'S', 'O', 'D'};
constexpr size_t kHeaderBytes = 48;
constexpr uint32_t kChannels = 3;
constexpr uint64_t kMaxMetadata = 1u << 20;
constexpr uint32_t kMaxSide = 4096;

struct Fnv {
  uint64_t h = 0xcbf29ce484222325ULL;
  void add(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < n; ++i) {
      h ^= b[i];
      h *= 0x100000001b3ULL;
    }
  }
};

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // x86-64 and aarch64 are little-endian, the format's order
  out.insert(out.end(), b, b + sizeof(T));
}

template <typename T>
T get(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw EpisodeError("episode '" + path + "': " + what);
}

}  // namespace

void write_episode(const std::string& path, const Episode& ep) {
  if (ep.width == 0 || ep.height == 0 || ep.width > kMaxSide || ep.height > kMaxSide)
    fail(path, "bad frame size " + std::to_string(ep.width) + "x" + std::to_string(ep.height));
  if (ep.frames.size() != ep.frame_count() * ep.frame_bytes())
    fail(path, "frames hold " + std::to_string(ep.frames.size()) + " bytes, expected " +
                   std::to_string(ep.frame_count() * ep.frame_bytes()));
  if (ep.metadata_json.size() > kMaxMetadata) fail(path, "metadata larger than 1 MiB");

  std::vector<uint8_t> header;
  header.insert(header.end(), kMagic, kMagic + 8);
  put<uint32_t>(header, kEpisodeVersion);
  put<uint32_t>(header, ep.width);
  put<uint32_t>(header, ep.height);
  put<uint32_t>(header, kChannels);
  put<uint32_t>(header, Action::kDim);
  put<uint32_t>(header, static_cast<uint32_t>(ep.metadata_json.size()));
  put<uint64_t>(header, ep.frame_count());
  put<uint64_t>(header, ep.world_seed);
  std::vector<float> actions;
  actions.reserve(ep.frame_count() * Action::kDim);
  for (const Action& a : ep.actions)
    for (float v : a.to_array()) actions.push_back(v);

  Fnv fnv;
  fnv.add(header.data(), header.size());
  fnv.add(ep.metadata_json.data(), ep.metadata_json.size());
  fnv.add(actions.data(), actions.size() * sizeof(float));
  fnv.add(ep.frames.data(), ep.frames.size());

  const std::string err = detail::write_file_atomically(path, [&](std::ostream& f) {
    f.write(reinterpret_cast<const char*>(header.data()), static_cast<std::streamsize>(header.size()));
    f.write(ep.metadata_json.data(), static_cast<std::streamsize>(ep.metadata_json.size()));
    f.write(reinterpret_cast<const char*>(actions.data()), static_cast<std::streamsize>(actions.size() * sizeof(float)));
    f.write(reinterpret_cast<const char*>(ep.frames.data()), static_cast<std::streamsize>(ep.frames.size()));
    f.write(reinterpret_cast<const char*>(&fnv.h), sizeof(fnv.h));
  });
  if (!err.empty()) fail(path, err);
}

Episode read_episode(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) fail(path, "cannot open for reading");
  const std::streamoff size_off = f.tellg();
  if (size_off < 0) fail(path, "cannot determine size");
  const uint64_t size = static_cast<uint64_t>(size_off);
  if (size < kHeaderBytes + 8) fail(path, "truncated: " + std::to_string(size) + " bytes is smaller than the header");
  std::vector<uint8_t> bytes(size);
  f.seekg(0);
  f.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (!f) fail(path, "read failed");

  const uint8_t* p = bytes.data();
  if (std::memcmp(p, kMagic, 8) != 0) fail(path, "not an episode file (bad magic)");
  const uint32_t version = get<uint32_t>(p + 8);
  if (version != kEpisodeVersion)
    fail(path, "unsupported version " + std::to_string(version) + " (this build reads " + std::to_string(kEpisodeVersion) + ")");
  Episode ep;
  ep.width = get<uint32_t>(p + 12);
  ep.height = get<uint32_t>(p + 16);
  const uint32_t channels = get<uint32_t>(p + 20);
  const uint32_t action_dim = get<uint32_t>(p + 24);
  const uint32_t meta_bytes = get<uint32_t>(p + 28);
  const uint64_t n = get<uint64_t>(p + 32);
  ep.world_seed = get<uint64_t>(p + 40);
  if (ep.width == 0 || ep.height == 0 || ep.width > kMaxSide || ep.height > kMaxSide)
    fail(path, "bad frame size " + std::to_string(ep.width) + "x" + std::to_string(ep.height));
  if (channels != kChannels) fail(path, "channels " + std::to_string(channels) + ", expected 3");
  if (action_dim != Action::kDim)
    fail(path, "action_dim " + std::to_string(action_dim) + " does not match this build's " + std::to_string(Action::kDim));
  if (meta_bytes > kMaxMetadata) fail(path, "metadata length " + std::to_string(meta_bytes) + " exceeds 1 MiB");

  // Every length checked against what is left, in 64-bit arithmetic guarded against overflow.
  const uint64_t body = size - kHeaderBytes - 8;
  const uint64_t per_frame = static_cast<uint64_t>(action_dim) * sizeof(float) + static_cast<uint64_t>(ep.width) * ep.height * channels;
  if (meta_bytes > body) fail(path, "truncated: metadata runs past the end of the file");
  if (n > (body - meta_bytes) / per_frame || n * per_frame != body - meta_bytes)
    fail(path, "size mismatch: header says " + std::to_string(n) + " frames, file holds " +
                   std::to_string(body - meta_bytes) + " bytes of payload (truncated or corrupt)");

  Fnv fnv;
  fnv.add(p, size - 8);
  if (fnv.h != get<uint64_t>(p + size - 8)) fail(path, "checksum mismatch (file is corrupt)");

  size_t off = kHeaderBytes;
  ep.metadata_json.assign(reinterpret_cast<const char*>(p + off), meta_bytes);
  off += meta_bytes;
  ep.actions.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    float a[Action::kDim];
    std::memcpy(a, p + off, sizeof(a));
    off += sizeof(a);
    ep.actions[i] = Action::from_array(std::span<const float, Action::kDim>(a, Action::kDim));
  }
  ep.frames.assign(p + off, p + off + n * ep.frame_bytes());
  return ep;
}

}  // namespace sw
