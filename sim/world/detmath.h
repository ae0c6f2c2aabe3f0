// Deterministic math for the reference world: sin/cos/wrap built from +, -, *, / only, so the
// same inputs give the same bits on every IEEE-754 machine (libm's results may differ between
// versions). Accuracy ~1e-7 on [-pi, pi], plenty for rendering and movement.
#pragma once

#include <cstdint>

namespace sw::detail {

inline constexpr double kPi = 3.14159265358979323846;
inline constexpr double kTwoPi = 6.28318530717958647692;

// Wraps an angle to [0, 2*pi).
inline float wrap_angle(float a) {
  double x = a;
  if (x >= 0.0 && x < kTwoPi) return a;
  double turns = x / kTwoPi;
  long long whole = static_cast<long long>(turns);
  if (turns < 0.0 && static_cast<double>(whole) != turns) --whole;  // floor for negatives
  x -= static_cast<double>(whole) * kTwoPi;
  if (x < 0.0) x += kTwoPi;
  if (x >= kTwoPi) x -= kTwoPi;
  return static_cast<float>(x);
}

// sin and cos of a in one call (a any value). Quadrant reduction + Taylor on [-pi/4, pi/4].
inline void sincos_det(float a, float* s, float* c) {
  double x = wrap_angle(a);
  // Quadrant q: x = q * pi/2 + r, |r| <= pi/4.
  int q = static_cast<int>(x / (kPi / 2.0) + 0.5);
  double r = x - q * (kPi / 2.0);
  double r2 = r * r;
  double sr = r * (1.0 + r2 * (-1.0 / 6 + r2 * (1.0 / 120 + r2 * (-1.0 / 5040 + r2 * (1.0 / 362880)))));
  double cr = 1.0 + r2 * (-0.5 + r2 * (1.0 / 24 + r2 * (-1.0 / 720 + r2 * (1.0 / 40320 + r2 * (-1.0 / 3628800)))));
  double sv, cv;
  switch (q & 3) {
    case 0: sv = sr; cv = cr; break;
    case 1: sv = cr; cv = -sr; break;
    case 2: sv = -sr; cv = -cr; break;
    default: sv = -cr; cv = sr; break;
  }
  *s = static_cast<float>(sv);
  *c = static_cast<float>(cv);
}

// Floor of a float as an int, for values well inside the int range.
inline int ifloor(float v) {
  int i = static_cast<int>(v);
  return (static_cast<float>(i) > v) ? i - 1 : i;
}

inline float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

// A small, fast integer hash (lowbias32) for procedural textures and noise.
inline uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}
inline uint32_t hash2(uint32_t a, uint32_t b, uint32_t seed) { return hash32(a * 0x9E3779B1U ^ hash32(b + seed * 0x85EBCA77U)); }

// SplitMix64: the project's seeded PRNG (std distributions are implementation-defined).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next_u64() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  float uniform() { return static_cast<float>(next_u64() >> 40) * (1.0f / 16777216.0f); }
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [lo, hi] (inclusive).
  int range(int lo, int hi) { return lo + static_cast<int>(next_u64() % static_cast<uint64_t>(hi - lo + 1)); }
  bool chance(float p) { return uniform() < p; }

 private:
  uint64_t state_;
};

}  // namespace sw::detail
