// Training the neural world on the reference world (no torch in this header): (a) the
// autoencoder, (b) diffusion forcing with per-chunk noise levels on clips generated on the fly,
// (c) self-forcing: the model rolls out on its own outputs and the next chunk is trained against
// the reference world's true frames under the same actions. The sparse-forcing attention pattern
// is active in (b) and (c). Checkpoints are atomic and resume after the process is killed.
// Test: tests/train/test_train.cpp; CLI: sparseworld train.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace sw::train {

struct TrainParams {
  std::string stages = "ae,df,dec";    // any of ae, dec, df, sf, run in the order given; sf is not in
                                       // the default: as implemented it lowered every eval metric
                                       // (docs/BENCHMARKS.md, session 3)
  std::string config = "default";      // model config of a fresh run
  std::string out_dir = "runs/default";
  std::string init;                    // start a fresh run from this model file's weights (e.g. --stages df,sf)
  bool init_partial = false;           // with init: build the model from `config` (and anchor_frame) and copy
                                       // only the tensors of `init` whose name and shape match (e.g. the
                                       // transformer blocks under a new tokenizer); the rest keep their fresh init
  std::string device = "auto";         // auto | cpu | cuda
  uint64_t seed = 0;
  int batch = 8;                       // clips per step
  int clip_frames = 16;                // frames per clip (a multiple of chunk_frames)
  int ae_steps = 1500;
  int dec_steps = 1000;                // stage dec: decoder fine-tune, encoder frozen
  int df_steps = 6000;
  int sf_steps = 1000;
  double time_limit_s = 0;             // stop cleanly (checkpoint) after this long; 0: no limit
  double lr = 4e-4;                    // transformer peak learning rate (AdamW)
  double ae_lr = 1e-3;
  double weight_decay = 0.01;
  int warmup_steps = 200;
  double ema_decay = 0.999;
  double grad_clip = 1.0;
  std::string attention = "sparse-forcing";  // training mask: dense | window | sparse-forcing
  // Agent kinds that play the training clips, comma-separated (empty: every kind, in equal
  // shares); a kind named twice gets twice the share (e.g. look_back,look_back,explorer: clips
  // that return to views which left the window, for the memory).
  std::string agents;
  int train_top_k = 8;                 // sparse-forcing mask: window blocks kept per query block
  int train_memory_blocks = 16;        // ... and blocks kept from frames that left the window
  int sf_context_chunks = 1;           // self-forcing: ground-truth chunks before the rollout
  int sf_rollout_chunks = 2;           // chunks the model generates itself (no gradient)
  int sf_sample_steps = 2;             // sampler steps for those chunks
  double context_noise = 0.1;          // noise level of context frames (self-forcing context, and the
                                       // share of diffusion-forcing chunks that stand for context); the
                                       // rollout commits frames at the same level (--context-noise)
  double df_context_share = 0.5;       // diffusion forcing: share of chunks at the context level; the
                                       // rest at random levels. Rollouts predict from (nearly) clean
                                       // context, which 15% taught poorly (teacher-forced PSNR below
                                       // copying the previous frame, 2026-11-23)
  // Diffusion forcing: share of clips whose chunks before a random split are all context (clean,
  // as every frame that left the window is at inference), so memory learns to read clean frames.
  double df_clean_prefix = 0;
  // Diffusion forcing on self-made context: on this share of steps the context chunks are the
  // clip noised to a level in [df_self_min_level, df_self_max_level] and denoised back by the model
  // itself in df_self_steps sampler steps (no gradient): the truth's layout with the model's own
  // loss of detail, as a long rollout feeds its frames back. The true frames stay the target.
  double df_self_context = 0;
  double df_self_min_level = 0.3;
  double df_self_max_level = 0.7;
  int df_self_steps = 2;
  int anchor_frame = -1;               // -1: as the config (fresh) or --init model has it; 0/1: set it
                                       // (a model from --init gains the anchor input at zero weight)
  int data_threads = 0;                // 0: all cores but one
  int checkpoint_every = 500;          // steps
  int log_every = 10;
  bool profile = false;                // time each phase of a step (synchronises the device: slower)
  void validate() const;               // throws std::invalid_argument naming the field
};

struct Progress {
  std::string stage;
  int64_t step = 0, total = 0;
  double loss = 0;           // mean over the last log_every steps
  double frames_per_s = 0;   // training frames consumed per second
  double tflops = 0;         // achieved model FLOP/s (forward + backward), in TFLOP/s
  double eta_s = 0, elapsed_s = 0;
  std::string phases;        // with profile: mean ms per step of each phase
};

struct TrainResult {
  std::string model_path;    // EMA weights, bf16, sharded at 16 MB
  std::string loss_csv;
  bool finished = false;     // all stages done (false: stopped at the time limit; run again to resume)
  // Reconstruction PSNR (dB, frames in [0, 255], mean over frames as eval computes it) of the
  // tokenizer on held-out clips, measured after the last ae or dec stage this run finished; the
  // ceiling of every prediction. 0 frames: no such stage finished in this run. Every measurement
  // is also appended to tokenizer_csv.
  double tokenizer_psnr_db = 0;
  int tokenizer_psnr_frames = 0;
  std::string tokenizer_psnr_stage;
  std::string tokenizer_csv;
};

// on_note: one-line messages for the user (e.g. what --init-partial copied).
TrainResult run_training(const TrainParams& params, const std::function<void(const Progress&)>& on_progress,
                         const std::function<void(const std::string&)>& on_note = {});

}  // namespace sw::train
