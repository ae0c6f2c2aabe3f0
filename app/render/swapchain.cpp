// Swapchain implementation. Test: tests/app/test_player_window.cpp.
#include "render/swapchain.h"

#include <algorithm>

#include <fmt/core.h>

namespace sw::render {

Swapchain::Swapchain(const VkContext& ctx, VkExtent2D drawable, SwapchainParams params) : ctx_(ctx), params_(std::move(params)) {
  uint32_t n = 0;
  vkGetPhysicalDeviceSurfaceFormatsKHR(ctx.physical_device(), ctx.surface(), &n, nullptr);
  std::vector<VkSurfaceFormatKHR> formats(n);
  vkGetPhysicalDeviceSurfaceFormatsKHR(ctx.physical_device(), ctx.surface(), &n, formats.data());
  for (VkFormat want : params_.formats) {
    auto it = std::find_if(formats.begin(), formats.end(), [&](const VkSurfaceFormatKHR& f) { return f.format == want; });
    if (it != formats.end()) {
      format_ = it->format;
      color_space_ = it->colorSpace;
      break;
    }
  }
  if (format_ == VK_FORMAT_UNDEFINED)
    throw SetupError(SetupError::Kind::Swapchain, fmt::format("swapchain: the window surface offers no UNORM 8-bit format ({} formats offered)", n));
  // The format does not change with the size, so one render pass serves every recreation.
  pass_ = make_render_pass(ctx.device(), format_, VK_IMAGE_LAYOUT_PRESENT_SRC_KHR);
  try {
    recreate(drawable);
  } catch (const VulkanError& e) {
    throw SetupError(SetupError::Kind::Swapchain, std::string("swapchain creation failed: ") + e.what());
  }
}

Swapchain::~Swapchain() {
  vkDeviceWaitIdle(ctx_.device());
  destroy_images();
  if (swapchain_) vkDestroySwapchainKHR(ctx_.device(), swapchain_, nullptr);
  if (pass_) vkDestroyRenderPass(ctx_.device(), pass_, nullptr);
}

void Swapchain::destroy_images() {
  VkDevice dev = ctx_.device();
  for (VkFramebuffer f : framebuffers_) vkDestroyFramebuffer(dev, f, nullptr);
  for (VkImageView v : views_) vkDestroyImageView(dev, v, nullptr);
  for (VkSemaphore s : render_finished_) vkDestroySemaphore(dev, s, nullptr);
  framebuffers_.clear();
  views_.clear();
  render_finished_.clear();
  images_.clear();
}

bool Swapchain::recreate(VkExtent2D drawable) {
  VkDevice dev = ctx_.device();
  vkDeviceWaitIdle(dev);
  VkSurfaceCapabilitiesKHR caps;
  VK_CHECK(vkGetPhysicalDeviceSurfaceCapabilitiesKHR(ctx_.physical_device(), ctx_.surface(), &caps));
  VkExtent2D extent = caps.currentExtent;
  if (extent.width == UINT32_MAX) {  // the surface lets the application choose
    extent.width = std::clamp(drawable.width, caps.minImageExtent.width, caps.maxImageExtent.width);
    extent.height = std::clamp(drawable.height, caps.minImageExtent.height, caps.maxImageExtent.height);
  }
  destroy_images();
  if (extent.width == 0 || extent.height == 0) {  // minimized: keep the old swapchain for reuse later
    extent_ = extent;
    return false;
  }
  uint32_t pm_count = 0;
  vkGetPhysicalDeviceSurfacePresentModesKHR(ctx_.physical_device(), ctx_.surface(), &pm_count, nullptr);
  std::vector<VkPresentModeKHR> modes(pm_count);
  vkGetPhysicalDeviceSurfacePresentModesKHR(ctx_.physical_device(), ctx_.surface(), &pm_count, modes.data());
  VkPresentModeKHR mode = VK_PRESENT_MODE_FIFO_KHR;
  if (!params_.vsync)
    for (VkPresentModeKHR m : {VK_PRESENT_MODE_MAILBOX_KHR, VK_PRESENT_MODE_IMMEDIATE_KHR})
      if (std::find(modes.begin(), modes.end(), m) != modes.end()) {
        mode = m;
        break;
      }
  uint32_t count = std::max(params_.min_images, caps.minImageCount);
  if (caps.maxImageCount) count = std::min(count, caps.maxImageCount);
  can_read_back_ = (caps.supportedUsageFlags & VK_IMAGE_USAGE_TRANSFER_SRC_BIT) != 0;
  VkSwapchainCreateInfoKHR ci{VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR};
  ci.surface = ctx_.surface();
  ci.minImageCount = count;
  ci.imageFormat = format_;
  ci.imageColorSpace = color_space_;
  ci.imageExtent = extent;
  ci.imageArrayLayers = 1;
  ci.imageUsage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | (can_read_back_ ? VK_IMAGE_USAGE_TRANSFER_SRC_BIT : 0);
  ci.imageSharingMode = VK_SHARING_MODE_EXCLUSIVE;
  ci.preTransform = (caps.supportedTransforms & VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR) ? VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR
                                                                                         : caps.currentTransform;
  ci.compositeAlpha = (caps.supportedCompositeAlpha & VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR) ? VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR
                                                                                         : VK_COMPOSITE_ALPHA_INHERIT_BIT_KHR;
  ci.presentMode = mode;
  ci.clipped = VK_TRUE;
  ci.oldSwapchain = swapchain_;
  VkSwapchainKHR fresh;
  VK_CHECK(vkCreateSwapchainKHR(dev, &ci, nullptr, &fresh));
  if (swapchain_) vkDestroySwapchainKHR(dev, swapchain_, nullptr);
  swapchain_ = fresh;
  extent_ = extent;

  uint32_t n = 0;
  vkGetSwapchainImagesKHR(dev, swapchain_, &n, nullptr);
  images_.resize(n);
  vkGetSwapchainImagesKHR(dev, swapchain_, &n, images_.data());
  for (VkImage img : images_) {
    VkImageViewCreateInfo vi{VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO};
    vi.image = img;
    vi.viewType = VK_IMAGE_VIEW_TYPE_2D;
    vi.format = format_;
    vi.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
    VkImageView view;
    VK_CHECK(vkCreateImageView(dev, &vi, nullptr, &view));
    views_.push_back(view);
    VkFramebufferCreateInfo fi{VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO};
    fi.renderPass = pass_;
    fi.attachmentCount = 1;
    fi.pAttachments = &view;
    fi.width = extent.width;
    fi.height = extent.height;
    fi.layers = 1;
    VkFramebuffer fb;
    VK_CHECK(vkCreateFramebuffer(dev, &fi, nullptr, &fb));
    framebuffers_.push_back(fb);
    // One per image: a present may still be reading it when the next frame is submitted.
    VkSemaphoreCreateInfo si{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
    VkSemaphore s;
    VK_CHECK(vkCreateSemaphore(dev, &si, nullptr, &s));
    render_finished_.push_back(s);
  }
  return true;
}

}  // namespace sw::render
