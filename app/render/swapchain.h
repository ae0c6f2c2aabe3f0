// The window's swapchain: a UNORM format (the world's bytes reach the screen unchanged), one
// render pass, per-image framebuffers and "render finished" semaphores; recreated when the window
// is resized, skipped while it is minimized (zero extent). Test: tests/app/test_player_window.cpp
// (resize and minimize under Xvfb, validation layer on).
#pragma once

#include <vector>

#include "render/vk_context.h"

namespace sw::render {

struct SwapchainParams {
  // Tried in order; UNORM on purpose (an _SRGB format would re-encode already-encoded bytes).
  std::vector<VkFormat> formats{VK_FORMAT_B8G8R8A8_UNORM, VK_FORMAT_R8G8B8A8_UNORM};
  bool vsync = true;  // FIFO (always available); otherwise MAILBOX, then IMMEDIATE, when offered
  uint32_t min_images = 2;
};

class Swapchain {
 public:
  // Throws SetupError(Swapchain) when no UNORM format or no swapchain can be made.
  Swapchain(const VkContext& ctx, VkExtent2D drawable, SwapchainParams params = {});
  ~Swapchain();
  Swapchain(const Swapchain&) = delete;
  Swapchain& operator=(const Swapchain&) = delete;

  // Rebuilds for the surface's current size (falls back to `drawable` where the surface leaves it
  // to us). Returns false while the size is zero (minimized): nothing can be drawn.
  bool recreate(VkExtent2D drawable);
  bool usable() const { return swapchain_ != VK_NULL_HANDLE && extent_.width > 0 && extent_.height > 0; }

  VkSwapchainKHR handle() const { return swapchain_; }
  VkRenderPass render_pass() const { return pass_; }
  VkFormat format() const { return format_; }
  VkExtent2D extent() const { return extent_; }
  uint32_t image_count() const { return static_cast<uint32_t>(images_.size()); }
  uint32_t min_image_count() const { return params_.min_images; }
  VkImage image(uint32_t i) const { return images_[i]; }
  VkFramebuffer framebuffer(uint32_t i) const { return framebuffers_[i]; }
  VkSemaphore render_finished(uint32_t i) const { return render_finished_[i]; }
  bool can_read_back() const { return can_read_back_; }

 private:
  void destroy_images();

  const VkContext& ctx_;
  SwapchainParams params_;
  VkFormat format_ = VK_FORMAT_UNDEFINED;
  VkColorSpaceKHR color_space_ = VK_COLOR_SPACE_SRGB_NONLINEAR_KHR;
  VkRenderPass pass_ = VK_NULL_HANDLE;
  VkSwapchainKHR swapchain_ = VK_NULL_HANDLE;
  VkExtent2D extent_{0, 0};
  bool can_read_back_ = false;
  std::vector<VkImage> images_;
  std::vector<VkImageView> views_;
  std::vector<VkFramebuffer> framebuffers_;
  std::vector<VkSemaphore> render_finished_;
};

}  // namespace sw::render
