// Instance/device creation and small resource helpers. Picks a discrete GPU over an integrated one
// over a CPU driver (lavapipe in CI), and in windowed mode only a device that can present to the
// window's surface. Test: tests/app/test_render.cpp.
#include "render/vk_context.h"

#include <algorithm>
#include <cstring>

#include <fmt/core.h>

namespace sw::render {

namespace {
constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";
constexpr size_t kKeptMessages = 8;  // enough to diagnose a failing test without flooding it
// Sized for the ImGui backend (fonts) plus the frame pass (two samplers per shown world).
constexpr uint32_t kDescriptorSets = 64;

bool has_layer(const char* name) {
  uint32_t n = 0;
  vkEnumerateInstanceLayerProperties(&n, nullptr);
  std::vector<VkLayerProperties> layers(n);
  vkEnumerateInstanceLayerProperties(&n, layers.data());
  return std::any_of(layers.begin(), layers.end(), [&](const VkLayerProperties& l) { return std::strcmp(l.layerName, name) == 0; });
}
}  // namespace

const char* vk_result_name(VkResult r) {
  switch (r) {
#define SW_CASE(x) case x: return #x;
    SW_CASE(VK_SUCCESS) SW_CASE(VK_NOT_READY) SW_CASE(VK_TIMEOUT) SW_CASE(VK_INCOMPLETE)
    SW_CASE(VK_SUBOPTIMAL_KHR) SW_CASE(VK_ERROR_OUT_OF_HOST_MEMORY) SW_CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    SW_CASE(VK_ERROR_INITIALIZATION_FAILED) SW_CASE(VK_ERROR_DEVICE_LOST) SW_CASE(VK_ERROR_MEMORY_MAP_FAILED)
    SW_CASE(VK_ERROR_LAYER_NOT_PRESENT) SW_CASE(VK_ERROR_EXTENSION_NOT_PRESENT) SW_CASE(VK_ERROR_FEATURE_NOT_PRESENT)
    SW_CASE(VK_ERROR_INCOMPATIBLE_DRIVER) SW_CASE(VK_ERROR_TOO_MANY_OBJECTS) SW_CASE(VK_ERROR_FORMAT_NOT_SUPPORTED)
    SW_CASE(VK_ERROR_SURFACE_LOST_KHR) SW_CASE(VK_ERROR_NATIVE_WINDOW_IN_USE_KHR) SW_CASE(VK_ERROR_OUT_OF_DATE_KHR)
#undef SW_CASE
    default: return "VkResult(unknown)";
  }
}

VulkanError::VulkanError(const char* call, VkResult r, const char* file, int line)
    : std::runtime_error(fmt::format("Vulkan call failed: {} returned {} at {}:{}", call, vk_result_name(r), file, line)),
      result_(r) {}

VkBool32 VKAPI_CALL VkContext::on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT,
                                          const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
  auto* self = static_cast<VkContext*>(user);
  std::lock_guard lock(self->report_mutex_);
  if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
    ++self->report_.errors;
    if (self->report_.messages.size() < kKeptMessages) self->report_.messages.emplace_back(data->pMessage);
    fmt::print(stderr, "vulkan validation error: {}\n", data->pMessage);
  } else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
    ++self->report_.warnings;
    fmt::print(stderr, "vulkan validation warning: {}\n", data->pMessage);
  }
  return VK_FALSE;
}

VkContext::VkContext(const VkContextParams& params, const SurfaceFactory& make_surface) {
  std::vector<const char*> layers, extensions;
  for (const auto& e : params.instance_extensions) extensions.push_back(e.c_str());
  if (params.validation) {
    if (!has_layer(kValidationLayer))
      throw SetupError(SetupError::Kind::NoVulkan,
                       "the Vulkan validation layer VK_LAYER_KHRONOS_validation is not installed (Debian: vulkan-validationlayers)");
    layers.push_back(kValidationLayer);
    extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    report_.enabled = true;
  }
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = params.app_name.c_str();
  app.pEngineName = "SparseWorld";
  app.apiVersion = VK_API_VERSION_1_1;
  VkDebugUtilsMessengerCreateInfoEXT dbg{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
  dbg.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT;
  dbg.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                    VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  dbg.pfnUserCallback = &VkContext::on_message;
  dbg.pUserData = this;
  VkInstanceCreateInfo ici{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  // Chained so that instance creation and destruction are validated too.
  ici.pNext = params.validation ? &dbg : nullptr;
  ici.pApplicationInfo = &app;
  ici.enabledLayerCount = static_cast<uint32_t>(layers.size());
  ici.ppEnabledLayerNames = layers.data();
  ici.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
  ici.ppEnabledExtensionNames = extensions.data();
  const VkResult r = vkCreateInstance(&ici, nullptr, &instance_);
  if (r != VK_SUCCESS)
    throw SetupError(SetupError::Kind::NoVulkan,
                     fmt::format("no Vulkan driver: vkCreateInstance returned {} (install a Vulkan driver, e.g. Debian's "
                                 "mesa-vulkan-drivers; check with `vulkaninfo --summary`)",
                                 vk_result_name(r)));
  try {
    if (params.validation) {
      auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
      if (!create) throw SetupError(SetupError::Kind::NoVulkan, "VK_EXT_debug_utils is not available: cannot report validation errors");
      VK_CHECK(create(instance_, &dbg, nullptr, &messenger_));
    }
    if (make_surface) surface_ = make_surface(instance_);
    pick_device();
    const float priority = 1.f;
    VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    qci.queueFamilyIndex = queue_family_;
    qci.queueCount = 1;
    qci.pQueuePriorities = &priority;
    const char* swapchain_ext = VK_KHR_SWAPCHAIN_EXTENSION_NAME;
    VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    dci.queueCreateInfoCount = 1;
    dci.pQueueCreateInfos = &qci;
    dci.enabledExtensionCount = surface_ ? 1 : 0;
    dci.ppEnabledExtensionNames = &swapchain_ext;
    VK_CHECK(vkCreateDevice(physical_, &dci, nullptr, &device_));
    vkGetDeviceQueue(device_, queue_family_, 0, &queue_);
    VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pci.queueFamilyIndex = queue_family_;
    VK_CHECK(vkCreateCommandPool(device_, &pci, nullptr, &pool_));
    VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, kDescriptorSets};
    VkDescriptorPoolCreateInfo dpi{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
    dpi.flags = VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT;
    dpi.maxSets = kDescriptorSets;
    dpi.poolSizeCount = 1;
    dpi.pPoolSizes = &size;
    VK_CHECK(vkCreateDescriptorPool(device_, &dpi, nullptr, &descriptor_pool_));
  } catch (...) {
    destroy();  // the constructor did not finish, so no destructor will run: release what exists
    throw;
  }
}

void VkContext::pick_device() {
  uint32_t n = 0;
  vkEnumeratePhysicalDevices(instance_, &n, nullptr);
  std::vector<VkPhysicalDevice> devices(n);
  vkEnumeratePhysicalDevices(instance_, &n, devices.data());
  if (devices.empty())
    throw SetupError(SetupError::Kind::NoVulkan, "no Vulkan device found (check with `vulkaninfo --summary`; "
                                                 "Debian: mesa-vulkan-drivers gives the CPU driver lavapipe)");
  auto rank = [](VkPhysicalDeviceType t) {
    switch (t) {
      case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
      case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
      case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
      case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
      default: return 4;
    }
  };
  int best_rank = 1 << 30;
  for (VkPhysicalDevice d : devices) {
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(d, &props);
    uint32_t qn = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(d, &qn, nullptr);
    std::vector<VkQueueFamilyProperties> families(qn);
    vkGetPhysicalDeviceQueueFamilyProperties(d, &qn, families.data());
    for (uint32_t q = 0; q < qn; ++q) {
      if (!(families[q].queueFlags & VK_QUEUE_GRAPHICS_BIT)) continue;
      if (surface_) {
        VkBool32 present = VK_FALSE;
        vkGetPhysicalDeviceSurfaceSupportKHR(d, q, surface_, &present);
        if (!present) continue;
      }
      if (rank(props.deviceType) < best_rank) {
        best_rank = rank(props.deviceType);
        physical_ = d;
        queue_family_ = q;
        device_name_ = props.deviceName;
      }
      break;
    }
  }
  if (!physical_)
    throw SetupError(surface_ ? SetupError::Kind::Surface : SetupError::Kind::NoVulkan,
                     surface_ ? "no Vulkan device can present to this window" : "no Vulkan device with a graphics queue");
}

VkContext::~VkContext() { destroy(); }

void VkContext::destroy() {
  if (device_) {
    vkDeviceWaitIdle(device_);
    if (descriptor_pool_) vkDestroyDescriptorPool(device_, descriptor_pool_, nullptr);
    if (pool_) vkDestroyCommandPool(device_, pool_, nullptr);
    vkDestroyDevice(device_, nullptr);
  }
  if (surface_) vkDestroySurfaceKHR(instance_, surface_, nullptr);
  if (messenger_) {
    auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
    if (destroy) destroy(instance_, messenger_, nullptr);
  }
  if (instance_) vkDestroyInstance(instance_, nullptr);
  device_ = VK_NULL_HANDLE;
  descriptor_pool_ = VK_NULL_HANDLE;
  pool_ = VK_NULL_HANDLE;
  surface_ = VK_NULL_HANDLE;
  messenger_ = VK_NULL_HANDLE;
  instance_ = VK_NULL_HANDLE;
}

ValidationReport VkContext::validation_report() const {
  std::lock_guard lock(report_mutex_);
  return report_;
}

uint32_t VkContext::find_memory_type(uint32_t type_bits, VkMemoryPropertyFlags props) const {
  VkPhysicalDeviceMemoryProperties mem;
  vkGetPhysicalDeviceMemoryProperties(physical_, &mem);
  for (uint32_t i = 0; i < mem.memoryTypeCount; ++i)
    if ((type_bits & (1u << i)) && (mem.memoryTypes[i].propertyFlags & props) == props) return i;
  throw VulkanError("find_memory_type", VK_ERROR_OUT_OF_DEVICE_MEMORY, __FILE__, __LINE__);
}

void VkContext::run_once(const std::function<void(VkCommandBuffer)>& record) const {
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = pool_;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  VkCommandBuffer cmd;
  VK_CHECK(vkAllocateCommandBuffers(device_, &ai, &cmd));
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  VK_CHECK(vkBeginCommandBuffer(cmd, &bi));
  record(cmd);
  VK_CHECK(vkEndCommandBuffer(cmd));
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cmd;
  VK_CHECK(vkQueueSubmit(queue_, 1, &si, VK_NULL_HANDLE));
  VK_CHECK(vkQueueWaitIdle(queue_));
  vkFreeCommandBuffers(device_, pool_, 1, &cmd);
}

Buffer::Buffer(const VkContext& c, VkDeviceSize sz, VkBufferUsageFlags usage, VkMemoryPropertyFlags props) : ctx(&c), size(sz) {
  VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bi.size = sz;
  bi.usage = usage;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VK_CHECK(vkCreateBuffer(c.device(), &bi, nullptr, &buffer));
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(c.device(), buffer, &req);
  VkMemoryAllocateInfo mi{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  mi.allocationSize = req.size;
  mi.memoryTypeIndex = c.find_memory_type(req.memoryTypeBits, props);
  VK_CHECK(vkAllocateMemory(c.device(), &mi, nullptr, &memory));
  VK_CHECK(vkBindBufferMemory(c.device(), buffer, memory, 0));
  if (props & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) VK_CHECK(vkMapMemory(c.device(), memory, 0, VK_WHOLE_SIZE, 0, &mapped));
}

Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    reset();
    std::swap(ctx, o.ctx);
    std::swap(buffer, o.buffer);
    std::swap(memory, o.memory);
    std::swap(mapped, o.mapped);
    std::swap(size, o.size);
  }
  return *this;
}

void Buffer::reset() {
  if (!ctx) return;
  if (buffer) vkDestroyBuffer(ctx->device(), buffer, nullptr);
  if (memory) vkFreeMemory(ctx->device(), memory, nullptr);  // unmaps implicitly
  buffer = VK_NULL_HANDLE;
  memory = VK_NULL_HANDLE;
  mapped = nullptr;
  ctx = nullptr;
}

Image::Image(const VkContext& c, VkExtent2D ext, VkFormat fmt, VkImageUsageFlags usage) : ctx(&c), format(fmt), extent(ext) {
  VkImageCreateInfo ii{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
  ii.imageType = VK_IMAGE_TYPE_2D;
  ii.format = fmt;
  ii.extent = {ext.width, ext.height, 1};
  ii.mipLevels = 1;
  ii.arrayLayers = 1;
  ii.samples = VK_SAMPLE_COUNT_1_BIT;
  ii.tiling = VK_IMAGE_TILING_OPTIMAL;
  ii.usage = usage;
  ii.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
  VK_CHECK(vkCreateImage(c.device(), &ii, nullptr, &image));
  VkMemoryRequirements req;
  vkGetImageMemoryRequirements(c.device(), image, &req);
  VkMemoryAllocateInfo mi{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  mi.allocationSize = req.size;
  mi.memoryTypeIndex = c.find_memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  VK_CHECK(vkAllocateMemory(c.device(), &mi, nullptr, &memory));
  VK_CHECK(vkBindImageMemory(c.device(), image, memory, 0));
  VkImageViewCreateInfo vi{VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO};
  vi.image = image;
  vi.viewType = VK_IMAGE_VIEW_TYPE_2D;
  vi.format = fmt;
  vi.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
  VK_CHECK(vkCreateImageView(c.device(), &vi, nullptr, &view));
}

Image& Image::operator=(Image&& o) noexcept {
  if (this != &o) {
    reset();
    std::swap(ctx, o.ctx);
    std::swap(image, o.image);
    std::swap(memory, o.memory);
    std::swap(view, o.view);
    std::swap(format, o.format);
    std::swap(extent, o.extent);
  }
  return *this;
}

void Image::reset() {
  if (!ctx) return;
  if (view) vkDestroyImageView(ctx->device(), view, nullptr);
  if (image) vkDestroyImage(ctx->device(), image, nullptr);
  if (memory) vkFreeMemory(ctx->device(), memory, nullptr);
  view = VK_NULL_HANDLE;
  image = VK_NULL_HANDLE;
  memory = VK_NULL_HANDLE;
  ctx = nullptr;
}

namespace {
VkAccessFlags access_for(VkImageLayout layout, bool as_destination) {
  switch (layout) {
    case VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL: return VK_ACCESS_TRANSFER_WRITE_BIT;
    case VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL: return VK_ACCESS_TRANSFER_READ_BIT;
    case VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL: return VK_ACCESS_SHADER_READ_BIT;
    case VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL:
      return VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT | (as_destination ? VK_ACCESS_COLOR_ATTACHMENT_READ_BIT : 0);
    case VK_IMAGE_LAYOUT_PRESENT_SRC_KHR: return as_destination ? 0 : VK_ACCESS_MEMORY_READ_BIT;
    default: return 0;
  }
}
}  // namespace

void transition(VkCommandBuffer cmd, VkImage image, VkImageLayout from, VkImageLayout to) {
  VkImageMemoryBarrier b{VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER};
  b.srcAccessMask = access_for(from, false);
  // Writes made before the barrier must be visible to what reads after it, whatever the layouts.
  if (from == VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL || from == VK_IMAGE_LAYOUT_PRESENT_SRC_KHR)
    b.srcAccessMask |= VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
  b.dstAccessMask = access_for(to, true);
  b.oldLayout = from;
  b.newLayout = to;
  b.srcQueueFamilyIndex = b.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
  b.image = image;
  b.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
  // Whole-pipeline stages: these barriers run a few times per frame, simplicity beats tuning here.
  vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 0, nullptr, 0, nullptr,
                       1, &b);
}

VkRenderPass make_render_pass(VkDevice device, VkFormat format, VkImageLayout final_layout) {
  VkAttachmentDescription att{};
  att.format = format;
  att.samples = VK_SAMPLE_COUNT_1_BIT;
  att.loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR;
  att.storeOp = VK_ATTACHMENT_STORE_OP_STORE;
  att.stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE;
  att.stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE;
  att.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
  att.finalLayout = final_layout;
  VkAttachmentReference ref{0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL};
  VkSubpassDescription sub{};
  sub.pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS;
  sub.colorAttachmentCount = 1;
  sub.pColorAttachments = &ref;
  VkSubpassDependency deps[2] = {};
  // In: wait for the acquire semaphore / the previous frame's readback before writing.
  deps[0].srcSubpass = VK_SUBPASS_EXTERNAL;
  deps[0].dstSubpass = 0;
  deps[0].srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
  deps[0].dstStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
  deps[0].dstAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT | VK_ACCESS_COLOR_ATTACHMENT_READ_BIT;
  // Out: the colour writes must land before the readback copy.
  deps[1].srcSubpass = 0;
  deps[1].dstSubpass = VK_SUBPASS_EXTERNAL;
  deps[1].srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
  deps[1].srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
  deps[1].dstStageMask = VK_PIPELINE_STAGE_TRANSFER_BIT;
  deps[1].dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT;
  VkRenderPassCreateInfo rpi{VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO};
  rpi.attachmentCount = 1;
  rpi.pAttachments = &att;
  rpi.subpassCount = 1;
  rpi.pSubpasses = &sub;
  rpi.dependencyCount = 2;
  rpi.pDependencies = deps;
  VkRenderPass pass;
  VK_CHECK(vkCreateRenderPass(device, &rpi, nullptr, &pass));
  return pass;
}

}  // namespace sw::render
