// CUDA_CHECK: fail fast with file:line and CUDA's own message. Programming errors, not user errors.
#pragma once

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

#define CUDA_CHECK(expr)                                                                                   \
  do {                                                                                                     \
    const cudaError_t sw_err_ = (expr);                                                                    \
    if (sw_err_ != cudaSuccess) {                                                                          \
      std::fprintf(stderr, "%s:%d: CUDA error %s: %s\n", __FILE__, __LINE__, cudaGetErrorName(sw_err_),  \
                   cudaGetErrorString(sw_err_));                                                           \
      std::abort();                                                                                        \
    }                                                                                                      \
  } while (0)
