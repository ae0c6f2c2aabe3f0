// Image metrics for evaluation (see sparseworld/sim/eval.h). Plain C++, no torch.
// Test: tests/eval/test_metrics.cpp.
#include <cmath>
#include <limits>
#include <vector>

#include "sparseworld/sim/eval.h"

namespace sw::eval {

namespace {

std::vector<double> luma(const uint8_t* rgb, int n) {
  std::vector<double> y(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) y[i] = 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
  return y;
}

// Separable Gaussian blur with edge clamping.
std::vector<double> blur(const std::vector<double>& x, int w, int h, const std::vector<double>& k) {
  const int r = static_cast<int>(k.size() / 2);
  std::vector<double> tmp(x.size()), out(x.size());
  for (int y = 0; y < h; ++y)
    for (int i = 0; i < w; ++i) {
      double s = 0;
      for (int d = -r; d <= r; ++d) s += k[d + r] * x[y * w + std::min(w - 1, std::max(0, i + d))];
      tmp[y * w + i] = s;
    }
  for (int y = 0; y < h; ++y)
    for (int i = 0; i < w; ++i) {
      double s = 0;
      for (int d = -r; d <= r; ++d) s += k[d + r] * tmp[std::min(h - 1, std::max(0, y + d)) * w + i];
      out[y * w + i] = s;
    }
  return out;
}

}  // namespace

double psnr(const uint8_t* a, const uint8_t* b, int width, int height) {
  const size_t n = static_cast<size_t>(width) * height * 3;
  double se = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    se += d * d;
  }
  if (se == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(255.0 * 255.0 / (se / static_cast<double>(n)));
}

double ssim(const uint8_t* a, const uint8_t* b, int width, int height) {
  const int n = width * height;
  const std::vector<double> x = luma(a, n), y = luma(b, n);
  std::vector<double> k(11);
  double ks = 0;
  for (int i = 0; i < 11; ++i) ks += k[i] = std::exp(-0.5 * (i - 5) * (i - 5) / (1.5 * 1.5));
  for (double& v : k) v /= ks;
  std::vector<double> xx(n), yy(n), xy(n);
  for (int i = 0; i < n; ++i) {
    xx[i] = x[i] * x[i];
    yy[i] = y[i] * y[i];
    xy[i] = x[i] * y[i];
  }
  const auto mx = blur(x, width, height, k), my = blur(y, width, height, k);
  const auto sxx = blur(xx, width, height, k), syy = blur(yy, width, height, k), sxy = blur(xy, width, height, k);
  const double c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
  double total = 0;
  for (int i = 0; i < n; ++i) {
    const double vx = sxx[i] - mx[i] * mx[i], vy = syy[i] - my[i] * my[i], cxy = sxy[i] - mx[i] * my[i];
    total += ((2 * mx[i] * my[i] + c1) * (2 * cxy + c2)) / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2));
  }
  return total / n;
}

FrameStats frame_stats(const uint8_t* rgb, const uint8_t* prev, int width, int height) {
  const int n = width * height;
  const std::vector<double> y = luma(rgb, n);
  FrameStats s;
  for (double v : y) s.mean += v;
  s.mean /= n;
  for (double v : y) s.stddev += (v - s.mean) * (v - s.mean);
  s.stddev = std::sqrt(s.stddev / n);
  double d = 0;
  for (int r = 0; r + 1 < height; ++r)
    for (int c = 0; c + 1 < width; ++c) {
      const size_t i = static_cast<size_t>(r) * width + c;
      d += std::abs(y[i + 1] - y[i]) + std::abs(y[i + width] - y[i]);
    }
  if (width > 1 && height > 1) s.detail = d / (static_cast<double>(width - 1) * (height - 1));
  if (prev) {
    const std::vector<double> p = luma(prev, n);
    for (int i = 0; i < n; ++i) s.motion += std::abs(y[i] - p[i]);
    s.motion /= n;
  }
  return s;
}

namespace {
// forward, strafe, turn of each class; its name in action_class_names() (same order).
constexpr float kCandidates[kActionCandidates][3] = {{0, 0, 0}, {1, 0, 0}, {-1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}};
}  // namespace

const std::vector<std::string>& action_class_names() {
  static const std::vector<std::string> names = {"none", "forward", "backward", "strafe-", "strafe+", "turn-", "turn+"};
  static_assert(kActionCandidates == 7, "a name per candidate class");
  return names;
}

int action_class(const Action& a) {
  int best = 0;
  float best_d = 1e30f;
  for (int c = 0; c < kActionCandidates; ++c) {
    const float d0 = a.forward - kCandidates[c][0], d1 = a.strafe - kCandidates[c][1], d2 = a.turn - kCandidates[c][2];
    const float d = d0 * d0 + d1 * d1 + d2 * d2;
    if (d < best_d) best_d = d, best = c;
  }
  return best;
}

Action candidate_action(int cls) { return {kCandidates[cls][0], kCandidates[cls][1], kCandidates[cls][2], 0, 0}; }

bool action_visible(const PlayerState& before, const PlayerState& after, int cls) {
  return cls == 0 || after.x != before.x || after.y != before.y || after.angle != before.angle;
}

int recover_action_class(ReferenceWorld& world, const PlayerState& before, float use, const uint8_t* frame) {
  const int w = world.width(), h = world.height();
  std::vector<uint8_t> candidate(static_cast<size_t>(w) * h * 3);
  int best = 0;
  double best_mse = 1e300;
  for (int c = 0; c < kActionCandidates; ++c) {
    world.set_player(before);
    world.apply_action({kCandidates[c][0], kCandidates[c][1], kCandidates[c][2], 0, use});
    world.render(candidate.data(), w, h);
    double mse = 0;
    for (size_t i = 0; i < candidate.size(); ++i) mse += (static_cast<double>(frame[i]) - candidate[i]) * (static_cast<double>(frame[i]) - candidate[i]);
    if (mse < best_mse) best_mse = mse, best = c;
  }
  return best;
}

}  // namespace sw::eval
