// PSNR, SSIM and frame statistics against values computed by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "sparseworld/sim/agents.h"
#include "sparseworld/sim/eval.h"
#include "sparseworld/sim/reference_world.h"

namespace sw::eval {
namespace {

TEST(Metrics, PsnrKnownValues) {
  std::vector<uint8_t> a(16 * 16 * 3, 100), b = a;
  EXPECT_TRUE(std::isinf(psnr(a.data(), b.data(), 16, 16)));
  for (auto& v : b) v = 110;  // MSE 100 -> 10 log10(255^2 / 100) = 28.13 dB
  EXPECT_NEAR(psnr(a.data(), b.data(), 16, 16), 28.1308, 1e-3);
}

TEST(Metrics, SsimIdenticalIsOneAndFallsWithNoise) {
  ReferenceWorld w;
  w.reset(3);
  const Frame& f = w.current_frame();
  EXPECT_NEAR(ssim(f.rgb.data(), f.rgb.data(), f.width, f.height), 1.0, 1e-9);
  std::mt19937 rng(1);
  double last = 1.0, light_noise = 0;
  for (int amp : {5, 20, 60}) {
    std::vector<uint8_t> noisy = f.rgb;
    std::uniform_int_distribution<int> d(-amp, amp);
    for (auto& v : noisy) v = static_cast<uint8_t>(std::clamp(v + d(rng), 0, 255));
    const double s = ssim(f.rgb.data(), noisy.data(), f.width, f.height);
    EXPECT_LT(s, last) << "amplitude " << amp;
    if (amp == 5) light_noise = s;
    last = s;
  }
  EXPECT_LT(last, 0.6);
  // A flat grey image keeps only the smooth (fogged, low-variance) regions' similarity: well
  // below a lightly noised copy, and under one half.
  std::vector<uint8_t> grey(f.rgb.size(), 128);
  const double flat = ssim(f.rgb.data(), grey.data(), f.width, f.height);
  EXPECT_LT(flat, 0.5);
  EXPECT_LT(flat, light_noise - 0.3);
}

TEST(Metrics, FrameStats) {
  std::vector<uint8_t> a(8 * 8 * 3, 50), b(8 * 8 * 3, 60);
  const FrameStats s = frame_stats(b.data(), a.data(), 8, 8);
  EXPECT_NEAR(s.mean, 60.0, 1e-9);
  EXPECT_NEAR(s.stddev, 0.0, 1e-9);
  EXPECT_NEAR(s.motion, 10.0, 1e-9);
  EXPECT_EQ(frame_stats(a.data(), nullptr, 8, 8).motion, 0.0);
  EXPECT_EQ(s.detail, 0.0) << "a flat frame has no detail";
  // Columns alternating 0 / 100 (grey): |dx| = 100 everywhere, |dy| = 0.
  std::vector<uint8_t> stripes(8 * 8 * 3);
  for (size_t i = 0; i < stripes.size(); ++i) stripes[i] = (i / 3) % 2 ? 100 : 0;
  EXPECT_NEAR(frame_stats(stripes.data(), nullptr, 8, 8).detail, 100.0, 1e-9);
}

// Detail falls when a real frame is blurred, while its mean stays: what PSNR cannot see.
TEST(Metrics, DetailFallsWithBlur) {
  ReferenceWorld w;
  w.reset(3);
  const Frame& f = w.current_frame();
  std::vector<uint8_t> blurred = f.rgb;
  for (int pass = 0; pass < 3; ++pass) {  // 3x3 box blur, three times
    const std::vector<uint8_t> src = blurred;
    for (int y = 1; y + 1 < f.height; ++y)
      for (int x = 1; x + 1 < f.width; ++x)
        for (int ch = 0; ch < 3; ++ch) {
          int s = 0;
          for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx) s += src[(static_cast<size_t>(y + dy) * f.width + x + dx) * 3 + ch];
          blurred[(static_cast<size_t>(y) * f.width + x) * 3 + ch] = static_cast<uint8_t>(s / 9);
        }
  }
  const FrameStats sharp = frame_stats(f.rgb.data(), nullptr, f.width, f.height), soft = frame_stats(blurred.data(), nullptr, f.width, f.height);
  EXPECT_GT(sharp.detail, 1.0);
  EXPECT_LT(soft.detail, 0.7 * sharp.detail);
  EXPECT_NEAR(soft.mean, sharp.mean, 2.0);
}

// The matcher behind action fidelity, fed the ground truth itself: every candidate action with a
// visible effect is recovered (so a model that draws the truth scores 100%, and the 95% goal is
// reachable), and blocked moves are recognised as not scorable.
TEST(ActionFidelity, RecoversCandidateActionsFromTrueFrames) {
  WorldParams wp;
  wp.width = wp.height = 64;
  ReferenceWorld world(wp);
  world.reset(1000000007ULL);
  std::vector<uint8_t> frame(64 * 64 * 3);
  int scored = 0, recovered = 0;
  for (int i = 0; i < 300; ++i) {
    const int cls = (i * 5 + i / 7) % kActionCandidates;
    const Action a = candidate_action(cls);
    ASSERT_EQ(action_class(a), cls);
    const PlayerState before = world.player();
    world.apply_action(a);
    world.render(frame.data(), 64, 64);
    const PlayerState after = world.player();
    if (action_visible(before, after, cls)) {
      ++scored;
      recovered += recover_action_class(world, before, 0, frame.data()) == cls;
    }
    world.set_player(after);
  }
  EXPECT_GT(scored, 200);
  EXPECT_EQ(recovered, scored);
}

}  // namespace
}  // namespace sw::eval
