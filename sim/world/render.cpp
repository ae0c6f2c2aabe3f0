// The reference world's CPU renderer: floor/ceiling casting per row, DDA wall casting per column,
// depth-tested billboard landmarks, distance fog and a "hand lantern" overlay that bobs with
// walking and flashes on "use" (so every action component has a visible effect).
// Benchmark: `sparseworld bench world`; test: tests/sim/test_reference_world.cpp (golden hashes).
#include <algorithm>
#include <vector>

#include "detmath.h"
#include "world_internal.h"

namespace sw {

using detail::clampf;
using detail::ifloor;

namespace {

// Fog as an 8-bit weight: 0 = no fog, 256 = all fog. f = d^2 / (d^2 + D^2).
inline uint32_t fog_weight(float dist, float fog_distance) {
  float d2 = dist * dist;
  return static_cast<uint32_t>(256.f * d2 / (d2 + fog_distance * fog_distance));
}

inline void put_fogged(uint8_t* px, uint32_t c, uint32_t fog, uint32_t w) {
  const uint32_t inv = 256 - w;
  px[0] = static_cast<uint8_t>((((c >> 16) & 0xFF) * inv + ((fog >> 16) & 0xFF) * w) >> 8);
  px[1] = static_cast<uint8_t>((((c >> 8) & 0xFF) * inv + ((fog >> 8) & 0xFF) * w) >> 8);
  px[2] = static_cast<uint8_t>(((c & 0xFF) * inv + (fog & 0xFF) * w) >> 8);
}

struct Camera {
  float px, py;            // position
  float dir_x, dir_y;      // unit heading
  float plane_x, plane_y;  // right vector scaled by tan(fov / 2)
  float focal;             // pixels per unit at distance 1 (square pixels)
};

Camera make_camera(const PlayerState& p, float fov, int width) {
  Camera cam;
  float s, c;
  detail::sincos_det(p.angle, &s, &c);
  // tan(fov/2) from sin/cos of the half angle, deterministic.
  float hs, hc;
  detail::sincos_det(fov * 0.5f, &hs, &hc);
  const float plane = hs / hc;
  cam.px = p.x;
  cam.py = p.y;
  cam.dir_x = c;
  cam.dir_y = s;
  cam.plane_x = -s * plane;
  cam.plane_y = c * plane;
  cam.focal = (static_cast<float>(width) * 0.5f) / plane;
  return cam;
}

void draw_floor_ceiling(const WorldMap& map, const WorldAssets& a, const WorldParams& params, const Camera& cam,
                        uint8_t* rgb, int width, int height) {
  const float ray0x = cam.dir_x - cam.plane_x, ray0y = cam.dir_y - cam.plane_y;
  const float ray1x = cam.dir_x + cam.plane_x, ray1y = cam.dir_y + cam.plane_y;
  const float max_dist = static_cast<float>(map.size) * 2.f;  // keeps coordinates in int range
  const int half = height / 2;
  for (int y = half; y < height; ++y) {
    // Camera height is half a cell; p is the row's offset from the horizon at the pixel centre.
    const float p = static_cast<float>(y - half) + 0.5f;
    const float row_dist = std::min(0.5f * cam.focal / p, max_dist);
    const float step_x = row_dist * (ray1x - ray0x) / static_cast<float>(width);
    const float step_y = row_dist * (ray1y - ray0y) / static_cast<float>(width);
    float fx = cam.px + row_dist * ray0x + 0.5f * step_x;
    float fy = cam.py + row_dist * ray0y + 0.5f * step_y;
    const uint32_t w = fog_weight(row_dist, params.fog_distance);
    uint8_t* floor_row = rgb + static_cast<size_t>(y) * width * 3;
    uint8_t* ceil_row = rgb + static_cast<size_t>(height - 1 - y) * width * 3;
    for (int x = 0; x < width; ++x, fx += step_x, fy += step_y) {
      const int cx = ifloor(fx), cy = ifloor(fy);
      const int tx = static_cast<int>(static_cast<float>(kTex) * (fx - static_cast<float>(cx))) & (kTex - 1);
      const int ty = static_cast<int>(static_cast<float>(kTex) * (fy - static_cast<float>(cy))) & (kTex - 1);
      const int kind = map.in_bounds(cx, cy) ? map.floor_kind[cy * map.size + cx] : 0;
      put_fogged(floor_row + x * 3, a.floor[kind][ty * kTex + tx], a.fog_colour, w);
      put_fogged(ceil_row + x * 3, a.ceiling[ty * kTex + tx], a.fog_colour, w);
    }
  }
}

void draw_walls(const WorldMap& map, const WorldAssets& a, const WorldParams& params, const Camera& cam,
                uint8_t* rgb, int width, int height, float* zbuffer) {
  const float big = 1e30f;
  for (int x = 0; x < width; ++x) {
    const float camera_x = 2.f * (static_cast<float>(x) + 0.5f) / static_cast<float>(width) - 1.f;
    const float rdx = cam.dir_x + cam.plane_x * camera_x, rdy = cam.dir_y + cam.plane_y * camera_x;
    int mx = ifloor(cam.px), my = ifloor(cam.py);
    const float ddx = rdx == 0.f ? big : (rdx < 0 ? -1.f / rdx : 1.f / rdx);
    const float ddy = rdy == 0.f ? big : (rdy < 0 ? -1.f / rdy : 1.f / rdy);
    int step_x, step_y;
    float side_x, side_y;
    if (rdx < 0) { step_x = -1; side_x = (cam.px - mx) * ddx; } else { step_x = 1; side_x = (mx + 1.f - cam.px) * ddx; }
    if (rdy < 0) { step_y = -1; side_y = (cam.py - my) * ddy; } else { step_y = 1; side_y = (my + 1.f - cam.py) * ddy; }
    int side = 0;
    for (int guard = 0; guard < 4 * map.size; ++guard) {
      if (side_x < side_y) { side_x += ddx; mx += step_x; side = 0; } else { side_y += ddy; my += step_y; side = 1; }
      if (map.is_wall(mx, my)) break;
    }
    float perp = side == 0 ? side_x - ddx : side_y - ddy;
    perp = std::max(perp, 1e-3f);
    zbuffer[x] = perp;
    float wall_x = side == 0 ? cam.py + perp * rdy : cam.px + perp * rdx;
    wall_x -= static_cast<float>(ifloor(wall_x));
    int tex_x = static_cast<int>(wall_x * kTex) & (kTex - 1);
    if ((side == 0 && rdx > 0) || (side == 1 && rdy < 0)) tex_x = kTex - 1 - tex_x;  // textures read left to right
    const int mat = map.in_bounds(mx, my) ? map.material[my * map.size + mx] : 0;
    const uint32_t* column = (side == 0 ? a.wall[mat] : a.wall_shaded[mat]).data() + tex_x * kTex;

    const float line_h = cam.focal / perp;
    const float top = static_cast<float>(height) * 0.5f - line_h * 0.5f;
    const int y0 = std::max(0, ifloor(top + 0.5f));
    const int y1 = std::min(height, ifloor(top + line_h + 0.5f));
    const uint32_t w = fog_weight(perp, params.fog_distance);
    const float tex_step = static_cast<float>(kTex) / line_h;
    for (int y = y0; y < y1; ++y) {
      const int ty = static_cast<int>((static_cast<float>(y) + 0.5f - top) * tex_step) & (kTex - 1);
      put_fogged(rgb + (static_cast<size_t>(y) * width + x) * 3, column[ty], a.fog_colour, w);
    }
  }
}

void draw_landmarks(const WorldMap& map, const WorldAssets& a, const WorldParams& params, const Camera& cam,
                    uint8_t* rgb, int width, int height, const float* zbuffer) {
  struct Visible {
    float depth, lateral;
    int sprite;
  };
  std::vector<Visible> visible;
  visible.reserve(map.landmarks.size());
  const float plane_len2 = cam.plane_x * cam.plane_x + cam.plane_y * cam.plane_y;
  for (const Landmark& lm : map.landmarks) {
    const float rx = lm.x - cam.px, ry = lm.y - cam.py;
    const float depth = rx * cam.dir_x + ry * cam.dir_y;
    if (depth < 0.2f) continue;
    // Lateral offset in units of the image half-width at that depth.
    const float lateral = (rx * cam.plane_x + ry * cam.plane_y) / plane_len2;
    visible.push_back({depth, lateral, static_cast<int>(lm.kind) * kLandmarkColours + lm.colour});
  }
  // Far to near; ties broken by sprite index so the order is total (deterministic).
  std::sort(visible.begin(), visible.end(), [](const Visible& l, const Visible& r) {
    return l.depth != r.depth ? l.depth > r.depth : l.sprite < r.sprite;
  });
  for (const Visible& v : visible) {
    const float screen_x = static_cast<float>(width) * 0.5f * (1.f + v.lateral / v.depth);
    const float size = cam.focal / v.depth;  // a sprite is one cell tall and wide
    const float left = screen_x - size * 0.5f;
    const float top = static_cast<float>(height) * 0.5f + 0.5f * size - size;  // bottom on the floor
    const int x0 = std::max(0, ifloor(left + 0.5f)), x1 = std::min(width, ifloor(left + size + 0.5f));
    const int y0 = std::max(0, ifloor(top + 0.5f)), y1 = std::min(height, ifloor(top + size + 0.5f));
    const uint32_t w = fog_weight(v.depth, params.fog_distance);
    const float inv = static_cast<float>(kTex) / size;
    const Texture& tex = a.sprites[v.sprite];
    for (int x = x0; x < x1; ++x) {
      if (v.depth >= zbuffer[x]) continue;
      const int tx = static_cast<int>((static_cast<float>(x) + 0.5f - left) * inv) & (kTex - 1);
      const uint32_t* column = tex.data() + tx * kTex;
      for (int y = y0; y < y1; ++y) {
        const int ty = static_cast<int>((static_cast<float>(y) + 0.5f - top) * inv) & (kTex - 1);
        const uint32_t c = column[ty];
        if ((c >> 24) == 0) continue;
        put_fogged(rgb + (static_cast<size_t>(y) * width + x) * 3, c, a.fog_colour, w);
      }
    }
  }
}

// A lantern held at the bottom centre: bobs with walking, flares while "use" is active.
void draw_lantern(const PlayerState& p, uint8_t* rgb, int width, int height) {
  float s, c;
  detail::sincos_det(p.bob_phase, &s, &c);
  const float unit = static_cast<float>(height) / 128.f;
  const int cx = width / 2 + static_cast<int>(4.f * unit * s);
  const int base_y = height - 1 + static_cast<int>(3.f * unit * (c < 0 ? -c : c)) - static_cast<int>(2.f * unit);
  const int half_w = std::max(2, static_cast<int>(5.f * unit));
  const int body_h = std::max(4, static_cast<int>(16.f * unit));
  const bool lit = p.use_timer > 0;
  for (int y = base_y - body_h; y <= base_y; ++y) {
    if (y < 0 || y >= height) continue;
    for (int x = cx - half_w; x <= cx + half_w; ++x) {
      if (x < 0 || x >= width) continue;
      uint8_t* px = rgb + (static_cast<size_t>(y) * width + x) * 3;
      const bool frame = x == cx - half_w || x == cx + half_w || y == base_y - body_h;
      if (frame) { px[0] = 60; px[1] = 50; px[2] = 40; continue; }
      const uint8_t glow = lit ? 255 : 190;
      px[0] = glow; px[1] = static_cast<uint8_t>(lit ? 240 : 150); px[2] = static_cast<uint8_t>(lit ? 170 : 60);
    }
  }
  if (!lit) return;
  // The flare brightens a disc around the lantern.
  const int r = static_cast<int>(22.f * unit);
  for (int y = base_y - body_h - r; y <= base_y; ++y) {
    if (y < 0 || y >= height) continue;
    for (int x = cx - r; x <= cx + r; ++x) {
      if (x < 0 || x >= width) continue;
      const int dx = x - cx, dy = y - (base_y - body_h / 2);
      const int d2 = dx * dx + dy * dy;
      if (d2 >= r * r) continue;
      const uint32_t add = static_cast<uint32_t>(120 * (r * r - d2) / (r * r));
      uint8_t* px = rgb + (static_cast<size_t>(y) * width + x) * 3;
      px[0] = static_cast<uint8_t>(std::min<uint32_t>(255, px[0] + add));
      px[1] = static_cast<uint8_t>(std::min<uint32_t>(255, px[1] + add * 9 / 10));
      px[2] = static_cast<uint8_t>(std::min<uint32_t>(255, px[2] + add / 2));
    }
  }
}

}  // namespace

void render_view(const WorldMap& map, const WorldAssets& assets, const WorldParams& params,
                 const PlayerState& player, uint8_t* rgb, int width, int height) {
  const Camera cam = make_camera(player, params.fov, width);
  thread_local std::vector<float> zbuffer;
  zbuffer.resize(static_cast<size_t>(width));
  draw_floor_ceiling(map, assets, params, cam, rgb, width, height);
  draw_walls(map, assets, params, cam, rgb, width, height, zbuffer.data());
  draw_landmarks(map, assets, params, cam, rgb, width, height, zbuffer.data());
  draw_lantern(player, rgb, width, height);
}

}  // namespace sw
