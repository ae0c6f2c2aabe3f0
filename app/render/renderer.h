// One frame on the GPU, for both targets: world frames uploaded (FramePass), drawn upscaled into
// the target's render pass, the ImGui panel drawn on top (Dear ImGui 1.86 Vulkan backend), then
// presented (window: swapchain) or kept for readback (headless: offscreen image). One frame in
// flight: render() waits for the GPU, so the stage times it reports are real GPU+CPU times.
// Test: tests/app/test_render.cpp (headless), tests/app/test_player_window.cpp (windowed, Xvfb).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "render/frame_pass.h"
#include "render/offscreen.h"
#include "render/swapchain.h"
#include "render/vk_context.h"

struct ImDrawData;

namespace sw::render {

struct RendererParams {
  Filter filter = Filter::Nearest;
  FramePassParams frame_pass;
  SwapchainParams swapchain;
  OffscreenParams offscreen;
};

struct Capture {
  VkExtent2D extent{0, 0};
  std::vector<uint8_t> rgb;  // extent.width * extent.height * 3, top row first
};

class Renderer {
 public:
  // Needs a current ImGui context (created before, destroyed after the renderer).
  // Headless: an offscreen image of `size`. Windowed: the context's surface, `size` = drawable size.
  static std::unique_ptr<Renderer> headless(const VkContext& ctx, VkExtent2D size, int views, int frame_w, int frame_h,
                                            RendererParams params = {});
  static std::unique_ptr<Renderer> windowed(const VkContext& ctx, VkExtent2D size, int views, int frame_w, int frame_h,
                                            RendererParams params = {});
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  // The size ImGui should lay out for (the target's current extent; zero while minimized).
  VkExtent2D extent() const;
  void set_filter(Filter f) { params_.filter = f; }
  Filter filter() const { return params_.filter; }
  // The window's drawable size changed: the swapchain is rebuilt before the next frame.
  void resize(VkExtent2D drawable);

  // Stage "upload": the world frames into the staging buffer (one per view).
  void upload(std::span<const Frame* const> frames);
  // Stage "render": records, submits and waits. `ui` may be null (no panel). With `capture`, the
  // finished image is read back (see capture()). Returns false when nothing could be drawn
  // (window minimized, swapchain being rebuilt).
  bool render(ImDrawData* ui, bool capture);
  // Stage "present": window: queue the image for display; headless: nothing to do.
  void present();
  // The last image rendered with capture = true.
  const Capture& capture() const { return capture_; }
  bool windowed() const { return swapchain_ != nullptr; }

 private:
  Renderer(const VkContext& ctx, RendererParams params);
  void init(VkRenderPass pass, uint32_t image_count, int views, int frame_w, int frame_h);
  bool prepare_swapchain();

  const VkContext& ctx_;
  RendererParams params_;
  std::unique_ptr<Swapchain> swapchain_;
  std::unique_ptr<OffscreenTarget> offscreen_;
  std::unique_ptr<FramePass> frame_pass_;
  std::optional<Buffer> capture_buffer_;  // windowed screenshots
  Capture capture_;
  VkExtent2D pending_drawable_{0, 0};
  bool needs_rebuild_ = false;
  bool imgui_ready_ = false;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  VkSemaphore acquired_ = VK_NULL_HANDLE;
  uint32_t image_index_ = 0;
  bool pending_present_ = false;
};

}  // namespace sw::render
