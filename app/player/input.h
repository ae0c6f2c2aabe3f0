// Keyboard, mouse and gamepad -> one sw::Action per game frame, plus UI commands (pause, reset,
// quit, ...). Fed SDL events (so scripted SDL_PushEvent input behaves exactly like a user's);
// key state is tracked from the events, not SDL_GetKeyboardState, for the same reason. Gamepads
// come and go through SDL_GameController hot-plug events.
// Test: tests/app/test_player_units.cpp (scripted key events and SDL's virtual joystick move the
// reference world's player as expected).
#pragma once

#include <array>
#include <string>
#include <vector>

#include <SDL2/SDL.h>

#include "player/keymap.h"
#include "sparseworld/sim/world.h"

namespace sw::player {

// One-shot requests gathered since the last take_commands().
struct InputCommands {
  bool quit = false;
  bool toggle_pause = false;
  bool reset = false;
  bool toggle_panel = false;
  bool toggle_filter = false;
  bool toggle_mouse_look = false;
};

class Input {
 public:
  explicit Input(Keymap keymap);
  ~Input();
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;

  // `ui_keyboard`: the panel has keyboard focus (typing a seed), so key presses don't move the player.
  void handle(const SDL_Event& e, bool ui_keyboard = false);
  // The action for the next game frame; consumes the mouse motion gathered since the last call.
  Action take_action();
  InputCommands take_commands();

  void set_mouse_look(bool on) { mouse_look_ = on; }
  bool mouse_look() const { return mouse_look_; }
  // Name of the open gamepad, or "" when none is connected.
  std::string gamepad_name() const;
  int gamepad_count() const { return static_cast<int>(pads_.size()); }
  const Keymap& keymap() const { return keymap_; }

 private:
  bool held(KeyAction a) const;
  bool pad_held(const std::vector<PadControl>& controls) const;
  float pad_axis(SDL_GameControllerAxis a) const;
  void key_down(SDL_Scancode sc);

  Keymap keymap_;
  std::array<bool, SDL_NUM_SCANCODES> down_{};
  float mouse_dx_ = 0.f;
  bool mouse_look_ = false;
  InputCommands commands_;
  std::vector<SDL_GameController*> pads_;
};

// Radial dead zone: stick (x, y) in [-1, 1]^2; below `dead_zone` -> 0, above it rescaled so full
// travel still reaches 1.
void apply_dead_zone(float& x, float& y, float dead_zone);

}  // namespace sw::player
