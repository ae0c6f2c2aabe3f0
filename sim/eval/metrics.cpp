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
  if (prev) {
    const std::vector<double> p = luma(prev, n);
    for (int i = 0; i < n; ++i) s.motion += std::abs(y[i] - p[i]);
    s.motion /= n;
  }
  return s;
}

}  // namespace sw::eval
