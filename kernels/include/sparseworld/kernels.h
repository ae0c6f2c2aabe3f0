// SparseWorld CUDA kernels: one op per .cu, each with a CPU reference of the same signature.
// No at::Tensor here: plain pointers + a params struct + a stream. Callers in attention/ and sim/
// check tensors once at their boundary. Test: tests/kernels/ (gpu label skips without a device).
#pragma once

#include <cstdint>
#include <string>

struct CUstream_st;  // = cudaStream_t, without pulling CUDA headers into every consumer

namespace sw::kernels {

using Stream = CUstream_st*;

// True when this build has CUDA kernels and a CUDA device is present; `why` says why not.
bool cuda_device_available(std::string* why = nullptr);

// --- frame_to_rgba8: decoder output (float32, planar [3, height, width], nominal range [-1, 1])
// -> RGBA8 rows (alpha 255) at dst_row_pitch bytes per row, e.g. a Vulkan-shared buffer.
// Each channel: clamp(round(v * scale + offset), 0, 255).
struct FrameToRgbaParams {
  int width = 0;
  int height = 0;
  int dst_row_pitch = 0;    // bytes per destination row; 0 means width * 4
  float scale = 127.5f;     // maps [-1, 1] to [0, 255]
  float offset = 127.5f;
};

// Throws std::invalid_argument naming the bad field.
void validate(const FrameToRgbaParams& p);
void frame_to_rgba8_cpu(const float* src, uint8_t* dst, const FrameToRgbaParams& p);
// src and dst are device pointers; asynchronous on `stream`. Throws if the build has no CUDA.
void frame_to_rgba8_cuda(const float* src, uint8_t* dst, const FrameToRgbaParams& p, Stream stream);

}  // namespace sw::kernels
