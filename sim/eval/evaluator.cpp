// `sparseworld eval`: the neural world against the reference world on held-out worlds, per
// attention method: (1) teacher-forced next chunk (ground-truth context committed, the prediction
// is not), (2) an autoregressive rollout in lockstep with the reference world under the same
// agent actions, scored at fixed horizons, (3) drift statistics over that rollout, (4) revisits of
// an out-and-back route (or of views a look-back agent turns away from and back to), free and
// with the way out teacher-forced (memory recall).
// Test: tests/eval/test_eval.cpp.
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>
#include <nlohmann/json.hpp>

#include "../engine/rollout.h"
#include "../model/model_io.h"
#include "sparseworld/sim/agents.h"
#include "sparseworld/sim/eval.h"
#include "sparseworld/sim/neural_world.h"

namespace sw::eval {

namespace {
constexpr uint64_t kHeldOutSeedBase = 1000000000ULL;  // training draws world seeds below 10^6
constexpr int kTeacherChunks = 8;                     // chunks per teacher-forced clip
constexpr double kDriftMargin = 0.15;                 // of the truth's mean-luma range, each side
constexpr int kTeacherWarmup = 40;                    // agent frames before a teacher-forced clip
constexpr uint64_t kRevisitSeed = kHeldOutSeedBase + 200;  // world and agent of the revisit and recall runs

}  // namespace

const std::vector<std::string>& revisit_agent_names() {
  static const std::vector<std::string> names = {"out_and_back", "look_back"};
  return names;
}

void EvalParams::validate() const {
  if (model_path.empty()) throw std::invalid_argument("eval: --model is required");
  if (methods.empty()) throw std::invalid_argument("eval: no methods");
  for (const auto& m : methods) attn::method_from_name(m);  // throws naming the bad one
  if (seeds < 1) throw std::invalid_argument("eval: seeds must be >= 1");
  if (horizons_s.empty()) throw std::invalid_argument("eval: no horizons");
  for (double h : horizons_s) {
    if (!(h > 0)) throw std::invalid_argument("eval: horizons must be > 0 seconds");
    // A horizon is a frame: one that rounds to frame 0 would score nothing and report 0 dB.
    if (std::llround(h * kGameFramesPerSecond) < 1)
      throw std::invalid_argument("eval: horizon " + std::to_string(h) + " s is under one frame (" + std::to_string(1.0 / kGameFramesPerSecond) + " s)");
  }
  if (!(drift_seconds > 0)) throw std::invalid_argument("eval: drift_seconds must be > 0");
  if (!(revisit_seconds > 0)) throw std::invalid_argument("eval: revisit_seconds must be > 0");
  if (!(recall_seconds >= 0)) throw std::invalid_argument("eval: recall_seconds must be >= 0");
  if (memory_slots < -1 || memory_slots > kMaxMemorySlots)
    throw std::invalid_argument("eval: memory_slots must be in [-1, " + std::to_string(kMaxMemorySlots) + "], got " + std::to_string(memory_slots));
  const auto& agents = revisit_agent_names();
  if (std::find(agents.begin(), agents.end(), revisit_agent) == agents.end())
    throw std::invalid_argument("eval: revisit agent '" + revisit_agent + "' is not out_and_back or look_back");
  if (!valid_sample_shift(sample_shift)) throw std::invalid_argument("eval: sample_shift must be in (0, 100], got " + std::to_string(sample_shift));
  if (!valid_action_guidance(action_guidance))
    throw std::invalid_argument("eval: action_guidance must be in [0, " + std::to_string(kMaxActionGuidance) + "], got " + std::to_string(action_guidance));
  if (!valid_history_guidance(history_guidance))
    throw std::invalid_argument("eval: history_guidance must be in [0, " + std::to_string(kMaxHistoryGuidance) + "], got " + std::to_string(history_guidance));
  if (!(context_noise >= 0 && context_noise <= 0.5))
    throw std::invalid_argument("eval: context_noise must be in [0, 0.5], got " + std::to_string(context_noise));
  for (int64_t f : strip_frames)
    if (f < 1) throw std::invalid_argument("eval: strip frames must be >= 1, got " + std::to_string(f));
  if (device != "auto" && device != "cpu" && device != "cuda") throw std::invalid_argument("eval: device '" + device + "' is not auto, cpu or cuda");
  try {  // checked even when sparse-forcing is not among the methods: a bad flag is still a mistake
    attention.sparse_forcing.validate();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("eval: ") + e.what() + " (the --sf-* flags)");
  }
  for (const auto& m : methods) {
    try {
      method_config(m).validate();
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("eval: ") + m + ": " + e.what());
    }
  }
}

attn::MethodConfig EvalParams::method_config(const std::string& method) const {
  attn::MethodConfig mc = attention;
  mc.method = attn::method_from_name(method);
  return mc;
}

namespace {

// (1) Teacher forcing: mean PSNR/SSIM of each chunk predicted from the true chunks before it,
// and action fidelity: from the true state before each predicted frame, render every candidate
// action in the reference world; the action is recovered when the closest candidate (MSE) is the
// class of the action actually taken.
struct TeacherResult {
  double psnr = 0, ssim = 0, action_accuracy = 0;
  double copy_psnr = 0, tokenizer_psnr = 0;  // baselines on the same frames (see MethodResult)
  double detail = 0, tokenizer_detail = 0;   // generated (reconstructed) / true detail
  std::vector<std::vector<int64_t>> confusion;  // [taken][recovered]
};

// Detail (FrameStats) of an RGB8 frame.
double frame_detail(const uint8_t* rgb, int size) { return frame_stats(rgb, nullptr, size, size).detail; }

TeacherResult teacher_forced(const EvalParams& p, const std::string& method, at::Device dev, at::ScalarType dtype) {
  auto m = model::load_model(p.model_path, dev, dtype);
  const model::ModelConfig& c = m->config;
  const int F = c.chunk_frames, S = c.frame_size, T = F * kTeacherChunks;
  const size_t fb = static_cast<size_t>(S) * S * 3;
  const attn::MethodConfig mc = p.method_config(method);
  WorldParams wp;
  wp.width = wp.height = S;
  double psum = 0, ssum = 0, copy_sum = 0, ae_sum = 0, gen_detail = 0, ae_detail = 0, true_detail = 0;
  int n = 0, recovered = 0, scored = 0;
  std::vector<std::vector<int64_t>> confusion(kActionCandidates, std::vector<int64_t>(kActionCandidates, 0));
  torch::NoGradGuard ng;
  for (int s = 0; s < p.seeds; ++s) {
    const uint64_t seed = kHeldOutSeedBase + static_cast<uint64_t>(s);
    ReferenceWorld world(wp);
    world.reset(seed);
    auto agent = make_agent("explorer", seed);
    for (int t = 0; t < kTeacherWarmup; ++t) world.apply_action(agent->act(world));
    std::vector<PlayerState> before(static_cast<size_t>(T));
    std::vector<Action> actions(static_cast<size_t>(T));
    std::vector<uint8_t> visible(static_cast<size_t>(T), 0);
    // Discrete candidate actions held for 1-4 frames (SplitMix64 of the seed): action fidelity is
    // only well posed when the taken action is one of the candidates.
    uint64_t rng_state = seed;
    auto next = [&rng_state] {
      rng_state += 0x9E3779B97F4A7C15ULL;
      uint64_t x = rng_state;
      x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
      x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
      return x ^ (x >> 31);
    };
    int cls = 0, hold = 0;
    std::vector<uint8_t> frames(static_cast<size_t>(T) * fb);
    for (int t = 0; t < T; ++t) {  // frame 0: the current view (action 0 is the no-op)
      before[t] = world.player();
      if (t > 0) {
        if (hold-- <= 0) {
          cls = static_cast<int>(next() % kActionCandidates);
          hold = static_cast<int>(next() % 4);
        }
        actions[t] = candidate_action(cls);
        world.apply_action(actions[t]);
        visible[t] = action_visible(before[t], world.player(), cls);
      }
      world.render(frames.data() + t * fb, S, S);
    }
    const at::Tensor rgb = at::from_blob(frames.data(), {T, S, S, 3}, at::kByte).permute({0, 3, 1, 2}).to(at::kFloat).div(127.5).sub(1.0).to(dev, dtype);
    std::vector<float> a;
    for (const Action& x : actions)
      for (float v : x.to_array()) a.push_back(v);
    const at::Tensor acts = at::from_blob(a.data(), {T, 5}, at::kFloat).clone();
    const at::Tensor z = m->tokenizer->encode(rgb);
    const std::vector<uint8_t> reconstructed = model::frames_to_rgb8(m->tokenizer->decode(z));
    engine::Rollout roll(*m, mc, dev, dtype, 0, p.memory_slots);
    roll.set_context_noise(p.context_noise, seed);
    roll.set_sample_shift(p.sample_shift);
    roll.set_action_guidance(p.action_guidance);
    roll.set_history_guidance(p.history_guidance);
    for (int k = 0; k < kTeacherChunks; ++k) {
      if (k > 0) {
        const at::Tensor pred = roll.generate(engine::Rollout::chunk_noise(c, seed, k), acts.narrow(0, k * F, F),
                                              p.sample_steps ? p.sample_steps : c.sample_steps, {}, false);
        const std::vector<uint8_t> gen = model::frames_to_rgb8(m->tokenizer->decode(pred));
        for (int f = 0; f < F; ++f) {
          const int t = k * F + f;
          const uint8_t* g = gen.data() + static_cast<size_t>(f) * fb;
          psum += std::min(psnr(g, frames.data() + t * fb, S, S), kPsnrCapDb);
          ssum += ssim(g, frames.data() + t * fb, S, S);
          // Through the tokenizer, like every prediction: a model that copies the last latent.
          copy_sum += std::min(psnr(reconstructed.data() + static_cast<size_t>(k * F - 1) * fb, frames.data() + t * fb, S, S), kPsnrCapDb);
          ae_sum += std::min(psnr(reconstructed.data() + t * fb, frames.data() + t * fb, S, S), kPsnrCapDb);
          gen_detail += frame_detail(g, S);
          ae_detail += frame_detail(reconstructed.data() + t * fb, S);
          true_detail += frame_detail(frames.data() + t * fb, S);
          if (visible[t]) {
            const int taken = action_class(actions[t]), got = recover_action_class(world, before[t], actions[t].use, g);
            recovered += got == taken;
            ++confusion[static_cast<size_t>(taken)][static_cast<size_t>(got)];
            ++scored;
          }
          ++n;
        }
      }
      roll.commit(z.narrow(0, k * F, F), acts.narrow(0, k * F, F));
    }
  }
  auto ratio = [&](double d) { return true_detail > 0 ? d / true_detail : 0.0; };  // 0 when the truth is flat, as detail_ratio
  return {psum / n, ssum / n, scored ? static_cast<double>(recovered) / scored : 0.0, copy_sum / n, ae_sum / n, ratio(gen_detail), ratio(ae_detail),
          confusion};
}

// Runs the neural world and the reference world side by side under an agent's actions for
// `frames` frames after the context; on_frame(frame, generated, truth, agent) sees each frame.
// Returns the mean time per chunk and the mean attention density (kept / dense block pairs).
struct LockstepResult {
  double ms_per_chunk = 0, density = 0;
};
LockstepResult lockstep(bool on_gpu, const EvalParams& p, const std::string& method, uint64_t seed, const std::string& agent_name, int64_t frames,
                const std::function<void(int64_t, const Frame&, const Frame&, const Agent&)>& on_frame) {
  NeuralWorldParams np;
  np.model_path = p.model_path;
  np.device = on_gpu ? "cuda" : "cpu";
  np.sample_steps = p.sample_steps;
  np.sample_shift = p.sample_shift;
  np.action_guidance = p.action_guidance;
  np.history_guidance = p.history_guidance;
  np.context_noise = p.context_noise;
  np.memory_slots = p.memory_slots;
  np.method = p.method_config(method);
  NeuralWorld world(np);
  world.reset(seed);
  const int F = world.chunk_frames(), S = world.width();
  WorldParams wp;
  wp.width = wp.height = S;
  ReferenceWorld truth(wp);
  truth.reset(seed);
  std::vector<Frame> skip;
  truth.step(std::vector<Action>(static_cast<size_t>(F - 1)), skip);  // the context: standing still, as NeuralWorld::reset
  auto agent = make_agent(agent_name, seed);
  double ms = 0, density = 0;
  int64_t chunks = 0;
  std::vector<Frame> gen, gt;
  for (int64_t done = 0; done < frames; done += F) {
    std::vector<Action> acts;
    gt.clear();
    for (int i = 0; i < F; ++i) {
      acts.push_back(agent->act(truth).clamped());
      std::vector<Frame> one;
      truth.step(std::span<const Action>(&acts.back(), 1), one);
      gt.push_back(one[0]);
    }
    world.step(acts, gen);
    const NeuralStats& ns = world.neural_stats();
    ms += ns.denoise_ms + ns.commit_ms + ns.decode_ms;
    density += ns.density;
    ++chunks;
    for (int i = 0; i < F; ++i) on_frame(done + i + 1, gen[i], gt[i], *agent);
  }
  const double n = static_cast<double>(std::max<int64_t>(1, chunks));
  return {ms / n, density / n};
}

// (4b) Memory recall: the revisit test's out-and-back run (same world, agent and length), but
// every chunk of the way out is the truth, encoded and committed as in teacher forcing, and only
// chunks that contain the way back are generated (committed as generated). The cache then holds
// true views, so a return scores by what the attention kept of them: a model that forgot (window)
// can only guess. The free revisit (4) also charges a method for having drawn a different world
// on the way out, which no memory can repair.
// Its baseline (with `baseline`; the truth alone, so the same for every method and computed once):
// each scored frame against the nearest (highest-PSNR) true view of the way out that has left the
// window (older than window + chunk frames): what a memory that copies the best old view would
// score, so how much recall the route allows at all.
struct RecallResult {
  double psnr = -1;  // -1: no return reached
  int64_t frames = 0;
  double nearest_left_view_psnr = -1;  // -1: no scored frame had a view that left the window
};
RecallResult memory_recall(const EvalParams& p, const std::string& method, at::Device dev, at::ScalarType dtype, uint64_t seed, bool baseline) {
  auto m = model::load_model(p.model_path, dev, dtype);
  const model::ModelConfig& c = m->config;
  const int F = c.chunk_frames, S = c.frame_size;
  const size_t fb = static_cast<size_t>(S) * S * 3;
  const double seconds = p.recall_seconds > 0 ? p.recall_seconds : p.revisit_seconds;
  const int64_t frames = static_cast<int64_t>(std::ceil(seconds * kGameFramesPerSecond));
  torch::NoGradGuard ng;
  WorldParams wp;
  wp.width = wp.height = S;
  ReferenceWorld truth(wp);
  truth.reset(seed);
  auto agent = make_agent(p.revisit_agent, seed);
  engine::Rollout roll(*m, p.method_config(method), dev, dtype, 0, p.memory_slots);
  roll.set_context_noise(p.context_noise, seed);
  roll.set_sample_shift(p.sample_shift);
  roll.set_action_guidance(p.action_guidance);
  roll.set_history_guidance(p.history_guidance);
  auto to_latents = [&](const std::vector<uint8_t>& rgb8) {
    const at::Tensor rgb = at::from_blob(const_cast<uint8_t*>(rgb8.data()), {F, S, S, 3}, at::kByte)
                               .permute({0, 3, 1, 2}).to(at::kFloat).div(127.5).sub(1.0).to(dev, dtype);
    return m->tokenizer->encode(rgb);
  };
  // The context, as NeuralWorld::reset and the revisit rollout: the spawn view standing still.
  std::vector<uint8_t> chunk(static_cast<size_t>(F) * fb);
  std::vector<Frame> context{truth.current_frame()}, still;
  truth.step(std::vector<Action>(static_cast<size_t>(F - 1)), still);
  context.insert(context.end(), still.begin(), still.end());
  for (int i = 0; i < F; ++i) std::copy(context[i].rgb.begin(), context[i].rgb.end(), chunk.begin() + static_cast<size_t>(i) * fb);
  roll.commit(to_latents(chunk), at::zeros({F, c.action_dim}));
  std::vector<std::pair<int64_t, std::vector<uint8_t>>> shown;  // true frames committed, with their frame numbers
  for (int i = 0; i < F && baseline; ++i) shown.emplace_back(i, context[i].rgb);  // empty without baseline
  const int64_t left_after = c.window_frames + F;  // frames older than this have left the window
  RecallResult r;
  double sum = 0, nearest_sum = 0;
  int64_t nearest_frames = 0;
  std::vector<uint8_t> returning(static_cast<size_t>(F));
  for (int64_t done = 0, k = 1; done < frames; done += F, ++k) {
    std::vector<float> a;
    bool any_return = false;
    for (int i = 0; i < F; ++i) {
      const Action act = agent->act(truth).clamped();
      returning[i] = agent->revisiting();
      any_return = any_return || returning[i];
      for (float v : act.to_array()) a.push_back(v);
      std::vector<Frame> one;
      truth.step(std::span<const Action>(&act, 1), one);
      std::copy(one[0].rgb.begin(), one[0].rgb.end(), chunk.begin() + static_cast<size_t>(i) * fb);
    }
    const at::Tensor acts = at::from_blob(a.data(), {F, c.action_dim}, at::kFloat).clone();
    if (!any_return) {
      roll.commit(to_latents(chunk), acts);
      for (int i = 0; i < F && baseline; ++i)
        shown.emplace_back(F + done + i, std::vector<uint8_t>(chunk.begin() + static_cast<ptrdiff_t>(i * fb), chunk.begin() + static_cast<ptrdiff_t>((i + 1) * fb)));
      continue;
    }
    const at::Tensor pred = roll.generate(engine::Rollout::chunk_noise(c, seed, k), acts, p.sample_steps ? p.sample_steps : c.sample_steps);
    const std::vector<uint8_t> gen = model::frames_to_rgb8(m->tokenizer->decode(pred));
    for (int i = 0; i < F; ++i)
      if (returning[i]) {
        const uint8_t* truth_frame = chunk.data() + static_cast<size_t>(i) * fb;
        sum += std::min(psnr(gen.data() + static_cast<size_t>(i) * fb, truth_frame, S, S), kPsnrCapDb);
        ++r.frames;
        const int64_t t = F + done + i;  // this frame's number (the context is 0..F-1)
        double best = -1;
        for (const auto& [frame, rgb] : shown)
          if (frame < t - left_after) best = std::max(best, std::min(psnr(rgb.data(), truth_frame, S, S), kPsnrCapDb));
        if (best >= 0) {
          nearest_sum += best;
          ++nearest_frames;
        }
      }
  }
  if (r.frames) r.psnr = sum / static_cast<double>(r.frames);
  if (nearest_frames) r.nearest_left_view_psnr = nearest_sum / static_cast<double>(nearest_frames);
  return r;
}

// Generated detail over true detail for one frame pair (0 when the truth is flat).
double detail_ratio(const Frame& gen, const Frame& truth) {
  const double t = frame_stats(truth.rgb.data(), nullptr, truth.width, truth.height).detail;
  return t > 0 ? frame_stats(gen.rgb.data(), nullptr, gen.width, gen.height).detail / t : 0.0;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity(), std_min = std::numeric_limits<double>::infinity();
  double motion = 0, detail = 0;
  int64_t n = 0;
  void add(const FrameStats& s) {
    lo = std::min(lo, s.mean);
    hi = std::max(hi, s.mean);
    std_min = std::min(std_min, s.stddev);
    motion += s.motion;
    detail += s.detail;
    ++n;
  }
};

}  // namespace

EvalReport run_eval(const EvalParams& p, const std::function<void(const std::string&)>& log) {
  p.validate();
  const bool cuda = torch::cuda::is_available();
  if (p.device == "cuda" && !cuda) throw std::invalid_argument("eval: --device cuda but libtorch sees no CUDA device");
  const bool on_gpu = p.device == "cuda" || (p.device == "auto" && cuda);
  const at::Device dev = on_gpu ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  const at::ScalarType dtype = on_gpu ? at::kBFloat16 : at::kFloat;
  EvalReport report;
  report.horizons_s = p.horizons_s;
  const model::ModelConfig config = model::read_model_info(p.model_path).config;
  report.revisit_agent = p.revisit_agent;
  report.seeds = p.seeds;
  report.drift_seconds = p.drift_seconds;
  report.revisit_seconds = p.revisit_seconds;
  report.recall_seconds = p.recall_seconds > 0 ? p.recall_seconds : p.revisit_seconds;
  report.memory_slots = p.memory_slots >= 0 ? p.memory_slots : config.memory_slots;
  report.attention = p.attention;
  report.sample_steps = p.sample_steps ? p.sample_steps : config.sample_steps;
  report.sample_shift = p.sample_shift;
  report.action_guidance = p.action_guidance;
  report.history_guidance = p.history_guidance;
  const double max_h = *std::max_element(p.horizons_s.begin(), p.horizons_s.end());
  for (const std::string& method : p.methods) {
    MethodResult r;
    r.method = method;
    const TeacherResult tf = teacher_forced(p, method, dev, dtype);
    r.teacher_psnr = tf.psnr;
    r.teacher_ssim = tf.ssim;
    r.action_accuracy = tf.action_accuracy;
    r.action_confusion = tf.confusion;
    r.teacher_copy_psnr = tf.copy_psnr;
    r.tokenizer_psnr = tf.tokenizer_psnr;
    r.teacher_detail = tf.detail;
    r.tokenizer_detail = tf.tokenizer_detail;
    // (2) + (3): one rollout per seed in lockstep with the reference world; drift on seed 0.
    r.horizon_psnr.assign(p.horizons_s.size(), 0.0);
    r.horizon_ssim.assign(p.horizons_s.size(), 0.0);
    r.horizon_detail.assign(p.horizons_s.size(), 0.0);
    r.horizon_psnr_last_second.assign(p.horizons_s.size(), 0.0);
    const int64_t second = static_cast<int64_t>(std::llround(kGameFramesPerSecond));
    Range gen_range, truth_range;
    double ms_total = 0;
    int64_t chunks_total = 0;
    for (int s = 0; s < p.seeds; ++s) {
      const double seconds = s == 0 ? std::max(max_h, p.drift_seconds) : max_h;
      const int64_t frames = static_cast<int64_t>(std::ceil(seconds * kGameFramesPerSecond));
      std::vector<uint8_t> prev_gen, prev_gt;
      const LockstepResult run = lockstep(on_gpu, p, method, kHeldOutSeedBase + 100 + static_cast<uint64_t>(s), "explorer", frames,
                           [&](int64_t frame, const Frame& gen, const Frame& gt, const Agent&) {
                             const int S = gen.width;
                             double frame_psnr = -1;  // computed once, for the frames a horizon uses
                             for (size_t h = 0; h < p.horizons_s.size(); ++h) {
                               const int64_t at = static_cast<int64_t>(std::llround(p.horizons_s[h] * kGameFramesPerSecond));
                               const int64_t span = std::min(second, at);
                               if (frame > at || frame <= at - span) continue;
                               if (frame_psnr < 0) frame_psnr = std::min(psnr(gen.rgb.data(), gt.rgb.data(), S, S), kPsnrCapDb);
                               r.horizon_psnr_last_second[h] += frame_psnr / static_cast<double>(span * p.seeds);
                               if (frame == at) {
                                 r.horizon_psnr[h] += frame_psnr / p.seeds;
                                 r.horizon_ssim[h] += ssim(gen.rgb.data(), gt.rgb.data(), S, S) / p.seeds;
                                 r.horizon_detail[h] += detail_ratio(gen, gt) / p.seeds;
                               }
                             }
                             if (s == 0 && std::find(p.strip_frames.begin(), p.strip_frames.end(), frame) != p.strip_frames.end()) {
                               r.strip_frames.push_back(frame);
                               r.strip_generated.push_back(gen);
                               r.strip_truth.push_back(gt);
                             }
                             if (s == 0) {
                               gen_range.add(frame_stats(gen.rgb.data(), prev_gen.empty() ? nullptr : prev_gen.data(), S, S));
                               truth_range.add(frame_stats(gt.rgb.data(), prev_gt.empty() ? nullptr : prev_gt.data(), S, S));
                               prev_gen = gen.rgb;
                               prev_gt = gt.rgb;
                             }
                           });
      ms_total += run.ms_per_chunk;
      if (s == 0) r.drift_density = run.density;
      ++chunks_total;
    }
    // (4) Revisit: PSNR on frames where an out-and-back agent returns over places it saw before
    // (memory should beat a plain window there).
    double revisit_sum = 0;
    r.attention_density = lockstep(on_gpu, p, method, kRevisitSeed, p.revisit_agent, static_cast<int64_t>(std::ceil(p.revisit_seconds * kGameFramesPerSecond)),
             [&](int64_t, const Frame& gen, const Frame& gt, const Agent& agent) {
               if (!agent.revisiting()) return;
               revisit_sum += std::min(psnr(gen.rgb.data(), gt.rgb.data(), gen.width, gen.height), kPsnrCapDb);
               ++r.revisit_frames;
             }).density;
    r.revisit_psnr = r.revisit_frames ? revisit_sum / static_cast<double>(r.revisit_frames) : -1.0;
    const bool first = report.methods.empty();
    const RecallResult recall = memory_recall(p, method, dev, dtype, kRevisitSeed, /*baseline=*/first);
    r.recall_psnr = recall.psnr;
    r.recall_frames = recall.frames;
    r.recall_nearest_left_view_psnr = first ? recall.nearest_left_view_psnr : report.methods[0].recall_nearest_left_view_psnr;
    r.drift_mean_lo = gen_range.lo;
    r.drift_mean_hi = gen_range.hi;
    r.drift_std_min = gen_range.std_min;
    r.drift_motion_mean = gen_range.motion / std::max<int64_t>(1, gen_range.n);
    r.truth_mean_lo = truth_range.lo;
    r.truth_mean_hi = truth_range.hi;
    r.truth_std_min = truth_range.std_min;
    r.truth_motion_mean = truth_range.motion / std::max<int64_t>(1, truth_range.n);
    r.drift_detail = truth_range.detail > 0 ? gen_range.detail / truth_range.detail : 0.0;
    // Drift passes when the luma mean stays in the truth's range (with a margin), frames keep
    // their contrast (no collapse to grey) and keep moving (no frozen frame).
    const double margin = kDriftMargin * (truth_range.hi - truth_range.lo);
    r.drift_ok = gen_range.lo >= truth_range.lo - margin && gen_range.hi <= truth_range.hi + margin &&
                 gen_range.std_min >= 0.5 * truth_range.std_min && r.drift_motion_mean >= 0.2 * r.truth_motion_mean;
    r.ms_per_chunk = ms_total / std::max<int64_t>(1, chunks_total);  // mean of the per-seed means
    if (log) log("evaluated " + method);
    report.methods.push_back(r);
  }
  return report;
}

std::string EvalReport::json() const {
  nlohmann::json j;
  j["horizons_s"] = horizons_s;
  j["revisit_agent"] = revisit_agent;
  j["seeds"] = seeds;
  j["drift_seconds"] = drift_seconds;
  j["revisit_seconds"] = revisit_seconds;
  j["recall_seconds"] = recall_seconds;
  j["sampler"] = {{"steps", sample_steps}, {"shift", sample_shift}, {"action_guidance", action_guidance}, {"history_guidance", history_guidance}};
  const attn::SparseForcingParams& sf = attention.sparse_forcing;
  j["sparse_forcing"] = {{"top_k", sf.top_k},
                         {"memory_slots", memory_slots},
                         {"memory_top_k", sf.memory_top_k},
                         {"neighbour_frames", sf.neighbour_frames},
                         {"use_memory", sf.use_memory},
                         {"merge_threshold", sf.merge_threshold},
                         {"max_count", sf.max_count},
                         {"salience_decay", sf.salience_decay},
                         {"memory_time_distance", sf.memory_time_distance}};
  for (const auto& m : methods)
    j["methods"].push_back({{"method", m.method},
                            {"teacher_forced", {{"psnr", m.teacher_psnr}, {"ssim", m.teacher_ssim}, {"copy_previous_psnr", m.teacher_copy_psnr},
                                                {"tokenizer_psnr", m.tokenizer_psnr}, {"detail_ratio", m.teacher_detail},
                                                {"tokenizer_detail_ratio", m.tokenizer_detail}}},
                            {"action_accuracy", m.action_accuracy},
                            {"action_confusion", {{"classes", action_class_names()}, {"taken_by_recovered", m.action_confusion}}},
                            {"revisit", {{"psnr", m.revisit_psnr}, {"frames", m.revisit_frames}}},
                            {"recall", {{"psnr", m.recall_psnr}, {"frames", m.recall_frames}, {"nearest_left_view_psnr", m.recall_nearest_left_view_psnr}}},
                            {"rollout_psnr", m.horizon_psnr},
                            {"rollout_psnr_last_second", m.horizon_psnr_last_second},
                            {"rollout_ssim", m.horizon_ssim},
                            {"rollout_detail_ratio", m.horizon_detail},
                            {"drift",
                             {{"ok", m.drift_ok},
                              {"mean_range", {m.drift_mean_lo, m.drift_mean_hi}},
                              {"truth_mean_range", {m.truth_mean_lo, m.truth_mean_hi}},
                              {"std_min", m.drift_std_min},
                              {"truth_std_min", m.truth_std_min},
                              {"motion", m.drift_motion_mean},
                              {"detail_ratio", m.drift_detail},
                              {"truth_motion", m.truth_motion_mean}}},
                            {"ms_per_chunk", m.ms_per_chunk},
                            {"attention_density", m.attention_density},
                            {"drift_attention_density", m.drift_density}});
  return j.dump(2);
}

}  // namespace sw::eval
