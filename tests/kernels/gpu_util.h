// Helpers for gpu tests: skip cleanly without a device, device buffers with RAII, poisoning.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "sparseworld/kernels.h"

#define SW_REQUIRE_CUDA()                                                    \
  do {                                                                       \
    std::string sw_why_;                                                     \
    if (!sw::kernels::cuda_device_available(&sw_why_)) GTEST_SKIP() << sw_why_; \
  } while (0)
