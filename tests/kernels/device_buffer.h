// Device buffer with RAII for the gpu kernel tests (CUDA builds only): upload, poison, download.
#pragma once

#ifdef SW_KERNELS_CUDA
#include <cuda_runtime.h>

#include <stdexcept>
#include <vector>

namespace sw::kernels::test {

template <class T>
struct DevBuf {
  T* ptr = nullptr;
  size_t n = 0;
  explicit DevBuf(size_t count) : n(count) {
    if (n && cudaMalloc(&ptr, n * sizeof(T)) != cudaSuccess) throw std::runtime_error("cudaMalloc failed");
  }
  explicit DevBuf(const std::vector<T>& h) : DevBuf(h.size()) {
    if (n) cudaMemcpy(ptr, h.data(), n * sizeof(T), cudaMemcpyHostToDevice);
  }
  ~DevBuf() { cudaFree(ptr); }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  void poison(int byte) { if (n) cudaMemset(ptr, byte, n * sizeof(T)); }
  std::vector<T> host() const {
    std::vector<T> h(n);
    if (n) cudaMemcpy(h.data(), ptr, n * sizeof(T), cudaMemcpyDeviceToHost);
    return h;
  }
};

}  // namespace sw::kernels::test
#endif
