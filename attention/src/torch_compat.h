// The few libtorch calls whose spelling differs between Debian's libtorch 1.13 (CPU CI) and
// PyTorch 2.x's libtorch (GPU machine) live here, so the rest of attention/ uses one API.
// Test: builds against both; tests/attention exercise every helper.
#pragma once

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace sw::attn::compat {

// A seeded CPU generator: random tensors are drawn on the CPU and moved to the device so that CPU
// and CUDA layers with the same seed hold identical hyperplanes.
inline at::Generator cpu_generator(uint64_t seed) { return at::detail::createCPUGenerator(seed); }

inline at::Tensor randn_cpu(at::IntArrayRef shape, uint64_t seed) {
  return at::randn(shape, cpu_generator(seed), at::TensorOptions().dtype(at::kFloat));
}

}  // namespace sw::attn::compat
