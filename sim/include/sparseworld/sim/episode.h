// Episode files: frames + actions + world seed + metadata, versioned, checksummed, written
// atomically (temp file + rename). Format (little-endian), version 1:
//   offset 0   char[8]  magic "SWEPISOD"
//          8   u32      version (1)
//         12   u32      width
//         16   u32      height
//         20   u32      channels (3: RGB8)
//         24   u32      action_dim (5)
//         28   u32      metadata_bytes (M, UTF-8 JSON text)
//         32   u64      frame_count (N)
//         40   u64      world_seed
//         48   M bytes  metadata JSON (agent, params, ...)
//              N*action_dim f32   actions; action t produced frame t (action 0 is the no-op)
//              N*width*height*channels u8   frames
//   end - 8    u64      FNV-1a 64 of every byte before it
// Readers check each length against the file size before reading and reject any mismatch.
// Test: tests/sim/test_episode.cpp.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "sparseworld/sim/world.h"

namespace sw {

inline constexpr uint32_t kEpisodeVersion = 1;

struct Episode {
  uint32_t width = 0, height = 0;
  uint64_t world_seed = 0;
  std::string metadata_json = "{}";
  std::vector<Action> actions;   // one per frame
  std::vector<uint8_t> frames;   // frame_count * width * height * 3

  size_t frame_count() const { return actions.size(); }
  size_t frame_bytes() const { return static_cast<size_t>(width) * height * 3; }
  const uint8_t* frame(size_t i) const { return frames.data() + i * frame_bytes(); }
};

class EpisodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws EpisodeError (message names the file and what is wrong). Writes to "<path>.tmp" first.
void write_episode(const std::string& path, const Episode& episode);
Episode read_episode(const std::string& path);

}  // namespace sw
