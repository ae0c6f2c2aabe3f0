// `sparseworld run --headless --world neural`: a tiny randomly initialised model plays beside its
// ground truth through the real Vulkan path (lavapipe in CI); every method is selectable; bad
// models and methods fail with one clear line.
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

const std::string& tiny_model() {
  static const std::string path = [] {
    const fs::path d = fs::temp_directory_path() / ("sw_neural_player_" + std::to_string(::getpid()));
    fs::create_directories(d);
    const std::string p = (d / "tiny.safetensors").string();
    const auto r = run_cli("model init --config tiny --out " + p);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return p;
  }();
  return path;
}

class NeuralRun : public ::testing::TestWithParam<std::string> {};

TEST_P(NeuralRun, HeadlessBesideGroundTruth) {
  const fs::path out = fs::temp_directory_path() / ("sw_neural_run_" + std::to_string(::getpid()) + "_" + GetParam());
  fs::remove_all(out);
  const auto r = run_cli("run --headless --world neural --model " + tiny_model() + " --device cpu --method " + GetParam() +
                         " --agent explorer --frames 12 --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream f(out / "stats.json");
  const nlohmann::json stats = nlohmann::json::parse(f);
  EXPECT_EQ(stats["worlds"], nlohmann::json::array({"neural", "reference"}));
  EXPECT_EQ(stats["frames"].get<int>(), 12);
  EXPECT_TRUE(fs::exists(out / "frame_000011.png"));
  fs::remove_all(out);
}

INSTANTIATE_TEST_SUITE_P(Methods, NeuralRun, ::testing::Values("dense", "window", "sparse-forcing", "light-forcing", "tempcache"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) c = c == '-' ? '_' : c;
                           return n;
                         });

TEST(NeuralRunErrors, BadModelAndMethodNamed) {
  const std::string out = (fs::temp_directory_path() / "sw_neural_err").string();
  auto r = run_cli("run --headless --world neural --model /nonexistent/m.safetensors --agent explorer --frames 2 --out " + out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("sparseworld: weights '/nonexistent/m.safetensors'"), std::string::npos) << r.output;
  r = run_cli("run --headless --world neural --model " + tiny_model() + " --method bogus --agent explorer --frames 2 --out " + out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("bogus"), std::string::npos) << r.output;
  r = run_cli("run --headless --world martian --agent explorer --frames 2 --out " + out);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("martian"), std::string::npos) << r.output;
}

TEST(NeuralRunGuidance, FlagsAcceptedAndBadValuesNamed) {
  // What the guidance does to frames is tested on NeuralWorld (tests/model/test_neural_world.cpp:
  // params and setter alike); here the flags reach play/run and model rollout. (run's PNGs carry
  // the HUD's timings, so they differ between any two runs and cannot be compared.)
  const fs::path base = fs::temp_directory_path() / ("sw_neural_guidance_" + std::to_string(::getpid()));
  auto r = run_cli("run --headless --world neural --model " + tiny_model() +
                   " --device cpu --method window --agent explorer --frames 4 --action-guidance 2 --history-guidance 1.5 --out " +
                   (base / "run").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = run_cli("model rollout " + tiny_model() + " --device cpu --method window --chunks 2 --action-guidance 2 --history-guidance 1.5");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* flag : {"--action-guidance", "--history-guidance"}) {
    r = run_cli(std::string("run --headless --world neural --model x ") + flag + " 12 --frames 2 --out " + (base / "bad").string());
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find(std::string(flag) + ": '12' is not in [0, 10]"), std::string::npos) << r.output;
    r = run_cli(std::string("model rollout x ") + flag + " -1");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find(std::string(flag) + ": '-1' is not in [0, 10]"), std::string::npos) << r.output;
  }
  fs::remove_all(base);
}

TEST(AutoWorld, FallsBackToTheReferenceWorldSayingWhy) {
  // The default --world auto plays the neural world only where it runs in real time; a missing
  // model (or no CUDA device) plays the reference world and says why in one line.
  const fs::path out = fs::temp_directory_path() / ("sw_auto_world_" + std::to_string(::getpid()));
  auto r = run_cli("run --headless --model /nonexistent/m.safetensors --agent explorer --frames 2 --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("world: reference (no model at '/nonexistent/m.safetensors')"), std::string::npos) << r.output;
  std::ifstream f(out / "stats.json");
  EXPECT_EQ(nlohmann::json::parse(f)["worlds"], nlohmann::json::array({"reference"}));
  // The bundled model exists in the source tree; whether it is chosen depends on the device.
  r = run_cli("run --headless --agent explorer --frames 2 --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(r.output.find("world: neural, model ") != std::string::npos || r.output.find("no CUDA device") != std::string::npos) << r.output;
  fs::remove_all(out);
}

}  // namespace
}  // namespace sw
