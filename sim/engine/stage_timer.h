// Times the stages of a chunk: CUDA events on the current stream when the rollout runs on a CUDA
// device (and libtorch has CUDA), otherwise the host clock. Test: via NeuralStats in the tests.
#pragma once

#include <ATen/core/Tensor.h>

#include <chrono>
#include <memory>
#include <vector>

namespace sw::engine {

class StageTimer {
 public:
  explicit StageTimer(c10::Device device);
  ~StageTimer();
  void start();
  void mark();                         // ends the current stage, starts the next
  std::vector<double> finish_ms();     // waits for the device; one duration per mark()
  bool on_gpu() const { return gpu_; }

 private:
  bool gpu_ = false;
  std::vector<std::chrono::steady_clock::time_point> host_;
  struct Events;
  std::unique_ptr<Events> events_;
};

}  // namespace sw::engine
