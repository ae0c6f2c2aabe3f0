// The per-value conversion shared by the CPU reference and the CUDA kernel, so both round the
// same way. Compiled with FMA contraction off on the host; the device side uses __fmul_rn/__fadd_rn.
#pragma once

#include <cstdint>

#ifdef __CUDACC__
#define SW_HD __host__ __device__
#else
#define SW_HD
#endif

namespace sw::kernels::detail {

SW_HD inline uint8_t to_u8(float v, float scale, float offset) {
#ifdef __CUDA_ARCH__
  float t = __fadd_rn(__fmul_rn(v, scale), offset);
#else
  float t = v * scale + offset;
#endif
  // NaN compares false both ways and lands on 0.
  t = t > 0.f ? t : 0.f;
  t = t < 255.f ? t : 255.f;
  return static_cast<uint8_t>(static_cast<int>(t + 0.5f));
}

}  // namespace sw::kernels::detail
