// Input implementation. Test: tests/app/test_player_units.cpp.
#include "player/input.h"

#include <algorithm>
#include <cmath>

namespace sw::player {

namespace {
constexpr float kAxisMax = 32767.f;
float clamp1(float v) { return std::clamp(v, -1.f, 1.f); }
}  // namespace

void apply_dead_zone(float& x, float& y, float dead_zone) {
  const float mag = std::sqrt(x * x + y * y);
  if (mag <= dead_zone || mag == 0.f) {
    x = y = 0.f;
    return;
  }
  const float scaled = std::min(1.f, (mag - dead_zone) / (1.f - dead_zone));
  x = x / mag * scaled;
  y = y / mag * scaled;
}

Input::Input(Keymap keymap) : keymap_(std::move(keymap)) {}

Input::~Input() {
  for (SDL_GameController* p : pads_) SDL_GameControllerClose(p);
}

std::string Input::gamepad_name() const {
  if (pads_.empty()) return "";
  const char* n = SDL_GameControllerName(pads_.front());
  return n ? n : "gamepad";
}

void Input::key_down(SDL_Scancode sc) {
  auto is = [&](KeyAction a) { return std::find(keymap_[a].begin(), keymap_[a].end(), sc) != keymap_[a].end(); };
  if (is(KeyAction::Quit)) {
    // Escape first gives the mouse back; a second press quits.
    if (mouse_look_) commands_.toggle_mouse_look = true;
    else commands_.quit = true;
  }
  if (is(KeyAction::Pause)) commands_.toggle_pause = true;
  if (is(KeyAction::Reset)) commands_.reset = true;
  if (is(KeyAction::TogglePanel)) commands_.toggle_panel = true;
  if (is(KeyAction::ToggleFilter)) commands_.toggle_filter = true;
  if (is(KeyAction::ToggleMouseLook)) commands_.toggle_mouse_look = true;
}

void Input::handle(const SDL_Event& e, bool ui_keyboard) {
  switch (e.type) {
    case SDL_QUIT: commands_.quit = true; break;
    case SDL_KEYDOWN:
      if (ui_keyboard || e.key.repeat) break;
      down_[e.key.keysym.scancode] = true;
      key_down(e.key.keysym.scancode);
      break;
    case SDL_KEYUP: down_[e.key.keysym.scancode] = false; break;  // always: no stuck keys after typing
    case SDL_MOUSEMOTION:
      if (mouse_look_) mouse_dx_ += static_cast<float>(e.motion.xrel);
      break;
    case SDL_WINDOWEVENT:
      // Key-ups sent while another window has focus never arrive: forget what was held.
      if (e.window.event == SDL_WINDOWEVENT_FOCUS_LOST) down_.fill(false);
      break;
    case SDL_CONTROLLERDEVICEADDED:
      if (SDL_GameController* p = SDL_GameControllerOpen(e.cdevice.which)) {
        // SDL also reports controllers present at start-up; don't open one twice.
        if (std::find(pads_.begin(), pads_.end(), p) == pads_.end()) pads_.push_back(p);
        else SDL_GameControllerClose(p);
      }
      break;
    case SDL_CONTROLLERDEVICEREMOVED:
      for (auto it = pads_.begin(); it != pads_.end(); ++it)
        if (SDL_JoystickInstanceID(SDL_GameControllerGetJoystick(*it)) == e.cdevice.which) {
          SDL_GameControllerClose(*it);
          pads_.erase(it);
          break;
        }
      break;
    case SDL_CONTROLLERBUTTONDOWN: {
      auto hit = [&](const std::vector<PadControl>& cs) {
        return std::any_of(cs.begin(), cs.end(), [&](const PadControl& c) { return !c.is_axis && c.button == e.cbutton.button; });
      };
      if (hit(keymap_.gamepad.pause)) commands_.toggle_pause = true;
      if (hit(keymap_.gamepad.reset)) commands_.reset = true;
      break;
    }
    default: break;
  }
}

bool Input::held(KeyAction a) const {
  const auto& codes = keymap_[a];
  return std::any_of(codes.begin(), codes.end(), [&](SDL_Scancode sc) { return down_[sc]; });
}

float Input::pad_axis(SDL_GameControllerAxis a) const {
  float best = 0.f;  // several pads: the one pushed furthest wins
  for (SDL_GameController* p : pads_) {
    const float v = std::max(-1.f, static_cast<float>(SDL_GameControllerGetAxis(p, a)) / kAxisMax);
    if (std::abs(v) > std::abs(best)) best = v;
  }
  return best;
}

bool Input::pad_held(const std::vector<PadControl>& controls) const {
  for (SDL_GameController* p : pads_)
    for (const PadControl& c : controls) {
      if (c.is_axis && static_cast<float>(SDL_GameControllerGetAxis(p, c.axis)) / kAxisMax >= keymap_.gamepad.trigger_threshold) return true;
      if (!c.is_axis && SDL_GameControllerGetButton(p, c.button)) return true;
    }
  return false;
}

Action Input::take_action() {
  const GamepadMap& g = keymap_.gamepad;
  auto key = [&](KeyAction a) { return held(a) ? 1.f : 0.f; };
  float mx = pad_axis(g.move_x), my = pad_axis(g.move_y);
  apply_dead_zone(mx, my, g.dead_zone);
  float tx = pad_axis(g.turn), ty = 0.f;
  apply_dead_zone(tx, ty, g.dead_zone);
  Action a;
  a.forward = clamp1(key(KeyAction::Forward) - key(KeyAction::Back) - my);  // stick up reads negative in SDL
  a.strafe = clamp1(key(KeyAction::StrafeRight) - key(KeyAction::StrafeLeft) + mx);
  a.turn = clamp1(key(KeyAction::TurnRight) - key(KeyAction::TurnLeft) + tx + mouse_dx_ * keymap_.mouse_turn_per_pixel);
  a.sprint = (held(KeyAction::Sprint) || pad_held(g.sprint)) ? 1.f : 0.f;
  a.use = (held(KeyAction::Use) || pad_held(g.use)) ? 1.f : 0.f;
  mouse_dx_ = 0.f;
  return a;
}

InputCommands Input::take_commands() {
  InputCommands c = commands_;
  commands_ = {};
  return c;
}

}  // namespace sw::player
