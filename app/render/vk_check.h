// VK_CHECK fails fast with file:line and the VkResult name (bugs, lost devices); failures a user
// can meet (no driver, no device, no swapchain) are thrown as SetupError (player/setup_error.h).
// Test: tests/app/test_render.cpp.
#pragma once

#include <stdexcept>
#include <string>

#include <vulkan/vulkan.h>

#include "player/setup_error.h"

namespace sw::render {

const char* vk_result_name(VkResult r);

// A Vulkan call that should not fail did: a bug or a lost device, not a user error.
class VulkanError : public std::runtime_error {
 public:
  VulkanError(const char* call, VkResult r, const char* file, int line);
  VkResult result() const { return result_; }

 private:
  VkResult result_;
};

using ::sw::SetupError;

}  // namespace sw::render

#define VK_CHECK(call)                                                                 \
  do {                                                                                 \
    const VkResult vk_check_result_ = (call);                                          \
    if (vk_check_result_ != VK_SUCCESS)                                                \
      throw ::sw::render::VulkanError(#call, vk_check_result_, __FILE__, __LINE__);    \
  } while (0)
