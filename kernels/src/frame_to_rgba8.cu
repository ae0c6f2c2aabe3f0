// frame_to_rgba8 on the GPU: one thread per pixel, reads the three planes (coalesced along x),
// writes one 32-bit RGBA word. Memory-bound; matches frame_to_rgba8_cpu bit for bit.
// Test: tests/kernels/test_frame_to_rgba8.cpp (gpu label).
#include <cuda_runtime.h>

#include <stdexcept>

#include "cuda_check.h"
#include "frame_to_rgba8_common.h"
#include "sparseworld/kernels.h"

namespace sw::kernels {

namespace {

__global__ void frame_to_rgba8_kernel(const float* __restrict__ src, uint8_t* __restrict__ dst, int width, int height,
                                      int pitch, float scale, float offset) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= width || y >= height) return;
  const size_t plane = static_cast<size_t>(width) * height;
  const size_t i = static_cast<size_t>(y) * width + x;
  const uint32_t r = detail::to_u8(src[i], scale, offset);
  const uint32_t g = detail::to_u8(src[plane + i], scale, offset);
  const uint32_t b = detail::to_u8(src[2 * plane + i], scale, offset);
  // Byte order R, G, B, A in memory (little-endian word).
  *reinterpret_cast<uint32_t*>(dst + static_cast<size_t>(y) * pitch + static_cast<size_t>(x) * 4) =
      r | (g << 8) | (b << 16) | (0xFFu << 24);
}

}  // namespace

void frame_to_rgba8_cuda(const float* src, uint8_t* dst, const FrameToRgbaParams& p, Stream stream) {
  validate(p);
  const int pitch = p.dst_row_pitch ? p.dst_row_pitch : p.width * 4;
  if (pitch % 4 != 0) throw std::invalid_argument("frame_to_rgba8_cuda: dst_row_pitch must be a multiple of 4");
  const dim3 block(32, 8);
  const dim3 grid((p.width + block.x - 1) / block.x, (p.height + block.y - 1) / block.y);
  frame_to_rgba8_kernel<<<grid, block, 0, stream>>>(src, dst, p.width, p.height, pitch, p.scale, p.offset);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace sw::kernels
