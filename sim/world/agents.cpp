// Scripted agents. All share one steering controller (turn toward a waypoint, walk when roughly
// facing it) and a BFS path planner over the blocked grid; they differ in how they pick targets.
// Test: tests/sim/test_agents.cpp.
#include "sparseworld/sim/agents.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <stdexcept>

#include "detmath.h"
#include "world_internal.h"

namespace sw {

using detail::clampf;
using detail::ifloor;
using detail::Rng;

namespace {

struct CellPos {
  int x, y;
  bool operator==(const CellPos&) const = default;
};

CellPos cell_of(const PlayerState& p) { return {ifloor(p.x), ifloor(p.y)}; }

// Turn toward (tx, ty) and walk when the target is ahead. Only basic float ops: deterministic.
Action steer_to(const ReferenceWorld& w, float tx, float ty, bool sprint) {
  const PlayerState& p = w.player();
  float s, c;
  detail::sincos_det(p.angle, &s, &c);
  float vx = tx - p.x, vy = ty - p.y;
  const float len = std::sqrt(vx * vx + vy * vy);
  Action a;
  if (len < 1e-4f) return a;
  vx /= len;
  vy /= len;
  const float dot = c * vx + s * vy;
  const float cross = c * vy - s * vx;  // > 0: target is clockwise (to the right)
  if (dot < 0.f) {
    a.turn = cross >= 0.f ? 1.f : -1.f;
  } else {
    a.turn = clampf(cross / w.params().turn_speed, -1.f, 1.f);
  }
  a.forward = dot > 0.85f ? 1.f : (dot > 0.5f ? 0.4f : 0.f);
  a.sprint = (sprint && dot > 0.97f) ? 1.f : 0.f;
  return a;
}

// Shortest path (4-connected) from `from` to the nearest cell for which goal() holds.
template <typename Goal>
std::vector<CellPos> bfs_path(const WorldMap& m, CellPos from, Goal goal, Rng& rng) {
  const int n = m.size;
  std::vector<int> parent(n * n, -1);
  std::deque<int> queue;
  const int start = from.y * n + from.x;
  parent[start] = start;
  queue.push_back(start);
  // Neighbour order shuffled once per search: varied but deterministic routes.
  int order[4] = {0, 1, 2, 3};
  for (int i = 3; i > 0; --i) std::swap(order[i], order[rng.range(0, i)]);
  const int ddx[4] = {1, -1, 0, 0}, ddy[4] = {0, 0, 1, -1};
  while (!queue.empty()) {
    const int cur = queue.front();
    queue.pop_front();
    const CellPos cp{cur % n, cur / n};
    if (cur != start && goal(cp)) {
      std::vector<CellPos> path;
      for (int at = cur; at != start; at = parent[at]) path.push_back({at % n, at / n});
      std::reverse(path.begin(), path.end());
      return path;
    }
    for (int k : order) {
      const int nx = cp.x + ddx[k], ny = cp.y + ddy[k];
      if (m.is_blocked(nx, ny) || parent[ny * n + nx] != -1) continue;
      parent[ny * n + nx] = cur;
      queue.push_back(ny * n + nx);
    }
  }
  return {};
}

bool reached(const PlayerState& p, CellPos c, float tol = 0.2f) {
  const float dx = p.x - (c.x + 0.5f), dy = p.y - (c.y + 0.5f);
  return dx * dx + dy * dy < tol * tol;
}

// Random walk with momentum: smoothed random forward/turn, turning away when stuck.
class RandomWalk final : public Agent {
 public:
  explicit RandomWalk(uint64_t seed) : rng_(seed) {}
  std::string name() const override { return "random_walk"; }
  Action act(const ReferenceWorld& w) override {
    const PlayerState& p = w.player();
    const float moved = std::abs(p.x - last_x_) + std::abs(p.y - last_y_);
    last_x_ = p.x;
    last_y_ = p.y;
    if (moved < 1e-3f && forward_ > 0.3f && escape_ == 0) {
      escape_ = rng_.range(6, 20);
      escape_dir_ = rng_.chance(0.5f) ? 1.f : -1.f;
    }
    turn_ = 0.85f * turn_ + 0.15f * rng_.uniform(-1.f, 1.f) * 2.f;
    forward_ = 0.9f * forward_ + 0.1f * rng_.uniform(0.2f, 1.3f);
    Action a;
    if (escape_ > 0) {
      --escape_;
      a.turn = escape_dir_;
      a.forward = 0.2f;
    } else {
      a.turn = clampf(turn_, -1.f, 1.f);
      a.forward = clampf(forward_, -1.f, 1.f);
      a.strafe = rng_.chance(0.05f) ? rng_.uniform(-1.f, 1.f) : 0.f;
    }
    if (sprint_left_ > 0) --sprint_left_;
    else if (rng_.chance(0.01f)) sprint_left_ = rng_.range(10, 40);
    a.sprint = sprint_left_ > 0 ? 1.f : 0.f;
    a.use = rng_.chance(0.02f) ? 1.f : 0.f;
    return a;
  }

 private:
  Rng rng_;
  float turn_ = 0, forward_ = 0.5f, last_x_ = -1, last_y_ = -1, escape_dir_ = 1;
  int escape_ = 0, sprint_left_ = 0;
};

// Motor babbling: discrete moves held for a few frames (stand still, back up, strafe, turn in
// place: what a player does and the path agents never do), with a forward bias so it still gets
// around. Without it the model never sees backward or pure strafe motion, and the eval's action
// fidelity test (which asks for exactly those) measured 43-50% (2026-11-23).
class Babbler final : public Agent {
 public:
  explicit Babbler(uint64_t seed) : rng_(seed) {}
  std::string name() const override { return "babbler"; }
  Action act(const ReferenceWorld&) override {
    if (hold_-- <= 0) {
      hold_ = rng_.range(1, 10);
      current_ = Action{};
      const float r = rng_.uniform(0.f, 1.f);
      if (r < 0.10f) {  // stand still
      } else if (r < 0.40f) {
        current_.forward = 1.f;
      } else if (r < 0.50f) {
        current_.forward = -1.f;
      } else if (r < 0.62f) {
        current_.strafe = rng_.chance(0.5f) ? 1.f : -1.f;
      } else if (r < 0.77f) {
        current_.turn = rng_.chance(0.5f) ? 1.f : -1.f;
      } else if (r < 0.90f) {  // walk and turn
        current_.forward = 1.f;
        current_.turn = rng_.uniform(-1.f, 1.f);
      } else {  // anything in range
        current_.forward = rng_.uniform(-1.f, 1.f);
        current_.strafe = rng_.uniform(-1.f, 1.f);
        current_.turn = rng_.uniform(-1.f, 1.f);
      }
      current_.sprint = rng_.chance(0.15f) ? 1.f : 0.f;
    }
    Action a = current_;
    a.use = rng_.chance(0.03f) ? 1.f : 0.f;
    return a;
  }

 private:
  Rng rng_;
  Action current_;
  int hold_ = 0;
};

// Follows targets cell by cell; subclasses choose the next path when the current one ends.
class PathAgent : public Agent {
 public:
  explicit PathAgent(uint64_t seed) : rng_(seed) {}
  Action act(const ReferenceWorld& w) override {
    const PlayerState& p = w.player();
    while (!path_.empty() && reached(p, path_.front())) path_.pop_front();
    // Stuck (pushing into a landmark corner, say): drop the path and plan again.
    const float moved = std::abs(p.x - last_x_) + std::abs(p.y - last_y_);
    last_x_ = p.x;
    last_y_ = p.y;
    stuck_ = moved < 1e-4f ? stuck_ + 1 : 0;
    if (stuck_ > 30) { path_.clear(); stuck_ = 0; }
    if (path_.empty()) plan(w);
    if (path_.empty()) {  // nowhere to go: look around
      Action a;
      a.turn = 0.5f;
      return a;
    }
    const CellPos t = path_.front();
    Action a = steer_to(w, t.x + 0.5f, t.y + 0.5f, sprint_);
    a.use = rng_.chance(use_rate_) ? 1.f : 0.f;
    return a;
  }

 protected:
  virtual void plan(const ReferenceWorld& w) = 0;
  Rng rng_;
  std::deque<CellPos> path_;
  bool sprint_ = false;
  float use_rate_ = 0.01f;

 private:
  float last_x_ = -1, last_y_ = -1;
  int stuck_ = 0;
};

// Right-hand wall follower on the grid.
class WallFollower final : public PathAgent {
 public:
  explicit WallFollower(uint64_t seed) : PathAgent(seed) { heading_ = rng_.range(0, 3); }
  std::string name() const override { return "wall_follower"; }

 protected:
  void plan(const ReferenceWorld& w) override {
    const CellPos c = cell_of(w.player());
    const WorldMap& m = w.map();
    const int ddx[4] = {1, 0, -1, 0}, ddy[4] = {0, 1, 0, -1};  // E, S, W, N: +1 turns right
    const int right = (heading_ + 1) & 3;
    auto free = [&](int h, int back) {  // the cell beside us in direction h, `back` cells behind
      return !m.is_blocked(c.x + ddx[h] - back * ddx[heading_], c.y + ddy[h] - back * ddy[heading_]);
    };
    // Turn right only around the end of the wall we were following (the cell to the right of our
    // previous position is blocked); in open floor keep straight until a wall is ahead. Turning
    // right on every free cell would circle forever in the middle of a room.
    // Landmarks are islands: following one would circle it forever, so only real walls count.
    auto wall_behind_right = [&] { return m.is_wall(c.x + ddx[right] - ddx[heading_], c.y + ddy[right] - ddy[heading_]); };
    int choice = -1;
    if (free(right, 0) && wall_behind_right()) choice = right;
    else if (free(heading_, 0)) choice = heading_;
    else if (free((heading_ + 3) & 3, 0)) choice = (heading_ + 3) & 3;
    else if (free(right, 0)) choice = right;
    else choice = (heading_ + 2) & 3;
    heading_ = choice;
    path_.push_back({c.x + ddx[choice], c.y + ddy[choice]});
  }

 private:
  int heading_ = 0;
};

// Explorer: walks to the nearest cell it has not yet seen up close, favouring new rooms.
class Explorer : public PathAgent {
 public:
  explicit Explorer(uint64_t seed) : PathAgent(seed) { sprint_ = rng_.chance(0.3f); }
  std::string name() const override { return "explorer"; }

 protected:
  void plan(const ReferenceWorld& w) override {
    const WorldMap& m = w.map();
    if (visited_.empty()) visited_.assign(m.size * m.size, 0);
    const CellPos c = cell_of(w.player());
    mark(m, c);
    auto path = bfs_path(m, c, [&](CellPos q) { return !visited_[q.y * m.size + q.x]; }, rng_);
    if (path.empty()) {  // everything seen: start over
      std::fill(visited_.begin(), visited_.end(), 0);
      mark(m, c);
      path = bfs_path(m, c, [&](CellPos q) { return !visited_[q.y * m.size + q.x]; }, rng_);
    }
    for (const CellPos& q : path) {
      path_.push_back(q);
      mark(m, q);
    }
  }
  void mark(const WorldMap& m, CellPos c) {
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx)
        if (m.in_bounds(c.x + dx, c.y + dy)) visited_[(c.y + dy) * m.size + c.x + dx] = 1;
  }
  std::vector<uint8_t> visited_;
};

// Out-and-back: explore for a while, then retrace the route to where it started, look around,
// and go out again. The return leg revisits places that have left any short memory window.
class OutAndBack final : public Explorer {
 public:
  explicit OutAndBack(uint64_t seed) : Explorer(seed) { sprint_ = false; use_rate_ = 0.f; }
  std::string name() const override { return "out_and_back"; }
  bool revisiting() const override { return returning_; }

 protected:
  void plan(const ReferenceWorld& w) override {
    const CellPos c = cell_of(w.player());
    if (!returning_) {
      if (trail_.empty()) out_cells_ = rng_.range(12, 30);
      if (static_cast<int>(trail_.size()) >= out_cells_) {
        returning_ = true;
        for (auto it = trail_.rbegin(); it != trail_.rend(); ++it) path_.push_back(*it);
        trail_.clear();
        return;
      }
      Explorer::plan(w);
      // Remember the route so the way back follows it exactly.
      if (trail_.empty()) trail_.push_back(c);
      for (const CellPos& q : path_) trail_.push_back(q);
    } else {
      returning_ = false;  // back at the start: go out again on a fresh route
      std::fill(visited_.begin(), visited_.end(), 0);
      Explorer::plan(w);
      trail_.push_back(c);
      for (const CellPos& q : path_) trail_.push_back(q);
    }
  }

 private:
  std::vector<CellPos> trail_;
  int out_cells_ = 0;
  bool returning_ = false;
};

// Look-back: walks like the explorer, and every few seconds stops, turns away by 70-150 degrees
// (further than the field of view, so the view in front leaves the frame), holds, turns back to
// exactly the old heading and looks for a moment. Standing still, the view that comes back is the
// one it saw before the turn, ~25-60 frames earlier: long after it left a short attention window.
// That is the memory test a route cannot give (an out-and-back return looks the other way), and,
// in training clips long enough to hold a whole turn, the data that teaches a memory to be used.
class LookBack final : public Explorer {
 public:
  explicit LookBack(uint64_t seed) : Explorer(seed) {
    sprint_ = false;
    use_rate_ = 0.f;
    walk_left_ = rng_.range(kWalkMin, kWalkMax);
  }
  std::string name() const override { return "look_back"; }
  bool revisiting() const override { return revisiting_; }
  Action act(const ReferenceWorld& w) override {
    revisiting_ = false;
    if (phase_ == Phase::kWalk) {
      if (walk_left_-- > 0) return Explorer::act(w);
      // Whole frames at full turn speed: turning back the same count of frames lands exactly on
      // the old heading (the world adds turn * turn_speed per frame).
      const float angle = rng_.uniform(kMinAwayRadians, kMaxAwayRadians);
      turn_frames_ = static_cast<int>(std::ceil(angle / w.params().turn_speed));
      direction_ = rng_.chance(0.5f) ? 1.f : -1.f;
      left_ = turn_frames_;
      phase_ = Phase::kAway;
    }
    Action a;
    switch (phase_) {
      case Phase::kAway:
        a.turn = direction_;
        if (--left_ == 0) {
          phase_ = Phase::kHold;
          left_ = rng_.range(0, kHoldMax);
        }
        return a;
      case Phase::kHold:
        if (left_-- > 0) return a;
        phase_ = Phase::kBack;
        left_ = turn_frames_;
        [[fallthrough]];
      case Phase::kBack: {
        a.turn = -direction_;
        --left_;
        // After this frame the heading is left_ turns away from the old one: the old view is
        // back once most of the field of view overlaps it again.
        revisiting_ = static_cast<float>(left_) * w.params().turn_speed < 0.5f * w.params().fov;
        if (left_ == 0) {
          phase_ = Phase::kLook;
          left_ = rng_.range(kLookMin, kLookMax);
        }
        return a;
      }
      case Phase::kLook:
        revisiting_ = true;
        if (--left_ <= 0) {
          phase_ = Phase::kWalk;
          walk_left_ = rng_.range(kWalkMin, kWalkMax);
        }
        return a;
      case Phase::kWalk: break;
    }
    return a;
  }

 private:
  // Frames of walking between looks, of holding turned away and of looking after the return;
  // the angle turned away (radians). One look-back takes ~30-60 frames: a 48-frame clip often
  // holds a whole one.
  static constexpr int kWalkMin = 20, kWalkMax = 60, kHoldMax = 6, kLookMin = 4, kLookMax = 10;
  static constexpr float kMinAwayRadians = 1.22f, kMaxAwayRadians = 2.62f;
  enum class Phase { kWalk, kAway, kHold, kBack, kLook };
  Phase phase_ = Phase::kWalk;
  int walk_left_ = 0, turn_frames_ = 0, left_ = 0;
  float direction_ = 1.f;
  bool revisiting_ = false;
};

}  // namespace

const std::vector<std::string>& agent_names() {
  static const std::vector<std::string> names = {"random_walk", "wall_follower", "explorer", "out_and_back", "babbler", "look_back"};
  return names;
}

std::unique_ptr<Agent> make_agent(const std::string& name, uint64_t seed) {
  if (name == "random_walk") return std::make_unique<RandomWalk>(seed);
  if (name == "wall_follower") return std::make_unique<WallFollower>(seed);
  if (name == "explorer") return std::make_unique<Explorer>(seed);
  if (name == "out_and_back") return std::make_unique<OutAndBack>(seed);
  if (name == "babbler") return std::make_unique<Babbler>(seed);
  if (name == "look_back") return std::make_unique<LookBack>(seed);
  std::string valid;
  for (const auto& n : agent_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown agent '" + name + "' (valid: " + valid + ")");
}

}  // namespace sw
