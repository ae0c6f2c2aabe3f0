// Episode files: round trip, and every kind of damage rejected with a message naming the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <cstring>
#include <fstream>
#include <unistd.h>

#include "sparseworld/sim/agents.h"
#include "sparseworld/sim/episode.h"

namespace sw {
namespace {

namespace fs = std::filesystem;

class EpisodeFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sw_episode_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    WorldParams p;
    p.width = 40;
    p.height = 24;
    ep_ = record_episode({3, "random_walk", 3, 25}, p);
    path_ = (dir_ / "a.swep").string();
    write_episode(path_, ep_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<char> bytes() {
    std::ifstream f(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
  }
  void put_bytes(const std::vector<char>& b) {
    std::ofstream f(path_, std::ios::binary | std::ios::trunc);
    f.write(b.data(), static_cast<std::streamsize>(b.size()));
  }
  std::string read_error() {
    try {
      read_episode(path_);
    } catch (const EpisodeError& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
  std::string path_;
  Episode ep_;
};

TEST_F(EpisodeFile, RoundTrip) {
  const Episode back = read_episode(path_);
  EXPECT_EQ(back.width, ep_.width);
  EXPECT_EQ(back.height, ep_.height);
  EXPECT_EQ(back.world_seed, 3u);
  EXPECT_EQ(back.metadata_json, ep_.metadata_json);
  EXPECT_EQ(back.actions, ep_.actions);
  EXPECT_EQ(back.frames, ep_.frames);
  EXPECT_FALSE(fs::exists(path_ + ".tmp"));
}

TEST_F(EpisodeFile, ReplayingActionsReproducesFrames) {
  const Episode back = read_episode(path_);
  WorldParams p;
  p.width = static_cast<int>(back.width);
  p.height = static_cast<int>(back.height);
  ReferenceWorld w(p);
  w.reset(back.world_seed);
  std::vector<Frame> frames;
  w.step(std::span<const Action>(back.actions).subspan(1), frames);  // action 0 is the spawn no-op
  ASSERT_EQ(frames.size() + 1, back.frame_count());
  for (size_t t = 0; t < frames.size(); ++t)
    ASSERT_EQ(0, std::memcmp(frames[t].rgb.data(), back.frame(t + 1), back.frame_bytes())) << "frame " << t + 1;
}

TEST_F(EpisodeFile, EveryTruncationRejected) {
  const auto good = bytes();
  for (size_t cut : {size_t{0}, size_t{7}, size_t{47}, size_t{48}, size_t{100}, good.size() / 2, good.size() - 9, good.size() - 1}) {
    put_bytes(std::vector<char>(good.begin(), good.begin() + static_cast<long>(cut)));
    const std::string err = read_error();
    EXPECT_FALSE(err.empty()) << "cut at " << cut;
    EXPECT_NE(err.find(path_), std::string::npos) << err;
  }
}

TEST_F(EpisodeFile, CorruptionRejected) {
  auto b = bytes();
  b[b.size() / 2] ^= 0x5A;  // a flipped byte in the frames
  put_bytes(b);
  EXPECT_NE(read_error().find("checksum"), std::string::npos);
}

TEST_F(EpisodeFile, BadHeadersRejected) {
  const auto good = bytes();
  struct Case {
    size_t offset;
    uint32_t value;
    const char* expect;
  } cases[] = {{0, 0x4B4F4F42, "magic"}, {8, 2, "version"},  {12, 0, "frame size"}, {20, 4, "channels"},
               {24, 7, "action_dim"},    {28, 1u << 30, "metadata"}, {32, 1000000, "size mismatch"}, {36, 1, "size mismatch"}};
  for (const Case& c : cases) {
    auto b = good;
    std::memcpy(b.data() + c.offset, &c.value, sizeof(c.value));
    put_bytes(b);
    const std::string err = read_error();
    EXPECT_NE(err.find(c.expect), std::string::npos) << "offset " << c.offset << ": " << err;
  }
}

TEST_F(EpisodeFile, MissingFileAndFailedWriteKeepOldFile) {
  EXPECT_NE(read_error().size(), 1u);
  fs::remove(path_);
  EXPECT_NE(read_error().find("cannot open"), std::string::npos);
  // A write that cannot complete leaves the previous file untouched.
  write_episode(path_, ep_);
  Episode bad = ep_;
  bad.frames.pop_back();
  EXPECT_THROW(write_episode(path_, bad), EpisodeError);
  EXPECT_EQ(read_episode(path_).frames, ep_.frames);
  EXPECT_THROW(write_episode((dir_ / "no_such_dir" / "x.swep").string(), ep_), EpisodeError);
}

}  // namespace
}  // namespace sw
