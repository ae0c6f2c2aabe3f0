// Sparse-forcing's kernel paths: checks tensors once at this boundary (device, dtype, contiguity,
// shapes) and hands raw pointers to kernels/ (sparseworld/block_topk.h, memory_update.h) on
// torch's current stream. No host synchronisation: the plan, the cache update and the counters
// stay on the device. Built only with CUDA libtorch and nvcc (SW_TORCH_CUDA, SW_KERNELS_CUDA);
// elsewhere nothing is eligible and the policy keeps its libtorch path.
// Test: tests/attention/test_pbsa_dispatch.cpp (gpu label: kernels vs libtorch path, end to end).
#include <stdexcept>
#include <string>

#include "executor.h"
#include "policies.h"

#if defined(SW_TORCH_CUDA) && defined(SW_KERNELS_CUDA)
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "sparseworld/block_topk.h"
#include "sparseworld/memory_update.h"
#define SW_SF_KERNELS_AVAILABLE 1
#endif

namespace sw::attn {

#ifdef SW_SF_KERNELS_AVAILABLE

namespace {

kernels::PbsaDtype dtype_of(const at::Tensor& t) {
  return t.scalar_type() == at::kHalf ? kernels::PbsaDtype::kFp16 : kernels::PbsaDtype::kBf16;
}

void check(bool ok, const char* fn, const std::string& what) {
  if (!ok) throw std::invalid_argument(std::string(fn) + ": " + what);
}

}  // namespace

bool sparse_forcing_kernels_eligible(const at::Tensor& t, std::string* why) {
  auto no = [&](const std::string& w) {
    if (why) *why = w;
    return false;
  };
  if (reference_executor_forced()) return no("reference forced (SW_ATTN_REFERENCE / force_reference_executor)");
  if (!t.is_cuda()) return no("tensors are not on a CUDA device");
  if (t.scalar_type() != at::kBFloat16 && t.scalar_type() != at::kHalf) return no("dtype is not bf16 or fp16");
  return true;
}

Plan plan_topk_kernel(const at::Tensor& qblocks, const at::Tensor& kpool_in, const at::Tensor& candidates,
                      const at::Tensor& fixed, int64_t top_k, int64_t width) {
  const char* fn = "plan_topk_kernel";
  check(sparse_forcing_kernels_eligible(qblocks), fn, "q blocks not eligible");
  check(qblocks.dim() == 4, fn, "q blocks must be [H, Qb, B, D]");
  const int64_t H = qblocks.size(0), Q = qblocks.size(1), B = qblocks.size(2), D = qblocks.size(3), N = kpool_in.size(1);
  check(kpool_in.dim() == 3 && kpool_in.size(0) == H && kpool_in.size(2) == D, fn, "kpool must be [H, N, D]");
  check(candidates.dim() == 2 && candidates.size(0) == H && candidates.size(1) == N, fn, "candidates must be [H, N]");
  check(fixed.dim() == 3 && fixed.size(0) == H && fixed.size(1) == Q && fixed.size(2) == N, fn, "fixed must be [H, Qb, N]");
  kernels::BlockTopkParams p;
  p.heads = static_cast<int>(H);
  p.q_blocks = static_cast<int>(Q);
  p.kv_blocks = static_cast<int>(N);
  p.block_tokens = static_cast<int>(B);
  p.head_dim = static_cast<int>(D);
  p.top_k = static_cast<int>(top_k);
  p.plan_width = static_cast<int>(width);
  p.dtype = dtype_of(qblocks);
  kernels::validate(p);
  if (!kernels::block_topk_cuda_supports(p)) return Plan{};  // N > 4096: the caller takes the libtorch path

  const c10::cuda::CUDAGuard guard(qblocks.device());
  const at::Tensor q = qblocks.contiguous(), kpool = kpool_in.to(at::kFloat).contiguous();
  const at::Tensor cand = candidates.to(at::kBool).contiguous(), fix = fixed.to(at::kBool).contiguous();
  const auto lopt = q.options().dtype(at::kLong);
  Plan plan;
  plan.index = at::empty({H, Q, width}, lopt);
  plan.count = at::empty({H, Q}, lopt);
  plan.keep = at::empty({H, Q, N}, lopt.dtype(at::kBool));
  plan.num_kv_blocks = N;
  kernels::BlockTopkArgs a;
  a.q = reinterpret_cast<const uint16_t*>(q.data_ptr());
  a.kpool = kpool.data_ptr<float>();
  a.candidate = reinterpret_cast<const uint8_t*>(cand.data_ptr<bool>());
  a.always = reinterpret_cast<const uint8_t*>(fix.data_ptr<bool>());
  a.plan_index = plan.index.data_ptr<int64_t>();
  a.plan_count = plan.count.data_ptr<int64_t>();
  a.keep = reinterpret_cast<uint8_t*>(plan.keep.data_ptr<bool>());
  kernels::block_topk_cuda(a, p, at::cuda::getCurrentCUDAStream().stream());
  return plan;
}

bool sparse_forcing_evict_kernel(PagedKVCache& cache, int64_t base, int64_t n, const SparseForcingParams& sp,
                                 RecallTracker* tracker, CacheCounters& counters) {
  const char* fn = "sparse_forcing_evict_kernel";
  check(sparse_forcing_kernels_eligible(cache.k), fn, "cache not eligible");
  const int64_t H = cache.k.size(0), P = cache.k.size(1), B = cache.k.size(2), D = cache.k.size(3);
  // In place: the cache's own storage, so it must already be the kernel's layout (it is: the
  // cache allocates contiguous tensors and grows them with cat).
  check(cache.k.is_contiguous() && cache.v.is_contiguous() && cache.v.scalar_type() == cache.k.scalar_type(), fn,
        "K and V must be contiguous and of one dtype");
  check(cache.count.is_contiguous() && cache.count.scalar_type() == at::kFloat, fn, "count must be contiguous float");
  check(cache.kpool.is_contiguous() && cache.kpool.scalar_type() == at::kFloat, fn, "kpool must be contiguous float");
  check(cache.salience.is_contiguous() && cache.salience.scalar_type() == at::kFloat, fn, "salience must be contiguous float");
  check(cache.origin.is_contiguous() && cache.origin.scalar_type() == at::kLong, fn, "origin must be contiguous int64");
  for (const at::Tensor* c : {&counters.preserved_blocks, &counters.merged_blocks, &counters.dropped_blocks})
    check(c->numel() == 1 && c->scalar_type() == at::kLong && c->device() == cache.k.device(), fn, "counters must be int64 scalars on the cache's device");
  kernels::MemoryUpdateParams p;
  p.heads = static_cast<int>(H);
  p.slots = static_cast<int>(P);
  p.block_tokens = static_cast<int>(B);
  p.head_dim = static_cast<int>(D);
  p.evict_base = static_cast<int>(base);
  p.evict_blocks = static_cast<int>(n);
  p.memory_base = static_cast<int>(cache.memory_base());
  p.memory_slots = static_cast<int>(cache.memory_slots());
  p.use_memory = sp.use_memory;
  // The libtorch path compares float tensors with these double scalars in float.
  p.preserve_min_mass = static_cast<float>(sp.preserve_min_mass);
  p.merge_threshold = static_cast<float>(sp.merge_threshold);
  p.max_count = static_cast<float>(sp.max_count);
  p.dtype = dtype_of(cache.k);
  kernels::validate(p);
  if (!kernels::memory_update_cuda_supports(p)) return false;  // M > 1024: the caller takes the libtorch path

  const c10::cuda::CUDAGuard guard(cache.k.device());
  at::Tensor action, target;
  if (tracker) {  // the tracker's remaps need each (block, head) decision
    action = at::empty({n, H}, cache.k.options().dtype(at::kInt));
    target = at::empty({n, H}, cache.k.options().dtype(at::kLong));
  }
  kernels::MemoryUpdateArgs a;
  a.k = reinterpret_cast<uint16_t*>(cache.k.data_ptr());
  a.v = reinterpret_cast<uint16_t*>(cache.v.data_ptr());
  a.count = cache.count.data_ptr<float>();
  a.kpool = cache.kpool.data_ptr<float>();
  a.salience = cache.salience.data_ptr<float>();
  a.origin = cache.origin.data_ptr<int64_t>();
  a.action = tracker ? action.data_ptr<int32_t>() : nullptr;
  a.target = tracker ? target.data_ptr<int64_t>() : nullptr;
  a.preserved = counters.preserved_blocks.data_ptr<int64_t>();
  a.merged = counters.merged_blocks.data_ptr<int64_t>();
  a.dropped = counters.dropped_blocks.data_ptr<int64_t>();
  kernels::memory_update_cuda(a, p, at::cuda::getCurrentCUDAStream().stream());
  if (tracker && p.use_memory && p.memory_slots > 0) {
    // Same remaps, same order as sparse_forcing_evict_block (they depend only on the decisions).
    for (int64_t e = 0; e < n; ++e) {
      const at::Tensor act = action.select(0, e), tgt = target.select(0, e);
      const at::Tensor preserve = act.eq(static_cast<int64_t>(kernels::kMemPreserved)), write = preserve | act.eq(static_cast<int64_t>(kernels::kMemMerged));
      tracker->remap(tgt, at::full_like(tgt, -1), preserve);
      tracker->remap(at::full_like(tgt, base + e), tgt, write);
    }
  }
  return true;
}

#else  // no CUDA libtorch or no nvcc: the libtorch paths only

bool sparse_forcing_kernels_eligible(const at::Tensor&, std::string* why) {
  if (why) *why = "this build has no sparse-forcing kernels (needs CUDA libtorch and nvcc)";
  return false;
}

Plan plan_topk_kernel(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, int64_t, int64_t) {
  throw std::runtime_error("plan_topk_kernel: this build has no CUDA kernels");
}

bool sparse_forcing_evict_kernel(PagedKVCache&, int64_t, int64_t, const SparseForcingParams&, RecallTracker*, CacheCounters&) {
  throw std::runtime_error("sparse_forcing_evict_kernel: this build has no CUDA kernels");
}

#endif

}  // namespace sw::attn
