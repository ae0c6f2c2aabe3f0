// execute_plan's PBSA path: checks the tensors once at this boundary (device, dtype, contiguity,
// shapes), then hands raw pointers to the kernel (kernels/, sparseworld/pbsa.h) on torch's current
// stream, with its workspace from torch's caching allocator. No host synchronisation.
// Built only with CUDA libtorch and nvcc (SW_TORCH_CUDA, SW_KERNELS_CUDA); elsewhere PBSA is never
// eligible and execute_plan always runs the reference.
// Test: tests/attention/test_pbsa_dispatch.cpp (gpu label; every method, PBSA vs reference).
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "executor.h"

#if defined(SW_TORCH_CUDA) && defined(SW_KERNELS_CUDA)
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "sparseworld/pbsa.h"
#define SW_PBSA_AVAILABLE 1
#endif

namespace sw::attn {

namespace {

std::atomic<bool>& forced_flag() {
  static std::atomic<bool> flag{[] {
    const char* e = std::getenv("SW_ATTN_REFERENCE");
    return e != nullptr && std::strcmp(e, "") != 0 && std::strcmp(e, "0") != 0;
  }()};
  return flag;
}

}  // namespace

void force_reference_executor(bool on) { forced_flag().store(on); }
bool reference_executor_forced() { return forced_flag().load(); }

#ifdef SW_PBSA_AVAILABLE

namespace {

kernels::PbsaParams params_for(const at::Tensor& q, const at::Tensor& k, int64_t width, double scale, bool want_mass) {
  kernels::PbsaParams p;
  p.heads = static_cast<int>(q.size(0));
  p.q_blocks = static_cast<int>(q.size(1));
  p.block_tokens = static_cast<int>(q.size(2));
  p.head_dim = static_cast<int>(q.size(3));
  p.kv_blocks = static_cast<int>(k.size(1));
  p.plan_width = static_cast<int>(width);
  p.scale = static_cast<float>(scale);
  p.want_mass = want_mass;
  p.dtype = q.scalar_type() == at::kHalf ? kernels::PbsaDtype::kFp16 : kernels::PbsaDtype::kBf16;
  return p;
}

}  // namespace

bool pbsa_eligible(const at::Tensor& q, const at::Tensor& k, std::string* why) {
  auto no = [&](const std::string& w) {
    if (why) *why = w;
    return false;
  };
  if (reference_executor_forced()) return no("reference executor forced (SW_ATTN_REFERENCE / force_reference_executor)");
  if (!q.is_cuda() || !k.is_cuda()) return no("tensors are not on a CUDA device");
  if (q.scalar_type() != at::kBFloat16 && q.scalar_type() != at::kHalf) return no("dtype is not bf16 or fp16");
  if (k.scalar_type() != q.scalar_type()) return no("k dtype differs from q dtype");
  if (q.dim() != 4 || k.dim() != 4) return no("q and k must be [H, blocks, B, D]");
  if (k.size(0) != q.size(0) || k.size(2) != q.size(2) || k.size(3) != q.size(3)) return no("q and k shapes disagree");
  kernels::PbsaParams p = params_for(q, k, 1, 1.0, false);
  return kernels::pbsa_cuda_supports(p, why);
}

ExecResult execute_plan_pbsa(const at::Tensor& q_in, const at::Tensor& k_in, const at::Tensor& v_in, const at::Tensor& count_in,
                             const Plan& plan, double scale, bool want_mass) {
  std::string why;
  if (!pbsa_eligible(q_in, k_in, &why)) throw std::invalid_argument("execute_plan_pbsa: " + why);
  const int64_t H = q_in.size(0), Q = q_in.size(1), B = q_in.size(2), D = q_in.size(3), N = k_in.size(1);
  const int64_t K = plan.index.size(2);
  auto check = [](bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(std::string("execute_plan_pbsa: ") + what);
  };
  check(v_in.sizes() == k_in.sizes() && v_in.scalar_type() == k_in.scalar_type(), "v must match k in shape and dtype");
  check(count_in.dim() == 3 && count_in.size(0) == H && count_in.size(1) == N && count_in.size(2) == B, "count must be [H, N, B]");
  check(plan.index.dim() == 3 && plan.index.size(0) == H && plan.index.size(1) == Q && K >= 1, "plan.index must be [H, Qb, K >= 1]");
  check(plan.count.dim() == 2 && plan.count.size(0) == H && plan.count.size(1) == Q, "plan.count must be [H, Qb]");
  for (const at::Tensor* t : {&v_in, &count_in, &plan.index, &plan.count})
    check(t->device() == q_in.device(), "all tensors must be on q's device");

  const c10::cuda::CUDAGuard guard(q_in.device());
  // One check at the boundary: contiguous, the kernel's dtypes (copies only when not already so).
  // The dtype is tested here rather than left to .to(): at our model's shapes the whole call is a
  // few microseconds of GPU work, and each no-op .to() is a dispatcher round trip on the host.
  auto as = [](const at::Tensor& t, at::ScalarType type) { return t.scalar_type() == type ? t.contiguous() : t.to(type).contiguous(); };
  const at::Tensor q = q_in.contiguous(), k = k_in.contiguous(), v = v_in.contiguous();
  const at::Tensor count = as(count_in, at::kFloat);
  const at::Tensor index = as(plan.index, at::kLong), rows = as(plan.count, at::kLong);
  const kernels::PbsaParams p = params_for(q, k, K, scale, want_mass);

  const auto fopt = q.options().dtype(at::kFloat);
  ExecResult r;
  r.out = at::empty({H, Q, B, D}, fopt);
  r.lse = at::empty({H, Q, B}, fopt);
  if (want_mass) r.mass = at::empty({H, N}, fopt);
  const size_t ws_bytes = kernels::pbsa_workspace_bytes(p);
  at::Tensor ws;
  if (ws_bytes > 0) ws = at::empty({static_cast<int64_t>(ws_bytes)}, q.options().dtype(at::kByte));

  kernels::PbsaArgs a;
  a.q = reinterpret_cast<const uint16_t*>(q.data_ptr());
  a.k = reinterpret_cast<const uint16_t*>(k.data_ptr());
  a.v = reinterpret_cast<const uint16_t*>(v.data_ptr());
  a.count = count.data_ptr<float>();
  a.plan_index = index.data_ptr<int64_t>();
  a.plan_count = rows.data_ptr<int64_t>();
  a.out = r.out.data_ptr<float>();
  a.lse = r.lse.data_ptr<float>();
  a.mass = want_mass ? r.mass.data_ptr<float>() : nullptr;
  a.workspace = ws_bytes > 0 ? ws.data_ptr() : nullptr;
  a.workspace_bytes = ws_bytes;
  kernels::pbsa_forward_cuda(a, p, at::cuda::getCurrentCUDAStream().stream());
  return r;
}

#else  // no CUDA libtorch or no nvcc: the reference is the only executor

bool pbsa_eligible(const at::Tensor&, const at::Tensor&, std::string* why) {
  if (why) *why = "this build has no PBSA kernel (needs CUDA libtorch and nvcc)";
  return false;
}

ExecResult execute_plan_pbsa(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, const Plan&, double,
                             bool) {
  throw std::runtime_error("execute_plan_pbsa: this build has no PBSA kernel (needs CUDA libtorch and nvcc)");
}

#endif

}  // namespace sw::attn
