// NeuralWorld: the rollout behind the World interface. reset(seed) encodes context frames from
// the reference world of the same seed (so the model knows which world it is in) and commits
// them; step(actions) samples, commits and decodes one chunk per F actions.
// Test: tests/model/test_neural_world.cpp.
#include "sparseworld/sim/neural_world.h"

#include <torch/cuda.h>

#include <chrono>

#include "../model/model_io.h"
#include "rollout.h"
#include "sparseworld/sim/reference_world.h"
#include "stage_timer.h"

namespace sw {

void NeuralWorldParams::validate() const {
  if (model_path.empty()) throw std::invalid_argument("neural world: model path is empty");
  if (device != "auto" && device != "cpu" && device != "cuda")
    throw std::invalid_argument("neural world: device '" + device + "' is not one of auto, cpu, cuda");
  if (context_frames < -1) throw std::invalid_argument("neural world: context_frames must be >= -1");
  if (memory_slots < -1 || memory_slots > kMaxMemorySlots)
    throw std::invalid_argument("neural world: memory_slots must be in [-1, " + std::to_string(kMaxMemorySlots) + "], got " + std::to_string(memory_slots));
  if (sample_steps < 0 || sample_steps > 64) throw std::invalid_argument("neural world: sample_steps must be in [0, 64]");
  if (!valid_sample_shift(sample_shift))
    throw std::invalid_argument("neural world: sample_shift must be in (0, 100], got " + std::to_string(sample_shift));
  if (!valid_action_guidance(action_guidance))
    throw std::invalid_argument("neural world: action_guidance must be in [0, " + std::to_string(kMaxActionGuidance) + "], got " +
                                std::to_string(action_guidance));
  if (!valid_history_guidance(history_guidance))
    throw std::invalid_argument("neural world: history_guidance must be in [0, " + std::to_string(kMaxHistoryGuidance) + "], got " +
                                std::to_string(history_guidance));
  if (!(context_noise >= 0 && context_noise <= 0.5))
    throw std::invalid_argument("neural world: context_noise must be in [0, 0.5], got " + std::to_string(context_noise));
  if (recall_every < 0) throw std::invalid_argument("neural world: recall_every must be >= 0");
  method.validate();
}

struct NeuralWorld::Impl {
  NeuralWorldParams params;
  at::Device device{at::kCPU};
  at::ScalarType dtype = at::kFloat;
  std::unique_ptr<model::WorldModel> model;
  model::ModelInfo info;
  std::unique_ptr<engine::Rollout> rollout;
  uint64_t seed = 0;
  Frame frame;
  StepStats step_stats;
  NeuralStats stats;
  attn::MethodConfig method;

  // Latents [N, C, S, S] -> frames (RGB8 on the host).
  void decode_to(const at::Tensor& latents, std::vector<Frame>& out) {
    const int s = model->config.frame_size;
    at::Tensor rgb = model->tokenizer->decode(latents);
    rgb = ((rgb.to(at::kFloat) + 1.0) * 127.5).round().clamp(0, 255).to(at::kByte).permute({0, 2, 3, 1}).contiguous().cpu();
    out.resize(static_cast<size_t>(rgb.size(0)));
    for (int64_t i = 0; i < rgb.size(0); ++i) {
      out[i].width = out[i].height = s;
      const uint8_t* p = rgb[i].data_ptr<uint8_t>();
      out[i].rgb.assign(p, p + static_cast<size_t>(s) * s * 3);
    }
  }

  void collect_stats() {
    stats.method = attn::method_name(method.method);
    stats.cache_bytes = 0;
    stats.density = 0;
    stats.merged_blocks = stats.preserved_blocks = stats.dropped_blocks = 0;
    double recall_sum = 0;
    int recall_n = 0;
    for (auto& l : rollout->layers()) {
      const attn::LayerStats s = l.stats();
      stats.cache_bytes += s.cache_bytes;
      stats.density += s.density;
      stats.merged_blocks += s.merged_blocks;
      stats.preserved_blocks += s.preserved_blocks;
      stats.dropped_blocks += s.dropped_blocks;
      if (s.recall >= 0 && s.recall_chunk == s.chunks - 1) {
        recall_sum += s.recall;
        ++recall_n;
      }
    }
    stats.density /= static_cast<double>(rollout->layers().size());
    stats.recall = recall_n ? recall_sum / recall_n : -1.0;
  }
};

std::string neural_world_unavailable(const std::string& model_path) {
  try {
    model::resolve_model_path(model_path);  // a single file or the shards named after it
  } catch (const model::WeightsError&) {
    return "no model at '" + model_path + "'";
  }
  if (!torch::cuda::is_available()) return "no CUDA device (the neural world runs in real time on a GPU; --world neural --device cpu runs it slowly)";
  return "";
}

NeuralWorld::NeuralWorld(const NeuralWorldParams& params) : impl_(std::make_unique<Impl>()) {
  params.validate();
  Impl& m = *impl_;
  m.params = params;
  m.method = params.method;
  const bool cuda = torch::cuda::is_available();
  if (params.device == "cuda" && !cuda) throw std::invalid_argument("neural world: --device cuda but no CUDA device is available to libtorch");
  if (params.device == "cuda" || (params.device == "auto" && cuda)) {
    m.device = at::Device(at::kCUDA, 0);
    m.dtype = at::kBFloat16;
  }
  m.model = model::load_model(params.model_path, m.device, m.dtype, &m.info);
  m.model->tokenizer->eval();
  m.model->dit->eval();
  const int F = m.model->config.chunk_frames;
  if (params.context_frames > 0 && params.context_frames % F != 0)
    throw std::invalid_argument("neural world: context_frames " + std::to_string(params.context_frames) +
                                " must be a multiple of the model's chunk_frames " + std::to_string(F));
  m.rollout = std::make_unique<engine::Rollout>(*m.model, m.method, m.device, m.dtype, params.recall_every, params.memory_slots);
  reset(0);
}

NeuralWorld::~NeuralWorld() = default;

int NeuralWorld::width() const { return impl_->model->config.frame_size; }
int NeuralWorld::height() const { return impl_->model->config.frame_size; }
int NeuralWorld::chunk_frames() const { return impl_->model->config.chunk_frames; }
const Frame& NeuralWorld::current_frame() const { return impl_->frame; }
const StepStats& NeuralWorld::last_stats() const { return impl_->step_stats; }
const NeuralStats& NeuralWorld::neural_stats() const { return impl_->stats; }
const model::ModelConfig& NeuralWorld::config() const { return impl_->model->config; }
const attn::MethodConfig& NeuralWorld::method() const { return impl_->method; }
std::string NeuralWorld::device_name() const { return impl_->device.str(); }

void NeuralWorld::set_method(const attn::MethodConfig& method) {
  method.validate();
  impl_->method = method;
  impl_->rollout->set_method(method);
}

void NeuralWorld::set_action_guidance(double w) {
  impl_->rollout->set_action_guidance(w);  // validates
  impl_->params.action_guidance = w;       // and keeps it over reset()
}
double NeuralWorld::action_guidance() const { return impl_->params.action_guidance; }
void NeuralWorld::set_history_guidance(double w) {
  impl_->rollout->set_history_guidance(w);
  impl_->params.history_guidance = w;
}
double NeuralWorld::history_guidance() const { return impl_->params.history_guidance; }

void NeuralWorld::reset(uint64_t seed) {
  Impl& m = *impl_;
  torch::NoGradGuard ng;
  const auto t0 = std::chrono::steady_clock::now();
  const model::ModelConfig& c = m.model->config;
  m.seed = seed;
  m.rollout->reset();
  m.rollout->set_context_noise(m.params.context_noise, seed);
  m.rollout->set_sample_shift(m.params.sample_shift);
  m.rollout->set_action_guidance(m.params.action_guidance);
  m.rollout->set_history_guidance(m.params.history_guidance);
  m.stats = NeuralStats{};
  m.step_stats = StepStats{};
  // Context: the reference world's first frames from the same seed, standing still.
  const int context = m.params.context_frames < 0 ? c.chunk_frames : m.params.context_frames;
  WorldParams wp;
  wp.width = wp.height = c.frame_size;
  ReferenceWorld ref(wp);
  ref.reset(seed);
  std::vector<Frame> frames{ref.current_frame()};
  if (context > 1) {
    std::vector<Frame> more;
    ref.step(std::vector<Action>(static_cast<size_t>(context - 1)), more);
    frames.insert(frames.end(), more.begin(), more.end());
  }
  m.frame = frames.back();
  if (context > 0) {
    std::vector<uint8_t> bytes;
    for (const Frame& f : frames) bytes.insert(bytes.end(), f.rgb.begin(), f.rgb.end());
    at::Tensor rgb = at::from_blob(bytes.data(), {context, c.frame_size, c.frame_size, 3}, at::kByte)
                         .permute({0, 3, 1, 2}).to(at::kFloat).div(127.5).sub(1.0).to(m.device, m.dtype);
    const at::Tensor latents = m.model->tokenizer->encode(rgb);
    for (int i = 0; i < context; i += c.chunk_frames)
      m.rollout->commit(latents.narrow(0, i, c.chunk_frames), at::zeros({c.chunk_frames, c.action_dim}));
  }
  m.stats.context_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  m.collect_stats();
}

void NeuralWorld::step(std::span<const Action> actions, std::vector<Frame>& frames_out) {
  Impl& m = *impl_;
  const model::ModelConfig& c = m.model->config;
  const size_t F = static_cast<size_t>(c.chunk_frames);
  if (actions.size() % F != 0)
    throw std::invalid_argument("neural world: step() needs a multiple of " + std::to_string(F) + " actions, got " + std::to_string(actions.size()));
  torch::NoGradGuard ng;
  const auto t0 = std::chrono::steady_clock::now();
  frames_out.clear();
  double denoise = 0, commit = 0, decode = 0;
  engine::StageTimer timer(m.device);
  for (size_t base = 0; base < actions.size(); base += F) {
    std::vector<float> a;
    for (size_t i = 0; i < F; ++i)
      for (float v : actions[base + i].clamped().to_array()) a.push_back(v);
    const at::Tensor acts = at::from_blob(a.data(), {static_cast<int64_t>(F), c.action_dim}, at::kFloat).clone();
    const int steps = m.params.sample_steps ? m.params.sample_steps : c.sample_steps;
    timer.start();
    const at::Tensor latents = m.rollout->generate(engine::Rollout::chunk_noise(c, m.seed, m.stats.chunk), acts, steps, [&] { timer.mark(); });
    timer.mark();
    std::vector<Frame> frames;
    m.decode_to(latents, frames);
    timer.mark();
    const auto ms = timer.finish_ms();
    denoise += ms[0];
    commit += ms[1];
    decode += ms[2];
    frames_out.insert(frames_out.end(), frames.begin(), frames.end());
    ++m.stats.chunk;
  }
  m.stats.denoise_ms = denoise;
  m.stats.commit_ms = commit;
  m.stats.decode_ms = decode;
  m.stats.gpu_timed = timer.on_gpu();
  if (!frames_out.empty()) m.frame = frames_out.back();
  m.collect_stats();
  m.step_stats.frame_index += static_cast<int64_t>(actions.size());
  m.step_stats.render_ms = decode;
  m.step_stats.step_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace sw
