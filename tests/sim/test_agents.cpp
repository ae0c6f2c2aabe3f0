// Scripted agents: deterministic, stay valid (never in a wall, finite actions), actually move,
// and out-and-back really returns to earlier places. Multi-threaded recording = single-threaded.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "sparseworld/sim/agents.h"

namespace sw {
namespace {

TEST(Agents, UnknownNameListsValidOnes) {
  try {
    make_agent("teleporter", 1);
    FAIL() << "expected an exception";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("teleporter"), std::string::npos);
    for (const auto& n : agent_names()) EXPECT_NE(msg.find(n), std::string::npos);
  }
}

class EveryAgent : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryAgent, StaysValidAndExplores) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    ReferenceWorld w;
    w.reset(seed);
    auto agent = make_agent(GetParam(), seed);
    std::set<int> cells;
    for (int t = 0; t < 1500; ++t) {
      const Action a = agent->act(w);
      for (float v : a.to_array()) ASSERT_TRUE(std::isfinite(v));
      ASSERT_EQ(a, a.clamped()) << "agents emit actions already in range";
      w.apply_action(a);
      const PlayerState& p = w.player();
      ASSERT_FALSE(w.map().is_wall(static_cast<int>(p.x), static_cast<int>(p.y))) << GetParam() << " t=" << t;
      cells.insert(static_cast<int>(p.y) * w.map().size + static_cast<int>(p.x));
    }
    EXPECT_GE(cells.size(), 15u) << GetParam() << " seed " << seed << " barely moved";
  }
}

TEST_P(EveryAgent, DeterministicFromSeed) {
  EpisodeSpec spec{9, GetParam(), 4, 200};
  WorldParams p;
  p.width = p.height = 32;
  const Episode a = record_episode(spec, p), b = record_episode(spec, p);
  EXPECT_EQ(a.frames, b.frames);
  spec.agent_seed = 5;
  const Episode c = record_episode(spec, p);
  if (GetParam() != "wall_follower") EXPECT_NE(a.frames, c.frames);  // the wall follower's route is seed-independent after its first heading
}

INSTANTIATE_TEST_SUITE_P(All, EveryAgent, ::testing::ValuesIn(agent_names()));

TEST(Agents, OutAndBackReturnsToEarlierPlaces) {
  ReferenceWorld w;
  w.reset(17);
  auto agent = make_agent("out_and_back", 17);
  std::vector<std::pair<int, int>> out_cells;
  int revisits = 0, returning_frames = 0;
  std::set<std::pair<int, int>> out_set;
  for (int t = 0; t < 2000; ++t) {
    w.apply_action(agent->act(w));
    const std::pair<int, int> c{static_cast<int>(w.player().x), static_cast<int>(w.player().y)};
    if (agent->revisiting()) {
      ++returning_frames;
      if (out_set.count(c)) ++revisits;
    } else {
      out_set.insert(c);
    }
  }
  EXPECT_GT(returning_frames, 100);
  EXPECT_GT(revisits, returning_frames * 8 / 10) << "the way back should retrace the way out";
}

// Look-back turns away past the field of view and back: each revisit frame repeats a state (spot
// and heading) of at least 12 frames before (longer than the shipped model's window of 8 frames
// plus a chunk), and between the two the agent faced more than half a field of view away, so
// the edge of the view that comes back had left the frame: the same view comes back.
TEST(Agents, LookBackSeesTheSameViewsAgain) {
  ReferenceWorld w;
  w.reset(23);
  auto agent = make_agent("look_back", 23);
  struct Seen {
    int t;
    PlayerState p;
  };
  std::vector<Seen> history;
  int revisit_frames = 0, turned_away = 0;
  for (int t = 0; t < 2000; ++t) {
    w.apply_action(agent->act(w));
    const PlayerState& p = w.player();
    if (agent->revisiting()) {
      ++revisit_frames;
      // The same spot seen at least 12 frames ago: the nearest heading it faced then.
      float best = 10.f;
      bool away_between = false;
      for (const Seen& s : history) {
        if (s.t > t - 12 || s.p.x != p.x || s.p.y != p.y) continue;
        const float d = std::abs(std::remainder(s.p.angle - p.angle, 6.2831853f));
        if (d < best) best = d;
      }
      for (auto it = history.rbegin(); it != history.rend() && it->t > t - 80; ++it)
        if (it->p.x == p.x && it->p.y == p.y && std::abs(std::remainder(it->p.angle - p.angle, 6.2831853f)) > 0.5f * w.params().fov) away_between = true;
      EXPECT_LT(best, 1e-3f) << "t=" << t << ": a heading it faced before";
      turned_away += away_between;
    }
    history.push_back({t, p});
  }
  EXPECT_GT(revisit_frames, 100);
  EXPECT_EQ(turned_away, revisit_frames) << "every revisit follows a turn away";
}

TEST(RecordEpisodes, ThreadCountDoesNotChangeResults) {
  WorldParams p;
  p.width = p.height = 48;
  std::vector<EpisodeSpec> specs;
  for (int i = 0; i < 6; ++i) specs.push_back({static_cast<uint64_t>(i), agent_names()[i % 4], static_cast<uint64_t>(i), 60});
  const auto one = record_episodes(specs, p, 1), many = record_episodes(specs, p, 4);
  ASSERT_EQ(one.size(), many.size());
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one[i].frames, many[i].frames);
    EXPECT_EQ(one[i].actions.size(), 60u);
  }
}

}  // namespace
}  // namespace sw
