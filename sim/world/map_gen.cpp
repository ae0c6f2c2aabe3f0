// Map generation: rooms joined by corridors on a grid, connected by construction (each new room
// is joined to an earlier one), then wall materials per room and landmarks placed where they can
// never cut a path (cells whose 8 neighbours are all floor, no two landmarks adjacent).
// Test: tests/sim/test_reference_world.cpp (connectivity, determinism).
#include <algorithm>
#include <stdexcept>
#include <string>

#include "detmath.h"
#include "sparseworld/sim/reference_world.h"
#include "world_internal.h"

namespace sw {

using detail::Rng;

namespace {

struct Room {
  int x, y, w, h;
  int cx() const { return x + w / 2; }
  int cy() const { return y + h / 2; }
};

void carve(WorldMap& m, int x, int y) {
  if (x > 0 && y > 0 && x < m.size - 1 && y < m.size - 1) m.cells[y * m.size + x] = Cell::Floor;
}

// L-shaped corridor between two points; the elbow side is chosen by the RNG.
void carve_corridor(WorldMap& m, Rng& rng, int x0, int y0, int x1, int y1) {
  bool horizontal_first = rng.chance(0.5f);
  int x = x0, y = y0;
  auto step_x = [&] { while (x != x1) { carve(m, x, y); x += (x1 > x) ? 1 : -1; } };
  auto step_y = [&] { while (y != y1) { carve(m, x, y); y += (y1 > y) ? 1 : -1; } };
  if (horizontal_first) { step_x(); step_y(); } else { step_y(); step_x(); }
  carve(m, x1, y1);
}

}  // namespace

void WorldParams::validate() const {
  auto bad = [](const std::string& field, const std::string& why) {
    throw std::invalid_argument("world params: " + field + " " + why);
  };
  if (width < 8 || width > 4096) bad("width", "must be in [8, 4096], got " + std::to_string(width));
  if (height < 8 || height > 4096) bad("height", "must be in [8, 4096], got " + std::to_string(height));
  if (map_size < 12 || map_size > 256) bad("map_size", "must be in [12, 256], got " + std::to_string(map_size));
  if (min_rooms < 1 || max_rooms < min_rooms) bad("min_rooms/max_rooms", "must satisfy 1 <= min <= max");
  if (!(fov > 0.2f && fov < 2.8f)) bad("fov", "must be in (0.2, 2.8) radians");
  if (!(walk_speed > 0.f && walk_speed * sprint_factor < 0.5f)) bad("walk_speed", "times sprint_factor must be in (0, 0.5) cells/frame");
  if (!(sprint_factor >= 1.f)) bad("sprint_factor", "must be >= 1");
  if (!(turn_speed > 0.f && turn_speed < 1.f)) bad("turn_speed", "must be in (0, 1) radians/frame");
  if (!(player_radius > 0.05f && player_radius < 0.45f)) bad("player_radius", "must be in (0.05, 0.45)");
  if (!(fog_distance > 0.f)) bad("fog_distance", "must be > 0");
}

WorldMap generate_map(uint64_t seed, const WorldParams& params) {
  params.validate();
  Rng rng(seed ^ 0xA24BAED4963EE407ULL);
  WorldMap m;
  m.size = params.map_size;
  const int n = m.size;
  m.cells.assign(n * n, Cell::Wall);
  m.material.assign(n * n, 0);
  m.floor_kind.assign(n * n, 0);
  m.palette_seed = static_cast<uint32_t>(rng.next_u64());

  // Rooms: random placement with a one-cell wall margin between rooms.
  std::vector<Room> rooms;
  const int target = rng.range(params.min_rooms, params.max_rooms);
  const int max_side = std::max(3, std::min(8, n / 3));
  for (int attempt = 0; attempt < 400 && static_cast<int>(rooms.size()) < target; ++attempt) {
    Room r{0, 0, rng.range(3, max_side), rng.range(3, max_side)};
    r.x = rng.range(1, n - r.w - 1);
    r.y = rng.range(1, n - r.h - 1);
    bool overlaps = false;
    for (const Room& o : rooms) {
      if (r.x <= o.x + o.w && o.x <= r.x + r.w && r.y <= o.y + o.h && o.y <= r.y + r.h) { overlaps = true; break; }
    }
    if (!overlaps) rooms.push_back(r);
  }
  if (rooms.empty()) throw std::runtime_error("map generation placed no room (map_size too small?)");

  // Materials: each room gets one of the wall materials; its floor kind too.
  std::vector<uint8_t> room_material(rooms.size()), room_floor(rooms.size());
  for (size_t i = 0; i < rooms.size(); ++i) {
    room_material[i] = static_cast<uint8_t>(rng.range(0, kRoomWallMaterials - 1));
    room_floor[i] = static_cast<uint8_t>(rng.range(0, kFloorKinds - 1));
  }
  const uint8_t corridor_material = static_cast<uint8_t>(rng.range(0, kRoomWallMaterials - 1));

  for (size_t i = 0; i < rooms.size(); ++i) {
    const Room& r = rooms[i];
    for (int y = r.y; y < r.y + r.h; ++y)
      for (int x = r.x; x < r.x + r.w; ++x) {
        carve(m, x, y);
        m.floor_kind[y * n + x] = room_floor[i];
      }
  }
  // Join each room to the nearest earlier one: a spanning tree, so the map is connected.
  for (size_t i = 1; i < rooms.size(); ++i) {
    size_t best = 0;
    int best_d = 1 << 30;
    for (size_t j = 0; j < i; ++j) {
      int d = std::abs(rooms[i].cx() - rooms[j].cx()) + std::abs(rooms[i].cy() - rooms[j].cy());
      if (d < best_d) { best_d = d; best = j; }
    }
    carve_corridor(m, rng, rooms[i].cx(), rooms[i].cy(), rooms[best].cx(), rooms[best].cy());
  }
  // A few extra corridors make loops, so out-and-back paths have alternatives.
  const int loops = static_cast<int>(rooms.size()) / 3;
  for (int k = 0; k < loops && rooms.size() > 2; ++k) {
    size_t a = static_cast<size_t>(rng.range(0, static_cast<int>(rooms.size()) - 1));
    size_t b = static_cast<size_t>(rng.range(0, static_cast<int>(rooms.size()) - 1));
    if (a != b) carve_corridor(m, rng, rooms[a].cx(), rooms[a].cy(), rooms[b].cx(), rooms[b].cy());
  }

  // Wall materials: a wall takes the material of the room it borders, else the corridor's;
  // a few walls become decorated variants (banners) that make places recognisable.
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) m.material[y * n + x] = corridor_material;
  for (size_t i = 0; i < rooms.size(); ++i) {
    const Room& r = rooms[i];
    for (int y = r.y - 1; y <= r.y + r.h; ++y)
      for (int x = r.x - 1; x <= r.x + r.w; ++x)
        if (m.in_bounds(x, y)) m.material[y * n + x] = room_material[i];
  }
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x)
      if (m.cells[y * n + x] == Cell::Wall && rng.chance(0.04f))
        m.material[y * n + x] = static_cast<uint8_t>(kRoomWallMaterials + rng.range(0, kDecoratedMaterials - 1));

  // Landmarks: one or two per room, on cells with eight floor neighbours, never adjacent.
  m.blocked.assign(n * n, 0);
  for (int i = 0; i < n * n; ++i) m.blocked[i] = m.cells[i] == Cell::Wall ? 1 : 0;
  auto can_hold_landmark = [&](int x, int y) {
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        if (m.is_wall(x + dx, y + dy)) return false;
        if (m.blocked[(y + dy) * n + (x + dx)]) return false;  // another landmark nearby
      }
    return true;
  };
  for (size_t i = 0; i < rooms.size(); ++i) {
    const Room& r = rooms[i];
    const int want = (r.w * r.h >= 20) ? 2 : 1;
    for (int k = 0, tries = 0; k < want && tries < 30; ++tries) {
      int x = rng.range(r.x, r.x + r.w - 1), y = rng.range(r.y, r.y + r.h - 1);
      if (!can_hold_landmark(x, y)) continue;
      Landmark lm;
      lm.x = static_cast<float>(x) + 0.5f;
      lm.y = static_cast<float>(y) + 0.5f;
      lm.kind = static_cast<LandmarkKind>(rng.range(0, static_cast<int>(LandmarkKind::kCount) - 1));
      lm.colour = static_cast<uint8_t>(rng.range(0, kLandmarkColours - 1));
      m.landmarks.push_back(lm);
      m.blocked[y * n + x] = 1;
      ++k;
    }
  }
  return m;
}

}  // namespace sw
