// Runs the built sparseworld executable with arguments and captures exit code and output, so
// tests check what a user sees (one-line errors, exit codes).
#pragma once

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace sw::test {

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

inline CliResult run_cli(const std::string& args) {
  const std::string cmd = std::string(SW_BINARY_DIR) + "/sparseworld " + args + " 2>&1";
  CliResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// `args` fails as a usage error does (exit 1) with `message` in its output:
// EXPECT_TRUE(rejected_with("train --batch 0", "--batch")).
inline ::testing::AssertionResult rejected_with(const std::string& args, const std::string& message) {
  const CliResult r = run_cli(args);
  if (r.exit_code != 1) return ::testing::AssertionFailure() << "'" << args << "' exited " << r.exit_code << ", not 1:\n" << r.output;
  if (r.output.find(message) == std::string::npos)
    return ::testing::AssertionFailure() << "'" << args << "' does not say '" << message << "':\n" << r.output;
  return ::testing::AssertionSuccess();
}

// An empty folder of this test process under the system temp dir (removed first if a previous
// run with the same pid left it).
inline std::filesystem::path fresh_dir(const std::string& tag) {
  const std::filesystem::path d = std::filesystem::temp_directory_path() / ("sw_" + tag + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace sw::test
