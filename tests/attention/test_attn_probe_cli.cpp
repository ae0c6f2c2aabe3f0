// `sparseworld attn-probe` as a user meets it: a bad --method or --block fails with one line naming
// the flag; a short good run prints per-chunk rows and the summary table, and writes JSON whose
// numbers are sane (dense recall 1, window density below dense).
// Run: ctest -L fast -R test_attn_probe_cli (in the build folder).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/run_cli.h"

namespace sw {
namespace {

using test::run_cli;

TEST(CliAttnProbe, BadMethodIsOneLineNamingTheFlag) {
  const auto r = run_cli("attn-probe --method sparse");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("sparseworld: --method: sparse not in"), std::string::npos) << r.output;
}

TEST(CliAttnProbe, BlockThatDoesNotTileIsRejected) {
  const auto r = run_cli("attn-probe --method dense --grid 8 --block 48 --chunks 2");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("sparseworld: --block 48: does not tile a 8x8 frame"), std::string::npos) << r.output;
}

TEST(CliAttnProbe, GoodRunPrintsTableAndJson) {
  const std::filesystem::path json = std::filesystem::temp_directory_path() / ("sw_attn_probe_" + std::to_string(::getpid()) + ".json");
  const auto r = run_cli("attn-probe --method all --chunks 6 --grid 8 --block 16 --heads 2 --head-dim 16 --window 3 --memory 4 --top-k 2 --json " +
                         json.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* m : {"| dense |", "| window |", "| sparse-forcing |", "| light-forcing |", "| tempcache |"})
    EXPECT_NE(r.output.find(m), std::string::npos) << m << "\n" << r.output;
  std::ifstream f(json);
  const nlohmann::json rows = nlohmann::json::parse(f);
  ASSERT_EQ(rows.size(), 30u);
  for (const auto& row : rows) {
    EXPECT_GT(row["density"].get<double>(), 0.0);
    EXPECT_LE(row["density"].get<double>(), 1.0 + 1e-9);
    if (row["method"] == "dense") EXPECT_NEAR(row["recall"].get<double>(), 1.0, 1e-4);
  }
  // Last chunk: window keeps fewer pairs than dense.
  EXPECT_LT(rows[11]["density"].get<double>(), rows[5]["density"].get<double>());
  std::filesystem::remove(json);
}

}  // namespace
}  // namespace sw
