// Quality of the neural world against the reference world (ground truth we own): image metrics,
// and the evaluation runs behind `sparseworld eval`. Test: tests/eval/.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sparseworld/attention.h"
#include "sparseworld/sim/reference_world.h"

namespace sw::eval {

// PSNR in dB of two RGB8 images of the same size (infinity when identical).
double psnr(const uint8_t* a, const uint8_t* b, int width, int height);
// Means over frames count an identical frame at this PSNR instead of infinity (so one still
// frame does not make a mean infinite).
constexpr double kPsnrCapDb = 99.0;
// SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03) on luma, in [-1, 1].
double ssim(const uint8_t* a, const uint8_t* b, int width, int height);

// Image statistics used by the drift check: mean and standard deviation of luma, the mean
// absolute luma change from the previous frame (0 for a frozen video), and detail: the mean
// absolute luma difference between neighbouring pixels (|dx| + |dy|; 0 for a flat frame). Detail
// against the truth's tells blur apart from error, which PSNR does not: a blurred prediction
// often scores higher PSNR than a sharp one that is slightly off.
struct FrameStats {
  double mean = 0, stddev = 0, motion = 0, detail = 0;
};
FrameStats frame_stats(const uint8_t* rgb, const uint8_t* previous_or_null, int width, int height);

// Action fidelity: which of a small set of candidate actions (none, forward, back, strafe left and
// right, turn left and right) explains `frame` when applied in `world` from the state `before`
// (the world's player state is changed). action_class maps any action to its nearest candidate.
int action_class(const Action& a);
Action candidate_action(int cls);  // the candidate itself (no sprint, no use)
// A frame is scored only when its action had a visible effect: an action blocked by a wall looks
// exactly like standing still, whatever the model does.
bool action_visible(const PlayerState& before, const PlayerState& after, int cls);
int recover_action_class(ReferenceWorld& world, const PlayerState& before, float use, const uint8_t* frame);
inline constexpr int kActionCandidates = 7;
// Names of the candidate classes, in class order (for reports).
const std::vector<std::string>& action_class_names();

// The agents whose Agent::revisiting() marks frames, so they can walk the revisit and recall runs.
const std::vector<std::string>& revisit_agent_names();

struct EvalParams {
  std::string model_path;
  std::vector<std::string> methods = {"dense", "window", "sparse-forcing", "light-forcing", "tempcache"};
  std::string device = "auto";
  int seeds = 4;                              // held-out worlds (seeds from 1,000,000,000 up: never trained on)
  std::vector<double> horizons_s = {1, 5, 20, 60};  // rollout checkpoints, seconds of game time
  double drift_seconds = 300;                 // length of the drift rollout
  double revisit_seconds = 60;                // out-and-back rollout for the revisit test
  double recall_seconds = 0;                  // the memory-recall run of the same route (0: revisit_seconds)
  // Who walks the revisit and recall runs: out_and_back (retraces a route: the return looks the
  // other way) or look_back (turns away and back in place: the same views come back).
  std::string revisit_agent = "out_and_back";
  int sample_steps = 0;                       // 0: the model's
  double sample_shift = 1.0;                  // sampler timestep shift (NeuralWorldParams)
  double action_guidance = 1.0;               // guidance on the actions (NeuralWorldParams)
  double history_guidance = 1.0;              // guidance on the history (NeuralWorldParams)
  double context_noise = 0.1;                 // noise level of committed frames (NeuralWorldParams)
  int memory_slots = -1;                      // sparse-forcing's memory store (NeuralWorldParams; -1: the model's)
  // Knobs of every method (the `method` field is ignored: each of `methods` runs with these).
  attn::MethodConfig attention;
  // Frames (after the context) of the first rollout kept for side-by-side strips; those beyond
  // the rollout's length are skipped.
  std::vector<int64_t> strip_frames = {2, 10, 20, 40, 100, 200, 400, 1200};
  void validate() const;                      // throws std::invalid_argument naming the field
  attn::MethodConfig method_config(const std::string& method) const;  // `attention` with that method
};

struct MethodResult {
  std::string method;
  double teacher_psnr = 0, teacher_ssim = 0;       // next chunk from ground-truth context
  // Baselines on the same frames, both through the tokenizer like any prediction: repeating the
  // last true frame before the chunk (a model that ignores motion; copying raw frames would score
  // 99 dB on every frame the player stands still), and decode(encode(truth)) (the ceiling).
  double teacher_copy_psnr = 0, tokenizer_psnr = 0;
  // Detail (FrameStats) of the teacher-forced predictions and of the tokenizer's reconstructions,
  // over the truth's on the same frames (1: as sharp as the truth).
  double teacher_detail = 0, tokenizer_detail = 0;
  double action_accuracy = 0;                      // teacher-forced frames whose action is recovered
  // [taken][recovered] counts of the scored frames (kActionCandidates classes, action_class_names):
  // which actions the model renders alike; the accuracy above is its trace over its sum.
  std::vector<std::vector<int64_t>> action_confusion;
  double revisit_psnr = 0;                         // frames of out-and-back returns (-1: none reached)
  int64_t revisit_frames = 0;
  // The same out-and-back run with the way out teacher-forced (true frames committed) and only
  // the way back generated: what the attention recalls of views it was shown (-1: none reached).
  double recall_psnr = 0;
  int64_t recall_frames = 0;
  // Baseline on the same frames (the truth only, alike for every method): the nearest true view
  // of the way out that left the window, as a copying memory would recall it (-1: none).
  double recall_nearest_left_view_psnr = 0;
  double attention_density = 0;                    // mean kept / dense block pairs over the revisit rollout
  double drift_density = 0;                        // the same over the drift rollout (seed 0)
  std::vector<double> horizon_psnr, horizon_ssim;  // autoregressive rollout, per horizon
  std::vector<double> horizon_detail;              // generated / true detail (FrameStats) at each horizon
  // Mean PSNR over the second of frames that ends at each horizon (all frames for a horizon under
  // a second), over the seeds: the horizon's single frame swings by dB with what it happens to
  // show (session 15), which a ship decision should not rest on.
  std::vector<double> horizon_psnr_last_second;
  double drift_detail = 0;                         // generated / true mean detail over the drift run (1: as sharp)
  double drift_mean_lo = 0, drift_mean_hi = 0;     // generated luma mean range over the drift run
  double drift_std_min = 0, drift_motion_mean = 0;
  double truth_mean_lo = 0, truth_mean_hi = 0, truth_std_min = 0, truth_motion_mean = 0;
  bool drift_ok = false;  // mean within the truth's range (with margin), not flat, not frozen
  double ms_per_chunk = 0;
  std::vector<int64_t> strip_frames;               // which frames the strips hold
  std::vector<Frame> strip_generated, strip_truth; // first rollout, at strip_frames
};

struct EvalReport {
  std::vector<double> horizons_s;
  std::string revisit_agent;     // EvalParams::revisit_agent
  // Lengths the tests ran (EvalParams): a drift verdict means little over a 0.1-s run.
  int seeds = 0;
  double drift_seconds = 0, revisit_seconds = 0, recall_seconds = 0;
  int memory_slots = 0;          // the memory store every method ran with (the model's when -1 was asked)
  attn::MethodConfig attention;  // the knobs every method ran with (EvalParams::attention)
  int sample_steps = 0;          // sampler steps every method ran with (the model's when 0 was asked)
  double sample_shift = 1.0;
  double action_guidance = 1.0;
  double history_guidance = 1.0;
  std::vector<MethodResult> methods;
  std::string json() const;
};

EvalReport run_eval(const EvalParams& params, const std::function<void(const std::string&)>& log = {});

}  // namespace sw::eval
