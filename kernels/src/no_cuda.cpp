// Builds without nvcc: the CUDA entry points exist and say clearly that this build has no CUDA.
#include <stdexcept>

#include "sparseworld/kernels.h"
#include "sparseworld/block_topk.h"
#include "sparseworld/memory_update.h"
#include "sparseworld/pbsa.h"

namespace sw::kernels {

bool cuda_device_available(std::string* why) {
  if (why) *why = "this build has no CUDA (nvcc was not found at configure time)";
  return false;
}

void frame_to_rgba8_cuda(const float*, uint8_t*, const FrameToRgbaParams&, Stream) {
  throw std::runtime_error("frame_to_rgba8_cuda: this build has no CUDA");
}

bool pbsa_wgmma_available(const PbsaParams&) { return false; }
bool pbsa_wgmma_ws_available(const PbsaParams&) { return false; }
int pbsa_device_splits(const PbsaParams&) { throw std::runtime_error("pbsa_device_splits: this build has no CUDA"); }
size_t pbsa_workspace_bytes(const PbsaParams&) { throw std::runtime_error("pbsa_workspace_bytes: this build has no CUDA"); }
void pbsa_forward_cuda(const PbsaArgs&, const PbsaParams&, Stream) {
  throw std::runtime_error("pbsa_forward_cuda: this build has no CUDA");
}

void block_topk_cuda(const BlockTopkArgs&, const BlockTopkParams&, Stream) {
  throw std::runtime_error("block_topk_cuda: this build has no CUDA");
}
void memory_update_cuda(const MemoryUpdateArgs&, const MemoryUpdateParams&, Stream) {
  throw std::runtime_error("memory_update_cuda: this build has no CUDA");
}

}  // namespace sw::kernels
