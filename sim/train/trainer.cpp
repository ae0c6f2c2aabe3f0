// The trainer (see sparseworld/sim/train.h): stages ae -> df -> sf over clips from ClipSource.
// Rectified flow as in the rollout engine: x_t = (1 - t) x0 + t * noise, target v = noise - x0.
// Noise levels are drawn per chunk (frames of a chunk are denoised jointly at inference);
// attention is block-causal over chunks with the training mask of `attention`.
// Test: tests/train/test_train.cpp.
#include "sparseworld/sim/train.h"

#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "../model/model_io.h"
#include "../model/safetensors.h"
#include "sparseworld/sim/eval.h"
#include "adamw.h"
#include "noise_levels.h"
#include "train_attention.h"
#include "clip_source.h"
#include "torch_compat.h"

namespace sw::train {

namespace fs = std::filesystem;
using model::ModelConfig;
using model::WorldModel;

namespace {
// "a,b,,c" -> {a, b, c}: empty names (a stray comma) are skipped.
std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  for (std::string a; std::getline(ss, a, ',');)
    if (!a.empty()) out.push_back(a);
  return out;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}
}  // namespace

void TrainParams::validate() const {
  auto bad = [](const std::string& f, const std::string& why) { throw std::invalid_argument("train: " + f + " " + why); };
  std::stringstream ss(stages);
  std::string st;
  int n = 0;
  while (std::getline(ss, st, ',')) {
    if (st != "ae" && st != "dec" && st != "df" && st != "sf") bad("stages", "'" + st + "' is not one of ae, dec, df, sf");
    ++n;
  }
  if (n == 0) bad("stages", "is empty");
  if (batch < 1) bad("batch", "must be >= 1");
  if (clip_frames < 2) bad("clip_frames", "must be >= 2");
  if (ae_steps < 0 || dec_steps < 0 || df_steps < 0 || sf_steps < 0) bad("steps", "must be >= 0");
  if (!(lr > 0) || !(ae_lr > 0)) bad("lr", "must be > 0");
  if (!(ema_decay >= 0 && ema_decay < 1)) bad("ema_decay", "must be in [0, 1)");
  if (!(grad_clip > 0)) bad("grad_clip", "must be > 0");
  if (attention != "dense" && attention != "window" && attention != "sparse-forcing")
    bad("attention", "'" + attention + "' is not one of dense, window, sparse-forcing");
  // A list of only commas would silently mean "every kind": say so instead.
  if (!agents.empty() && split_list(agents).empty()) bad("agents", "'" + agents + "' names no agent kind (" + join(agent_names()) + ")");
  for (const std::string& a : split_list(agents))
    if (std::find(agent_names().begin(), agent_names().end(), a) == agent_names().end())
      bad("agents", "'" + a + "' is not an agent kind (" + join(agent_names()) + ")");
  if (train_top_k < 1) bad("train_top_k", "must be >= 1");
  if (train_memory_blocks < 0) bad("train_memory_blocks", "must be >= 0");
  if (sf_context_chunks < 1 || sf_rollout_chunks < 0 || sf_sample_steps < 1) bad("sf_*", "need context >= 1, rollout >= 0, steps >= 1");
  if (!(df_context_share >= 0 && df_context_share < 1)) bad("df_context_share", "must be in [0, 1), got " + std::to_string(df_context_share));
  if (!(df_clean_prefix >= 0 && df_clean_prefix <= 1)) bad("df_clean_prefix", "must be in [0, 1], got " + std::to_string(df_clean_prefix));
  if (!(df_self_context >= 0 && df_self_context <= 1)) bad("df_self_context", "must be in [0, 1], got " + std::to_string(df_self_context));
  if (!(df_self_min_level > 0 && df_self_min_level <= df_self_max_level && df_self_max_level <= 1))
    bad("df_self_min_level/df_self_max_level", "need 0 < min <= max <= 1, got " + std::to_string(df_self_min_level) + " and " + std::to_string(df_self_max_level));
  if (df_self_steps < 1) bad("df_self_steps", "must be >= 1, got " + std::to_string(df_self_steps));
  // Self-made context replaces context chunks: with none, it would cost forward passes for nothing.
  if (df_self_context > 0 && df_context_share == 0 && df_clean_prefix == 0)
    bad("df_self_context", "needs context chunks to remake (df_context_share > 0 or df_clean_prefix > 0)");
  if (!(context_noise >= 0 && context_noise <= 0.5)) bad("context_noise", "must be in [0, 0.5], got " + std::to_string(context_noise));
  if (anchor_frame < -1 || anchor_frame > 1) bad("anchor_frame", "must be -1, 0 or 1, got " + std::to_string(anchor_frame));
  if (device != "auto" && device != "cpu" && device != "cuda") bad("device", "'" + device + "' is not one of auto, cpu, cuda");
  if (init_partial && init.empty()) bad("--init-partial", "needs --init FILE (the model whose matching tensors it copies)");
  if (checkpoint_every < 1 || log_every < 1) bad("checkpoint_every/log_every", "must be >= 1");
}

namespace {

struct Batch {
  at::Tensor frames;   // [B*T, 3, S, S] float in [-1, 1], on the device
  at::Tensor actions;  // [B*T, 5] float
};

Batch next_batch(ClipSource& src, int batch, int frames, at::Device dev) {
  std::vector<at::Tensor> fr, ac;
  for (int b = 0; b < batch; ++b) {
    Episode ep = src.pop();
    const int64_t s = ep.width;
    fr.push_back(at::from_blob(ep.frames.data(), {frames, s, s, 3}, at::kByte).clone());
    std::vector<float> a;
    for (int t = 0; t < frames; ++t)
      for (float x : ep.actions[static_cast<size_t>(t)].to_array()) a.push_back(x);
    ac.push_back(at::from_blob(a.data(), {frames, 5}, at::kFloat).clone());
  }
  Batch out;
  out.frames = at::cat(fr).to(dev).permute({0, 3, 1, 2}).to(at::kFloat).div(127.5).sub(1.0);
  out.actions = at::cat(ac).to(dev);
  return out;
}

double lr_at(int64_t step, int64_t total, int warmup, double peak) {
  if (step < warmup) return peak * static_cast<double>(step + 1) / warmup;
  const double p = static_cast<double>(step - warmup) / std::max<int64_t>(1, total - warmup);
  return peak * (0.1 + 0.9 * 0.5 * (1.0 + std::cos(M_PI * std::min(1.0, p))));  // cosine to 10%
}

// Per-phase step timing for --profile: synchronises the device at each boundary so the host
// clock measures the phase's GPU work too (slows training; off by default).
class PhaseTimer {
 public:
  PhaseTimer(bool on, bool cuda) : on_(on), cuda_(cuda) {}
  void start() {
    if (!on_) return;
    sync();
    last_ = std::chrono::steady_clock::now();
  }
  void mark(const char* phase) {
    if (!on_) return;
    sync();
    const auto now = std::chrono::steady_clock::now();
    ms_[phase] += std::chrono::duration<double, std::milli>(now - last_).count();
    last_ = now;
  }
  std::string report(int steps) {
    std::string out;
    for (const char* p : {"data", "encode", "rollout", "self-context", "forward", "backward", "optimizer"})
      if (ms_.count(p)) out += fmt_phase(p, ms_[p] / std::max(1, steps));
    ms_.clear();
    return out;
  }

 private:
  static std::string fmt_phase(const char* p, double ms) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s %.1f ms  ", p, ms);
    return buf;
  }
  void sync() const {
    if (cuda_) torch::cuda::synchronize();
  }
  bool on_, cuda_;
  std::map<std::string, double> ms_;
  std::chrono::steady_clock::time_point last_;
};

class Trainer {
 public:
  Trainer(const TrainParams& p, const std::function<void(const Progress&)>& cb, const std::function<void(const std::string&)>& note)
      : p_(p), cb_(cb), note_(note) {
    p_.validate();
    const bool cuda = torch::cuda::is_available();
    if (p_.device == "cuda" && !cuda) throw std::invalid_argument("train: --device cuda but libtorch sees no CUDA device");
    if (p_.device == "cuda" || (p_.device == "auto" && cuda)) dev_ = at::Device(at::kCUDA, 0);
    // On CUDA the host only launches kernels and copies clips; torch's CPU thread pool would spin
    // against the clip producers that have every other core.
    if (dev_.is_cuda()) at::set_num_threads(1);
    fs::create_directories(p_.out_dir);
    ckpt_ = (fs::path(p_.out_dir) / "checkpoint.safetensors").string();
    csv_ = (fs::path(p_.out_dir) / "loss.csv").string();
    tokenizer_csv_ = (fs::path(p_.out_dir) / "tokenizer.csv").string();
    start_ = std::chrono::steady_clock::now();
    load_or_create();
  }

  TrainResult run() {
    std::stringstream ss(p_.stages);
    std::string st;
    bool stopped = false;
    while (!stopped && std::getline(ss, st, ',')) {
      if (done_.count(st)) continue;
      const int64_t total = st == "ae" ? p_.ae_steps : st == "dec" ? p_.dec_steps : st == "df" ? p_.df_steps : p_.sf_steps;
      stopped = !run_stage(st, total);
      if (!stopped) {
        done_.insert(st);
        step_ = 0;
        save_checkpoint(0);
        if (st == "ae" || st == "dec") measure_tokenizer(st);
      }
    }
    TrainResult r;
    r.model_path = (fs::path(p_.out_dir) / "model.safetensors").string();
    r.tokenizer_psnr_db = tokenizer_psnr_db_;
    r.tokenizer_psnr_frames = tokenizer_psnr_frames_;
    r.tokenizer_psnr_stage = tokenizer_psnr_stage_;
    r.tokenizer_csv = tokenizer_csv_;
    export_model(r.model_path);
    r.loss_csv = csv_;
    r.finished = !stopped;
    return r;
  }

 private:
  void load_or_create() {
    if (fs::exists(ckpt_)) {
      model::TensorFile tf = model::read_safetensors(ckpt_);
      const ModelConfig c = model::config_from_json(tf.metadata.at("sparseworld_config"));
      model_ = std::make_unique<WorldModel>(c);
      std::map<std::string, at::Tensor> m;
      for (auto& [k, t] : tf.tensors)
        if (k.rfind("model.", 0) == 0) m[k.substr(6)] = t;
        else if (k.rfind("ema.", 0) == 0) ema_[k.substr(4)] = t.to(dev_);
      model_->load_state_dict(m, ckpt_);
      stage_ = tf.metadata.at("stage");
      step_ = std::stoll(tf.metadata.at("step"));
      for (const std::string& s : split_list(tf.metadata.at("done"))) done_.insert(s);
      model_->to(dev_, at::kFloat);
      resumed_ = true;
    } else if (!p_.init.empty() && p_.init_partial) {
      // A model of the requested config, with whatever the file has of the same name and shape
      // (e.g. the transformer blocks of a model whose tokenizer had other latent channels).
      torch::manual_seed(p_.seed);
      ModelConfig c = model::named_config(p_.config);
      if (p_.anchor_frame >= 0) c.anchor_frame = p_.anchor_frame;
      model_ = std::make_unique<WorldModel>(c);
      const std::vector<std::string> fresh = model_->load_matching(model::load_model(p_.init, at::kCPU, at::kFloat)->state_dict());
      const size_t total = model_->state_dict().size();
      note("init: copied " + std::to_string(total - fresh.size()) + " of " + std::to_string(total) + " tensors from " + p_.init +
           " (name and shape match); " + std::to_string(fresh.size()) + " kept their fresh init" +
           (fresh.empty() ? std::string() : ": " + summarize_names(fresh, *model_)));
      model_->to(dev_, at::kFloat);
    } else if (!p_.init.empty()) {
      // Weights from an exported model (bf16 -> fp32 master weights); the optimizer starts fresh.
      model_ = model::load_model(p_.init, at::kCPU, at::kFloat);
      if (p_.anchor_frame >= 0 && p_.anchor_frame != model_->config.anchor_frame) {
        // Same weights by name; a new anchor_embed keeps its zero init, so the model starts as it was.
        ModelConfig c = model_->config;
        c.anchor_frame = p_.anchor_frame;
        auto converted = std::make_unique<WorldModel>(c);
        const auto from = model_->state_dict();
        torch::NoGradGuard ng;
        for (auto& [name, t] : converted->state_dict())
          if (auto it = from.find(name); it != from.end()) t.copy_(it->second);
        model_ = std::move(converted);
      }
      model_->to(dev_, at::kFloat);
    } else {
      torch::manual_seed(p_.seed);
      ModelConfig c = model::named_config(p_.config);
      if (p_.anchor_frame >= 0) c.anchor_frame = p_.anchor_frame;
      model_ = std::make_unique<WorldModel>(c);
      model_->to(dev_, at::kFloat);
    }
    const ModelConfig& c = model_->config;
    if (p_.clip_frames % c.chunk_frames) throw std::invalid_argument("train: clip_frames must be a multiple of chunk_frames " + std::to_string(c.chunk_frames));
    const int sf_frames = (p_.sf_context_chunks + p_.sf_rollout_chunks + 1) * c.chunk_frames;
    if (p_.stages.find("sf") != std::string::npos && sf_frames > p_.clip_frames)
      throw std::invalid_argument("train: clip_frames " + std::to_string(p_.clip_frames) + " is too short for self-forcing, which needs " +
                                  std::to_string(sf_frames) + " (context + rollout + 1 chunks of " + std::to_string(c.chunk_frames) + ")");
    ClipSourceParams cp;
    cp.frames = p_.clip_frames;
    cp.agents = split_list(p_.agents);
    cp.size = c.frame_size;
    cp.threads = p_.data_threads > 0 ? p_.data_threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1);
    cp.seed = p_.seed * 1000003ULL + static_cast<uint64_t>(step_) + done_.size() * 7919ULL;  // fresh clips after a resume
    cp.capacity = static_cast<size_t>(std::max(16, p_.batch * 4));
    held_out_seed0_ = cp.world_seed_range;
    source_ = std::make_unique<ClipSource>(cp);
  }

  void note(const std::string& line) const {
    if (note_) note_(line);
  }

  // Names, shortened: a group (first two name parts, e.g. tokenizer.encoder) whose tensors are
  // all in `names` prints as "group.* (count)".
  static std::string summarize_names(const std::vector<std::string>& names, const WorldModel& m) {
    auto group = [](const std::string& n) {
      const size_t dot = n.find('.');
      return dot == std::string::npos ? n : n.substr(0, n.find('.', dot + 1));
    };
    std::map<std::string, int> in_model;
    for (const auto& [n, t] : m.state_dict()) ++in_model[group(n)];
    std::map<std::string, int> listed;
    for (const auto& n : names) ++listed[group(n)];
    std::string out;
    std::set<std::string> shown;
    for (const auto& n : names) {
      const std::string g = group(n);
      std::string item = n;
      if (listed[g] > 1 && listed[g] == in_model[g]) {
        if (!shown.insert(g).second) continue;
        item = g + ".* (" + std::to_string(listed[g]) + ")";
      }
      out += (out.empty() ? "" : ", ") + item;
    }
    return out;
  }

  // Held-out frames for the tokenizer check: clips from worlds the training clips never draw
  // (seeds from ClipSourceParams::world_seed_range up), one agent of each kind in turn, after a
  // short walk away from the spawn view. Rendered once; every measurement scores the same frames.
  const std::vector<uint8_t>& held_out_frames() {
    if (!held_out_.empty()) return held_out_;
    const int S = model_->config.frame_size;
    const size_t fb = static_cast<size_t>(S) * S * 3;
    held_out_.resize(static_cast<size_t>(kHeldOutClips) * kHeldOutClipFrames * fb);
    WorldParams wp;
    wp.width = wp.height = S;
    ReferenceWorld world(wp);
    for (int i = 0; i < kHeldOutClips; ++i) {
      const uint64_t seed = held_out_seed0_ + static_cast<uint64_t>(i);
      world.reset(seed);
      auto agent = make_agent(agent_names()[static_cast<size_t>(i) % agent_names().size()], seed);
      for (int t = 0; t < kHeldOutWarmup; ++t) world.apply_action(agent->act(world));
      for (int t = 0; t < kHeldOutClipFrames; ++t) {
        world.apply_action(agent->act(world).clamped());
        world.render(held_out_.data() + (static_cast<size_t>(i) * kHeldOutClipFrames + t) * fb, S, S);
      }
    }
    return held_out_;
  }

  // The tokenizer's reconstruction PSNR on the held-out frames, as eval scores its tokenizer
  // baseline (decode(encode(frame)) rounded to RGB8, per-frame PSNR averaged), in fp32.
  void measure_tokenizer(const std::string& stage) {
    const std::vector<uint8_t>& frames = held_out_frames();
    const int S = model_->config.frame_size;
    const size_t fb = static_cast<size_t>(S) * S * 3;
    torch::NoGradGuard ng;
    double sum = 0;
    for (int i = 0; i < kHeldOutClips; ++i) {  // a clip at a time bounds the full-resolution activations
      const uint8_t* clip = frames.data() + static_cast<size_t>(i) * kHeldOutClipFrames * fb;
      const at::Tensor rgb = at::from_blob(const_cast<uint8_t*>(clip), {kHeldOutClipFrames, S, S, 3}, at::kByte)
                                 .to(dev_)
                                 .permute({0, 3, 1, 2})
                                 .to(at::kFloat)
                                 .div(127.5)
                                 .sub(1.0);
      const std::vector<uint8_t> rec = model::frames_to_rgb8(model_->tokenizer->decode(model_->tokenizer->encode(rgb)));
      for (int t = 0; t < kHeldOutClipFrames; ++t)
        sum += std::min(eval::psnr(rec.data() + static_cast<size_t>(t) * fb, clip + static_cast<size_t>(t) * fb, S, S), eval::kPsnrCapDb);
    }
    tokenizer_psnr_frames_ = kHeldOutClips * kHeldOutClipFrames;
    tokenizer_psnr_db_ = sum / tokenizer_psnr_frames_;
    tokenizer_psnr_stage_ = stage;
    const bool fresh = !fs::exists(tokenizer_csv_);
    std::ofstream f(tokenizer_csv_, std::ios::app);
    if (fresh) f << "stage,psnr_db,frames,elapsed_s\n";
    f << stage << ',' << tokenizer_psnr_db_ << ',' << tokenizer_psnr_frames_ << ','
      << std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count() << '\n';
    if (!f) throw std::runtime_error("train: cannot append to " + tokenizer_csv_);
    char db[32];
    std::snprintf(db, sizeof db, "%.2f", tokenizer_psnr_db_);
    note("tokenizer after stage " + stage + ": reconstruction PSNR " + db + " dB on " + std::to_string(tokenizer_psnr_frames_) + " held-out frames");
  }

  bool time_up() const {
    return p_.time_limit_s > 0 &&
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count() > p_.time_limit_s;
  }

  // Runs one stage from step_ to total; false when stopped by the time limit (checkpointed).
  bool run_stage(const std::string& st, int64_t total) {
    const ModelConfig& c = model_->config;
    std::vector<std::pair<std::string, at::Tensor>> params;
    if (st == "ae") {
      for (const auto& p : model_->tokenizer->named_parameters()) params.emplace_back(p.key(), p.value());
    } else if (st == "dec") {
      for (const auto& p : model_->tokenizer->decoder->named_parameters()) params.emplace_back("decoder." + p.key(), p.value());
    } else {
      for (const auto& p : model_->dit->named_parameters()) params.emplace_back(p.key(), p.value());
      if (ema_.empty())
        for (const auto& p : model_->dit->named_parameters()) ema_[p.key()] = p.value().detach().clone();
      ema_list_.clear();
      param_list_.clear();
      for (const auto& p : model_->dit->named_parameters()) {
        ema_list_.push_back(ema_.at(p.key()));
        param_list_.push_back(p.value());
      }
    }
    const double peak = st == "ae" ? p_.ae_lr : st == "dec" ? p_.ae_lr * 0.3 : (st == "sf" ? p_.lr * 0.25 : p_.lr);
    AdamWParams ap;
    ap.weight_decay = p_.weight_decay;
    AdamW opt(params, ap);
    const std::string opt_path = (fs::path(p_.out_dir) / ("optimizer_" + st + ".safetensors")).string();
    if (resumed_ && stage_ == st && fs::exists(opt_path)) opt.load(opt_path);
    stage_ = st;
    TrainAttention attn{c, p_.attention, p_.train_top_k, p_.train_memory_blocks};
    int loss_n = 0;
    int64_t frames_done = 0;
    timer_ = std::make_unique<PhaseTimer>(p_.profile, dev_.is_cuda());
    auto t_log = std::chrono::steady_clock::now();
    for (; step_ < total; ++step_) {
      timer_->start();
      opt.zero_grad();
      at::Tensor loss;
      if (st == "ae") loss = ae_loss();
      else if (st == "dec") loss = dec_loss();
      else if (st == "df") loss = df_loss(attn);
      else loss = sf_loss(attn);
      timer_->mark("forward");
      loss.backward();
      timer_->mark("backward");
      opt.clip_grad_norm(p_.grad_clip);
      opt.step(lr_at(step_, total, p_.warmup_steps, peak));
      if (st == "df" || st == "sf") update_ema();
      timer_->mark("optimizer");
      loss_acc_ = loss_acc_.defined() ? loss_acc_ + loss.detach() : loss.detach();
      ++loss_n;
      frames_done += static_cast<int64_t>(p_.batch) * p_.clip_frames;
      if ((step_ + 1) % p_.log_every == 0 || step_ + 1 == total) {
        const double mean = loss_acc_.item<double>() / loss_n;  // one host sync per log interval
        loss_acc_ = at::Tensor();
        const auto now = std::chrono::steady_clock::now();
        const double dt = std::chrono::duration<double>(now - t_log).count();
        t_log = now;
        Progress pr;
        pr.stage = st;
        pr.step = step_ + 1;
        pr.total = total;
        pr.loss = mean;
        pr.frames_per_s = frames_done / dt;
        pr.tflops = pr.frames_per_s * flops_per_frame(st) / 1e12;
        pr.elapsed_s = std::chrono::duration<double>(now - start_).count();
        pr.phases = timer_->report(loss_n);
        pr.eta_s = pr.frames_per_s > 0 ? (total - step_ - 1) * static_cast<double>(p_.batch) * p_.clip_frames / pr.frames_per_s : 0;
        log_csv(pr, lr_at(step_, total, p_.warmup_steps, peak));
        if (cb_) cb_(pr);
        frames_done = 0;
        loss_n = 0;
      }
      if (st == "ae" && step_ + 1 == total) set_latent_scale();
      const bool stop = time_up() && step_ + 1 < total;
      if ((step_ + 1) % p_.checkpoint_every == 0 || stop) {
        save_checkpoint(step_ + 1);
        opt.save(opt_path);  // atomic like the checkpoint
        if (stop) {
          ++step_;
          return false;
        }
      }
    }
    return true;
  }

  // (a) Autoencoder: reconstruction of single frames (MSE + L1 for sharp edges).
  at::Tensor ae_loss() {
    Batch b = next_batch(*source_, p_.batch, p_.clip_frames, dev_);
    timer_->mark("data");
    compat::AutocastGuard ac(dev_.is_cuda());
    const at::Tensor z = model_->tokenizer->encoder->forward(b.frames);
    const at::Tensor rec = model_->tokenizer->decoder->forward(z).to(at::kFloat);
    return at::mse_loss(rec, b.frames) + 0.5 * at::l1_loss(rec, b.frames) + 1e-4 * z.to(at::kFloat).pow(2).mean();
  }

  // (a') Decoder fine-tune: the encoder (and so the latent space the transformer learned) stays
  // as it is; only reconstruction improves, which caps every prediction's PSNR.
  at::Tensor dec_loss() {
    Batch b = next_batch(*source_, p_.batch, p_.clip_frames, dev_);
    timer_->mark("data");
    compat::AutocastGuard ac(dev_.is_cuda());
    at::Tensor z;
    {
      torch::NoGradGuard ng;
      z = model_->tokenizer->encoder->forward(b.frames);
    }
    const at::Tensor rec = model_->tokenizer->decoder->forward(z).to(at::kFloat);
    return at::mse_loss(rec, b.frames) + 0.5 * at::l1_loss(rec, b.frames);
  }

  void set_latent_scale() {
    torch::NoGradGuard ng;
    Batch b = next_batch(*source_, p_.batch, p_.clip_frames, dev_);
    const at::Tensor z = model_->tokenizer->encoder->forward(b.frames);
    model_->tokenizer->latent_scale.fill_(1.0 / (z.std().item<double>() + 1e-6));
  }

  at::Tensor encode(const at::Tensor& frames) {
    torch::NoGradGuard ng;
    return model_->tokenizer->encode(frames).to(at::kFloat);
  }

  // Per-chunk noise levels, logit-normal (most mass mid-range); a share of chunks stand for
  // context: at the level the rollout commits frames with (context_noise), as at inference, and
  // without loss (`context`). Their loss would be the noise of a nearly clean frame, which is
  // unpredictable and only pulls capacity away from prediction (with context_noise > 0 it was
  // counted until 2026-11-23).
  std::pair<at::Tensor, at::Tensor> chunk_levels(int64_t sequences, int64_t chunks) {
    ChunkLevelParams lp;
    lp.context_share = p_.df_context_share;
    lp.context_noise = p_.context_noise;
    lp.clean_prefix = p_.df_clean_prefix;
    ChunkLevels l = sample_chunk_levels(sequences, chunks, lp, at::TensorOptions().device(dev_));
    return {l.levels, l.context};
  }

  // The DiT's velocity for B stacked sequences of seq_frames frames under the training mask (attn
  // set up for that shape), in fp32.
  at::Tensor velocity(const at::Tensor& x, const at::Tensor& t_frame, const at::Tensor& actions, TrainAttention& attn, int64_t seq_frames,
                      const at::Tensor& anchor) {
    return model_->dit
        ->forward(x, t_frame, actions, 0, [&](int, const at::Tensor& q, const at::Tensor& k, const at::Tensor& vv) { return attn(q, k, vv); },
                  seq_frames, anchor)
        .to(at::kFloat);
  }

  // The flow-matching loss of the frames weighted by `weight`; frames at noise level t_frame, with
  // anchors (config.anchor_frame) from the frames as the rollout would commit them: at the
  // context level, with the same noise (so context frames and their anchors agree as they do at
  // inference).
  at::Tensor flow_loss(const at::Tensor& z, const at::Tensor& t_frame, const at::Tensor& actions, TrainAttention& attn, int64_t seq_frames,
                       const at::Tensor& weight) {
    const ModelConfig& c = model_->config;
    const at::Tensor tb = t_frame.view({-1, 1, 1, 1});
    const at::Tensor noise = at::randn_like(z);
    const at::Tensor xt = (1 - tb) * z + tb * noise;
    const double sigma = p_.context_noise;
    const at::Tensor anchor = c.anchor_frame ? model::chunk_anchors((1 - sigma) * z + sigma * noise, c.chunk_frames, seq_frames) : at::Tensor();
    attn.setup(z.size(0) / seq_frames, seq_frames, dev_);
    compat::AutocastGuard ac(dev_.is_cuda());
    const at::Tensor v = velocity(xt, t_frame, actions, attn, seq_frames, anchor);
    const at::Tensor per_frame = (v - (noise - z)).pow(2).mean({1, 2, 3});
    return (per_frame * weight).sum() / weight.sum().clamp_min(1.0);
  }

  // The clip as the model would make it from the truth's layout: noised to a level per sequence
  // (uniform in [df_self_min_level, df_self_max_level]) and denoised back in df_self_steps steps,
  // every frame at once, with the true committed anchors. It keeps the layout (so the true next
  // chunk stays predictable from it, unlike a free rollout that drifts away: session 3's
  // self-forcing taught the model to ignore its context) but carries the model's own loss of
  // detail and contrast, which a long rollout feeds back as context and diffusion forcing on true
  // frames never shows (runs 14 and 16 fade over 300 s).
  at::Tensor self_made(const at::Tensor& z, const at::Tensor& actions, TrainAttention& attn, int64_t seq_frames) {
    torch::NoGradGuard ng;
    const ModelConfig& c = model_->config;
    const int64_t sequences = z.size(0) / seq_frames;
    const at::Tensor level = (p_.df_self_min_level + (p_.df_self_max_level - p_.df_self_min_level) * at::rand({sequences, 1}, z.options()))
                                 .expand({sequences, seq_frames})
                                 .reshape({-1});
    const at::Tensor noise = at::randn_like(z);
    at::Tensor x = (1 - level.view({-1, 1, 1, 1})) * z + level.view({-1, 1, 1, 1}) * noise;
    const double sigma = p_.context_noise;
    const at::Tensor anchor = c.anchor_frame ? model::chunk_anchors((1 - sigma) * z + sigma * noise, c.chunk_frames, seq_frames) : at::Tensor();
    attn.setup(sequences, seq_frames, dev_);
    compat::AutocastGuard ac(dev_.is_cuda());
    for (int s = 0; s < p_.df_self_steps; ++s) {
      const at::Tensor t0 = level * (1.0 - static_cast<double>(s) / p_.df_self_steps);
      const at::Tensor t1 = level * (1.0 - static_cast<double>(s + 1) / p_.df_self_steps);
      x = x + (t1 - t0).view({-1, 1, 1, 1}) * velocity(x, t0, actions, attn, seq_frames, anchor);
    }
    return x;
  }

  // (b) Diffusion forcing over whole clips.
  at::Tensor df_loss(TrainAttention& attn) {
    const ModelConfig& c = model_->config;
    Batch b = next_batch(*source_, p_.batch, p_.clip_frames, dev_);
    timer_->mark("data");
    at::Tensor z = encode(b.frames);
    timer_->mark("encode");
    const int64_t chunks = p_.clip_frames / c.chunk_frames;
    auto [levels, context] = chunk_levels(p_.batch, chunks);
    if (p_.df_self_context > 0 && at::rand({1}).item<double>() < p_.df_self_context) {
      // Context chunks carry no loss: only what later chunks see of them changes.
      const at::Tensor made = self_made(z, b.actions, attn, p_.clip_frames);
      const at::Tensor context_frame = context.repeat_interleave(c.chunk_frames, 1).reshape({-1, 1, 1, 1});
      z = at::where(context_frame, made, z);
      timer_->mark("self-context");
    }
    const at::Tensor t = levels.repeat_interleave(c.chunk_frames, 1).reshape({-1});
    const at::Tensor weight = context.logical_not().to(at::kFloat).repeat_interleave(c.chunk_frames, 1).reshape({-1});
    return flow_loss(z, t, b.actions, attn, p_.clip_frames, weight);
  }

  // (c) Self-forcing: context chunks from the reference world, then chunks the model samples
  // itself (no gradient), then the next chunk trained against the true frames.
  at::Tensor sf_loss(TrainAttention& attn) {
    const ModelConfig& c = model_->config;
    const int64_t F = c.chunk_frames, ctx = p_.sf_context_chunks, roll = p_.sf_rollout_chunks;
    const int64_t T = (ctx + roll + 1) * F;
    TORCH_CHECK(T <= p_.clip_frames, "self-forcing needs ", T, " frames per clip, clips have ", p_.clip_frames);
    Batch b = next_batch(*source_, p_.batch, p_.clip_frames, dev_);
    timer_->mark("data");
    const int64_t Bn = p_.batch;
    at::Tensor z = encode(b.frames).view({Bn, p_.clip_frames, c.latent_channels, c.latent_grid(), c.latent_grid()}).narrow(1, 0, T);
    const at::Tensor actions = b.actions.view({Bn, p_.clip_frames, 5}).narrow(1, 0, T);
    // Context enters at the level the rollout commits frames with (noised here; the loss pass
    // noises it itself in flow_loss).
    const double sigma = p_.context_noise;
    at::Tensor hist = z.narrow(1, 0, ctx * F);
    {
      torch::NoGradGuard ng;
      compat::AutocastGuard ac(dev_.is_cuda());
      for (int64_t r = 0; r < roll; ++r) {
        const int64_t frames = hist.size(1) + F;
        attn.setup(Bn, frames, dev_);
        at::Tensor x = at::randn({Bn, F, c.latent_channels, c.latent_grid(), c.latent_grid()}, z.options());
        const at::Tensor acts = actions.narrow(1, 0, frames).reshape({-1, 5});
        const at::Tensor hist_in = sigma > 0 ? (1 - sigma) * hist + sigma * at::randn_like(hist) : hist;
        // The new chunk's anchor is the last history frame as committed (hist_in), whatever x is.
        const at::Tensor anchor =
            c.anchor_frame ? model::chunk_anchors(at::cat({hist_in, at::zeros_like(x)}, 1).reshape({-1, c.latent_channels, c.latent_grid(), c.latent_grid()}),
                                                  F, frames)
                           : at::Tensor();
        for (int s = 0; s < p_.sf_sample_steps; ++s) {
          const double t0 = 1.0 - static_cast<double>(s) / p_.sf_sample_steps, t1 = 1.0 - static_cast<double>(s + 1) / p_.sf_sample_steps;
          const at::Tensor tt = at::cat({at::full({Bn, hist.size(1)}, sigma, z.options()), at::full({Bn, F}, t0, z.options())}, 1).reshape({-1});
          const at::Tensor v = velocity(at::cat({hist_in, x}, 1).reshape({-1, c.latent_channels, c.latent_grid(), c.latent_grid()}), tt, acts, attn, frames, anchor)
                                   .view({Bn, frames, c.latent_channels, c.latent_grid(), c.latent_grid()});
          x = x + (t1 - t0) * v.narrow(1, hist.size(1), F);
        }
        hist = at::cat({hist, x}, 1);
      }
    }
    timer_->mark("rollout");
    const at::Tensor seq = at::cat({hist, z.narrow(1, T - F, F)}, 1).reshape({-1, c.latent_channels, c.latent_grid(), c.latent_grid()});
    const at::Tensor t_last = at::sigmoid(at::randn({Bn, 1}, z.options())).repeat_interleave(F, 1);
    const at::Tensor t = at::cat({at::full({Bn, T - F}, sigma, z.options()), t_last}, 1).reshape({-1});
    const at::Tensor last = at::cat({at::zeros({Bn, T - F}, z.options()), at::ones({Bn, F}, z.options())}, 1).reshape({-1});
    return flow_loss(seq, t, actions.reshape({-1, 5}), attn, T, last);
  }

  void update_ema() {
    torch::NoGradGuard ng;
    at::_foreach_mul_(ema_list_, p_.ema_decay);
    at::_foreach_add_(ema_list_, param_list_, 1.0 - p_.ema_decay);
  }

  // Model FLOPs per training frame (forward + backward = 3x forward) for the transformer stages;
  // the autoencoder stage reports none rather than a guess.
  double flops_per_frame(const std::string& st) const {
    if (st == "ae" || st == "dec") return 0.0;
    const ModelConfig& c = model_->config;
    // Self-made context adds df_self_steps forward passes (no backward) on that share of steps.
    const double self_passes = st == "df" ? p_.df_self_context * p_.df_self_steps : 0.0;
    return (3.0 + self_passes) * model::compute_info(c).flops_per_forward / c.chunk_frames;
  }

  void log_csv(const Progress& pr, double lr) {
    const bool fresh = !fs::exists(csv_);
    std::ofstream f(csv_, std::ios::app);
    if (fresh) f << "stage,step,loss,lr,frames_per_s,tflops,elapsed_s\n";
    f << pr.stage << ',' << pr.step << ',' << pr.loss << ',' << lr << ',' << pr.frames_per_s << ',' << pr.tflops << ',' << pr.elapsed_s << '\n';
  }

  // `next_step`: where the current stage resumes (stages in done_ are skipped on resume).
  void save_checkpoint(int64_t next_step) {
    std::map<std::string, at::Tensor> t;
    for (auto& [k, v] : model_->state_dict()) t["model." + k] = v;
    for (auto& [k, v] : ema_) t["ema." + k] = v;
    std::map<std::string, std::string> meta = model::model_metadata(model_->config);
    std::string done;
    for (const auto& s : done_) done += s + ",";
    meta["stage"] = stage_;
    meta["step"] = std::to_string(next_step);
    meta["done"] = done;
    model::write_safetensors(ckpt_, t, meta);  // fp32, atomic (temp file + rename)
  }

  // The shipped weights: EMA of the transformer (when trained), the tokenizer as trained.
  void export_model(const std::string& path) {
    WorldModel out(model_->config);
    std::map<std::string, at::Tensor> sd;
    for (auto& [k, v] : model_->state_dict()) sd[k] = v.detach().cpu();
    for (auto& [k, v] : ema_) sd["dit." + k] = v.detach().cpu();
    out.load_state_dict(sd, path);
    model::save_model(out, path);
  }

  // The held-out tokenizer check: clips from as many worlds, enough frames (128) that a few
  // easy or hard views move the mean little.
  static constexpr int kHeldOutClips = 8;
  static constexpr int kHeldOutClipFrames = 16;
  static constexpr int kHeldOutWarmup = 40;  // agent steps before a clip: away from the spawn view

  TrainParams p_;
  std::function<void(const Progress&)> cb_;
  std::function<void(const std::string&)> note_;
  at::Device dev_{at::kCPU};
  std::unique_ptr<WorldModel> model_;
  std::map<std::string, at::Tensor> ema_;
  std::vector<at::Tensor> ema_list_, param_list_;  // the EMA and live weights in the same order
  std::unique_ptr<ClipSource> source_;
  std::set<std::string> done_;
  std::string stage_;
  int64_t step_ = 0;
  bool resumed_ = false;
  std::string ckpt_, csv_, tokenizer_csv_;
  uint64_t held_out_seed0_ = 0;
  std::vector<uint8_t> held_out_;
  double tokenizer_psnr_db_ = 0;
  int tokenizer_psnr_frames_ = 0;
  std::string tokenizer_psnr_stage_;
  at::Tensor loss_acc_;
  std::unique_ptr<PhaseTimer> timer_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

TrainResult run_training(const TrainParams& params, const std::function<void(const Progress&)>& on_progress,
                         const std::function<void(const std::string&)>& on_note) {
  Trainer t(params, on_progress, on_note);
  return t.run();
}

}  // namespace sw::train
