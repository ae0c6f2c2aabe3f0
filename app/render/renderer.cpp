// Renderer implementation (frame recording, swapchain acquire/present, ImGui Vulkan backend).
// Test: tests/app/test_render.cpp, tests/app/test_player_window.cpp.
#include "render/renderer.h"

#include <imgui.h>
#include <imgui_impl_vulkan.h>

namespace sw::render {

namespace {
constexpr uint32_t kOffscreenImageCount = 2;  // the ImGui backend wants >= 2 even with one target image

void check_imgui_vk(VkResult r) {
  if (r < 0) throw VulkanError("ImGui Vulkan backend", r, __FILE__, __LINE__);
}
}  // namespace

Renderer::Renderer(const VkContext& ctx, RendererParams params) : ctx_(ctx), params_(std::move(params)) {}

std::unique_ptr<Renderer> Renderer::headless(const VkContext& ctx, VkExtent2D size, int views, int frame_w, int frame_h,
                                             RendererParams params) {
  std::unique_ptr<Renderer> r(new Renderer(ctx, std::move(params)));
  r->offscreen_ = std::make_unique<OffscreenTarget>(ctx, size, r->params_.offscreen);
  r->init(r->offscreen_->render_pass(), kOffscreenImageCount, views, frame_w, frame_h);
  return r;
}

std::unique_ptr<Renderer> Renderer::windowed(const VkContext& ctx, VkExtent2D size, int views, int frame_w, int frame_h,
                                             RendererParams params) {
  std::unique_ptr<Renderer> r(new Renderer(ctx, std::move(params)));
  r->swapchain_ = std::make_unique<Swapchain>(ctx, size, r->params_.swapchain);
  r->pending_drawable_ = size;
  r->init(r->swapchain_->render_pass(), std::max(r->swapchain_->min_image_count(), r->swapchain_->image_count()), views, frame_w,
          frame_h);
  return r;
}

void Renderer::init(VkRenderPass pass, uint32_t image_count, int views, int frame_w, int frame_h) {
  VkDevice dev = ctx_.device();
  frame_pass_ = std::make_unique<FramePass>(ctx_, pass, views, frame_w, frame_h, params_.frame_pass);
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = ctx_.command_pool();
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  VK_CHECK(vkAllocateCommandBuffers(dev, &ai, &cmd_));
  VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VK_CHECK(vkCreateFence(dev, &fi, nullptr, &fence_));
  VkSemaphoreCreateInfo si{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
  VK_CHECK(vkCreateSemaphore(dev, &si, nullptr, &acquired_));

  ImGui_ImplVulkan_InitInfo info{};
  info.Instance = ctx_.instance();
  info.PhysicalDevice = ctx_.physical_device();
  info.Device = dev;
  info.QueueFamily = ctx_.queue_family();
  info.Queue = ctx_.queue();
  info.DescriptorPool = ctx_.descriptor_pool();
  info.MinImageCount = std::max<uint32_t>(2, image_count);
  info.ImageCount = info.MinImageCount;
  info.MSAASamples = VK_SAMPLE_COUNT_1_BIT;
  info.CheckVkResultFn = &check_imgui_vk;
  if (!ImGui_ImplVulkan_Init(&info, pass)) throw VulkanError("ImGui_ImplVulkan_Init", VK_ERROR_INITIALIZATION_FAILED, __FILE__, __LINE__);
  imgui_ready_ = true;
  ctx_.run_once([](VkCommandBuffer cmd) { ImGui_ImplVulkan_CreateFontsTexture(cmd); });
  ImGui_ImplVulkan_DestroyFontUploadObjects();
}

Renderer::~Renderer() {
  VkDevice dev = ctx_.device();
  vkDeviceWaitIdle(dev);
  if (imgui_ready_) ImGui_ImplVulkan_Shutdown();
  if (acquired_) vkDestroySemaphore(dev, acquired_, nullptr);
  if (fence_) vkDestroyFence(dev, fence_, nullptr);
  if (cmd_) vkFreeCommandBuffers(dev, ctx_.command_pool(), 1, &cmd_);
}

VkExtent2D Renderer::extent() const {
  return swapchain_ ? swapchain_->extent() : offscreen_->extent();
}

void Renderer::resize(VkExtent2D drawable) {
  pending_drawable_ = drawable;
  needs_rebuild_ = true;
}

void Renderer::upload(std::span<const Frame* const> frames) { frame_pass_->upload(frames); }

bool Renderer::prepare_swapchain() {
  if (needs_rebuild_ || !swapchain_->usable()) {
    needs_rebuild_ = false;
    if (!swapchain_->recreate(pending_drawable_)) return false;
    capture_buffer_.reset();
  }
  const VkResult r = vkAcquireNextImageKHR(ctx_.device(), swapchain_->handle(), UINT64_MAX, acquired_, VK_NULL_HANDLE, &image_index_);
  if (r == VK_ERROR_OUT_OF_DATE_KHR) {
    needs_rebuild_ = true;
    return false;
  }
  if (r == VK_SUBOPTIMAL_KHR) needs_rebuild_ = true;  // the image is ours: draw it, rebuild after
  else VK_CHECK(r);
  return true;
}

bool Renderer::render(ImDrawData* ui, bool capture) {
  pending_present_ = false;
  if (swapchain_ && !prepare_swapchain()) return false;
  const VkExtent2D ext = extent();
  const VkImage target_image = swapchain_ ? swapchain_->image(image_index_) : VK_NULL_HANDLE;
  capture = capture && (!swapchain_ || swapchain_->can_read_back());
  if (capture && swapchain_ && (!capture_buffer_ || capture_buffer_->size < VkDeviceSize(ext.width) * ext.height * 4))
    capture_buffer_.emplace(ctx_, VkDeviceSize(ext.width) * ext.height * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                            VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);

  VK_CHECK(vkResetCommandBuffer(cmd_, 0));
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  VK_CHECK(vkBeginCommandBuffer(cmd_, &bi));
  frame_pass_->record_upload(cmd_);
  VkClearValue clear{};
  clear.color = params_.frame_pass.clear;
  VkRenderPassBeginInfo rp{VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO};
  rp.renderPass = swapchain_ ? swapchain_->render_pass() : offscreen_->render_pass();
  rp.framebuffer = swapchain_ ? swapchain_->framebuffer(image_index_) : offscreen_->framebuffer();
  rp.renderArea = {{0, 0}, ext};
  rp.clearValueCount = 1;
  rp.pClearValues = &clear;
  vkCmdBeginRenderPass(cmd_, &rp, VK_SUBPASS_CONTENTS_INLINE);
  frame_pass_->record_draw(cmd_, ext, params_.filter);
  if (ui && ui->CmdListsCount > 0) ImGui_ImplVulkan_RenderDrawData(ui, cmd_);
  vkCmdEndRenderPass(cmd_);
  if (capture && swapchain_) {
    transition(cmd_, target_image, VK_IMAGE_LAYOUT_PRESENT_SRC_KHR, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
    record_image_to_buffer(cmd_, target_image, ext, capture_buffer_->buffer);
    transition(cmd_, target_image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_IMAGE_LAYOUT_PRESENT_SRC_KHR);
  } else if (capture) {
    offscreen_->record_readback(cmd_);
  }
  VK_CHECK(vkEndCommandBuffer(cmd_));

  const VkPipelineStageFlags wait_stage = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
  VkSemaphore done = swapchain_ ? swapchain_->render_finished(image_index_) : VK_NULL_HANDLE;
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.waitSemaphoreCount = swapchain_ ? 1 : 0;
  si.pWaitSemaphores = &acquired_;
  si.pWaitDstStageMask = &wait_stage;
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cmd_;
  si.signalSemaphoreCount = swapchain_ ? 1 : 0;
  si.pSignalSemaphores = &done;
  VK_CHECK(vkQueueSubmit(ctx_.queue(), 1, &si, fence_));
  // One frame in flight: the staging buffer and command buffer are free again when this returns,
  // and the "render" stage time includes the GPU's work.
  VK_CHECK(vkWaitForFences(ctx_.device(), 1, &fence_, VK_TRUE, UINT64_MAX));
  VK_CHECK(vkResetFences(ctx_.device(), 1, &fence_));
  if (capture) {
    capture_.extent = ext;
    capture_.rgb = swapchain_ ? to_rgb(static_cast<const uint8_t*>(capture_buffer_->mapped), ext, swapchain_->format())
                              : offscreen_->rgb();
  }
  pending_present_ = swapchain_ != nullptr;
  return true;
}

void Renderer::present() {
  if (!pending_present_) return;
  pending_present_ = false;
  VkSemaphore done = swapchain_->render_finished(image_index_);
  VkSwapchainKHR sc = swapchain_->handle();
  VkPresentInfoKHR pi{VK_STRUCTURE_TYPE_PRESENT_INFO_KHR};
  pi.waitSemaphoreCount = 1;
  pi.pWaitSemaphores = &done;
  pi.swapchainCount = 1;
  pi.pSwapchains = &sc;
  pi.pImageIndices = &image_index_;
  const VkResult r = vkQueuePresentKHR(ctx_.queue(), &pi);
  if (r == VK_ERROR_OUT_OF_DATE_KHR || r == VK_SUBOPTIMAL_KHR) needs_rebuild_ = true;
  else VK_CHECK(r);
}

}  // namespace sw::render
