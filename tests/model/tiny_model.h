// A tiny randomly initialised model file shared by the neural-world tests, with every weight
// random (a fresh init has zero adaLN gates, i.e. identity blocks, which would make attention
// comparisons vacuous).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include "model/model_io.h"
#include "model/safetensors.h"

namespace sw {

inline const std::string& tiny_model() {
  static const std::string path = [] {
    namespace fs = std::filesystem;
    const fs::path d = fs::path(testing::TempDir()) / ("sw_nw_" + std::to_string(::getpid()));
    fs::create_directories(d);
    const std::string p = (d / "tiny.safetensors").string();
    model::ModelConfig c = model::named_config("tiny");
    model::init_model_file(c, 7, p);
    // A random init leaves adaLN gates at zero (identity blocks); give every weight a random
    // value so attention actually shapes the output and the comparisons below mean something.
    model::TensorFile tf = model::read_safetensors(p);
    at::manual_seed(3);
    for (auto& [k, t] : tf.tensors) t = (at::randn(t.sizes()) * 0.3).to(t.scalar_type());
    model::write_safetensors(p, tf.tensors, tf.metadata);
    return p;
  }();
  return path;
}

inline at::Tensor random_actions(int64_t n, int seed) {
  at::manual_seed(seed);
  return at::rand({n, 5}) * 2 - 1;
}

inline double rel_err(const at::Tensor& a, const at::Tensor& b) {
  return ((a.to(at::kFloat) - b.to(at::kFloat)).norm() / b.to(at::kFloat).norm()).item<double>();
}

}  // namespace sw
