// Reference executor: runs any Plan with plain libtorch ops (gather the planned KV blocks, one
// softmax in float32) on CPU or CUDA. Returns the output, the log-sum-exp per query token and the
// attention mass each KV block received (summed over query tokens). Kernels are checked against it.
// Test: tests/attention/test_attention_core.cpp (ExecutorTest.*).
#pragma once

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

}  // namespace sw::attn
