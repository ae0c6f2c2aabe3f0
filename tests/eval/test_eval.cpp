// `sparseworld eval` end to end on a tiny untrained model: every method is evaluated, results are
// written as JSON and a plot, and the drift check fails a model whose output is flat grey (an
// untrained adaLN-Zero model) — so the check can fail. Bad arguments name themselves.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "common/run_cli.h"

namespace sw {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

TEST(Eval, EveryMethodJsonPlotAndDriftVerdict) {
  const fs::path dir = test::fresh_dir("eval");
  const std::string model = (dir / "tiny.safetensors").string();
  ASSERT_EQ(run_cli("model init --config tiny --out " + model).exit_code, 0);
  const auto r = run_cli("eval --model " + model + " --seeds 1 --horizons 0.5,1 --drift-seconds 2 --revisit-seconds 12 --device cpu --out " + (dir / "out").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream f(dir / "out" / "eval.json");
  const nlohmann::json j = nlohmann::json::parse(f);
  ASSERT_EQ(j["methods"].size(), 5u);
  for (const auto& m : j["methods"]) {
    EXPECT_EQ(m["rollout_psnr"].size(), 2u);
    ASSERT_EQ(m["rollout_psnr_last_second"].size(), 2u);
    for (const auto& v : m["rollout_psnr_last_second"]) EXPECT_GT(v.get<double>(), 0.0);
    EXPECT_GT(m["teacher_forced"]["psnr"].get<double>(), 0.0);
    // Baselines are measured on the same frames for every method; copying the previous frame of
    // a moving agent is neither perfect nor garbage.
    EXPECT_EQ(m["teacher_forced"]["copy_previous_psnr"], j["methods"][0]["teacher_forced"]["copy_previous_psnr"]);
    EXPECT_GT(m["teacher_forced"]["copy_previous_psnr"].get<double>(), 8.0);
    EXPECT_LT(m["teacher_forced"]["copy_previous_psnr"].get<double>(), 60.0);
    EXPECT_GT(m["teacher_forced"]["tokenizer_psnr"].get<double>(), 0.0);
    EXPECT_GE(m["teacher_forced"]["detail_ratio"].get<double>(), 0.0);
    EXPECT_GT(m["teacher_forced"]["tokenizer_detail_ratio"].get<double>(), 0.0);
    const double acc = m["action_accuracy"].get<double>();
    EXPECT_GE(acc, 0.0);
    EXPECT_LE(acc, 1.0);
    // The confusion matrix holds the same scored frames: its trace over its sum is the accuracy.
    const auto& conf = m["action_confusion"]["taken_by_recovered"];
    ASSERT_EQ(conf.size(), 7u);
    ASSERT_EQ(m["action_confusion"]["classes"].size(), 7u);
    int64_t trace = 0, total = 0;
    for (size_t a = 0; a < conf.size(); ++a) {
      ASSERT_EQ(conf[a].size(), 7u);
      for (size_t b = 0; b < conf[a].size(); ++b) total += conf[a][b].get<int64_t>();
      trace += conf[a][a].get<int64_t>();
    }
    EXPECT_GT(total, 0);
    EXPECT_NEAR(static_cast<double>(trace) / static_cast<double>(total), acc, 1e-12);
    EXPECT_GT(m["revisit"]["frames"].get<int64_t>(), 0) << "the out-and-back agent returns within 12 s";
    // Recall: the same run with the way out teacher-forced; only return frames (a part of the
    // 12 s = 240 frames) are generated and scored.
    EXPECT_GT(m["recall"]["frames"].get<int64_t>(), 0);
    EXPECT_LT(m["recall"]["frames"].get<int64_t>(), 240);
    EXPECT_GT(m["recall"]["psnr"].get<double>(), 0.0);
    // Its baseline is the truth's alone: the same for every method, a real PSNR (not a copy of itself).
    EXPECT_EQ(m["recall"]["nearest_left_view_psnr"], j["methods"][0]["recall"]["nearest_left_view_psnr"]);
    EXPECT_GT(m["recall"]["nearest_left_view_psnr"].get<double>(), 8.0);
    EXPECT_LT(m["recall"]["nearest_left_view_psnr"].get<double>(), 60.0);
    EXPECT_FALSE(m["drift"]["ok"].get<bool>()) << "an untrained model's flat output must fail the drift check";
    EXPECT_GT(m["drift"]["truth_std_min"].get<double>(), m["drift"]["std_min"].get<double>());
    // A flat output has a small fraction of the truth's detail, at every horizon too.
    EXPECT_GE(m["drift"]["detail_ratio"].get<double>(), 0.0);
    EXPECT_LT(m["drift"]["detail_ratio"].get<double>(), 0.5);
    ASSERT_EQ(m["rollout_detail_ratio"].size(), 2u);
    for (const auto& d : m["rollout_detail_ratio"]) EXPECT_LT(d.get<double>(), 0.5);
  }
  EXPECT_TRUE(fs::exists(dir / "out" / "psnr_vs_horizon.png"));
  // Strips: truth + 5 methods as rows; frames 2, 10, 20, 40 of the 2 s drift rollout as columns
  // (32-pixel tiny frames, 2-pixel gaps). Width and height from the PNG's IHDR chunk.
  std::ifstream png(dir / "out" / "strips.png", std::ios::binary);
  ASSERT_TRUE(png) << "strips.png missing";
  unsigned char hdr[24] = {};
  png.read(reinterpret_cast<char*>(hdr), sizeof hdr);
  auto be32 = [&](int o) { return (hdr[o] << 24) | (hdr[o + 1] << 16) | (hdr[o + 2] << 8) | hdr[o + 3]; };
  EXPECT_EQ(be32(16), 4 * 32 + 3 * 2);
  EXPECT_EQ(be32(20), 6 * 32 + 5 * 2);
  fs::remove_all(dir);
}

// The per-horizon mean over the last second: at a horizon of one frame it is that frame's PSNR
// (the single-frame column), over two seeds; at longer horizons a mean of real frames' PSNR.
TEST(Eval, LastSecondMeanIsTheFramesPsnr) {
  const fs::path dir = test::fresh_dir("eval_last_second");
  const std::string model = (dir / "tiny.safetensors").string();
  ASSERT_EQ(run_cli("model init --config tiny --out " + model).exit_code, 0);
  const auto r = run_cli("eval --model " + model + " --methods window --seeds 2 --horizons 0.05,0.5 --drift-seconds 0.1 --revisit-seconds 0.1 --device cpu --out " +
                         (dir / "out").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream f(dir / "out" / "eval.json");
  const nlohmann::json m = nlohmann::json::parse(f)["methods"][0];
  ASSERT_EQ(m["rollout_psnr_last_second"].size(), 2u);
  EXPECT_NEAR(m["rollout_psnr_last_second"][0].get<double>(), m["rollout_psnr"][0].get<double>(), 1e-9);
  EXPECT_GT(m["rollout_psnr_last_second"][1].get<double>(), 5.0);
  EXPECT_LT(m["rollout_psnr_last_second"][1].get<double>(), 60.0);
  EXPECT_NE(r.output.find("mean of the last second"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("action fidelity by class: none "), std::string::npos) << r.output;
  fs::remove_all(dir);
}

TEST(Eval, SparseForcingAndSamplerKnobsReachTheRunAndTheJson) {
  const fs::path dir = test::fresh_dir("eval_sf");
  const std::string model = (dir / "tiny.safetensors").string();
  ASSERT_EQ(run_cli("model init --config tiny --out " + model).exit_code, 0);
  auto run = [&](const std::string& knobs, const std::string& out) {
    const auto r = run_cli("eval --model " + model + " --methods sparse-forcing --seeds 1 --horizons 1 --drift-seconds 1 --revisit-seconds 12 " +
                           "--device cpu " + knobs + " --out " + (dir / out).string());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::ifstream f(dir / out / "eval.json");
    return nlohmann::json::parse(f);
  };
  const nlohmann::json base = run("", "base");
  const nlohmann::json knobs = run("--sf-top-k 1 --sf-memory false --sf-merge-threshold 0.9 --sf-max-count 16 --steps 3 --sample-shift 2.5 --action-guidance 1.5 --history-guidance 1.25 --recall-seconds 0.5 --memory-slots 8 --sf-memory-top-k 2 --sf-memory-distance 12", "knobs");
  EXPECT_EQ(base["sampler"]["steps"], 2) << "the tiny config's own sample_steps";
  EXPECT_DOUBLE_EQ(base["sampler"]["shift"].get<double>(), 1.0);
  EXPECT_EQ(knobs["sampler"]["steps"], 3);
  EXPECT_DOUBLE_EQ(knobs["sampler"]["shift"].get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(base["sampler"]["action_guidance"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(knobs["sampler"]["action_guidance"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(base["sampler"]["history_guidance"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(knobs["sampler"]["history_guidance"].get<double>(), 1.25);
  EXPECT_EQ(base["sparse_forcing"]["top_k"], 8);
  EXPECT_EQ(base["sparse_forcing"]["use_memory"], true);
  EXPECT_EQ(knobs["sparse_forcing"]["top_k"], 1);
  EXPECT_EQ(knobs["sparse_forcing"]["use_memory"], false);
  EXPECT_DOUBLE_EQ(knobs["sparse_forcing"]["merge_threshold"].get<double>(), 0.9);
  EXPECT_DOUBLE_EQ(knobs["sparse_forcing"]["max_count"].get<double>(), 16);
  EXPECT_EQ(base["sparse_forcing"]["memory_slots"], 4) << "the tiny config's own";
  EXPECT_EQ(base["sparse_forcing"]["memory_top_k"], 0);
  EXPECT_EQ(knobs["sparse_forcing"]["memory_slots"], 8);
  EXPECT_EQ(knobs["sparse_forcing"]["memory_top_k"], 2);
  EXPECT_EQ(base["sparse_forcing"]["memory_time_distance"], 0);
  EXPECT_EQ(knobs["sparse_forcing"]["memory_time_distance"], 12);
  // The lengths the tests ran, so a reader can tell a 1-s drift verdict from a 300-s one.
  EXPECT_DOUBLE_EQ(base["drift_seconds"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(base["revisit_seconds"].get<double>(), 12.0);
  EXPECT_DOUBLE_EQ(base["recall_seconds"].get<double>(), 12.0) << "0 asked: the revisit's length";
  EXPECT_DOUBLE_EQ(knobs["recall_seconds"].get<double>(), 0.5);
  EXPECT_EQ(base["seeds"], 1);
  // Keeping 1 window block instead of 8 and no memory attends to fewer blocks over the 12-s
  // out-and-back rollout (an untrained model's frames are flat either way, so density is the check).
  const double d_base = base["methods"][0]["attention_density"].get<double>(), d_knobs = knobs["methods"][0]["attention_density"].get<double>();
  EXPECT_GT(d_base, 0.0);
  EXPECT_LT(d_knobs, d_base);
  EXPECT_GT(base["methods"][0]["drift_attention_density"].get<double>(), 0.0);
  // The recall run takes its own length: 0.5 s ends before the way back, 12 s (as the revisit) not.
  EXPECT_GT(base["methods"][0]["recall"]["frames"].get<int64_t>(), 0);
  EXPECT_EQ(knobs["methods"][0]["recall"]["frames"].get<int64_t>(), 0);
  EXPECT_DOUBLE_EQ(knobs["methods"][0]["recall"]["psnr"].get<double>(), -1.0);
  fs::remove_all(dir);
}

// The look-back route: the agent turns away and back in place, so the views it returns to are
// ones it saw exactly (a copying memory would score near the PSNR cap), unlike the out-and-back
// route's returns (< 60 dB above: the way back looks the other way).
TEST(Eval, LookBackRouteReturnsToTheSameViews) {
  const fs::path dir = test::fresh_dir("eval_lb");
  const std::string model = (dir / "tiny.safetensors").string();
  ASSERT_EQ(run_cli("model init --config tiny --out " + model).exit_code, 0);
  const auto r = run_cli("eval --model " + model + " --methods window --seeds 1 --horizons 0.5 --drift-seconds 0.5 --revisit-seconds 12 " +
                         "--revisit-agent look_back --device cpu --out " + (dir / "out").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream f(dir / "out" / "eval.json");
  const nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_EQ(j["revisit_agent"], "look_back");
  const auto& m = j["methods"][0];
  EXPECT_GT(m["revisit"]["frames"].get<int64_t>(), 0);
  EXPECT_GT(m["recall"]["frames"].get<int64_t>(), 0);
  EXPECT_LT(m["recall"]["frames"].get<int64_t>(), 240);
  EXPECT_GT(m["recall"]["nearest_left_view_psnr"].get<double>(), 60.0);
  fs::remove_all(dir);
}

TEST(Eval, BadArgumentsNamed) {
  auto r = run_cli("eval --model /nonexistent/m.safetensors --out /tmp/sw_eval_bad");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("/nonexistent/m.safetensors"), std::string::npos) << r.output;
  r = run_cli("eval --model x --methods dense,bogus --out /tmp/sw_eval_bad");
  EXPECT_NE(r.output.find("bogus"), std::string::npos) << r.output;
  r = run_cli("eval --model x --horizons 1,abc --out /tmp/sw_eval_bad");
  EXPECT_NE(r.output.find("--horizons: 'abc'"), std::string::npos) << r.output;
  EXPECT_TRUE(test::rejected_with("eval --model x --horizons 1,0.01 --out /tmp/sw_eval_bad", "horizon 0.010000 s is under one frame"));
  r = run_cli("eval --model x --context-noise 2 --out /tmp/sw_eval_bad");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--context-noise"), std::string::npos) << r.output;
  for (const char* bad : {"-1", "abc"}) {
    r = run_cli(std::string("eval --model x --recall-seconds ") + bad + " --out /tmp/sw_eval_bad");
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_NE(r.output.find(std::string("--recall-seconds: '") + bad + "' is not in [0, inf)"), std::string::npos) << r.output;
    for (const char* flag : {"--drift-seconds", "--revisit-seconds"}) {
      r = run_cli(std::string("eval --model x ") + flag + " " + bad + " --out /tmp/sw_eval_bad");
      EXPECT_NE(r.exit_code, 0) << flag << " " << bad;
      EXPECT_NE(r.output.find(std::string(flag) + ": '" + bad + "' is not in (0, inf)"), std::string::npos) << r.output;
    }
  }
  r = run_cli("eval --model x --memory-slots 5000 --out /tmp/sw_eval_bad");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--memory-slots"), std::string::npos) << r.output;
  r = run_cli("eval --model x --revisit-agent explorer --out /tmp/sw_eval_bad");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--revisit-agent"), std::string::npos) << r.output;
  r = run_cli("eval --model x --sf-top-k 0 --out /tmp/sw_eval_bad");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--sf-top-k"), std::string::npos) << r.output;
  r = run_cli("eval --model x --sf-merge-threshold 1.5 --out /tmp/sw_eval_bad");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--sf-merge-threshold"), std::string::npos) << r.output;
  r = run_cli("eval --model x --sf-max-count 0.5 --out /tmp/sw_eval_bad");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--sf-max-count"), std::string::npos) << r.output;
  for (const char* bad : {"0", "abc", "101"}) {
    r = run_cli(std::string("eval --model x --sample-shift ") + bad + " --out /tmp/sw_eval_bad");
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_NE(r.output.find(std::string("--sample-shift: '") + bad + "'"), std::string::npos) << r.output;
  }
  for (const char* flag : {"--action-guidance", "--history-guidance"})
    for (const char* bad : {"-1", "x", "11"}) {
      r = run_cli(std::string("eval --model x ") + flag + " " + bad + " --out /tmp/sw_eval_bad");
      EXPECT_NE(r.exit_code, 0) << flag << " " << bad;
      EXPECT_NE(r.output.find(std::string(flag) + ": '" + bad + "'"), std::string::npos) << r.output;
    }
}

}  // namespace
}  // namespace sw
