// Reference block-sparse attention over a padded-CSR plan. Memory is O(H * Qb * K * B * D) for the
// gathered blocks, which is what makes sparse plans cheaper here too. No host synchronisation.
// The PBSA dispatch lives in executor_pbsa.cpp. Test: tests/attention (ExecutorTest.*).
#include "executor.h"

#include <limits>

namespace sw::attn {

ExecResult execute_plan(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& count,
                        const Plan& plan, double scale, bool want_mass) {
  if (pbsa_eligible(q, k)) return execute_plan_pbsa(q, k, v, count, plan, scale, want_mass);
  return execute_plan_reference(q, k, v, count, plan, scale, want_mass);
}

ExecResult execute_plan_reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& count,
                                  const Plan& plan, double scale, bool want_mass) {
  const int64_t H = q.size(0), Q = q.size(1), B = q.size(2), D = q.size(3), N = k.size(1);
  const int64_t K = plan.index.size(2);
  const at::Tensor flat = plan.index.reshape({H, Q * K});
  auto gather_blocks = [&](const at::Tensor& x) {
    return x.reshape({H, N, B * D}).gather(1, flat.unsqueeze(-1).expand({H, Q * K, B * D})).to(at::kFloat)
        .view({H, Q, K * B, D});
  };
  const at::Tensor kg = gather_blocks(k), vg = gather_blocks(v);
  const at::Tensor c = count.gather(1, flat.unsqueeze(-1).expand({H, Q * K, B})).view({H, Q, K, B});
  const at::Tensor col = at::arange(K, plan.count.options()).view({1, 1, K, 1});
  const at::Tensor live = (col < plan.count.view({H, Q, 1, 1})) & c.gt(0);  // [H, Q, K, B]
  const at::Tensor bias = c.clamp_min(1e-30).log().masked_fill(live.logical_not(), -std::numeric_limits<float>::infinity());
  at::Tensor logits = at::matmul(q.to(at::kFloat), kg.transpose(2, 3)).mul_(scale);  // [H, Q, B, K*B]
  logits.add_(bias.view({H, Q, 1, K * B}));
  ExecResult r;
  r.lse = at::logsumexp(logits, -1);                 // [H, Q, B]
  const at::Tensor p = (logits - r.lse.unsqueeze(-1)).exp_();
  r.out = at::matmul(p, vg);                         // [H, Q, B, D]
  if (want_mass) {
    const at::Tensor entry = p.view({H, Q, B, K, B}).sum({2, 4});  // [H, Q, K]; padding has p = 0
    r.mass = at::zeros({H, N}, entry.options()).scatter_add_(1, flat, entry.reshape({H, Q * K}));
  }
  return r;
}

}  // namespace sw::attn
