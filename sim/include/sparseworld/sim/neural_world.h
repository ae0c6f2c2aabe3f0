// The neural world: the world model rolled out chunk by chunk behind the same World interface
// as the reference world. Method and params of the attention are switchable between chunks.
// Test: tests/model/test_neural_world.cpp (CPU, tiny config) and the gpu-labelled test.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sparseworld/attention.h"
#include "sparseworld/sim/model.h"
#include "sparseworld/sim/world.h"

namespace sw {

// Largest sampler timestep shift accepted anywhere (NeuralWorldParams, eval, the rollout): past it
// every step but the last sits at t ~ 1.
constexpr double kMaxSampleShift = 100.0;
inline bool valid_sample_shift(double shift) { return shift > 0 && shift <= kMaxSampleShift; }
// Largest action guidance accepted anywhere (see engine/rollout.h): beyond it the extrapolated
// velocity leaves the range the sampler was trained on and frames saturate.
constexpr double kMaxActionGuidance = 10.0;
inline bool valid_action_guidance(double w) { return w >= 0 && w <= kMaxActionGuidance; }
// The same bound for history guidance.
constexpr double kMaxHistoryGuidance = 10.0;
inline bool valid_history_guidance(double w) { return w >= 0 && w <= kMaxHistoryGuidance; }

inline constexpr int kMaxMemorySlots = 1024;  // the memory-update kernel's limit (M <= 1024)

struct NeuralWorldParams {
  std::string model_path;
  std::string device = "auto";  // auto (cuda when available), cpu, cuda
  int context_frames = -1;      // reference-world frames encoded into the cache at reset; -1: one chunk
  int sample_steps = 0;         // 0: the model config's
  double sample_shift = 1.0;    // sampler timestep shift (1: uniform steps; see engine/rollout.h), in (0, kMaxSampleShift]
  // Classifier-free guidance of the sampler on the actions, against standing still (1: off; w > 1
  // amplifies how the frame answers the input, at the chunk once more in each sampler pass), in
  // [0, kMaxActionGuidance]. See engine/rollout.h.
  double action_guidance = 1.0;
  // Guidance on the history (the cache), against the same chunk sampled with none (1: off; > 1:
  // the chunk once more in each sampler pass, attending to itself alone), in [0, kMaxHistoryGuidance].
  double history_guidance = 1.0;
  double context_noise = 0.1;   // noise level frames are committed at (match train --context-noise)
  int recall_every = 0;         // measure attention recall against dense every N chunks (0: never)
  // Persistent memory blocks per head and layer (sparse-forcing's store), -1: the model config's;
  // in [-1, kMaxMemorySlots]. Larger stores pay off with method.sparse_forcing.memory_top_k.
  int memory_slots = -1;
  attn::MethodConfig method;    // dense unless set
  void validate() const;        // throws std::invalid_argument naming the field
};

struct NeuralStats {
  int64_t chunk = 0;            // chunks generated since reset
  double context_ms = 0;        // last reset: encoding + committing the context frames
  double denoise_ms = 0;        // sampler passes of the last chunk
  double commit_ms = 0;         // the clean pass that writes the chunk's K/V
  double decode_ms = 0;         // latents -> RGB8 frames (host copy included)
  bool gpu_timed = false;       // true: CUDA events; false: host clock
  std::string method;
  int64_t cache_bytes = 0;      // all layers
  double density = 0;           // mean over layers
  double recall = -1;           // mean over layers when measured on the last chunk, else -1
  int64_t merged_blocks = 0, preserved_blocks = 0, dropped_blocks = 0;
};

// Why the neural world of `model_path` cannot play in real time here ("" when it can): no CUDA
// device for libtorch (the CPU runs the default model at seconds per chunk), or no model file
// (a single file or the shards NAME-0000i-of-0000n.safetensors of NAME.safetensors).
std::string neural_world_unavailable(const std::string& model_path);

class NeuralWorld final : public World {
 public:
  // Throws model::WeightsError or std::invalid_argument with a message a CLI can print.
  explicit NeuralWorld(const NeuralWorldParams& params);
  ~NeuralWorld() override;

  std::string name() const override { return "neural"; }
  int width() const override;
  int height() const override;
  int chunk_frames() const override;
  void reset(uint64_t seed) override;
  void step(std::span<const Action> actions, std::vector<Frame>& frames_out) override;
  const Frame& current_frame() const override;
  const StepStats& last_stats() const override;

  void set_method(const attn::MethodConfig& method);  // takes effect on the next chunk
  const attn::MethodConfig& method() const;
  void set_action_guidance(double w);  // takes effect on the next chunk; throws outside [0, kMaxActionGuidance]
  double action_guidance() const;
  void set_history_guidance(double w);  // the same for history guidance
  double history_guidance() const;
  const NeuralStats& neural_stats() const;
  const model::ModelConfig& config() const;
  std::string device_name() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sw
