// A CLI11 validator for a number that a predicate of the library accepts (the same range the
// params struct checks), with a message that names the value: "'abc' is not in (0, 100]".
// CLI11's own range validators print their bounds at full precision (DBL_MAX).
// Test: tests/eval/test_eval.cpp (eval's sampler flags), tests/app/test_cli.cpp.
#pragma once

#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <string>

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

}  // namespace sw::cli
