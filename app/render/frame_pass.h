// The present/upscale pass: world frames (RGB8 from the CPU, one per shown world) are copied into
// a host-visible staging buffer, uploaded to sampled images, and drawn by the shaders/present.*
// pipeline into the target's render pass, each fitted into its own cell with its aspect preserved.
// Test: tests/app/test_render.cpp (pixels match the CPU frame upscaled; layout).
#pragma once

#include <span>
#include <vector>

#include "render/vk_context.h"
#include "sparseworld/sim/world.h"

namespace sw::render {

enum class Filter { Nearest, Smooth };

struct Rect {
  int x = 0, y = 0, width = 0, height = 0;
  bool operator==(const Rect&) const = default;
};

struct FramePassParams {
  int gap_px = 8;  // space between side-by-side views
  VkClearColorValue clear{{0.02f, 0.02f, 0.025f, 1.f}};
};

// Cells side by side across the target, each holding the largest frame_w:frame_h rectangle that
// fits, centred; integer pixel edges so nearest filtering stays crisp.
std::vector<Rect> layout_views(VkExtent2D target, int frame_w, int frame_h, int views, int gap_px);

class FramePass {
 public:
  // `views` frames of frame_w x frame_h each, drawn into render passes compatible with `pass`.
  FramePass(const VkContext& ctx, VkRenderPass pass, int views, int frame_w, int frame_h, FramePassParams params = {});
  ~FramePass();
  FramePass(const FramePass&) = delete;
  FramePass& operator=(const FramePass&) = delete;

  // Host side: RGB8 -> RGBA8 into the staging buffer. Call only when the GPU is done with it.
  void upload(std::span<const Frame* const> frames);
  // Outside a render pass: staging -> images, left ready for sampling.
  void record_upload(VkCommandBuffer cmd);
  // Inside the render pass: one quad per view.
  void record_draw(VkCommandBuffer cmd, VkExtent2D target, Filter filter) const;

  int views() const { return views_; }
  const FramePassParams& params() const { return params_; }

 private:
  const VkContext& ctx_;
  FramePassParams params_;
  int views_, frame_w_, frame_h_;
  Buffer staging_;
  std::vector<Image> images_;
  bool uploaded_once_ = false;
  VkSampler samplers_[2] = {};  // indexed by Filter
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  std::vector<VkDescriptorSet> sets_;  // views * 2 (nearest, smooth)
  VkPipelineLayout pipeline_layout_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
};

}  // namespace sw::render
