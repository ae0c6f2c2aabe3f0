// `sparseworld run --headless` and `play` as a user meets them: screenshots and stats.json are
// written, runs match `sparseworld world` and episode replays bit for bit, a 100-frame run under
// the Khronos validation layer reports no error, and setup failures (no display, no Vulkan
// device, bad key map) give one clear line and their own exit code.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC  // private copy, like app/cli/image_io.cpp does for the writer
#include <stb_image.h>

#include "common/run_cli.h"
#include "sparseworld/sim/episode.h"
#include "sparseworld/sim/reference_world.h"

namespace sw {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("sw_player_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(d);
  return d;
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream f(p);
  return nlohmann::json::parse(f);
}

std::string hash_hex(const Episode& ep, size_t t) { return fmt::format("{:016x}", frame_hash(ep.frame(t), ep.frame_bytes())); }

TEST(RunHeadless, WritesScreenshotsAndStats) {
  const fs::path d = temp_dir("run");
  const auto r = run_cli("run --headless --agent explorer --frames 30 --screenshot-every 10 --width 480 --height 320 --out " + d.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : {"frame_000000.png", "frame_000010.png", "frame_000020.png", "frame_000029.png"})
    EXPECT_TRUE(fs::exists(d / f)) << f;
  const auto stats = read_json(d / "stats.json");
  EXPECT_EQ(stats["frames"], 30);
  EXPECT_EQ(stats["game_frame_index"], 29);
  EXPECT_EQ(stats["screenshots"].size(), 4u);
  for (const char* s : {"input", "world_step", "upload", "render", "present"}) {
    EXPECT_EQ(stats["stages"][s]["samples"], 30) << s;
    EXPECT_GE(stats["stages"][s]["mean_ms"].get<double>(), 0.0) << s;
  }
  EXPECT_GT(stats["stages"]["render"]["mean_ms"].get<double>(), 0.0);
  int w = 0, h = 0, n = 0;
  unsigned char* img = stbi_load((d / "frame_000029.png").c_str(), &w, &h, &n, 3);
  ASSERT_NE(img, nullptr);
  EXPECT_EQ(w, 480);
  EXPECT_EQ(h, 320);
  stbi_image_free(img);
  fs::remove_all(d);
}

TEST(RunHeadless, MatchesWorldCommandAndReplaysEpisodes) {
  const fs::path d = temp_dir("replay");
  fs::create_directories(d);
  const std::string ep_path = (d / "e.swep").string();
  auto r = run_cli("world --seed 7 --agent wall_follower --frames 25 --every 100 --out " + (d / "w").string() + " --episode " + ep_path);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Episode ep = read_episode(ep_path);
  const std::string want = hash_hex(ep, 24);
  EXPECT_NE(want, hash_hex(ep, 0));  // the agent did move

  r = run_cli("run --headless --agent wall_follower --seed 7 --frames 25 --no-panel --out " + (d / "agent").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_json(d / "agent" / "stats.json")["final_frame_hash"], want);

  r = run_cli("run --headless --actions " + ep_path + " --out " + (d / "replay").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto stats = read_json(d / "replay" / "stats.json");
  EXPECT_EQ(stats["frames"], 25);
  EXPECT_EQ(stats["seed"], 7);
  EXPECT_EQ(stats["final_frame_hash"], want);

  r = run_cli("run --headless --actions " + ep_path + " --frames 10 --out " + (d / "part").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_json(d / "part" / "stats.json")["final_frame_hash"], hash_hex(ep, 9));

  r = run_cli("run --headless --actions " + ep_path + " --frames 26 --out " + (d / "long").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("has only 25 frames"), std::string::npos) << r.output;
  fs::remove_all(d);
}

TEST(RunHeadless, SideBySideShowsTwoIdenticalWorlds) {
  const fs::path d = temp_dir("sbs");
  const auto r = run_cli("run --headless --side-by-side --agent explorer --frames 12 --no-panel --width 520 --height 256 --out " + d.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_json(d / "stats.json")["worlds"].size(), 2u);
  int w = 0, h = 0, n = 0;
  unsigned char* img = stbi_load((d / "frame_000011.png").c_str(), &w, &h, &n, 3);
  ASSERT_NE(img, nullptr);
  // Cells of 256 px with an 8 px gap: left view x in [0, 256), right view x in [264, 520).
  int differing = 0, nonblack = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < 256; ++x)
      for (int k = 0; k < 3; ++k) {
        differing += img[(y * w + x) * 3 + k] != img[(y * w + x + 264) * 3 + k];
        nonblack += img[(y * w + x) * 3 + k] > 20;
      }
  stbi_image_free(img);
  EXPECT_EQ(differing, 0) << "the same actions must give the same picture";
  EXPECT_GT(nonblack, 10000);
  fs::remove_all(d);
}

TEST(RunHeadless, ValidationLayerReportsNoErrorIn100Frames) {
  const fs::path d = temp_dir("validation");
  const auto r = run_cli("run --headless --validation --agent explorer --frames 100 --screenshot-every 50 --side-by-side --out " + d.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto stats = read_json(d / "stats.json");
  ASSERT_EQ(stats["validation"]["enabled"], true) << "the layer must really have been on";
  EXPECT_EQ(stats["validation"]["errors"], 0) << stats["validation"].dump(2);
  EXPECT_EQ(stats["frames"], 100);
  EXPECT_NE(r.output.find("validation layer: 0 errors"), std::string::npos) << r.output;
  fs::remove_all(d);
}

TEST(RunHeadless, SpeedsPrintsStageTimes) {
  const fs::path d = temp_dir("speeds");
  const auto r = run_cli("run --headless --speeds --agent explorer --frames 40 --out " + d.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* s : {"frame     20", "frame     40", "input", "world_step", "upload", "render", "present"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s << "\n" << r.output;
  fs::remove_all(d);
}

struct BadCase {
  std::string env;   // prefix, e.g. "env -u DISPLAY": the failure depends on the environment
  std::string args;
  int exit_code;
  std::vector<std::string> expect;  // must all appear in the output
};
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.env << " sparseworld " << c.args; }

std::string write_temp(const std::string& name, const std::string& text) {
  const fs::path p = fs::temp_directory_path() / ("sw_player_" + name);
  std::ofstream(p) << text;
  return p.string();
}

class PlayerErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(PlayerErrors, ClearMessageAndExitCode) {
  const BadCase& c = GetParam();
  const std::string cmd = c.env + " " + std::string(SW_BINARY_DIR) + "/sparseworld " + c.args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = pclose(pipe);
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, c.exit_code) << out;
  EXPECT_NE(out.find("sparseworld: "), std::string::npos) << out;
  for (const auto& e : c.expect) EXPECT_NE(out.find(e), std::string::npos) << e << "\n" << out;
}

const std::string kNoDisplay = "env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER";

INSTANTIATE_TEST_SUITE_P(
    Cases, PlayerErrors,
    ::testing::Values(
        BadCase{kNoDisplay, "play --frames 1", 3, {"no display", "run --headless"}},
        // No Vulkan driver: point the loader at an ICD list that does not exist.
        BadCase{"env VK_ICD_FILENAMES=/nonexistent/icd.json VK_DRIVER_FILES=/nonexistent/icd.json",
                "run --headless --agent explorer --frames 2 --out /tmp/sw_player_novk", 4, {"no Vulkan", "vulkaninfo"}},
        // The key map is read before the window opens, so this needs no display.
        BadCase{kNoDisplay, "play --keymap " + write_temp("bad_keymap.json", R"({"keyboard": {"use": ["E", "Hyper"]}})"), 6,
                {"keyboard.use[1]", "unknown key 'Hyper'"}},
        BadCase{kNoDisplay, "play --keymap /nonexistent/keymap.json", 6, {"cannot read"}},
        BadCase{"", "run --agent explorer --frames 5 --out /tmp/sw_player_x", 1, {"--headless", "sparseworld play"}},
        BadCase{"", "run --headless --frames 5 --out /tmp/sw_player_x", 1, {"--agent NAME or --actions FILE"}},
        BadCase{"", "run --headless --agent flyer --frames 5 --out /tmp/sw_player_x", 1, {"flyer"}},
        BadCase{"", "run --headless --world martian --agent explorer --frames 5 --out /tmp/sw_player_x", 1,
                {"unknown world", "martian", "reference"}},
        BadCase{"", "run --headless --actions /nonexistent.swep --out /tmp/sw_player_x", 1, {"/nonexistent.swep"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return "case" + std::to_string(info.index); });

}  // namespace
}  // namespace sw
