// The command line as a user meets it: good runs write what they say, bad values fail with one
// clear line naming the flag or value and a non-zero exit code.
#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include "common/run_cli.h"
#include "sparseworld/sim/episode.h"

namespace sw {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("sw_cli_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(d);
  return d;
}

TEST(CliWorld, WritesPngFramesAndEpisode) {
  const fs::path d = temp_dir("ok");
  const auto r = run_cli("world --seed 4 --agent wall_follower --frames 12 --size 64 --out " + d.string() +
                         " --episode " + (d / "e.swep").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int pngs = 0;
  for (const auto& e : fs::directory_iterator(d)) pngs += e.path().extension() == ".png";
  EXPECT_EQ(pngs, 12);
  const Episode ep = read_episode((d / "e.swep").string());
  EXPECT_EQ(ep.frame_count(), 12u);
  EXPECT_EQ(ep.width, 64u);
  EXPECT_EQ(ep.world_seed, 4u);
  fs::remove_all(d);
}

struct BadCase {
  std::string args;
  std::string expect;  // must appear in the one-line error
};

class CliBadValues : public ::testing::TestWithParam<BadCase> {};

TEST_P(CliBadValues, RejectedWithClearMessage) {
  const auto r = run_cli(GetParam().args);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(GetParam().expect), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("sparseworld:"), std::string::npos) << r.output;
}

INSTANTIATE_TEST_SUITE_P(
    World, CliBadValues,
    ::testing::Values(BadCase{"world --frames 0 --out /tmp/x", "--frames"}, BadCase{"world --frames abc --out /tmp/x", "--frames"},
                      BadCase{"world --size 3 --out /tmp/x", "--size"}, BadCase{"world --agent teleporter --out /tmp/x", "teleporter"},
                      BadCase{"world --seed -1 --out /tmp/x", "--seed: '-1' is not a whole number in [0, 2^64)"},
                      BadCase{"world --agent-seed 18446744073709551616 --out /tmp/x", "--agent-seed: '18446744073709551616' is not a whole number"},
                      BadCase{"world --frames 3", "--out"},
                      BadCase{"world --frames 2 --out /proc/forbidden", "/proc/forbidden"},
                      BadCase{"world --frames 2 --out /tmp/swcli_ok --episode /nonexistent_dir/e.swep", "/nonexistent_dir/e.swep"},
                      BadCase{"nosuchcommand", "nosuchcommand"},
                      // Seeds, rates and counts name the value and the range in a few words (CLI11's
                      // own validators print DBL_MAX in full).
                      BadCase{"train --lr abc --out /tmp/x", "--lr: 'abc' is not in (0, inf)"}, BadCase{"train --lr 0 --out /tmp/x", "--lr: '0' is not in (0, inf)"},
                      BadCase{"train --time-limit -1 --out /tmp/x", "--time-limit: '-1' is not in [0, inf)"},
                      BadCase{"train --seed 1e3 --out /tmp/x", "--seed: '1e3' is not a whole number in [0, 2^64)"},
                      BadCase{"model init --seed x --out /tmp/x", "--seed: 'x' is not a whole number"},
                      BadCase{"eval --model x --sf-top-k 0", "--sf-top-k: '0' is not a whole number in [1, 2^63)"}));

}  // namespace
}  // namespace sw
