// Device presence check, so gpu tests and the CLI can say "no CUDA device" instead of crashing.
#include <cuda_runtime.h>

#include "sparseworld/kernels.h"

namespace sw::kernels {

bool cuda_device_available(std::string* why) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    if (why) *why = err != cudaSuccess ? std::string("no CUDA device: ") + cudaGetErrorString(err) : "no CUDA device";
    return false;
  }
  return true;
}

}  // namespace sw::kernels
