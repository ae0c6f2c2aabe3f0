// Plan: for each (head, query block of the chunk) the KV blocks to attend to, CSR style with a
// fixed row width so that building and running it needs no host synchronisation: row (h, qb) holds
// count[h, qb] ascending unique indices into the KV block space [cache slots P | chunk blocks C],
// padded with its first index. Merged entries need no separate plan bias: every cached token
// carries its count, and the executor adds log(count) (PagedKVCache::count).
// Test: tests/attention/test_attention_core.cpp (PlanTest.*, every method's plan is checked).
#pragma once

#include <string>

#include <ATen/ATen.h>

namespace sw::attn {

struct Plan {
  at::Tensor index;  // [H, Qb, K] int64
  at::Tensor count;  // [H, Qb] int64
  at::Tensor keep;   // [H, Qb, N] bool, the same set as a mask (metrics use it)
  int64_t num_kv_blocks = 0;  // N
};

// Builds the padded CSR rows from a keep mask; width is a host-known upper bound on any row's
// count (rows with more are a policy bug; check_plan catches them in tests).
Plan plan_from_mask(const at::Tensor& keep, int64_t width);

// Host-side check used by tests: indices in range, sorted, unique, pointing at valid blocks
// (valid: [H, N] bool, so nothing from the future or an empty slot), count <= width and equal to
// the keep mask. Returns "" when fine, else what is wrong.
std::string check_plan(const Plan& plan, const at::Tensor& valid);

}  // namespace sw::attn
