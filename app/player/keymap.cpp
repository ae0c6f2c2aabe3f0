// Key map parsing (nlohmann-json) with errors that name the file and the entry.
// Test: tests/app/test_player_units.cpp.
#include "player/keymap.h"

#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "player/setup_error.h"

namespace sw::player {

extern const char* const kDefaultKeymapJson;  // generated from assets/keymap.json by the build

namespace {
using nlohmann::json;

[[noreturn]] void fail(const std::string& source, const std::string& entry, const std::string& what) {
  throw SetupError(SetupError::Kind::Config, fmt::format("key map '{}': entry '{}': {}", source, entry, what));
}

std::vector<std::string> string_list(const json& v, const std::string& source, const std::string& entry) {
  if (v.is_string()) return {v.get<std::string>()};
  if (!v.is_array()) fail(source, entry, "expected a name or a list of names");
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) fail(source, fmt::format("{}[{}]", entry, i), "expected a name (string)");
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

float number(const json& v, const std::string& source, const std::string& entry, float lo, float hi) {
  if (!v.is_number()) fail(source, entry, "expected a number");
  const float x = v.get<float>();
  if (!(x >= lo && x <= hi)) fail(source, entry, fmt::format("{} is outside [{}, {}]", x, lo, hi));
  return x;
}

SDL_GameControllerAxis pad_axis(const json& v, const std::string& source, const std::string& entry) {
  if (!v.is_string()) fail(source, entry, "expected an axis name (leftx, lefty, rightx, righty)");
  const SDL_GameControllerAxis a = SDL_GameControllerGetAxisFromString(v.get<std::string>().c_str());
  if (a == SDL_CONTROLLER_AXIS_INVALID) fail(source, entry, "unknown gamepad axis '" + v.get<std::string>() + "'");
  return a;
}

std::vector<PadControl> pad_controls(const json& v, const std::string& source, const std::string& entry) {
  std::vector<PadControl> out;
  const auto names = string_list(v, source, entry);
  for (size_t i = 0; i < names.size(); ++i) {
    PadControl c;
    c.axis = SDL_GameControllerGetAxisFromString(names[i].c_str());
    c.is_axis = c.axis != SDL_CONTROLLER_AXIS_INVALID;
    if (!c.is_axis) {
      c.button = SDL_GameControllerGetButtonFromString(names[i].c_str());
      if (c.button == SDL_CONTROLLER_BUTTON_INVALID)
        fail(source, fmt::format("{}[{}]", entry, i), "unknown gamepad button or axis '" + names[i] + "'");
    }
    out.push_back(c);
  }
  return out;
}

template <typename F>
void for_each_entry(const json& obj, const std::string& source, const std::string& section, F&& f) {
  if (!obj.is_object()) fail(source, section, "expected an object");
  for (auto it = obj.begin(); it != obj.end(); ++it) f(it.key(), it.value(), section + "." + it.key());
}

Keymap parse_into(Keymap km, const std::string& text, const std::string& source) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    throw SetupError(SetupError::Kind::Config, fmt::format("key map '{}': not valid JSON: {}", source, e.what()));
  }
  if (!root.is_object()) fail(source, "(top level)", "expected an object");
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string& section = it.key();
    const json& v = it.value();
    if (section == "version") {
      if (!v.is_number_integer() || v.get<int>() != 1) fail(source, "version", "only version 1 is known");
    } else if (section == "keyboard") {
      for_each_entry(v, source, section, [&](const std::string& key, const json& val, const std::string& entry) {
        int action = -1;
        for (int a = 0; a < kKeyActionCount; ++a)
          if (key == key_action_name(static_cast<KeyAction>(a))) action = a;
        if (action < 0) {
          std::string known;
          for (int a = 0; a < kKeyActionCount; ++a) known += (a ? ", " : "") + std::string(key_action_name(static_cast<KeyAction>(a)));
          fail(source, entry, "unknown action (known: " + known + ")");
        }
        std::vector<SDL_Scancode> codes;
        const auto names = string_list(val, source, entry);
        for (size_t i = 0; i < names.size(); ++i) {
          const SDL_Scancode sc = SDL_GetScancodeFromName(names[i].c_str());
          if (sc == SDL_SCANCODE_UNKNOWN) fail(source, fmt::format("{}[{}]", entry, i), "unknown key '" + names[i] + "'");
          codes.push_back(sc);
        }
        km.keys[action] = std::move(codes);
      });
    } else if (section == "mouse") {
      for_each_entry(v, source, section, [&](const std::string& key, const json& val, const std::string& entry) {
        if (key == "turn_per_pixel") km.mouse_turn_per_pixel = number(val, source, entry, 0.f, 1.f);
        else fail(source, entry, "unknown entry (known: turn_per_pixel)");
      });
    } else if (section == "gamepad") {
      GamepadMap& g = km.gamepad;
      for_each_entry(v, source, section, [&](const std::string& key, const json& val, const std::string& entry) {
        if (key == "dead_zone") g.dead_zone = number(val, source, entry, 0.f, 0.95f);
        else if (key == "trigger_threshold") g.trigger_threshold = number(val, source, entry, 0.01f, 1.f);
        else if (key == "move_x") g.move_x = pad_axis(val, source, entry);
        else if (key == "move_y") g.move_y = pad_axis(val, source, entry);
        else if (key == "turn") g.turn = pad_axis(val, source, entry);
        else if (key == "sprint") g.sprint = pad_controls(val, source, entry);
        else if (key == "use") g.use = pad_controls(val, source, entry);
        else if (key == "pause") g.pause = pad_controls(val, source, entry);
        else if (key == "reset") g.reset = pad_controls(val, source, entry);
        else fail(source, entry, "unknown entry (known: dead_zone, trigger_threshold, move_x, move_y, turn, sprint, use, pause, reset)");
      });
    } else {
      fail(source, section, "unknown section (known: version, keyboard, mouse, gamepad)");
    }
  }
  return km;
}
}  // namespace

const char* key_action_name(KeyAction a) {
  static constexpr const char* kNames[kKeyActionCount] = {
      "forward", "back", "strafe_left", "strafe_right", "turn_left", "turn_right", "sprint", "use",
      "toggle_mouse_look", "pause", "reset", "toggle_panel", "toggle_filter", "quit"};
  return kNames[static_cast<int>(a)];
}

const std::string& default_keymap_json() {
  static const std::string text = kDefaultKeymapJson;
  return text;
}

Keymap default_keymap() { return parse_into(Keymap{}, default_keymap_json(), "built-in assets/keymap.json"); }

Keymap parse_keymap(const std::string& json_text, const std::string& source) {
  return parse_into(default_keymap(), json_text, source);
}

Keymap load_keymap(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw SetupError(SetupError::Kind::Config, fmt::format("key map '{}': cannot read the file", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_keymap(ss.str(), path);
}

}  // namespace sw::player
