// Plan executor: runs any Plan on CPU or CUDA. Returns the output, the log-sum-exp per query token
// and the attention mass each KV block received (summed over query tokens). Two implementations:
// the reference (plain libtorch ops: gather the planned KV blocks, one softmax in float32) and the
// PBSA kernel (kernels/, sparseworld/pbsa.h), which execute_plan uses for CUDA bf16/fp16 inputs of
// a shape it supports (head dim 64/128, block 16/32/64/128) unless the reference is forced:
// SW_ATTN_REFERENCE=1 in the environment or force_reference_executor(true).
// One difference by design: a row with no live KV token gets out = 0, lse = -inf from PBSA, NaN
// from the reference (no method produces such a row: every query block sees its own chunk).
// Test: tests/attention/test_attention_core.cpp (ExecutorTest.*), tests/attention/test_pbsa_dispatch.cpp (gpu).
#pragma once

#include <string>

#include <ATen/ATen.h>

#include "plan.h"

namespace sw::attn {

struct ExecResult {
  at::Tensor out;   // [H, Qb, B, D] float32
  at::Tensor lse;   // [H, Qb, B] float32 (natural log, scaled logits)
  at::Tensor mass;  // [H, N] float32, sum over query tokens of the probability given to each block
};

// q: [H, Qb, B, D]; k, v: [H, N, B, D]; count: [H, N, B] float (tokens merged into each entry,
// 0 = empty, masked); logits are scale * q.k + log(count).
ExecResult execute_plan(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& count,
                        const Plan& plan, double scale, bool want_mass);

// The libtorch reference, whatever the inputs.
ExecResult execute_plan_reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& count,
                                  const Plan& plan, double scale, bool want_mass);

// Whether execute_plan would run PBSA for these q, k (v like k); `why` says why not.
bool pbsa_eligible(const at::Tensor& q, const at::Tensor& k, std::string* why = nullptr);
// Process-wide switch to the reference (end-to-end checks of the engine); SW_ATTN_REFERENCE=1
// in the environment forces it too.
void force_reference_executor(bool on);
bool reference_executor_forced();

// PBSA through the kernel; requires pbsa_eligible (throws otherwise). executor_pbsa.cpp.
ExecResult execute_plan_pbsa(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& count,
                             const Plan& plan, double scale, bool want_mass);

}  // namespace sw::attn
