// PNG output through stb_image_write (Debian's libstb), written to a temp file then renamed so a
// failed write never leaves a half image behind.
#include <cstdio>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC  // private to this file: no clash with another copy of stb
#include <stb_image_write.h>

#include "commands.h"

namespace sw::cli {

void write_png(const std::string& path, const uint8_t* rgb, int width, int height) {
  const std::string tmp = path + ".tmp";
  if (!stbi_write_png(tmp.c_str(), width, height, 3, rgb, width * 3)) {
    std::remove(tmp.c_str());
    throw UsageError("cannot write '" + path + "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw UsageError("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
}

void plot_series_png(const std::string& path, const std::vector<std::vector<std::pair<double, double>>>& series) {
  constexpr int W = 800, H = 400, M = 30;  // image size and margin
  std::vector<uint8_t> img(static_cast<size_t>(W) * H * 3, 255);
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : series)
    for (const auto& [x, y] : s)
      if (std::isfinite(x) && std::isfinite(y)) x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  if (!(x1 >= x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 - x0 < 1e-12) x1 = x0 + 1;
  if (y1 - y0 < 1e-12) y1 = y0 + 1;
  auto put = [&](int px, int py, const uint8_t* c) {
    if (px < 0 || py < 0 || px >= W || py >= H) return;
    std::copy(c, c + 3, img.begin() + (static_cast<size_t>(py) * W + px) * 3);
  };
  auto sx = [&](double x) { return M + (x - x0) / (x1 - x0) * (W - 2 * M); };
  auto sy = [&](double y) { return H - M - (y - y0) / (y1 - y0) * (H - 2 * M); };
  const uint8_t grey[3] = {160, 160, 160};
  for (int i = M; i < W - M; ++i) put(i, H - M, grey);
  for (int j = M; j < H - M; ++j) put(M, j, grey);
  for (double g = std::ceil(y0); g <= y1 && y1 - y0 < 200; g += 1)
    for (int i = M; i < W - M; i += 4) put(i, static_cast<int>(sy(g)), grey);
  const uint8_t colours[6][3] = {{200, 60, 40}, {40, 110, 200}, {40, 160, 70}, {190, 140, 20}, {150, 60, 180}, {20, 160, 170}};
  for (size_t k = 0; k < series.size(); ++k)
    for (size_t i = 1; i < series[k].size(); ++i) {
      const double ax = sx(series[k][i - 1].first), ay = sy(series[k][i - 1].second);
      const double bx = sx(series[k][i].first), by = sy(series[k][i].second);
      if (!std::isfinite(ay) || !std::isfinite(by)) continue;
      const int n = static_cast<int>(std::max(std::abs(bx - ax), std::abs(by - ay))) + 1;
      for (int t = 0; t <= n; ++t)
        for (int d = 0; d < 2; ++d)
          put(static_cast<int>(ax + (bx - ax) * t / n), static_cast<int>(ay + (by - ay) * t / n) + d, colours[k % 6]);
    }
  write_png(path, img.data(), W, H);
}

void write_text_atomically(const std::string& path, const std::string& text, const std::string& flag) {
  const std::string what = flag.empty() ? "'" + path + "'" : flag + " '" + path + "'";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw UsageError(what + ": cannot open for writing");
    f << text;
    f.flush();
    if (!f) {
      f.close();
      std::remove(tmp.c_str());
      throw UsageError(what + ": write failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw UsageError(what + ": cannot rename the temp file into place: " + ec.message());
  }
}

}  // namespace sw::cli
