// CPU reference for frame_to_rgba8 (see kernels.h). The GPU version must match it bit for bit:
// both compute round(v * scale + offset) with separately rounded multiply and add (no FMA).
#include <stdexcept>
#include <string>

#include "frame_to_rgba8_common.h"
#include "sparseworld/kernels.h"

namespace sw::kernels {

void validate(const FrameToRgbaParams& p) {
  if (p.width < 1 || p.width > 16384) throw std::invalid_argument("frame_to_rgba8: width " + std::to_string(p.width) + " out of [1, 16384]");
  if (p.height < 1 || p.height > 16384) throw std::invalid_argument("frame_to_rgba8: height " + std::to_string(p.height) + " out of [1, 16384]");
  if (p.dst_row_pitch != 0 && p.dst_row_pitch < p.width * 4)
    throw std::invalid_argument("frame_to_rgba8: dst_row_pitch " + std::to_string(p.dst_row_pitch) + " < width * 4");
}

void frame_to_rgba8_cpu(const float* src, uint8_t* dst, const FrameToRgbaParams& p) {
  validate(p);
  const int pitch = p.dst_row_pitch ? p.dst_row_pitch : p.width * 4;
  const size_t plane = static_cast<size_t>(p.width) * p.height;
  for (int y = 0; y < p.height; ++y)
    for (int x = 0; x < p.width; ++x) {
      const size_t i = static_cast<size_t>(y) * p.width + x;
      uint8_t* px = dst + static_cast<size_t>(y) * pitch + static_cast<size_t>(x) * 4;
      for (int c = 0; c < 3; ++c) px[c] = detail::to_u8(src[c * plane + i], p.scale, p.offset);
      px[3] = 255;
    }
}

}  // namespace sw::kernels
