// StageTimer (see stage_timer.h). The CUDA path is compiled only when libtorch has CUDA.
#include "stage_timer.h"

#ifdef SW_TORCH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace sw::engine {

struct StageTimer::Events {
#ifdef SW_TORCH_CUDA
  std::vector<at::cuda::CUDAEvent> list;
#endif
};

StageTimer::StageTimer(c10::Device device) : events_(std::make_unique<Events>()) {
#ifdef SW_TORCH_CUDA
  gpu_ = device.is_cuda();
#else
  (void)device;
#endif
}

StageTimer::~StageTimer() = default;

void StageTimer::start() {
  host_.clear();
#ifdef SW_TORCH_CUDA
  events_->list.clear();
#endif
  mark();
}

void StageTimer::mark() {
#ifdef SW_TORCH_CUDA
  if (gpu_) {
    events_->list.emplace_back(cudaEventDefault);
    events_->list.back().record(c10::cuda::getCurrentCUDAStream());
    return;
  }
#endif
  host_.push_back(std::chrono::steady_clock::now());
}

std::vector<double> StageTimer::finish_ms() {
  std::vector<double> out;
#ifdef SW_TORCH_CUDA
  if (gpu_) {
    auto& ev = events_->list;
    if (!ev.empty()) ev.back().synchronize();
    for (size_t i = 1; i < ev.size(); ++i) out.push_back(ev[i - 1].elapsed_time(ev[i]));
    return out;
  }
#endif
  for (size_t i = 1; i < host_.size(); ++i) out.push_back(std::chrono::duration<double, std::milli>(host_[i] - host_[i - 1]).count());
  return out;
}

}  // namespace sw::engine
