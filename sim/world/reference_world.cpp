// ReferenceWorld: game state (player movement with wall sliding, the "use" flash) and the World
// interface around the renderer. Test: tests/sim/test_reference_world.cpp.
#include <chrono>
#include <cmath>

#include "detmath.h"
#include "world_internal.h"

namespace sw {

using detail::clampf;
using detail::ifloor;

namespace {
constexpr int kUseFlashFrames = 3;  // frames the lantern flare lasts after "use"
constexpr float kBobPerCell = 9.0f; // walking animation: radians of bob per cell walked
}  // namespace

Action Action::clamped() const {
  auto c = [](float v) { return std::isfinite(v) ? clampf(v, -1.f, 1.f) : 0.f; };
  auto b = [](float v) { return (std::isfinite(v) && v >= 0.5f) ? 1.f : 0.f; };
  return {c(forward), c(strafe), c(turn), b(sprint), b(use)};
}

bool collides(const WorldMap& map, float x, float y, float radius) {
  const int x0 = ifloor(x - radius), x1 = ifloor(x + radius);
  const int y0 = ifloor(y - radius), y1 = ifloor(y + radius);
  for (int cy = y0; cy <= y1; ++cy)
    for (int cx = x0; cx <= x1; ++cx)
      if (map.is_wall(cx, cy)) return true;
  // Landmarks sit on cell centres and are boxes of half-size kLandmarkHalfSize.
  for (int cy = y0 - 1; cy <= y1 + 1; ++cy)
    for (int cx = x0 - 1; cx <= x1 + 1; ++cx) {
      if (!map.in_bounds(cx, cy) || map.cells[cy * map.size + cx] == Cell::Wall || !map.blocked[cy * map.size + cx]) continue;
      const float lx = static_cast<float>(cx) + 0.5f, ly = static_cast<float>(cy) + 0.5f;
      const float reach = radius + kLandmarkHalfSize;
      if (x > lx - reach && x < lx + reach && y > ly - reach && y < ly + reach) return true;
    }
  return false;
}

ReferenceWorld::ReferenceWorld(WorldParams params) : params_(params), assets_(std::make_unique<WorldAssets>()) {
  params_.validate();
  reset(0);
}

ReferenceWorld::~ReferenceWorld() = default;

void ReferenceWorld::reset(uint64_t seed) {
  seed_ = seed;
  map_ = generate_map(seed, params_);
  build_assets(map_.palette_seed, *assets_);
  // Spawn on a free cell chosen from the seed, facing a seeded direction.
  detail::Rng rng(seed ^ 0x5DEECE66DULL);
  std::vector<int> free_cells;
  for (int i = 0; i < map_.size * map_.size; ++i)
    if (!map_.blocked[i]) free_cells.push_back(i);
  const int cell = free_cells[rng.range(0, static_cast<int>(free_cells.size()) - 1)];
  player_ = PlayerState{};
  player_.x = static_cast<float>(cell % map_.size) + 0.5f;
  player_.y = static_cast<float>(cell / map_.size) + 0.5f;
  player_.angle = static_cast<float>(rng.range(0, 7)) * static_cast<float>(detail::kPi / 4.0);
  frame_.width = params_.width;
  frame_.height = params_.height;
  frame_.rgb.resize(static_cast<size_t>(params_.width) * params_.height * 3);
  render(frame_.rgb.data(), frame_.width, frame_.height);
  stats_ = StepStats{};
}

void ReferenceWorld::apply_action(const Action& raw) {
  const Action a = raw.clamped();
  PlayerState& p = player_;
  p.angle = detail::wrap_angle(p.angle + a.turn * params_.turn_speed);
  float s, c;
  detail::sincos_det(p.angle, &s, &c);
  float fwd = a.forward, strafe = a.strafe;
  const float len2 = fwd * fwd + strafe * strafe;
  if (len2 > 1.f) {  // diagonal movement is no faster than straight
    const float inv = 1.f / std::sqrt(len2);
    fwd *= inv;
    strafe *= inv;
  }
  const float speed = params_.walk_speed * (a.sprint > 0.f ? params_.sprint_factor : 1.f);
  const float dx = (c * fwd - s * strafe) * speed;
  const float dy = (s * fwd + c * strafe) * speed;
  // Axis-separated moves: a blocked axis stays put while the other slides along the wall.
  const float x0 = p.x, y0 = p.y;
  if (!collides(map_, p.x + dx, p.y, params_.player_radius)) p.x += dx;
  if (!collides(map_, p.x, p.y + dy, params_.player_radius)) p.y += dy;
  const float mx = p.x - x0, my = p.y - y0;
  const float moved = std::sqrt(mx * mx + my * my);
  p.bob_phase = detail::wrap_angle(p.bob_phase + moved * kBobPerCell);
  if (a.use > 0.f && p.use_timer == 0) p.use_timer = kUseFlashFrames;
  else if (p.use_timer > 0) --p.use_timer;
}

void ReferenceWorld::render(uint8_t* rgb, int width, int height) const {
  render_view(map_, *assets_, params_, player_, rgb, width, height);
}

void ReferenceWorld::step(std::span<const Action> actions, std::vector<Frame>& frames_out) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  double render_ms = 0.0;
  frames_out.resize(actions.size());
  for (size_t i = 0; i < actions.size(); ++i) {
    apply_action(actions[i]);
    const auto r0 = clock::now();
    render(frame_.rgb.data(), frame_.width, frame_.height);
    render_ms += std::chrono::duration<double, std::milli>(clock::now() - r0).count();
    frames_out[i] = frame_;
    ++stats_.frame_index;
  }
  stats_.render_ms = render_ms;
  stats_.step_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
}

uint64_t frame_hash(const uint8_t* data, size_t bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < bytes; ++i) {
    h ^= data[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace sw
