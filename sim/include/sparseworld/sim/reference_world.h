// The reference world: a deterministic procedural first-person world (grid map, ray casting),
// the ground truth the neural world learns from and is judged against.
// Same seed + same actions -> bit-identical frames on any x86-64/IEEE machine: the code uses only
// +, -, *, / and sqrt on floats (no libm transcendental calls, no FMA contraction).
// Test: tests/sim/test_reference_world.cpp; benchmark: `sparseworld bench world`.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sparseworld/sim/world.h"

namespace sw {

struct WorldParams {
  int width = 128;           // frame size in pixels
  int height = 128;
  int map_size = 32;         // the map is map_size x map_size cells
  int min_rooms = 6;         // map generation keeps placing rooms until at least this many fit
  int max_rooms = 10;
  float fov = 1.15f;         // horizontal field of view in radians (~66 degrees)
  float walk_speed = 0.125f; // cells per game frame (2.5 cells/s at 20 fps)
  float sprint_factor = 1.8f;
  float turn_speed = 0.105f; // radians per frame at |turn| = 1 (120 degrees/s)
  float player_radius = 0.2f;
  float fog_distance = 9.0f; // distance at which fog covers half the colour

  void validate() const;  // throws std::invalid_argument naming the bad field
};

enum class Cell : uint8_t { Floor = 0, Wall = 1 };

enum class LandmarkKind : uint8_t { Pillar, Lamp, Barrel, Plant, Statue, kCount };

struct Landmark {
  float x = 0, y = 0;   // centre in map cells
  LandmarkKind kind = LandmarkKind::Pillar;
  uint8_t colour = 0;   // index into the landmark colour table
};

struct PlayerState {
  float x = 0, y = 0;   // position in map cells
  float angle = 0;      // heading in radians, 0 = +x, increasing clockwise on screen (+y is down)
  float bob_phase = 0;  // walking animation, advances with distance walked
  int use_timer = 0;    // frames of the "use" flash left
};

// The static part of a world: map, materials, landmarks. Built from a seed.
struct WorldMap {
  int size = 0;
  std::vector<Cell> cells;          // size * size, row-major (y * size + x)
  std::vector<uint8_t> material;    // wall material per cell (meaningful for walls)
  std::vector<uint8_t> floor_kind;  // floor texture per cell (meaningful for floor)
  std::vector<Landmark> landmarks;
  std::vector<uint8_t> blocked;     // walls and landmark cells: what movement and agents avoid
  uint32_t palette_seed = 0;

  bool in_bounds(int x, int y) const { return x >= 0 && y >= 0 && x < size && y < size; }
  bool is_wall(int x, int y) const { return !in_bounds(x, y) || cells[y * size + x] == Cell::Wall; }
  bool is_blocked(int x, int y) const { return !in_bounds(x, y) || blocked[y * size + x] != 0; }
};

WorldMap generate_map(uint64_t seed, const WorldParams& params);

struct WorldAssets;  // defined in sim/world/world_internal.h

class ReferenceWorld final : public World {
 public:
  explicit ReferenceWorld(WorldParams params = {});
  ~ReferenceWorld() override;

  std::string name() const override { return "reference"; }
  int width() const override { return params_.width; }
  int height() const override { return params_.height; }
  int chunk_frames() const override { return 1; }
  void reset(uint64_t seed) override;
  void step(std::span<const Action> actions, std::vector<Frame>& frames_out) override;
  const Frame& current_frame() const override { return frame_; }
  const StepStats& last_stats() const override { return stats_; }

  // Lower-level access for agents, tests and data generation.
  void apply_action(const Action& action);          // advances game state by one frame, no render
  void render(uint8_t* rgb, int width, int height) const;  // renders the current view
  const WorldMap& map() const { return map_; }
  const PlayerState& player() const { return player_; }
  void set_player(const PlayerState& p) { player_ = p; }
  const WorldParams& params() const { return params_; }
  uint64_t seed() const { return seed_; }

 private:
  WorldParams params_;
  uint64_t seed_ = 0;
  WorldMap map_;
  PlayerState player_;
  std::unique_ptr<WorldAssets> assets_;  // textures and sprites of the current world
  Frame frame_;
  StepStats stats_;
};

// A 64-bit FNV-1a hash of a frame's bytes, for determinism checks and golden tests.
uint64_t frame_hash(const uint8_t* data, size_t bytes);

}  // namespace sw
