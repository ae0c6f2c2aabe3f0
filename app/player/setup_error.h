// SetupError: a failure a user can meet while the player starts (no display, no Vulkan device,
// swapchain, bad key map/config file). The CLI prints it as one line "sparseworld: ..." with an
// exit code per kind (exit_code_for below). Test: tests/app/test_cli_player.cpp.
#pragma once

#include <stdexcept>
#include <string>

namespace sw {

class SetupError : public std::runtime_error {
 public:
  enum class Kind { NoDisplay, NoVulkan, Surface, Swapchain, Config };
  SetupError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

}  // namespace sw

namespace sw {

// Exit codes of `play` and `run`, one per kind, so scripts can tell them apart.
inline int exit_code_for(SetupError::Kind kind) {
  switch (kind) {
    case SetupError::Kind::NoDisplay: return 3;
    case SetupError::Kind::NoVulkan: return 4;
    case SetupError::Kind::Surface:
    case SetupError::Kind::Swapchain: return 5;
    case SetupError::Kind::Config: return 6;
  }
  return 1;
}

// The validation layer reported errors in a run that asked for it (--validation).
inline constexpr int kExitValidationErrors = 7;

}  // namespace sw
