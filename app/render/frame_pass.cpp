// FramePass implementation. The SPIR-V comes from shaders/present.{vert,frag}, compiled by glslc
// at build time into C arrays (never committed), so the binary needs no files at run time.
// Test: tests/app/test_render.cpp.
#include "render/frame_pass.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace sw::render {

namespace {
const uint32_t kPresentVert[] =
#include "present.vert.inc"
    ;
const uint32_t kPresentFrag[] =
#include "present.frag.inc"
    ;
constexpr int kQuadVertices = 4;  // triangle strip, positions made in the vertex shader

VkShaderModule make_module(VkDevice device, const uint32_t* code, size_t bytes) {
  VkShaderModuleCreateInfo ci{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  ci.codeSize = bytes;
  ci.pCode = code;
  VkShaderModule m;
  VK_CHECK(vkCreateShaderModule(device, &ci, nullptr, &m));
  return m;
}
}  // namespace

std::vector<Rect> layout_views(VkExtent2D target, int frame_w, int frame_h, int views, int gap_px) {
  std::vector<Rect> rects;
  if (views <= 0 || frame_w <= 0 || frame_h <= 0) return rects;
  const int tw = static_cast<int>(target.width), th = static_cast<int>(target.height);
  const int cell_w = std::max(0, (tw - gap_px * (views - 1)) / views);
  for (int i = 0; i < views; ++i) {
    // Largest w x h with w/h == frame_w/frame_h inside cell_w x th (integer arithmetic, no drift).
    int w = cell_w, h = static_cast<int>(static_cast<int64_t>(cell_w) * frame_h / frame_w);
    if (h > th) {
      h = th;
      w = static_cast<int>(static_cast<int64_t>(th) * frame_w / frame_h);
    }
    const int cell_x = i * (cell_w + gap_px);
    rects.push_back({cell_x + (cell_w - w) / 2, (th - h) / 2, w, h});
  }
  return rects;
}

FramePass::FramePass(const VkContext& ctx, VkRenderPass pass, int views, int frame_w, int frame_h, FramePassParams params)
    : ctx_(ctx), params_(params), views_(views), frame_w_(frame_w), frame_h_(frame_h) {
  if (views < 1 || frame_w < 1 || frame_h < 1) throw std::invalid_argument("FramePass: need at least one view of at least 1x1 pixels");
  VkDevice dev = ctx.device();
  const VkDeviceSize frame_bytes = static_cast<VkDeviceSize>(frame_w) * frame_h * 4;
  staging_ = Buffer(ctx, frame_bytes * views, VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
  for (int i = 0; i < views; ++i)
    images_.emplace_back(ctx, VkExtent2D{static_cast<uint32_t>(frame_w), static_cast<uint32_t>(frame_h)}, VK_FORMAT_R8G8B8A8_UNORM,
                         VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_SAMPLED_BIT);

  for (int f = 0; f < 2; ++f) {
    VkSamplerCreateInfo si{VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO};
    si.magFilter = si.minFilter = f == 0 ? VK_FILTER_NEAREST : VK_FILTER_LINEAR;
    si.mipmapMode = VK_SAMPLER_MIPMAP_MODE_NEAREST;
    // Clamp: a bilinear tap at the frame's edge must not blend in the opposite edge.
    si.addressModeU = si.addressModeV = si.addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE;
    si.maxLod = 0.f;
    VK_CHECK(vkCreateSampler(dev, &si, nullptr, &samplers_[f]));
  }
  VkDescriptorSetLayoutBinding b{0, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1, VK_SHADER_STAGE_FRAGMENT_BIT, nullptr};
  VkDescriptorSetLayoutCreateInfo li{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  li.bindingCount = 1;
  li.pBindings = &b;
  VK_CHECK(vkCreateDescriptorSetLayout(dev, &li, nullptr, &set_layout_));
  sets_.resize(static_cast<size_t>(views) * 2);
  std::vector<VkDescriptorSetLayout> layouts(sets_.size(), set_layout_);
  VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
  ai.descriptorPool = ctx.descriptor_pool();
  ai.descriptorSetCount = static_cast<uint32_t>(sets_.size());
  ai.pSetLayouts = layouts.data();
  VK_CHECK(vkAllocateDescriptorSets(dev, &ai, sets_.data()));
  for (int v = 0; v < views; ++v)
    for (int f = 0; f < 2; ++f) {
      VkDescriptorImageInfo ii{samplers_[f], images_[v].view, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL};
      VkWriteDescriptorSet w{VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
      w.dstSet = sets_[v * 2 + f];
      w.descriptorCount = 1;
      w.descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER;
      w.pImageInfo = &ii;
      vkUpdateDescriptorSets(dev, 1, &w, 0, nullptr);
    }

  VkPipelineLayoutCreateInfo pli{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  pli.setLayoutCount = 1;
  pli.pSetLayouts = &set_layout_;
  VK_CHECK(vkCreatePipelineLayout(dev, &pli, nullptr, &pipeline_layout_));

  VkShaderModule vert = make_module(dev, kPresentVert, sizeof(kPresentVert));
  VkShaderModule frag = make_module(dev, kPresentFrag, sizeof(kPresentFrag));
  VkPipelineShaderStageCreateInfo stages[2] = {{VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO},
                                               {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO}};
  stages[0].stage = VK_SHADER_STAGE_VERTEX_BIT;
  stages[0].module = vert;
  stages[0].pName = "main";
  stages[1].stage = VK_SHADER_STAGE_FRAGMENT_BIT;
  stages[1].module = frag;
  stages[1].pName = "main";
  VkPipelineVertexInputStateCreateInfo vin{VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO};
  VkPipelineInputAssemblyStateCreateInfo ia{VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO};
  ia.topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_STRIP;
  VkPipelineViewportStateCreateInfo vp{VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO};
  vp.viewportCount = 1;
  vp.scissorCount = 1;
  VkPipelineRasterizationStateCreateInfo rs{VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO};
  rs.polygonMode = VK_POLYGON_MODE_FILL;
  rs.cullMode = VK_CULL_MODE_NONE;
  rs.lineWidth = 1.f;
  VkPipelineMultisampleStateCreateInfo ms{VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO};
  ms.rasterizationSamples = VK_SAMPLE_COUNT_1_BIT;
  VkPipelineColorBlendAttachmentState blend{};
  blend.colorWriteMask = VK_COLOR_COMPONENT_R_BIT | VK_COLOR_COMPONENT_G_BIT | VK_COLOR_COMPONENT_B_BIT | VK_COLOR_COMPONENT_A_BIT;
  VkPipelineColorBlendStateCreateInfo cb{VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO};
  cb.attachmentCount = 1;
  cb.pAttachments = &blend;
  const VkDynamicState dyn_states[2] = {VK_DYNAMIC_STATE_VIEWPORT, VK_DYNAMIC_STATE_SCISSOR};
  VkPipelineDynamicStateCreateInfo dyn{VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO};
  dyn.dynamicStateCount = 2;
  dyn.pDynamicStates = dyn_states;
  VkGraphicsPipelineCreateInfo pi{VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO};
  pi.stageCount = 2;
  pi.pStages = stages;
  pi.pVertexInputState = &vin;
  pi.pInputAssemblyState = &ia;
  pi.pViewportState = &vp;
  pi.pRasterizationState = &rs;
  pi.pMultisampleState = &ms;
  pi.pColorBlendState = &cb;
  pi.pDynamicState = &dyn;
  pi.layout = pipeline_layout_;
  pi.renderPass = pass;
  const VkResult r = vkCreateGraphicsPipelines(dev, VK_NULL_HANDLE, 1, &pi, nullptr, &pipeline_);
  vkDestroyShaderModule(dev, vert, nullptr);
  vkDestroyShaderModule(dev, frag, nullptr);
  VK_CHECK(r);
}

FramePass::~FramePass() {
  VkDevice dev = ctx_.device();
  vkDeviceWaitIdle(dev);
  if (pipeline_) vkDestroyPipeline(dev, pipeline_, nullptr);
  if (pipeline_layout_) vkDestroyPipelineLayout(dev, pipeline_layout_, nullptr);
  if (!sets_.empty()) vkFreeDescriptorSets(dev, ctx_.descriptor_pool(), static_cast<uint32_t>(sets_.size()), sets_.data());
  if (set_layout_) vkDestroyDescriptorSetLayout(dev, set_layout_, nullptr);
  for (VkSampler s : samplers_)
    if (s) vkDestroySampler(dev, s, nullptr);
}

void FramePass::upload(std::span<const Frame* const> frames) {
  if (static_cast<int>(frames.size()) != views_) throw std::invalid_argument("FramePass::upload: wrong number of frames");
  auto* dst = static_cast<uint8_t*>(staging_.mapped);
  const size_t pixels = static_cast<size_t>(frame_w_) * frame_h_;
  for (const Frame* f : frames) {
    if (f->width != frame_w_ || f->height != frame_h_ || f->rgb.size() != pixels * 3)
      throw std::invalid_argument("FramePass::upload: frame size differs from the pass's");
    const uint8_t* src = f->rgb.data();
    for (size_t p = 0; p < pixels; ++p, src += 3, dst += 4) {
      dst[0] = src[0];
      dst[1] = src[1];
      dst[2] = src[2];
      dst[3] = 255;
    }
  }
}

void FramePass::record_upload(VkCommandBuffer cmd) {
  const VkDeviceSize frame_bytes = static_cast<VkDeviceSize>(frame_w_) * frame_h_ * 4;
  for (int v = 0; v < views_; ++v) {
    transition(cmd, images_[v].image, uploaded_once_ ? VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL : VK_IMAGE_LAYOUT_UNDEFINED,
               VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
    VkBufferImageCopy region{};
    region.bufferOffset = frame_bytes * v;
    region.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
    region.imageExtent = {static_cast<uint32_t>(frame_w_), static_cast<uint32_t>(frame_h_), 1};
    vkCmdCopyBufferToImage(cmd, staging_.buffer, images_[v].image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
    transition(cmd, images_[v].image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
  }
  uploaded_once_ = true;
}

void FramePass::record_draw(VkCommandBuffer cmd, VkExtent2D target, Filter filter) const {
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline_);
  const auto rects = layout_views(target, frame_w_, frame_h_, views_, params_.gap_px);
  for (int v = 0; v < views_; ++v) {
    const Rect& r = rects[v];
    if (r.width <= 0 || r.height <= 0) continue;
    VkViewport viewport{float(r.x), float(r.y), float(r.width), float(r.height), 0.f, 1.f};
    VkRect2D scissor{{r.x, r.y}, {static_cast<uint32_t>(r.width), static_cast<uint32_t>(r.height)}};
    vkCmdSetViewport(cmd, 0, 1, &viewport);
    vkCmdSetScissor(cmd, 0, 1, &scissor);
    const VkDescriptorSet set = sets_[v * 2 + (filter == Filter::Smooth ? 1 : 0)];
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline_layout_, 0, 1, &set, 0, nullptr);
    vkCmdDraw(cmd, kQuadVertices, 1, 0, 0);
  }
}

}  // namespace sw::render
