// Internals of the reference world shared by its translation units: texture sizes, material
// counts, the generated assets and the renderer entry point. Not part of the public API.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "sparseworld/sim/reference_world.h"

namespace sw {

inline constexpr int kTexBits = 6;
inline constexpr int kTex = 1 << kTexBits;      // textures are kTex x kTex texels
inline constexpr int kRoomWallMaterials = 6;    // brick, stone, wood, metal, tile, moss
inline constexpr int kDecoratedMaterials = 3;   // banner, window, torch
inline constexpr int kWallMaterials = kRoomWallMaterials + kDecoratedMaterials;
inline constexpr int kFloorKinds = 3;           // tiles, planks, cobbles
inline constexpr int kLandmarkColours = 8;
inline constexpr float kLandmarkHalfSize = 0.3f;  // collision box of a landmark, in cells

using Texture = std::array<uint32_t, kTex * kTex>;  // 0x00RRGGBB; walls column-major, sprites with alpha in the top byte

struct WorldAssets {
  std::array<Texture, kWallMaterials> wall;         // lit (x-side) faces
  std::array<Texture, kWallMaterials> wall_shaded;  // y-side faces, darker
  std::array<Texture, kFloorKinds> floor;           // row-major
  Texture ceiling;                                  // row-major
  std::vector<Texture> sprites;                     // [kind * kLandmarkColours + colour], column-major, alpha in bits 24..31
  uint32_t fog_colour = 0;
};

void build_assets(uint32_t palette_seed, WorldAssets& out);

// Renders the view from `player` into rgb (width * height * 3 bytes).
void render_view(const WorldMap& map, const WorldAssets& assets, const WorldParams& params,
                 const PlayerState& player, uint8_t* rgb, int width, int height);

// True when a player box of half-size `radius` centred at (x, y) overlaps a wall or landmark.
bool collides(const WorldMap& map, float x, float y, float radius);

}  // namespace sw
