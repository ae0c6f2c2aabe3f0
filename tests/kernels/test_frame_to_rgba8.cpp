// frame_to_rgba8: the CPU reference against hand-computed values, then the CUDA kernel against
// the CPU reference on random inputs (beyond [-1, 1], so clamping is exercised) at several
// shapes, into a poisoned destination with row padding that must stay untouched.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "gpu_util.h"
#include "sparseworld/kernels.h"

#ifdef SW_KERNELS_CUDA
#include <cuda_runtime.h>
#endif

namespace sw::kernels {
namespace {

TEST(FrameToRgba8Cpu, KnownValuesAndPitch) {
  FrameToRgbaParams p{2, 1, 12};
  const float src[6] = {-1.f, 1.f, 0.f, 2.f, -5.f, 0.5f};  // R plane, G plane, B plane
  std::vector<uint8_t> dst(12, 0xAB);
  frame_to_rgba8_cpu(src, dst.data(), p);
  EXPECT_EQ(dst[0], 0);    // R(-1)
  EXPECT_EQ(dst[1], 128);  // G(0) = round(127.5)
  EXPECT_EQ(dst[2], 0);    // B(-5) clamped
  EXPECT_EQ(dst[3], 255);
  EXPECT_EQ(dst[4], 255);  // R(1)
  EXPECT_EQ(dst[5], 255);  // G(2) clamped
  EXPECT_EQ(dst[6], 191);  // B(0.5) = round(191.25)
  EXPECT_EQ(dst[7], 255);
  for (int i = 8; i < 12; ++i) EXPECT_EQ(dst[i], 0xAB) << "padding written";
}

TEST(FrameToRgba8Cpu, BadParamsRejected) {
  std::vector<float> src(12);
  std::vector<uint8_t> dst(64);
  EXPECT_THROW(frame_to_rgba8_cpu(src.data(), dst.data(), {0, 2}), std::invalid_argument);
  EXPECT_THROW(frame_to_rgba8_cpu(src.data(), dst.data(), {2, 2, 4}), std::invalid_argument);
}

#ifdef SW_KERNELS_CUDA
TEST(FrameToRgba8Gpu, MatchesCpuReferenceExactly) {
  SW_REQUIRE_CUDA();
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> dist(-1.3f, 1.3f);
  const int shapes[][3] = {{128, 128, 0}, {97, 61, 97 * 4 + 36}, {256, 256, 0}, {1, 1, 8}, {640, 360, 640 * 4 + 256}};
  for (const auto& s : shapes) {
    FrameToRgbaParams p{s[0], s[1], s[2]};
    const int pitch = p.dst_row_pitch ? p.dst_row_pitch : p.width * 4;
    std::vector<float> src(static_cast<size_t>(3) * p.width * p.height);
    for (float& v : src) v = dist(rng);
    std::vector<uint8_t> want(static_cast<size_t>(pitch) * p.height, 0xAB), got(want.size());
    frame_to_rgba8_cpu(src.data(), want.data(), p);
    float* d_src = nullptr;
    uint8_t* d_dst = nullptr;
    ASSERT_EQ(cudaMalloc(&d_src, src.size() * sizeof(float)), cudaSuccess);
    ASSERT_EQ(cudaMalloc(&d_dst, got.size()), cudaSuccess);
    cudaMemcpy(d_src, src.data(), src.size() * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemset(d_dst, 0xAB, got.size());  // poison: unwritten pixels would show
    frame_to_rgba8_cuda(d_src, d_dst, p, nullptr);
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    cudaMemcpy(got.data(), d_dst, got.size(), cudaMemcpyDeviceToHost);
    cudaFree(d_src);
    cudaFree(d_dst);
    size_t mismatches = 0;
    for (size_t i = 0; i < got.size(); ++i) mismatches += got[i] != want[i];
    EXPECT_EQ(mismatches, 0u) << p.width << "x" << p.height << " pitch " << pitch;
  }
}
#endif

TEST(Kernels, DeviceCheckExplainsItself) {
  std::string why;
  if (!cuda_device_available(&why)) EXPECT_FALSE(why.empty());
}

}  // namespace
}  // namespace sw::kernels
