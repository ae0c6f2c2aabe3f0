// The key map: which keys, mouse sensitivity and gamepad controls drive each action. Defaults are
// assets/keymap.json, compiled into the binary (so an installed binary needs no asset folder);
// `sparseworld play --keymap FILE` loads another. Keys are SDL scancode names ("W", "Left Shift"):
// scancodes are physical positions, so WASD stays WASD on AZERTY keyboards. Gamepad names are
// SDL_GameController axis/button names ("leftx", "righttrigger", "a").
// An invalid map throws SetupError(Config) naming the file and the entry.
// Test: tests/app/test_player_units.cpp (Keymap*).
#pragma once

#include <array>
#include <string>
#include <vector>

#include <SDL2/SDL.h>

namespace sw::player {

enum class KeyAction {
  Forward, Back, StrafeLeft, StrafeRight, TurnLeft, TurnRight, Sprint, Use,
  ToggleMouseLook, Pause, Reset, TogglePanel, ToggleFilter, Quit, kCount
};
inline constexpr int kKeyActionCount = static_cast<int>(KeyAction::kCount);
const char* key_action_name(KeyAction a);  // the JSON entry name, e.g. "strafe_left"

// A gamepad input that acts as a button: a real button, or a trigger axis past the threshold.
struct PadControl {
  bool is_axis = false;
  SDL_GameControllerAxis axis = SDL_CONTROLLER_AXIS_INVALID;
  SDL_GameControllerButton button = SDL_CONTROLLER_BUTTON_INVALID;
};

struct GamepadMap {
  float dead_zone = 0.2f;          // stick magnitude below this reads as 0 (worn sticks drift)
  float trigger_threshold = 0.5f;  // trigger travel that counts as pressed
  SDL_GameControllerAxis move_x = SDL_CONTROLLER_AXIS_LEFTX;
  SDL_GameControllerAxis move_y = SDL_CONTROLLER_AXIS_LEFTY;
  SDL_GameControllerAxis turn = SDL_CONTROLLER_AXIS_RIGHTX;
  std::vector<PadControl> sprint, use, pause, reset;
};

struct Keymap {
  std::array<std::vector<SDL_Scancode>, kKeyActionCount> keys;
  float mouse_turn_per_pixel = 0.02f;  // turn units (1 = full turn speed) per pixel of mouse motion per frame
  GamepadMap gamepad;

  const std::vector<SDL_Scancode>& operator[](KeyAction a) const { return keys[static_cast<int>(a)]; }
};

// `source` names the text in error messages (a file path). Entries missing from the text keep the
// defaults; unknown entries, unknown key names and bad values are errors.
Keymap parse_keymap(const std::string& json_text, const std::string& source);
Keymap load_keymap(const std::string& path);  // unreadable file -> SetupError(Config)
Keymap default_keymap();                      // assets/keymap.json as built in
const std::string& default_keymap_json();

}  // namespace sw::player
