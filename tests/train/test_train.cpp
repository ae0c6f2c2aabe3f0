// `sparseworld train` as a user runs it: a run stopped at its time limit leaves a checkpoint,
// the same command resumes where it stopped (the step count continues in the loss log) and
// finishes with a loadable model, a loss log and its plot; bad values are rejected.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/run_cli.h"
#include "model/model_io.h"
#include "model/safetensors.h"
#include "train/clip_source.h"

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

// The tokenizer report a run prints after an ae or dec stage: its PSNR, or -1 when absent.
double reported_tokenizer_psnr(const std::string& output, const std::string& stage) {
  const std::string head = "tokenizer: reconstruction PSNR ";
  const size_t at = output.find(head);
  if (at == std::string::npos) return -1;
  const std::string line = output.substr(at, output.find('\n', at) - at);
  EXPECT_NE(line.find(" dB on 128 held-out frames (after stage " + stage), std::string::npos) << line;
  return std::stod(line.substr(head.size()));
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

  EXPECT_EQ(reported_tokenizer_psnr(r.output, "ae"), -1) << "the stopped run finished no autoencoder stage";

  r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("finished"), std::string::npos) << r.output;
  // The resumed run finished the autoencoder and measured it on held-out frames (a few steps of
  // a tiny model: far from good, but a finite PSNR of a real reconstruction).
  const double psnr = reported_tokenizer_psnr(r.output, "ae");
  EXPECT_GT(psnr, 0) << r.output;
  EXPECT_LT(psnr, 99) << r.output;
  const auto tok = csv_lines(out / "tokenizer.csv");
  ASSERT_EQ(tok.size(), 2u);
  EXPECT_EQ(tok[0], "stage,psnr_db,frames,elapsed_s");
  EXPECT_EQ(tok[1].rfind("ae,", 0), 0u) << tok[1];
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
  const fs::path dir = test::fresh_dir("train_dec");
  const std::string init = (dir / "init.safetensors").string();
  ASSERT_EQ(run_cli("model init --config tiny --out " + init).exit_code, 0);
  auto r = run_cli("train --device cpu --init " + init + " --out " + (dir / "run").string() +
                   " --stages dec --dec-steps 4 --batch 2 --clip-frames 8 --log-every 2 --data-threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto lines = csv_lines(dir / "run" / "loss.csv");
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines.back().rfind("dec,4,", 0), 0u) << lines.back();
  EXPECT_GT(reported_tokenizer_psnr(r.output, "dec"), 0) << r.output;
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

TEST(Train, InitPartialCopiesMatchingTensorsAndKeepsTheRestFresh) {
  const fs::path dir = test::fresh_dir("train_partial");
  // An older model: the plain tokenizer with other latent channels, random everywhere (a fresh
  // init has zero gates, which would make "copied" and "fresh" look alike).
  model::ModelConfig old_c = model::named_config("tiny");
  old_c.latent_channels = 6;
  old_c.ae_res_blocks = 0;
  const std::string init = (dir / "old.safetensors").string();
  model::init_model_file(old_c, 3, init);
  model::TensorFile tf = model::read_safetensors(init);
  at::manual_seed(8);
  for (auto& [name, t] : tf.tensors) t = at::randn(t.sizes()).to(t.scalar_type());
  model::write_safetensors(init, tf.tensors, tf.metadata);
  // No steps: the exported model is the one --init-partial built.
  const fs::path run = dir / "run";
  auto r = run_cli("train --device cpu --config tiny --init " + init + " --init-partial --out " + run.string() +
                   " --stages df --df-steps 0 --batch 2 --clip-frames 8 --data-threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto from = model::read_safetensors(init).tensors, got = model::read_safetensors((run / "model.safetensors").string()).tensors;
  const model::ModelConfig tiny = model::named_config("tiny");
  int copied = 0;
  for (const auto& [name, t] : got)  // latent_scale goes only with the whole encoder it belongs to
    copied += name != "tokenizer.latent_scale" && from.count(name) && from.at(name).sizes() == t.sizes();
  EXPECT_NE(r.output.find("init: copied " + std::to_string(copied) + " of " + std::to_string(got.size()) + " tensors"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find(std::to_string(got.size() - copied) + " kept their fresh init: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("tokenizer.encoder.* ("), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("dit.embed.weight"), std::string::npos) << r.output;
  // A transformer block weight came over bit for bit; what did not fit is the new config's.
  EXPECT_TRUE(at::equal(got.at("dit.blocks.1.fc1.weight"), from.at("dit.blocks.1.fc1.weight")));
  EXPECT_EQ(got.at("dit.embed.weight").sizes(), (std::vector<int64_t>{tiny.width, tiny.latent_channels}));
  EXPECT_TRUE(got.count("tokenizer.encoder.conv_in.weight"));
  // A fresh block's second conv is zero: the tokenizer was built, not copied.
  EXPECT_EQ(got.at("tokenizer.encoder.mid_res0.conv2.weight").abs().max().item<float>(), 0.f);
  r = run_cli("model info " + (run / "model.safetensors").string());
  EXPECT_NE(r.output.find("latents " + std::to_string(tiny.latent_grid()) + "x" + std::to_string(tiny.latent_grid()) + "x" + std::to_string(tiny.latent_channels)), std::string::npos) << r.output;
  // Without --init it means nothing.
  r = run_cli("train --device cpu --config tiny --init-partial --out " + (dir / "bad").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("--init-partial needs --init"), std::string::npos) << r.output;
  fs::remove_all(dir);
}

// Diffusion forcing with self-made context (--df-self-context 1: every step remakes its context
// chunks with the model, no gradient; with clean prefixes on half the clips): the phase runs on
// every step (the profile times it), the loss stays finite, and the model comes out loadable.
TEST(Train, SelfMadeContextRunsEveryStepAndTrains) {
  const fs::path out = fs::temp_directory_path() / ("sw_train_self_" + std::to_string(::getpid()));
  fs::remove_all(out);
  auto r = run_cli("train --config tiny --device cpu --stages df --df-steps 6 --batch 2 --clip-frames 8 --log-every 3 --data-threads 1 --profile"
                   " --df-self-context 1 --df-self-min-level 0.2 --df-self-max-level 0.6 --df-self-steps 2 --df-clean-prefix 0.5 --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("self-context"), std::string::npos) << "the profile names the self-made context's phase:\n" << r.output;
  const auto lines = csv_lines(out / "loss.csv");
  ASSERT_EQ(lines.size(), 3u) << "header + 2 logged steps";
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string loss = lines[i].substr(lines[i].find(',', lines[i].find(',') + 1) + 1);
    const double v = std::stod(loss);
    EXPECT_TRUE(std::isfinite(v) && v > 0) << lines[i];
  }
  EXPECT_EQ(run_cli("model info " + (out / "model.safetensors").string()).exit_code, 0);
  // Off (the default): no such phase.
  fs::remove_all(out);
  r = run_cli("train --config tiny --device cpu --stages df --df-steps 3 --batch 2 --clip-frames 8 --log-every 3 --data-threads 1 --profile --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("self-context"), std::string::npos) << r.output;
  fs::remove_all(out);
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
  EXPECT_TRUE(test::rejected_with("train --agents explorer,look_bak --out /tmp/sw_train_bad", "sparseworld: train: agents 'look_bak' is not an agent kind"));
  EXPECT_TRUE(test::rejected_with("train --agents , --out /tmp/sw_train_bad", "sparseworld: train: agents ',' names no agent kind"));
  EXPECT_TRUE(test::rejected_with("train --df-self-min-level 0.8 --df-self-max-level 0.4 --out /tmp/sw_train_bad", "df_self_min_level/df_self_max_level"));
  EXPECT_TRUE(test::rejected_with("train --df-self-context 0.5 --df-context-share 0 --out /tmp/sw_train_bad",
                                  "df_self_context needs context chunks to remake"));
  for (const char* flag : {"--context-noise 0.9", "--df-context-share 1.5", "--sf-rollout-chunks -1", "--sf-sample-steps 0", "--anchor-frame 2",
                           "--df-self-context 1.5", "--df-self-steps 0", "--df-self-max-level 2", "--df-clean-prefix -0.1"}) {
    r = run_cli(std::string("train ") + flag + " --out /tmp/sw_train_bad");
    EXPECT_NE(r.exit_code, 0) << flag;
    EXPECT_NE(r.output.find(std::string(flag).substr(0, std::string(flag).find(' '))), std::string::npos) << r.output;
  }
}

// The clips' agents are the kinds asked for, in about the shares asked for (a kind named twice
// plays about twice as many clips), and every kind when none is asked for.
TEST(Train, ClipSourcePlaysTheAgentKindsAskedFor) {
  auto agents_of = [](const std::vector<std::string>& kinds, int clips) {
    train::ClipSourceParams p;
    p.frames = 2;
    p.size = 32;
    p.max_warmup = 0;
    p.clips_per_world = 1;  // a new agent draw for every clip
    p.agents = kinds;
    train::ClipSource source(p);
    std::map<std::string, int> seen;
    for (int i = 0; i < clips; ++i) ++seen[nlohmann::json::parse(source.pop().metadata_json).at("agent").get<std::string>()];
    return seen;
  };
  const auto weighted = agents_of({"look_back", "look_back", "explorer"}, 300);
  ASSERT_EQ(weighted.size(), 2u);
  // ~200 / ~100 expected (sd ~8); equal shares (150 / 150) would fail both bounds.
  EXPECT_GT(weighted.at("look_back"), 170);
  EXPECT_LT(weighted.at("explorer"), 130);
  EXPECT_GT(weighted.at("explorer"), 60);
  EXPECT_GT(weighted.at("look_back"), weighted.at("explorer"));
  EXPECT_EQ(agents_of({}, 200).size(), agent_names().size());
}

}  // namespace
}  // namespace sw
