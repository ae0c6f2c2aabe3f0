// `sparseworld train` as a user runs it: a run stopped at its time limit leaves a checkpoint,
// the same command resumes where it stopped (the step count continues in the loss log) and
// finishes with a loadable model, a loss log and its plot; bad values are rejected.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

#include "common/run_cli.h"
#include "model/safetensors.h"

namespace sw {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

std::vector<std::string> csv_lines(const fs::path& p) {
  std::ifstream f(p);
  std::vector<std::string> lines;
  for (std::string l; std::getline(f, l);) lines.push_back(l);
  return lines;
}

TEST(Train, StopsAtTimeLimitAndResumes) {
  const fs::path out = fs::temp_directory_path() / ("sw_train_" + std::to_string(::getpid()));
  fs::remove_all(out);
  const std::string args = "train --config tiny --device cpu --stages ae,df,sf --out " + out.string() +
                           " --ae-steps 12 --df-steps 12 --sf-steps 4 --batch 2 --clip-frames 8 --log-every 2 --checkpoint-every 6 --data-threads 1";
  auto r = run_cli(args + " --time-limit 0.000001");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("stopped at the time limit"), std::string::npos) << r.output;
  ASSERT_TRUE(fs::exists(out / "checkpoint.safetensors"));
  const auto first = csv_lines(out / "loss.csv");

  r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("finished"), std::string::npos) << r.output;
  const auto lines = csv_lines(out / "loss.csv");
  EXPECT_GT(lines.size(), first.size());
  // The resumed run did not start the autoencoder over: each (stage, step) appears once.
  std::set<std::string> keys;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string key = lines[i].substr(0, lines[i].find(',', lines[i].find(',') + 1));
    EXPECT_TRUE(keys.insert(key).second) << "repeated " << key;
  }
  EXPECT_TRUE(keys.count("ae,12") && keys.count("df,12") && keys.count("sf,4"));
  EXPECT_TRUE(fs::exists(out / "loss.png"));
  r = run_cli("model info " + (out / "model.safetensors").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("config        tiny"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("anchor frame  yes"), std::string::npos) << r.output;
  // A new run can start from the exported model (another machine, no checkpoint to carry).
  const fs::path next = out.string() + "_init";
  fs::remove_all(next);
  r = run_cli("train --device cpu --init " + (out / "model.safetensors").string() + " --out " + next.string() +
              " --stages df --df-steps 4 --batch 2 --clip-frames 8 --log-every 2 --data-threads 1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = run_cli("model info " + (next / "model.safetensors").string());
  EXPECT_NE(r.output.find("config        tiny"), std::string::npos) << r.output;
  // --anchor-frame converts a model from --init (drops or adds the anchor input), and the result
  // converts back.
  for (const char* anchor : {"0", "1"}) {
    const fs::path from = std::string(anchor) == "0" ? out / "model.safetensors" : fs::path(next.string() + "_a0") / "model.safetensors";
    const fs::path to = next.string() + "_a" + anchor;
    fs::remove_all(to);
    r = run_cli("train --device cpu --init " + from.string() + " --anchor-frame " + anchor + " --out " + to.string() +
                " --stages df --df-steps 2 --batch 2 --clip-frames 8 --log-every 2 --data-threads 1");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = run_cli("model info " + (to / "model.safetensors").string());
    EXPECT_NE(r.output.find(std::string("anchor frame  ") + (std::string(anchor) == "1" ? "yes" : "no")), std::string::npos) << r.output;
  }
  fs::remove_all(next.string() + "_a0");
  fs::remove_all(next.string() + "_a1");
  r = run_cli("train --device cpu --init /nonexistent/m.safetensors --out " + next.string() + "_bad --stages df");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("/nonexistent/m.safetensors"), std::string::npos) << r.output;
  fs::remove_all(next);
  fs::remove_all(out);
}

TEST(Train, DecoderFineTuneKeepsTheEncoder) {
  const fs::path dir = fs::temp_directory_path() / ("sw_train_dec_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string init = (dir / "init.safetensors").string();
  ASSERT_EQ(run_cli("model init --config tiny --out " + init).exit_code, 0);
  auto r = run_cli("train --device cpu --init " + init + " --out " + (dir / "run").string() +
                   " --stages dec --dec-steps 4 --batch 2 --clip-frames 8 --log-every 2 --data-threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto lines = csv_lines(dir / "run" / "loss.csv");
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines.back().rfind("dec,4,", 0), 0u) << lines.back();
  const auto before = model::read_safetensors(init).tensors, after = model::read_safetensors((dir / "run" / "model.safetensors").string()).tensors;
  int encoder = 0, decoder_changed = 0;
  for (const auto& [name, t] : before) {
    if (name.rfind("tokenizer.encoder.", 0) == 0) {
      ++encoder;
      EXPECT_TRUE(at::equal(t, after.at(name))) << name << " changed";
    }
    if (name.rfind("tokenizer.decoder.", 0) == 0) decoder_changed += !at::equal(t, after.at(name));
    if (name.rfind("dit.", 0) == 0) EXPECT_TRUE(at::equal(t, after.at(name))) << name << " changed";
  }
  EXPECT_GT(encoder, 0);
  EXPECT_GT(decoder_changed, 0);
  fs::remove_all(dir);
}

TEST(Train, BadValuesRejected) {
  auto r = run_cli("train --stages ae,xx --out /tmp/sw_train_bad");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("sparseworld: train: stages 'xx'"), std::string::npos) << r.output;
  r = run_cli("train --attention fancy --out /tmp/sw_train_bad");
  EXPECT_NE(r.output.find("fancy"), std::string::npos) << r.output;
  r = run_cli("train --config tiny --device cpu --stages sf --clip-frames 4 --data-threads 1 --out /tmp/sw_train_bad_sf");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("too short for self-forcing"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Exception raised from"), std::string::npos) << "one line, no libtorch backtrace";
  r = run_cli("train --batch 0 --out /tmp/sw_train_bad");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--batch"), std::string::npos) << r.output;
  for (const char* flag : {"--context-noise 0.9", "--df-context-share 1.5", "--sf-rollout-chunks -1", "--sf-sample-steps 0", "--anchor-frame 2"}) {
    r = run_cli(std::string("train ") + flag + " --out /tmp/sw_train_bad");
    EXPECT_NE(r.exit_code, 0) << flag;
    EXPECT_NE(r.output.find(std::string(flag).substr(0, std::string(flag).find(' '))), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace sw
