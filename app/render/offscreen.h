// Headless render target: one colour image (no window, no surface) that the frame pass and the
// ImGui panel draw into, read back to host memory for screenshots. Works on lavapipe in CI.
// Test: tests/app/test_render.cpp.
#pragma once

#include <cstdint>
#include <vector>

#include "render/vk_context.h"

namespace sw::render {

struct OffscreenParams {
  VkFormat format = VK_FORMAT_R8G8B8A8_UNORM;  // UNORM like the swapchain: bytes pass through unchanged
};

class OffscreenTarget {
 public:
  OffscreenTarget(const VkContext& ctx, VkExtent2D extent, OffscreenParams params = {});
  ~OffscreenTarget();
  OffscreenTarget(const OffscreenTarget&) = delete;
  OffscreenTarget& operator=(const OffscreenTarget&) = delete;

  VkRenderPass render_pass() const { return pass_; }
  VkFramebuffer framebuffer() const { return framebuffer_; }
  VkExtent2D extent() const { return image_.extent; }
  // After the render pass (image in TRANSFER_SRC): copy the image into the host buffer.
  void record_readback(VkCommandBuffer cmd) const;
  // RGB8 of the last read-back frame, top row first. Call after the GPU finished.
  std::vector<uint8_t> rgb() const;

 private:
  const VkContext& ctx_;
  Image image_;
  Buffer readback_;
  VkRenderPass pass_ = VK_NULL_HANDLE;
  VkFramebuffer framebuffer_ = VK_NULL_HANDLE;
};

// Copies a whole colour image in TRANSFER_SRC layout into `dst` (tightly packed 4 bytes/pixel).
void record_image_to_buffer(VkCommandBuffer cmd, VkImage image, VkExtent2D extent, VkBuffer dst);
// 4-byte pixels (RGBA or BGRA by `format`) to RGB8.
std::vector<uint8_t> to_rgb(const uint8_t* pixels, VkExtent2D extent, VkFormat format);

}  // namespace sw::render
