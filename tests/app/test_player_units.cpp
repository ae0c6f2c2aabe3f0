// Key map parsing, input mapping and stage statistics, without a window: scripted SDL events and
// SDL's virtual joystick (SDL_JoystickAttachVirtualEx, SDL >= 2.24) drive player::Input, and the
// resulting actions move the reference world's player as expected.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "player/input.h"
#include "player/keymap.h"
#include "player/setup_error.h"
#include "player/stage_stats.h"
#include "sparseworld/sim/reference_world.h"

namespace sw::player {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string config_error(const std::string& json) {
  try {
    parse_keymap(json, "test.json");
  } catch (const SetupError& e) {
    EXPECT_EQ(e.kind(), SetupError::Kind::Config);
    return e.what();
  }
  return "(no error)";
}

TEST(Keymap, BuiltInDefaultsAreTheShippedAsset) {
  EXPECT_EQ(default_keymap_json(), read_file(std::string(SW_SOURCE_DIR) + "/assets/keymap.json"));
  const Keymap km = default_keymap();
  EXPECT_EQ(km[KeyAction::Forward], (std::vector<SDL_Scancode>{SDL_SCANCODE_W, SDL_SCANCODE_UP}));
  EXPECT_EQ(km[KeyAction::Sprint], (std::vector<SDL_Scancode>{SDL_SCANCODE_LSHIFT, SDL_SCANCODE_RSHIFT}));
  EXPECT_EQ(km[KeyAction::Use].front(), SDL_SCANCODE_E);
  for (int a = 0; a < kKeyActionCount; ++a) EXPECT_FALSE(km.keys[a].empty()) << key_action_name(static_cast<KeyAction>(a));
  EXPECT_EQ(km.gamepad.move_y, SDL_CONTROLLER_AXIS_LEFTY);
  ASSERT_FALSE(km.gamepad.use.empty());
  EXPECT_TRUE(km.gamepad.use[0].is_axis);
  EXPECT_EQ(km.gamepad.use[0].axis, SDL_CONTROLLER_AXIS_TRIGGERRIGHT);
}

TEST(Keymap, OverridesKeepOtherDefaults) {
  const Keymap km = parse_keymap(R"({"keyboard": {"forward": "I"}, "mouse": {"turn_per_pixel": 0.5}})", "t");
  EXPECT_EQ(km[KeyAction::Forward], std::vector<SDL_Scancode>{SDL_SCANCODE_I});
  EXPECT_EQ(km[KeyAction::Back].front(), SDL_SCANCODE_S);
  EXPECT_FLOAT_EQ(km.mouse_turn_per_pixel, 0.5f);
}

TEST(Keymap, ErrorsNameTheEntry) {
  EXPECT_NE(config_error(R"({"keyboard": {"forward": ["W", "Nope"]}})").find("'keyboard.forward[1]': unknown key 'Nope'"), std::string::npos);
  EXPECT_NE(config_error(R"({"keyboard": {"fly": ["W"]}})").find("'keyboard.fly': unknown action"), std::string::npos);
  EXPECT_NE(config_error(R"({"gamepad": {"use": ["triangle"]}})").find("'gamepad.use[0]'"), std::string::npos);
  EXPECT_NE(config_error(R"({"gamepad": {"dead_zone": 2}})").find("'gamepad.dead_zone'"), std::string::npos);
  EXPECT_NE(config_error(R"({"mouse": {"turn_per_pixel": "fast"}})").find("'mouse.turn_per_pixel': expected a number"), std::string::npos);
  EXPECT_NE(config_error(R"({"keyboard": )").find("not valid JSON"), std::string::npos);
  EXPECT_NE(config_error(R"({"colours": {}})").find("unknown section"), std::string::npos);
  EXPECT_NE(config_error("{}").find("(no error)"), std::string::npos);
  try {
    load_keymap("/nonexistent/keymap.json");
    FAIL() << "no error";
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot read"), std::string::npos);
  }
}

TEST(DeadZone, RadialAndRescaled) {
  float x = 0.1f, y = 0.1f;
  apply_dead_zone(x, y, 0.2f);
  EXPECT_EQ(x, 0.f);
  EXPECT_EQ(y, 0.f);
  x = 1.f, y = 0.f;
  apply_dead_zone(x, y, 0.2f);
  EXPECT_FLOAT_EQ(x, 1.f);
  x = 0.6f, y = 0.f;
  apply_dead_zone(x, y, 0.2f);
  EXPECT_NEAR(x, 0.5f, 1e-6);
}

// SDL's event queue without a window: the events subsystem and game controllers need no display.
class ScriptedInput : public ::testing::Test {
 protected:
  void SetUp() override {
    SDL_SetHint(SDL_HINT_JOYSTICK_ALLOW_BACKGROUND_EVENTS, "1");
    ASSERT_EQ(SDL_Init(SDL_INIT_EVENTS | SDL_INIT_GAMECONTROLLER), 0) << SDL_GetError();
    pump();
  }
  void TearDown() override { SDL_Quit(); }
  void pump() {
    SDL_Event e;
    while (SDL_PollEvent(&e)) input.handle(e);
  }
  void key(SDL_Scancode sc, bool down) {
    SDL_Event e{};
    e.type = down ? SDL_KEYDOWN : SDL_KEYUP;
    e.key.state = down ? SDL_PRESSED : SDL_RELEASED;
    e.key.keysym.scancode = sc;
    e.key.keysym.sym = SDL_GetKeyFromScancode(sc);
    ASSERT_EQ(SDL_PushEvent(&e), 1) << SDL_GetError();
  }
  // Steps `frames` frames with the input's actions; returns the player after.
  PlayerState walk(ReferenceWorld& w, int frames) {
    std::vector<Frame> out;
    for (int i = 0; i < frames; ++i) {
      pump();
      const Action a = input.take_action();
      w.step(std::span<const Action>(&a, 1), out);
    }
    return w.player();
  }
  Input input{default_keymap()};
};

TEST_F(ScriptedInput, KeyboardWalksForwardAndTurns) {
  ReferenceWorld w;
  w.reset(3);
  const PlayerState p0 = w.player();
  key(SDL_SCANCODE_W, true);
  pump();
  Action a = input.take_action();
  EXPECT_EQ(a.forward, 1.f);
  EXPECT_EQ(a.turn, 0.f);
  key(SDL_SCANCODE_W, false);
  pump();
  EXPECT_EQ(input.take_action().forward, 0.f);

  key(SDL_SCANCODE_UP, true);  // arrows walk too
  const PlayerState p1 = walk(w, 4);
  key(SDL_SCANCODE_UP, false);
  const float dx = p1.x - p0.x, dy = p1.y - p0.y;
  const float moved = std::sqrt(dx * dx + dy * dy);
  // Seed 3 spawns facing free floor: 4 frames at walk_speed, along the heading.
  EXPECT_NEAR(moved, 4 * w.params().walk_speed, 1e-3);
  EXPECT_GT(dx * std::cos(p0.angle) + dy * std::sin(p0.angle), 0.99f * moved);

  key(SDL_SCANCODE_RIGHT, true);
  const PlayerState p2 = walk(w, 3);
  key(SDL_SCANCODE_RIGHT, false);
  EXPECT_NEAR(std::remainder(p2.angle - p1.angle, 2 * 3.14159265f), 3 * w.params().turn_speed, 1e-3);

  key(SDL_SCANCODE_LSHIFT, true);
  key(SDL_SCANCODE_E, true);
  pump();
  a = input.take_action();
  EXPECT_EQ(a.sprint, 1.f);
  EXPECT_EQ(a.use, 1.f);
}

TEST_F(ScriptedInput, CommandsAndFocusLoss) {
  key(SDL_SCANCODE_P, true);
  key(SDL_SCANCODE_F5, true);
  key(SDL_SCANCODE_D, true);
  pump();
  InputCommands c = input.take_commands();
  EXPECT_TRUE(c.toggle_pause);
  EXPECT_TRUE(c.reset);
  EXPECT_FALSE(c.quit);
  EXPECT_EQ(input.take_action().strafe, 1.f);
  SDL_Event e{};
  e.type = SDL_WINDOWEVENT;
  e.window.event = SDL_WINDOWEVENT_FOCUS_LOST;
  input.handle(e);
  EXPECT_EQ(input.take_action().strafe, 0.f);  // no stuck key after alt-tab
  // Escape with mouse look on releases the mouse; a second press quits.
  input.set_mouse_look(true);
  key(SDL_SCANCODE_ESCAPE, true);
  pump();
  c = input.take_commands();
  EXPECT_TRUE(c.toggle_mouse_look);
  EXPECT_FALSE(c.quit);
  input.set_mouse_look(false);
  key(SDL_SCANCODE_ESCAPE, true);
  pump();
  EXPECT_TRUE(input.take_commands().quit);
}

TEST_F(ScriptedInput, MouseLookTurnsOnlyWhenEnabled) {
  SDL_Event e{};
  e.type = SDL_MOUSEMOTION;
  e.motion.xrel = 25;
  input.handle(e);
  EXPECT_EQ(input.take_action().turn, 0.f);
  input.set_mouse_look(true);
  input.handle(e);
  EXPECT_FLOAT_EQ(input.take_action().turn, 25 * default_keymap().mouse_turn_per_pixel);
  EXPECT_EQ(input.take_action().turn, 0.f);  // motion is consumed per frame
}

TEST_F(ScriptedInput, VirtualGamepadMovesThePlayerAndHotPlugs) {
  SDL_VirtualJoystickDesc desc{};
  desc.version = SDL_VIRTUAL_JOYSTICK_DESC_VERSION;
  desc.type = SDL_JOYSTICK_TYPE_GAMECONTROLLER;
  desc.naxes = SDL_CONTROLLER_AXIS_MAX;
  desc.nbuttons = SDL_CONTROLLER_BUTTON_MAX;
  desc.name = "sw virtual pad";
  const int index = SDL_JoystickAttachVirtualEx(&desc);
  ASSERT_GE(index, 0) << SDL_GetError();
  ASSERT_TRUE(SDL_IsGameController(index)) << "SDL gives virtual controllers a mapping";
  pump();  // SDL_CONTROLLERDEVICEADDED -> Input opens it
  ASSERT_EQ(input.gamepad_count(), 1);
  EXPECT_EQ(input.gamepad_name(), "sw virtual pad");
  SDL_Joystick* js = SDL_JoystickOpen(index);  // same device, to drive its virtual state
  ASSERT_NE(js, nullptr);

  ReferenceWorld w;
  w.reset(3);
  const PlayerState p0 = w.player();
  // Inside the dead zone: nothing moves.
  SDL_JoystickSetVirtualAxis(js, SDL_CONTROLLER_AXIS_LEFTY, -3000);
  SDL_JoystickUpdate();
  pump();
  EXPECT_EQ(input.take_action().forward, 0.f);
  // Full stick up: forward at full speed.
  SDL_JoystickSetVirtualAxis(js, SDL_CONTROLLER_AXIS_LEFTY, -32768);
  SDL_JoystickUpdate();
  const PlayerState p1 = walk(w, 4);
  EXPECT_NEAR(std::hypot(p1.x - p0.x, p1.y - p0.y), 4 * w.params().walk_speed, 1e-3);
  SDL_JoystickSetVirtualAxis(js, SDL_CONTROLLER_AXIS_LEFTY, 0);
  // Right stick turns, right trigger is "use", A too, start toggles pause.
  SDL_JoystickSetVirtualAxis(js, SDL_CONTROLLER_AXIS_RIGHTX, 32767);
  SDL_JoystickSetVirtualAxis(js, SDL_CONTROLLER_AXIS_TRIGGERRIGHT, 32767);
  SDL_JoystickSetVirtualButton(js, SDL_CONTROLLER_BUTTON_START, 1);
  SDL_JoystickUpdate();
  pump();
  const Action a = input.take_action();
  EXPECT_FLOAT_EQ(a.turn, 1.f);
  EXPECT_EQ(a.use, 1.f);
  EXPECT_EQ(a.forward, 0.f);
  EXPECT_TRUE(input.take_commands().toggle_pause);

  SDL_JoystickClose(js);
  ASSERT_EQ(SDL_JoystickDetachVirtual(index), 0) << SDL_GetError();
  pump();  // SDL_CONTROLLERDEVICEREMOVED
  EXPECT_EQ(input.gamepad_count(), 0);
  EXPECT_EQ(input.take_action().turn, 0.f);
}

TEST(StageStats, SummaryAndRing) {
  StageStats s(StageStatsParams{4});
  for (int i = 1; i <= 10; ++i) s.add(Stage::Render, i);
  const StageSummary r = s.summary(Stage::Render);
  EXPECT_EQ(r.samples, 10u);
  EXPECT_DOUBLE_EQ(r.mean_ms, 5.5);
  EXPECT_DOUBLE_EQ(r.max_ms, 10);
  EXPECT_DOUBLE_EQ(r.p95_ms, 10);
  EXPECT_DOUBLE_EQ(s.recent_mean_ms(Stage::Render, 2), 9.5);
  EXPECT_EQ(s.plot_count(), 4);
  EXPECT_EQ(s.plot_values(Stage::Render)[s.plot_offset(Stage::Render)], 7.f);  // oldest of the last 4
  EXPECT_EQ(s.summary(Stage::Input).samples, 0u);
}

TEST(Pacer, HoldsTheGameRate) {
  Pacer p(kGameFramesPerSecond);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) p.wait();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Deadlines, not sleeps: late wake-ups on a loaded CI machine don't add up.
  EXPECT_GE(s, 6.0 / kGameFramesPerSecond - 0.002);
  EXPECT_LT(s, 6.0 / kGameFramesPerSecond + 0.15);
}

}  // namespace
}  // namespace sw::player
