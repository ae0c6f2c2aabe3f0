// Procedural textures of the reference world: wall materials, floors, ceiling and landmark
// sprites, tinted by a per-world palette. Integer hashing only, so assets are bit-identical
// everywhere. Look at them: `sparseworld world --seed 1 --frames 40 --out /tmp/w`.
#include <algorithm>

#include "detmath.h"
#include "world_internal.h"

namespace sw {

using detail::hash2;
using detail::hash32;

namespace {

struct Rgb {
  float r, g, b;
};

Rgb mul(Rgb c, float k) { return {c.r * k, c.g * k, c.b * k}; }
Rgb mix(Rgb a, Rgb b, float t) { return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t}; }
Rgb tint(Rgb c, Rgb t) { return {c.r * t.r, c.g * t.g, c.b * t.b}; }

uint32_t pack(Rgb c, uint32_t alpha = 0) {
  auto ch = [](float v) { return static_cast<uint32_t>(detail::clampf(v, 0.f, 255.f) + 0.5f) & 0xFFu; };
  return (alpha << 24) | (ch(c.r) << 16) | (ch(c.g) << 8) | ch(c.b);
}

// Hash noise in [0, 1) at an integer lattice point.
float noise(int x, int y, uint32_t seed) { return static_cast<float>(hash2(static_cast<uint32_t>(x), static_cast<uint32_t>(y), seed) >> 8) * (1.0f / 16777216.0f); }

// Smooth value noise: bilinear interpolation of lattice noise with period `cell` texels, tiling at kTex.
float value_noise(int x, int y, int cell, uint32_t seed) {
  const int period = kTex / cell;
  int gx = x / cell, gy = y / cell;
  float fx = static_cast<float>(x % cell) / cell, fy = static_cast<float>(y % cell) / cell;
  fx = fx * fx * (3.f - 2.f * fx);
  fy = fy * fy * (3.f - 2.f * fy);
  float a = noise(gx % period, gy % period, seed), b = noise((gx + 1) % period, gy % period, seed);
  float c = noise(gx % period, (gy + 1) % period, seed), d = noise((gx + 1) % period, (gy + 1) % period, seed);
  return (a + (b - a) * fx) + ((c + (d - c) * fx) - (a + (b - a) * fx)) * fy;
}

float fbm(int x, int y, uint32_t seed) {
  return 0.5f * value_noise(x, y, 16, seed) + 0.3f * value_noise(x, y, 8, seed + 1) + 0.2f * value_noise(x, y, 4, seed + 2);
}

// Writes a texel of a wall texture (column-major).
void put(Texture& t, int x, int y, Rgb c) { t[x * kTex + y] = pack(c); }

Rgb brick(int x, int y, uint32_t s, Rgb base) {
  const int row = y / 8, offset = (row & 1) ? 8 : 0;
  const int bx = (x + offset) / 16;
  const bool mortar = (y % 8 == 7) || ((x + offset) % 16 == 15);
  if (mortar) return mul(Rgb{200, 195, 185}, 0.55f + 0.1f * noise(x, y, s));
  float var = 0.8f + 0.3f * noise(bx, row, s + 7);
  return mul(base, var * (0.85f + 0.15f * fbm(x, y, s)));
}

Rgb stone(int x, int y, uint32_t s, Rgb base) {
  const int row = y / 16, offset = (row & 1) ? 11 : 0;
  const bool seam = (y % 16 == 15) || ((x + offset) % 21 == 20);
  float n = fbm(x, y, s);
  if (seam) return mul(base, 0.35f);
  return mul(base, 0.6f + 0.55f * n);
}

Rgb wood(int x, int y, uint32_t s, Rgb base) {
  const int plank = x / 13;
  const bool gap = (x % 13 == 12);
  if (gap) return mul(base, 0.3f);
  float grain = value_noise(x * 4 % kTex, y, 8, s + plank) * 0.35f + 0.75f;
  float ring = ((y + plank * 17) % 23 < 2) ? 0.8f : 1.f;
  return mul(base, grain * ring);
}

Rgb metal(int x, int y, uint32_t s, Rgb base) {
  const bool rivet = ((x % 32 == 4) || (x % 32 == 27)) && ((y % 32 == 4) || (y % 32 == 27));
  const bool seam = (x % 32 == 0) || (y % 32 == 0);
  if (rivet) return mul(base, 1.5f);
  if (seam) return mul(base, 0.45f);
  float brushed = 0.85f + 0.15f * noise(y, 3, s);
  return mul(base, brushed * (0.92f + 0.12f * fbm(x, y, s)));
}

Rgb tile(int x, int y, uint32_t s, Rgb base) {
  const bool grout = (x % 16 == 0) || (y % 16 == 0);
  if (grout) return Rgb{70, 70, 70};
  bool alt = ((x / 16 + y / 16) & 1) != 0;
  return mul(alt ? base : mix(base, Rgb{235, 235, 230}, 0.5f), 0.9f + 0.1f * noise(x, y, s));
}

Rgb moss(int x, int y, uint32_t s, Rgb base) {
  Rgb st = stone(x, y, s, Rgb{120, 120, 115});
  float m = fbm(x, y, s + 99);
  return m > 0.5f ? mix(st, base, (m - 0.5f) * 2.2f) : st;
}

Rgb banner(int x, int y, uint32_t s, Rgb colour) {
  Rgb wall = stone(x, y, s, Rgb{110, 105, 100});
  if (x >= 18 && x < 46 && y >= 6 && y < 54 + ((x / 4) & 1) * 4) {
    // Emblem: a diamond of a contrasting colour.
    int dx = std::abs(x - 32), dy = std::abs(y - 28);
    if (dx + dy < 10) return Rgb{240, 220, 120};
    return mul(colour, 0.8f + 0.2f * noise(x, y, s));
  }
  return wall;
}

Rgb window(int x, int y, uint32_t s, Rgb sky) {
  Rgb wall = brick(x, y, s, Rgb{120, 80, 60});
  if (x >= 14 && x < 50 && y >= 10 && y < 50) {
    if (x == 31 || x == 32 || y == 29 || y == 30) return Rgb{40, 30, 25};
    return mix(sky, Rgb{255, 255, 255}, static_cast<float>(50 - y) / 60.f);
  }
  return wall;
}

Rgb torch(int x, int y, uint32_t s, Rgb flame) {
  Rgb wall = stone(x, y, s, Rgb{100, 95, 90});
  int dx = std::abs(x - 32);
  if (y >= 30 && y < 50 && dx < 3) return Rgb{70, 45, 25};  // the stick
  int fy = y - 22, r2 = dx * dx * 3 + fy * fy;
  if (r2 < 80) return mix(Rgb{255, 250, 200}, flame, static_cast<float>(r2) / 80.f);
  if (r2 < 500) return mix(mix(wall, flame, 0.5f), wall, static_cast<float>(r2 - 80) / 420.f);  // glow
  return wall;
}

// Landmark sprites: column-major with alpha; kind gives the shape, colour the paint.
uint32_t sprite_texel(LandmarkKind kind, Rgb c, int x, int y) {
  const float cx = 31.5f;
  const float dx = (static_cast<float>(x) - cx);
  auto cyl_shade = [&](float half) {  // cylinder shading from the horizontal position
    float t = dx / half;
    return 0.55f + 0.45f * (1.f - t * t);
  };
  switch (kind) {
    case LandmarkKind::Pillar: {
      float half = (y < 6 || y > 57) ? 14.f : 10.f;  // capital and base are wider
      if (std::abs(dx) > half) return 0;
      bool flute = (static_cast<int>(dx + 32) % 5 == 0) && y >= 6 && y <= 57;
      return pack(mul(c, cyl_shade(half) * (flute ? 0.75f : 1.f)), 255);
    }
    case LandmarkKind::Lamp: {
      float gy = static_cast<float>(y) - 12.f;
      float r2 = dx * dx + gy * gy;
      if (r2 < 81.f) return pack(mix(Rgb{255, 255, 230}, c, r2 / 81.f), 255);
      if (y > 20 && std::abs(dx) < 2.f) return pack(Rgb{60, 60, 65}, 255);
      if (y > 58 && std::abs(dx) < 9.f) return pack(Rgb{50, 50, 55}, 255);
      return 0;
    }
    case LandmarkKind::Barrel: {
      if (y < 26) return 0;
      float half = 15.f + 3.f * (1.f - ((y - 45.f) / 19.f) * ((y - 45.f) / 19.f));
      if (std::abs(dx) > half) return 0;
      bool band = (y >= 31 && y <= 33) || (y >= 56 && y <= 58);
      return pack(band ? Rgb{70, 70, 75} : mul(c, cyl_shade(half)), 255);
    }
    case LandmarkKind::Plant: {
      if (y >= 44) {  // pot
        float half = 12.f - (y - 44) * 0.25f;
        if (std::abs(dx) > half) return 0;
        return pack(mul(c, cyl_shade(half)), 255);
      }
      float ly = static_cast<float>(y) - 26.f;
      float r2 = dx * dx * 0.8f + ly * ly;
      if (r2 < 380.f && (hash32(static_cast<uint32_t>(x * 64 + y)) & 3) != 0)
        return pack(mul(Rgb{50, 150, 60}, 0.6f + 0.4f * (1.f - r2 / 380.f)), 255);
      return 0;
    }
    case LandmarkKind::Statue: {
      if (y >= 52) return std::abs(dx) < 16.f ? pack(Rgb{120, 115, 110}, 255) : 0;  // pedestal
      float hy = static_cast<float>(y) - 12.f;
      if (dx * dx + hy * hy < 36.f) return pack(mul(c, 1.1f), 255);  // head
      if (y >= 18 && y < 52 && std::abs(dx) < 5.f + (y - 18) * 0.2f) return pack(mul(c, cyl_shade(12.f)), 255);
      return 0;
    }
    default:
      return 0;
  }
}

}  // namespace

void build_assets(uint32_t palette_seed, WorldAssets& out) {
  // Per-world palette: a tint per channel and a hue shuffle for the material base colours.
  auto unit = [&](uint32_t k) { return static_cast<float>(hash32(palette_seed ^ k) >> 8) * (1.0f / 16777216.0f); };
  const Rgb world_tint{0.8f + 0.35f * unit(1), 0.8f + 0.35f * unit(2), 0.8f + 0.35f * unit(3)};
  const Rgb bases[kRoomWallMaterials] = {
      {150, 70, 50},   // brick
      {130, 130, 125}, // stone
      {140, 95, 55},   // wood
      {110, 120, 135}, // metal
      {80, 120, 160},  // tile
      {70, 120, 60},   // moss
  };
  const Rgb landmark_colours[kLandmarkColours] = {{220, 40, 40},  {40, 200, 60},  {50, 80, 230},  {235, 210, 40},
                                                  {210, 50, 210}, {40, 210, 210}, {240, 130, 30}, {235, 235, 235}};
  const uint32_t s = palette_seed;
  for (int m = 0; m < kWallMaterials; ++m) {
    Texture& t = out.wall[m];
    Rgb base = m < kRoomWallMaterials ? tint(bases[m], world_tint) : Rgb{};
    Rgb accent = landmark_colours[hash32(s + 17 * m) % kLandmarkColours];
    for (int x = 0; x < kTex; ++x)
      for (int y = 0; y < kTex; ++y) {
        Rgb c;
        switch (m) {
          case 0: c = brick(x, y, s, base); break;
          case 1: c = stone(x, y, s, base); break;
          case 2: c = wood(x, y, s, base); break;
          case 3: c = metal(x, y, s, base); break;
          case 4: c = tile(x, y, s, base); break;
          case 5: c = moss(x, y, s, base); break;
          case 6: c = banner(x, y, s, accent); break;
          case 7: c = window(x, y, s, tint(Rgb{120, 170, 230}, world_tint)); break;
          default: c = torch(x, y, s, Rgb{255, 140, 30}); break;
        }
        put(t, x, y, c);
      }
    // Y-side faces are darker, as in classic ray casters: it reads as lighting.
    for (int i = 0; i < kTex * kTex; ++i) {
      uint32_t p = t[i];
      uint32_t r = ((p >> 16) & 0xFF) * 3 / 4, g = ((p >> 8) & 0xFF) * 3 / 4, b = (p & 0xFF) * 3 / 4;
      out.wall_shaded[m][i] = (r << 16) | (g << 8) | b;
    }
  }
  const Rgb floor_base = tint(Rgb{110, 100, 90}, world_tint);
  for (int k = 0; k < kFloorKinds; ++k)
    for (int y = 0; y < kTex; ++y)
      for (int x = 0; x < kTex; ++x) {
        Rgb c;
        if (k == 0) c = mul(((x / 32 + y / 32) & 1) ? floor_base : mix(floor_base, Rgb{30, 30, 30}, 0.5f), 0.85f + 0.2f * fbm(x, y, s + 50));
        else if (k == 1) c = wood(y, x, s + 60, tint(Rgb{120, 80, 50}, world_tint));
        else c = stone(x, y, s + 70, mul(floor_base, 0.9f));
        out.floor[k][y * kTex + x] = pack(c);
      }
  const Rgb ceiling_base = tint(Rgb{90, 90, 100}, world_tint);
  for (int y = 0; y < kTex; ++y)
    for (int x = 0; x < kTex; ++x) {
      bool beam = (x % 32 < 3) || (y % 32 < 3);
      out.ceiling[y * kTex + x] = pack(beam ? mul(ceiling_base, 0.5f) : mul(ceiling_base, 0.9f + 0.15f * fbm(x, y, s + 80)));
    }
  out.sprites.assign(static_cast<size_t>(LandmarkKind::kCount) * kLandmarkColours, Texture{});
  for (int k = 0; k < static_cast<int>(LandmarkKind::kCount); ++k)
    for (int c = 0; c < kLandmarkColours; ++c) {
      Texture& t = out.sprites[k * kLandmarkColours + c];
      for (int x = 0; x < kTex; ++x)
        for (int y = 0; y < kTex; ++y) t[x * kTex + y] = sprite_texel(static_cast<LandmarkKind>(k), landmark_colours[c], x, y);
    }
  out.fog_colour = pack(tint(Rgb{28, 26, 34}, world_tint));
}

}  // namespace sw
