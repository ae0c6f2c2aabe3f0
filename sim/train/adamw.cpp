// AdamW (see adamw.h).
#include "adamw.h"

#include <torch/nn.h>

#include <map>

#include "../model/safetensors.h"
#include "torch_compat.h"

namespace sw::train {

AdamW::AdamW(std::vector<std::pair<std::string, at::Tensor>> params, const AdamWParams& p) : p_(p) {
  for (auto& [name, t] : params) {
    names_.push_back(name);
    params_.push_back(t);
    m_.push_back(at::zeros_like(t, at::MemoryFormat::Contiguous));
    v_.push_back(at::zeros_like(t, at::MemoryFormat::Contiguous));
  }
  if (params_.empty()) throw std::invalid_argument("AdamW: no parameters");
  step_ = at::zeros({1}, params_.front().options().dtype(at::kFloat));
}

void AdamW::zero_grad() {
  for (auto& t : params_) t.mutable_grad() = at::Tensor();
}

std::vector<at::Tensor> AdamW::grads() const {
  std::vector<at::Tensor> g;
  for (const auto& t : params_) {
    // Parameters the loss did not reach get a zero gradient (AdamW still decays them).
    if (!t.grad().defined()) t.mutable_grad() = at::zeros_like(t);
    g.push_back(t.grad());
  }
  return g;
}

void AdamW::clip_grad_norm(double max_norm) {
  torch::NoGradGuard ng;
  const std::vector<at::Tensor> g = grads();
  const at::Tensor total = at::stack(at::_foreach_norm(g)).norm();
  const at::Tensor coef = (max_norm / (total + 1e-6)).clamp_max(1.0);
  for (const auto& x : g) x.mul_(coef);
}

void AdamW::step(double lr) {
  torch::NoGradGuard ng;
  step_.add_(1.0);
  const std::vector<at::Tensor> g = grads();
  const std::vector<at::Tensor> steps(params_.size(), step_);
  if (compat::fused_adamw(params_, g, m_, v_, steps, lr, p_.beta1, p_.beta2, p_.weight_decay, p_.eps)) return;
  const at::Tensor bc1 = 1 - at::pow(p_.beta1, step_), bc2 = 1 - at::pow(p_.beta2, step_);
  for (size_t i = 0; i < params_.size(); ++i) {
    params_[i].mul_(1 - lr * p_.weight_decay);
    m_[i].mul_(p_.beta1).add_(g[i], 1 - p_.beta1);
    v_[i].mul_(p_.beta2).addcmul_(g[i], g[i], 1 - p_.beta2);
    params_[i].addcdiv_(m_[i] / bc1, (v_[i] / bc2).sqrt_().add_(p_.eps), -lr);
  }
}

void AdamW::save(const std::string& path) const {
  std::map<std::string, at::Tensor> t{{"step", step_.cpu()}};
  for (size_t i = 0; i < names_.size(); ++i) {
    t["exp_avg." + names_[i]] = m_[i].cpu();
    t["exp_avg_sq." + names_[i]] = v_[i].cpu();
  }
  model::write_safetensors(path, t, {});
}

void AdamW::load(const std::string& path) {
  const model::TensorFile tf = model::read_safetensors(path);
  auto get = [&](const std::string& key, const at::Tensor& like) {
    auto it = tf.tensors.find(key);
    if (it == tf.tensors.end() || it->second.sizes() != like.sizes())
      throw std::runtime_error("optimizer state '" + path + "' has no tensor '" + key + "' of the parameter's shape");
    return it->second.to(like.device(), like.scalar_type());
  };
  torch::NoGradGuard ng;
  step_.copy_(get("step", step_));
  for (size_t i = 0; i < names_.size(); ++i) {
    m_[i].copy_(get("exp_avg." + names_[i], m_[i]));
    v_[i].copy_(get("exp_avg_sq." + names_[i], v_[i]));
  }
}

}  // namespace sw::train
