// A CLI11 validator for a number that a predicate of the library accepts (the same range the
// params struct checks), with a message that names the value: "'abc' is not in (0, 100]".
// CLI11's own range validators print their bounds at full precision (DBL_MAX). Also whole numbers
// (seeds) and the sampler's
// guidance flags, declared once for eval, play/run and model rollout.
// Test: tests/eval/test_eval.cpp (eval's sampler flags), tests/app/test_neural_player.cpp (run, model rollout).
#pragma once

#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "sparseworld/sim/neural_world.h"

namespace sw::cli {

inline CLI::Validator number_check(bool (*valid)(double), const std::string& range) {
  return CLI::Validator(
      [valid, range](std::string& v) -> std::string {
        try {
          size_t used = 0;
          const double d = std::stod(v, &used);
          if (used == v.size() && valid(d)) return {};
        } catch (const std::exception&) {
        }
        return fmt::format("'{}' is not in {}", v, range);
      },
      range);
}

// A whole number in [lo, hi] (seeds, counts), with a message that names the value: "'-1' is not
// a whole number in [0, 2^64)". Digits only: CLI11 would read "1e3" or "-1" into an unsigned.
inline CLI::Validator whole_number_check(uint64_t lo, uint64_t hi, const std::string& range) {
  return CLI::Validator(
      [lo, hi, range](std::string& v) -> std::string {
        const bool digits = !v.empty() && v.size() <= 20 && v.find_first_not_of("0123456789") == std::string::npos;
        if (digits) {
          try {
            const unsigned long long n = std::stoull(v);
            if (n >= lo && n <= hi) return {};
          } catch (const std::exception&) {  // out of range of uint64
          }
        }
        return fmt::format("'{}' is not a whole number in {}", v, range);
      },
      range);
}
inline const std::string kSeedRange = "[0, 2^64)";
inline CLI::Validator seed_check() { return whole_number_check(0, UINT64_MAX, kSeedRange); }

// --action-guidance and --history-guidance (NeuralWorldParams' ranges), `what` prefixing the help.
inline void add_guidance_options(CLI::App* cmd, double& action_guidance, double& history_guidance, const std::string& what = "") {
  cmd->add_option("--action-guidance", action_guidance, what + "sampler guidance on the actions against standing still (1: off; else the chunk once more in each sampler pass)")
      ->capture_default_str()
      ->check(number_check(valid_action_guidance, fmt::format("[0, {}]", kMaxActionGuidance)));
  cmd->add_option("--history-guidance", history_guidance, what + "sampler guidance on the history against none (1: off; else the chunk once more in each sampler pass)")
      ->capture_default_str()
      ->check(number_check(valid_history_guidance, fmt::format("[0, {}]", kMaxHistoryGuidance)));
}

}  // namespace sw::cli
