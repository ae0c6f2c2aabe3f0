// `sparseworld eval`: the neural world against the reference world on held-out worlds, per
// attention method: (1) teacher-forced next chunk (ground-truth context committed, the prediction
// is not), (2) an autoregressive rollout in lockstep with the reference world under the same
// agent actions, scored at fixed horizons, (3) drift statistics over that rollout.
// Test: tests/eval/test_eval.cpp.
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
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
}  // namespace

void EvalParams::validate() const {
  if (model_path.empty()) throw std::invalid_argument("eval: --model is required");
  if (methods.empty()) throw std::invalid_argument("eval: no methods");
  for (const auto& m : methods) attn::method_from_name(m);  // throws naming the bad one
  if (seeds < 1) throw std::invalid_argument("eval: seeds must be >= 1");
  if (horizons_s.empty()) throw std::invalid_argument("eval: no horizons");
  for (double h : horizons_s)
    if (!(h > 0)) throw std::invalid_argument("eval: horizons must be > 0 seconds");
  if (!(drift_seconds > 0)) throw std::invalid_argument("eval: drift_seconds must be > 0");
  if (device != "auto" && device != "cpu" && device != "cuda") throw std::invalid_argument("eval: device '" + device + "' is not auto, cpu or cuda");
}

namespace {

std::vector<uint8_t> to_rgb8(const at::Tensor& rgb) {  // [N, 3, S, S] float in [-1, 1]
  const at::Tensor u8 = ((rgb.to(at::kFloat) + 1.0) * 127.5).round().clamp(0, 255).to(at::kByte).permute({0, 2, 3, 1}).contiguous().cpu();
  return std::vector<uint8_t>(u8.data_ptr<uint8_t>(), u8.data_ptr<uint8_t>() + u8.numel());
}

// (1) Teacher forcing: mean PSNR/SSIM of each chunk predicted from the true chunks before it.
std::pair<double, double> teacher_forced(const EvalParams& p, const std::string& method, at::Device dev, at::ScalarType dtype) {
  auto m = model::load_model(p.model_path, dev, dtype);
  const model::ModelConfig& c = m->config;
  const int F = c.chunk_frames, S = c.frame_size;
  attn::MethodConfig mc;
  mc.method = attn::method_from_name(method);
  WorldParams wp;
  wp.width = wp.height = S;
  double psum = 0, ssum = 0;
  int n = 0;
  torch::NoGradGuard ng;
  for (int s = 0; s < p.seeds; ++s) {
    const Episode ep = record_episode({kHeldOutSeedBase + static_cast<uint64_t>(s), "explorer", static_cast<uint64_t>(s), F * kTeacherChunks, 40}, wp);
    const at::Tensor rgb = at::from_blob(const_cast<uint8_t*>(ep.frames.data()), {F * kTeacherChunks, S, S, 3}, at::kByte)
                               .permute({0, 3, 1, 2}).to(at::kFloat).div(127.5).sub(1.0).to(dev, dtype);
    std::vector<float> a;
    for (const Action& x : ep.actions)
      for (float v : x.to_array()) a.push_back(v);
    const at::Tensor acts = at::from_blob(a.data(), {F * kTeacherChunks, 5}, at::kFloat).clone();
    const at::Tensor z = m->tokenizer->encode(rgb);
    engine::Rollout roll(*m, mc, dev, dtype, 0);
    for (int k = 0; k < kTeacherChunks; ++k) {
      if (k > 0) {
        const at::Tensor pred = roll.generate(engine::Rollout::chunk_noise(c, kHeldOutSeedBase + s, k), acts.narrow(0, k * F, F),
                                              p.sample_steps ? p.sample_steps : c.sample_steps, {}, false);
        const std::vector<uint8_t> gen = to_rgb8(m->tokenizer->decode(pred));
        for (int f = 0; f < F; ++f) {
          const uint8_t* g = gen.data() + static_cast<size_t>(f) * S * S * 3;
          const uint8_t* t = ep.frame(static_cast<size_t>(k * F + f));
          psum += std::min(psnr(g, t, S, S), 99.0);
          ssum += ssim(g, t, S, S);
          ++n;
        }
      }
      roll.commit(z.narrow(0, k * F, F), acts.narrow(0, k * F, F));
    }
  }
  return {psum / n, ssum / n};
}

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity(), std_min = std::numeric_limits<double>::infinity();
  double motion = 0;
  int64_t n = 0;
  void add(const FrameStats& s) {
    lo = std::min(lo, s.mean);
    hi = std::max(hi, s.mean);
    std_min = std::min(std_min, s.stddev);
    motion += s.motion;
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
  const double max_h = *std::max_element(p.horizons_s.begin(), p.horizons_s.end());
  for (const std::string& method : p.methods) {
    MethodResult r;
    r.method = method;
    std::tie(r.teacher_psnr, r.teacher_ssim) = teacher_forced(p, method, dev, dtype);
    // (2) + (3): one rollout per seed in lockstep with the reference world; drift on seed 0.
    r.horizon_psnr.assign(p.horizons_s.size(), 0.0);
    r.horizon_ssim.assign(p.horizons_s.size(), 0.0);
    Range gen_range, truth_range;
    double ms_total = 0;
    int64_t chunks_total = 0;
    for (int s = 0; s < p.seeds; ++s) {
      NeuralWorldParams np;
      np.model_path = p.model_path;
      np.device = on_gpu ? "cuda" : "cpu";
      np.sample_steps = p.sample_steps;
      np.method.method = attn::method_from_name(method);
      NeuralWorld world(np);
      const uint64_t seed = kHeldOutSeedBase + 100 + static_cast<uint64_t>(s);
      world.reset(seed);
      const int F = world.chunk_frames(), S = world.width();
      WorldParams wp;
      wp.width = wp.height = S;
      ReferenceWorld truth(wp);
      truth.reset(seed);
      std::vector<Frame> skip;
      truth.step(std::vector<Action>(static_cast<size_t>(F - 1)), skip);  // the context: standing still, as NeuralWorld::reset
      auto agent = make_agent("explorer", seed);
      const double seconds = s == 0 ? std::max(max_h, p.drift_seconds) : max_h;
      const int64_t frames = static_cast<int64_t>(std::ceil(seconds * kGameFramesPerSecond));
      std::vector<Frame> gen, gt;
      std::vector<uint8_t> prev_gen, prev_gt;
      for (int64_t t = F; t < frames + F; t += F) {
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
        ms_total += ns.denoise_ms + ns.commit_ms + ns.decode_ms;
        ++chunks_total;
        for (int i = 0; i < F; ++i) {
          const int64_t frame = t + i - F + 1;  // game frames since the context
          for (size_t h = 0; h < p.horizons_s.size(); ++h)
            if (frame == static_cast<int64_t>(std::llround(p.horizons_s[h] * kGameFramesPerSecond))) {
              r.horizon_psnr[h] += std::min(psnr(gen[i].rgb.data(), gt[i].rgb.data(), S, S), 99.0) / p.seeds;
              r.horizon_ssim[h] += ssim(gen[i].rgb.data(), gt[i].rgb.data(), S, S) / p.seeds;
            }
          if (s == 0) {
            gen_range.add(frame_stats(gen[i].rgb.data(), prev_gen.empty() ? nullptr : prev_gen.data(), S, S));
            truth_range.add(frame_stats(gt[i].rgb.data(), prev_gt.empty() ? nullptr : prev_gt.data(), S, S));
            prev_gen = gen[i].rgb;
            prev_gt = gt[i].rgb;
          }
        }
      }
    }
    r.drift_mean_lo = gen_range.lo;
    r.drift_mean_hi = gen_range.hi;
    r.drift_std_min = gen_range.std_min;
    r.drift_motion_mean = gen_range.motion / std::max<int64_t>(1, gen_range.n);
    r.truth_mean_lo = truth_range.lo;
    r.truth_mean_hi = truth_range.hi;
    r.truth_std_min = truth_range.std_min;
    r.truth_motion_mean = truth_range.motion / std::max<int64_t>(1, truth_range.n);
    // Drift passes when the luma mean stays in the truth's range (with a margin), frames keep
    // their contrast (no collapse to grey) and keep moving (no frozen frame).
    const double margin = kDriftMargin * (truth_range.hi - truth_range.lo);
    r.drift_ok = gen_range.lo >= truth_range.lo - margin && gen_range.hi <= truth_range.hi + margin &&
                 gen_range.std_min >= 0.5 * truth_range.std_min && r.drift_motion_mean >= 0.2 * r.truth_motion_mean;
    r.ms_per_chunk = ms_total / std::max<int64_t>(1, chunks_total);
    if (log) log("evaluated " + method);
    report.methods.push_back(r);
  }
  return report;
}

std::string EvalReport::json() const {
  nlohmann::json j;
  j["horizons_s"] = horizons_s;
  for (const auto& m : methods)
    j["methods"].push_back({{"method", m.method},
                            {"teacher_forced", {{"psnr", m.teacher_psnr}, {"ssim", m.teacher_ssim}}},
                            {"rollout_psnr", m.horizon_psnr},
                            {"rollout_ssim", m.horizon_ssim},
                            {"drift",
                             {{"ok", m.drift_ok},
                              {"mean_range", {m.drift_mean_lo, m.drift_mean_hi}},
                              {"truth_mean_range", {m.truth_mean_lo, m.truth_mean_hi}},
                              {"std_min", m.drift_std_min},
                              {"truth_std_min", m.truth_std_min},
                              {"motion", m.drift_motion_mean},
                              {"truth_motion", m.truth_motion_mean}}},
                            {"ms_per_chunk", m.ms_per_chunk}});
  return j.dump(2);
}

}  // namespace sw::eval
