// The World interface: what the player, the recorder and the evaluators talk to. The reference
// world (ray-cast ground truth) implements it now; the neural world implements it later.
// Test: tests/sim/test_world.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sw {

// Per-frame action, shared by keyboard, gamepad, agents and the model's conditioning.
// forward/strafe/turn in [-1, 1]; sprint/use in {0, 1} (values in between are clamped).
struct Action {
  float forward = 0.f;
  float strafe = 0.f;
  float turn = 0.f;  // positive turns right (clockwise seen from above)
  float sprint = 0.f;
  float use = 0.f;

  static constexpr int kDim = 5;
  std::array<float, kDim> to_array() const { return {forward, strafe, turn, sprint, use}; }
  static Action from_array(std::span<const float, kDim> a) { return {a[0], a[1], a[2], a[3], a[4]}; }
  Action clamped() const;  // forward/strafe/turn to [-1, 1], sprint/use to {0, 1} (threshold 0.5)
  bool operator==(const Action&) const = default;
};

// One RGB8 frame, row-major, top row first.
struct Frame {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3
};

// Timings and counters of the last step(); worlds fill what applies to them.
struct StepStats {
  double step_ms = 0.0;    // wall time of the whole step
  double render_ms = 0.0;  // part of it spent producing pixels
  int64_t frame_index = 0; // game frames produced since reset
};

class World {
 public:
  virtual ~World() = default;
  virtual std::string name() const = 0;
  virtual int width() const = 0;
  virtual int height() const = 0;
  // Frames produced per step(): 1 for the reference world, the chunk size F for the neural one.
  virtual int chunk_frames() const = 0;
  virtual void reset(uint64_t seed) = 0;
  // Advances by actions.size() frames (a multiple of chunk_frames()), one frame per action.
  virtual void step(std::span<const Action> actions, std::vector<Frame>& frames_out) = 0;
  // The frame currently shown (after reset: the first view).
  virtual const Frame& current_frame() const = 0;
  virtual const StepStats& last_stats() const = 0;
};

// Game time runs at this rate whatever the display does.
inline constexpr int kGameFramesPerSecond = 20;

}  // namespace sw
