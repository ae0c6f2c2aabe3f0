// The Vulkan instance, physical device, logical device and graphics queue shared by the windowed
// and the headless renderer, plus the Khronos validation layer hook-up (errors are counted so tests
// can assert there were none). Test: tests/app/test_render.cpp (ValidationCatchesErrors, headless
// renders), tests/app/test_player_window.cpp (windowed, under Xvfb).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "render/vk_check.h"

namespace sw::render {

struct VkContextParams {
  bool validation = false;                       // enable VK_LAYER_KHRONOS_validation; SetupError if absent
  std::vector<std::string> instance_extensions;  // e.g. the surface extensions SDL asks for
  std::string app_name = "sparseworld";
};

// Makes the window's surface once the instance exists (windowed mode); empty for headless.
using SurfaceFactory = std::function<VkSurfaceKHR(VkInstance)>;

struct ValidationReport {
  bool enabled = false;
  int errors = 0;
  int warnings = 0;
  std::vector<std::string> messages;  // the first few error messages, for test output
};

class VkContext {
 public:
  // Throws SetupError (NoVulkan: no loader/driver/device; Surface: the window's surface failed).
  explicit VkContext(const VkContextParams& params, const SurfaceFactory& make_surface = {});
  ~VkContext();
  VkContext(const VkContext&) = delete;
  VkContext& operator=(const VkContext&) = delete;

  VkInstance instance() const { return instance_; }
  VkPhysicalDevice physical_device() const { return physical_; }
  VkDevice device() const { return device_; }
  VkQueue queue() const { return queue_; }
  uint32_t queue_family() const { return queue_family_; }
  VkSurfaceKHR surface() const { return surface_; }
  VkCommandPool command_pool() const { return pool_; }
  VkDescriptorPool descriptor_pool() const { return descriptor_pool_; }
  const std::string& device_name() const { return device_name_; }

  uint32_t find_memory_type(uint32_t type_bits, VkMemoryPropertyFlags props) const;
  // Records with `record` into a one-time command buffer, submits it and waits.
  void run_once(const std::function<void(VkCommandBuffer)>& record) const;

  ValidationReport validation_report() const;

 private:
  static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                   VkDebugUtilsMessageTypeFlagsEXT types,
                                                   const VkDebugUtilsMessengerCallbackDataEXT* data, void* user);
  void pick_device();
  void destroy();

  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  VkSurfaceKHR surface_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queue_family_ = 0;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkDescriptorPool descriptor_pool_ = VK_NULL_HANDLE;
  std::string device_name_;
  mutable std::mutex report_mutex_;  // the layer may call back from driver threads
  ValidationReport report_;
};

// A buffer with its memory, persistently mapped when host-visible. Owned; frees itself.
struct Buffer {
  const VkContext* ctx = nullptr;
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  void* mapped = nullptr;
  VkDeviceSize size = 0;

  Buffer() = default;
  Buffer(const VkContext& ctx, VkDeviceSize size, VkBufferUsageFlags usage, VkMemoryPropertyFlags props);
  Buffer(Buffer&& o) noexcept { *this = std::move(o); }
  Buffer& operator=(Buffer&& o) noexcept;
  ~Buffer() { reset(); }
  void reset();
};

// A 2D colour image with memory and a view. Owned; frees itself.
struct Image {
  const VkContext* ctx = nullptr;
  VkImage image = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkImageView view = VK_NULL_HANDLE;
  VkFormat format = VK_FORMAT_UNDEFINED;
  VkExtent2D extent{0, 0};

  Image() = default;
  Image(const VkContext& ctx, VkExtent2D extent, VkFormat format, VkImageUsageFlags usage);
  Image(Image&& o) noexcept { *this = std::move(o); }
  Image& operator=(Image&& o) noexcept;
  ~Image() { reset(); }
  void reset();
};

// One layout transition of a whole colour image, with the access masks that go with each layout.
void transition(VkCommandBuffer cmd, VkImage image, VkImageLayout from, VkImageLayout to);

// Creates a colour-only render pass: clear on load, `final_layout` at the end.
VkRenderPass make_render_pass(VkDevice device, VkFormat format, VkImageLayout final_layout);

}  // namespace sw::render
