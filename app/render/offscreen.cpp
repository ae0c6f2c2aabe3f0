// OffscreenTarget implementation and the readback helpers shared with the swapchain screenshot
// path. Test: tests/app/test_render.cpp.
#include "render/offscreen.h"

#include <stdexcept>

namespace sw::render {

OffscreenTarget::OffscreenTarget(const VkContext& ctx, VkExtent2D extent, OffscreenParams params) : ctx_(ctx) {
  if (extent.width == 0 || extent.height == 0) throw std::invalid_argument("OffscreenTarget: empty extent");
  image_ = Image(ctx, extent, params.format, VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT);
  readback_ = Buffer(ctx, static_cast<VkDeviceSize>(extent.width) * extent.height * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                     VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
  pass_ = make_render_pass(ctx.device(), params.format, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
  VkFramebufferCreateInfo fi{VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO};
  fi.renderPass = pass_;
  fi.attachmentCount = 1;
  fi.pAttachments = &image_.view;
  fi.width = extent.width;
  fi.height = extent.height;
  fi.layers = 1;
  VK_CHECK(vkCreateFramebuffer(ctx.device(), &fi, nullptr, &framebuffer_));
}

OffscreenTarget::~OffscreenTarget() {
  vkDeviceWaitIdle(ctx_.device());
  if (framebuffer_) vkDestroyFramebuffer(ctx_.device(), framebuffer_, nullptr);
  if (pass_) vkDestroyRenderPass(ctx_.device(), pass_, nullptr);
}

void OffscreenTarget::record_readback(VkCommandBuffer cmd) const {
  record_image_to_buffer(cmd, image_.image, image_.extent, readback_.buffer);
}

std::vector<uint8_t> OffscreenTarget::rgb() const {
  return to_rgb(static_cast<const uint8_t*>(readback_.mapped), image_.extent, image_.format);
}

void record_image_to_buffer(VkCommandBuffer cmd, VkImage image, VkExtent2D extent, VkBuffer dst) {
  VkBufferImageCopy region{};
  region.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
  region.imageExtent = {extent.width, extent.height, 1};
  vkCmdCopyImageToBuffer(cmd, image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, dst, 1, &region);
  // The host reads the buffer after the fence; this barrier makes the copy visible to it.
  VkMemoryBarrier b{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  b.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
  b.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &b, 0, nullptr, 0, nullptr);
}

std::vector<uint8_t> to_rgb(const uint8_t* px, VkExtent2D extent, VkFormat format) {
  const bool bgra = format == VK_FORMAT_B8G8R8A8_UNORM || format == VK_FORMAT_B8G8R8A8_SRGB;
  const size_t n = static_cast<size_t>(extent.width) * extent.height;
  std::vector<uint8_t> rgb(n * 3);
  for (size_t i = 0; i < n; ++i) {
    rgb[i * 3 + 0] = px[i * 4 + (bgra ? 2 : 0)];
    rgb[i * 3 + 1] = px[i * 4 + 1];
    rgb[i * 3 + 2] = px[i * 4 + (bgra ? 0 : 2)];
  }
  return rgb;
}

}  // namespace sw::render
