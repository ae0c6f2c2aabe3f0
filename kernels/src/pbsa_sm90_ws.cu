// PBSA forward for Hopper (sm_90a), blocks of 128 tokens: the contract of pbsa_sm90.cu (plan
// rows of KV blocks, log-count bias, split-KV partials, per-tile mass log-sums), with the K/V traffic
// of a query block shared by its two 64-row query tiles and the loads taken off the math warps.
//   - One CTA per (head, pair of 64-row query tiles of one query block[, KV split]): two consumer
//     warpgroups (warps 0-7), one per query tile, and a producer warpgroup (warps 8-11; one thread
//     works, the warpgroup exists so setmaxnreg can hand its registers to the consumers). Both query tiles of
//     a block follow the same plan row, so every K/V tile is loaded once for 128 query rows: half the
//     L2 -> shared traffic of one CTA per query tile (kernels/README.md, "Shared-memory budget").
//   - The producer's lane 0 issues TMA tile loads (128-byte swizzle: the box lands in the sw128
//     layout the wgmma descriptors expect) for K and V, and a bulk copy for the tile's counts, into
//     a ring of STAGES stages; `full` mbarriers carry the transaction bytes, consumers release a
//     stage through its `empty` mbarrier (every consumer thread arrives). Q comes by TMA too.
//   - Consumers run the wgmma step of pbsa_sm90.cu (Q.K^T with Q in registers, softmax, P.V)
//     without any CTA-wide barrier, so the two warpgroups drift apart and one's softmax overlaps the
//     other's GEMMs; with OVERLAP (kAuto's choice) each also issues the next tile's Q.K^T with this
//     tile's P.V and runs the softmax while the P.V is in flight (FlashAttention-3).
//   - The tensor maps are built per call on the host (cuTensorMapEncodeTiled through the runtime's
//     driver entry point: no link to libcuda).
// Built only for sm_90a; pbsa.cu dispatches here (PbsaKernel::kWgmmaWs[Overlap]) at block_tokens 128
// (pbsa_wgmma_ws_available; the kernel itself takes any multiple of 128).
// Test: tests/kernels/test_pbsa.cpp (gpu label) runs every kernel against the CPU reference.
#include <cuda.h>
#include <cudaTypedefs.h>

#include <stdexcept>
#include <string>

#include "cuda_check.h"
#include "pbsa_cta_work.cuh"
#include "pbsa_cuda.h"
#include "pbsa_sm90_layout.h"
#include "pbsa_sm90_ops.cuh"
#include "pbsa_tile_softmax.cuh"

namespace sw::kernels::pbsa {

namespace {

using namespace sm90;

constexpr int kConsumerWarps = 8;  // two warpgroups
// Three warpgroups: two consumers and the producer. A whole producer warpgroup (of which one thread
// works) so that registers can move between them with setmaxnreg: each SM sub-partition holds one
// warp of each warpgroup and 16K registers, so 168 a thread at launch; the producer drops to 40 and
// the consumers rise to 232 (40 + 2 x 232 = 504 <= 512 per lane), which the overlapped pipeline's
// second S/P set needs (at 168 it spilled; FlashAttention-3 splits registers the same way).
constexpr int kWsThreads = (kConsumerWarps + 4) * 32;
constexpr int kProducerRegs = 40;
constexpr int kConsumerRegs = 232;
constexpr int kWsStages = 4;  // 160 KiB at head dim 128: one CTA per SM, which the registers allow anyway

#ifdef SW_SM90_DEVICE
__device__ __forceinline__ void mbar_init(uint32_t bar, uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void mbar_expect_tx(uint32_t bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void mbar_arrive(uint32_t bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}
// Returns once the phase of parity `parity` has completed.
__device__ __forceinline__ void mbar_wait(uint32_t bar, uint32_t parity) {
  uint32_t done = 0;
  do {
    asm volatile(
        "{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n selp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(bar), "r"(parity)
        : "memory");
  } while (!done);
}
// One 64-row x 64-column box of a row-major [rows, D] 16-bit tensor into shared memory.
__device__ __forceinline__ void tma_box(uint32_t dst, const CUtensorMap* map, int col, int row, uint32_t bar) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n" ::"r"(dst),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(col), "r"(row), "r"(bar)
      : "memory");
}
// A kTile x D tile (64 rows from `row`): one box per 64 columns, atom columns kAtomColBytes apart.
template <int D>
__device__ __forceinline__ void tma_tile(uint32_t dst, const CUtensorMap* map, int row, uint32_t bar) {
#pragma unroll
  for (int c = 0; c < D / 64; ++c) tma_box(dst + c * kAtomColBytes, map, c * 64, row, bar);
}
__device__ __forceinline__ void bulk_copy(uint32_t dst, const void* src, uint32_t bytes, uint32_t bar) {
  asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n" ::"r"(dst),
               "l"(src), "r"(bytes), "r"(bar)
               : "memory");
}
#endif

template <class T, int D, int STAGES, bool OVERLAP>
__global__ void __launch_bounds__(kWsThreads, 1)
    pbsa_fwd_sm90_ws_kernel(const KernelArgs args, const __grid_constant__ CUtensorMap tm_q,
                            const __grid_constant__ CUtensorMap tm_k, const __grid_constant__ CUtensorMap tm_v) {
#ifdef SW_SM90_DEVICE
  constexpr int kNTiles = kTile / 8;
  constexpr int kDTiles = D / 8;
  constexpr int kKSteps = D / 16;
  using L = WsLayout<D, STAGES>;
  static_assert(D == 64 || D == 128, "head dim 64 or 128");

  extern __shared__ unsigned char smem_raw[];
  const uint32_t raw = static_cast<uint32_t>(__cvta_generic_to_shared(smem_raw));
  const uint32_t base = (raw + kAtomBytes - 1) & ~uint32_t(kAtomBytes - 1);
  const unsigned char* const base_ptr = smem_raw + (base - raw);

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int B = args.block_tokens;
  const CtaWork<kTile, 2> work(args);  // this CTA: query tiles work.qt and work.qt + 1 of one block
  const int subs = work.subs, hq = work.hq, split = work.split, t_begin = work.t_begin, t_end = work.t_end;
  auto tile_row = [&](int t, bool& ok) { return work.tile_src(args, t, ok); };

  if (tid == 0) {
    for (int s = 0; s < STAGES; ++s) {
      mbar_init(base + L::full(s), 1);                 // the producer's expect_tx arrival
      mbar_init(base + L::empty(s), kConsumerWarps * 32);  // every consumer thread arrives
    }
    mbar_init(base + L::q_full(), 1);
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  __syncthreads();

  const int64_t q_row_pair = work.q_row0;
  if (warp >= kConsumerWarps) {  // producer warpgroup: one thread issues every copy
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(kProducerRegs));
    if (warp == kConsumerWarps && lane == 0 && t_begin < t_end) {
      mbar_expect_tx(base + L::q_full(), 2 * L::kTileBytes);
      tma_tile<D>(base + L::kQ, &tm_q, static_cast<int>(q_row_pair), base + L::q_full());
      tma_tile<D>(base + L::kQ + L::kTileBytes, &tm_q, static_cast<int>(q_row_pair + kTile), base + L::q_full());
      for (int t = t_begin; t < t_end; ++t) {
        const int i = t - t_begin, s = i % STAGES;
        if (i >= STAGES) {
          mbar_wait(base + L::empty(s), ((i / STAGES) - 1) & 1);
          // The consumers read the stage's counts through the generic proxy; the refill writes
          // through the async proxy: order the two (racecheck flagged the count tile without it).
          fence_proxy_async();
        }
        bool ok;
        const int64_t row = tile_row(t, ok);
        mbar_expect_tx(base + L::full(s), 2 * L::kTileBytes + L::kCountBytes);
        tma_tile<D>(base + L::k(s), &tm_k, static_cast<int>(row), base + L::full(s));
        tma_tile<D>(base + L::v(s), &tm_v, static_cast<int>(row), base + L::full(s));
        bulk_copy(base + L::count(s), args.count + row, L::kCountBytes, base + L::full(s));
      }
    }
    return;
  }

  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(kConsumerRegs));
  // Consumers: warpgroup g takes query tile work.qt + g of the block.
  const int g = warp / 4;
  const int qt = work.qt + g;
  const int wrow = (warp & 3) * 16;  // the wgmma accumulator rows of this warp
  const uint32_t sQ = base + L::kQ + g * L::kTileBytes;

  float o[kDTiles][4];
#pragma unroll
  for (int j = 0; j < kDTiles; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.f;
  float s[kNTiles][4];
  float m_run[2] = {-INFINITY, -INFINITY};
  float l_run[2] = {0.f, 0.f};
  // Zeroed first for the reason pbsa_sm90.cu gives (a second definition keeps ptxas from handing
  // the Q registers to other values at head dim 64).
  uint32_t qf[kKSteps][4];
#pragma unroll
  for (int ks = 0; ks < kKSteps; ++ks) qf[ks][0] = qf[ks][1] = qf[ks][2] = qf[ks][3] = 0u;
  if (t_begin < t_end) {
    mbar_wait(base + L::q_full(), 0);
#pragma unroll
    for (int ks = 0; ks < kKSteps; ++ks) ldmatrix_x4(qf[ks], sQ + sw128(wrow + (lane & 15), ks * 2 + (lane >> 4)));
  }

  auto full_wait = [&](int t) {
    const int i = t - t_begin;
    mbar_wait(base + L::full(i % STAGES), (i / STAGES) & 1);
  };
  auto stage_of = [&](int t) { return (t - t_begin) % STAGES; };
  // Descriptors are computed (and pinned by an opaque asm) before the wgmma.fence that opens a
  // pipeline stage: address arithmetic between two wgmmas of one stage defines their inputs, and
  // ptxas then serialises the stage (C7513), which undoes the overlap.
  struct Descs {
    uint64_t k[kKSteps], v[kTile / 16];
  };
  auto descs = [&](int t_qk, int t_pv) {
    Descs d;
#pragma unroll
    for (int ks = 0; ks < kKSteps; ++ks) {
      d.k[ks] = desc_k(base + L::k(stage_of(t_qk)), ks);
      asm volatile("" : "+l"(d.k[ks]));
    }
#pragma unroll
    for (int kk = 0; kk < kTile / 16; ++kk) {
      d.v[kk] = desc_v(base + L::v(stage_of(t_pv)), kk);
      asm volatile("" : "+l"(d.v[kk]));
    }
    return d;
  };
  auto issue_qk = [&](const Descs& d) {
#pragma unroll
    for (int ks = 0; ks < kKSteps; ++ks) T::qk(s, qf[ks], d.k[ks], ks > 0);
  };
  auto issue_pv = [&](const Descs& d, const uint32_t (&pa)[kTile / 16][4]) {
#pragma unroll
    for (int kk = 0; kk < kTile / 16; ++kk) T::pv(o, pa[kk], d.v[kk]);
  };
  // Softmax of tile t from s into packed P (pa); alpha: O's rescale, applied by the caller once the
  // previous P.V has retired.
  auto softmax_pack = [&](int t, float (&alpha)[2], uint32_t (&pa)[kTile / 16][4]) {
    bool ok;
    (void)tile_row(t, ok);
    float p[kNTiles][4];
    const float* counts = reinterpret_cast<const float*>(base_ptr + L::count(stage_of(t)));
    tile_softmax_deferred(s, p, alpha, m_run, l_run, counts, ok, args.scale_log2, lane, args.tile_ls, [&](int hr) {
      const int row = qt * kTile + wrow + (lane >> 2) + hr * 8;  // row within the query block
      return (static_cast<int64_t>(hq) * args.plan_width * subs + t) * B + row;
    });
#pragma unroll
    for (int kk = 0; kk < kTile / 16; ++kk) {
      pa[kk][0] = T::pack(p[2 * kk][0], p[2 * kk][1]);
      pa[kk][1] = T::pack(p[2 * kk][2], p[2 * kk][3]);
      pa[kk][2] = T::pack(p[2 * kk + 1][0], p[2 * kk + 1][1]);
      pa[kk][3] = T::pack(p[2 * kk + 1][2], p[2 * kk + 1][3]);
    }
  };
  // Every consumer thread arrives after its own last read of the stage (the counts it read in the
  // softmax; K and V were read by its warpgroup's retired wgmmas). With one arrival per warp after
  // __syncwarp, compute-sanitizer's racecheck reported the count tile's refill as racing with the
  // other lanes' reads.
  auto release = [&](int t) { mbar_arrive(base + L::empty(stage_of(t))); };

  if constexpr (!OVERLAP) {
    for (int t = t_begin; t < t_end; ++t) {
      full_wait(t);
      const Descs d = descs(t, t);
      wgmma_fence();
      issue_qk(d);
      wgmma_commit();
      wgmma_wait<0>();
      fence_regs(s);
      fence_regs(o);
      float alpha[2];
      uint32_t pa[kTile / 16][4];
      softmax_pack(t, alpha, pa);
      scale_rows(o, alpha);
      fence_regs(o);
      wgmma_fence();
      issue_pv(d, pa);
      wgmma_commit();
      wgmma_wait<0>();
      fence_regs(o);
      release(t);
    }
  } else if (t_begin < t_end) {
    // FlashAttention-3's in-warpgroup overlap: Q.K^T of tile t+1 is issued before P.V of tile t, so
    // the softmax of t+1 runs while P.V of t is still on the tensor cores; O is rescaled after.
    uint32_t pa[kTile / 16][4];
    float alpha[2];
    full_wait(t_begin);
    const Descs d0 = descs(t_begin, t_begin);
    wgmma_fence();
    issue_qk(d0);
    wgmma_commit();
    wgmma_wait<0>();
    fence_regs(s);
    softmax_pack(t_begin, alpha, pa);  // O is still zero: no rescale
    // One step: Q.K^T of t+1 and P.V of t (P in `p_in`) in flight together; the softmax of t+1
    // into `p_out` while the P.V runs. P alternates between two register sets (the loop is
    // unrolled by two): with one set and a copy, ptxas gave the copy's source registers to the
    // new P while the P.V still read them, and serialised the wgmmas (C7513).
    auto step = [&](int t, const uint32_t (&p_in)[kTile / 16][4], uint32_t (&p_out)[kTile / 16][4]) {
      full_wait(t + 1);
      const Descs d = descs(t + 1, t);
      fence_regs(o);
      wgmma_fence();
      issue_qk(d);
      wgmma_commit();
      issue_pv(d, p_in);
      wgmma_commit();
      wgmma_wait<1>();  // Q.K^T of t+1 has retired (groups retire in order); P.V of t may not have
      fence_regs(s);
      softmax_pack(t + 1, alpha, p_out);
      wgmma_wait<0>();
      fence_regs(o);
      release(t);
      scale_rows(o, alpha);
    };
    auto last = [&](const uint32_t (&p_in)[kTile / 16][4]) {
      const Descs d = descs(t_end - 1, t_end - 1);
      fence_regs(o);
      wgmma_fence();
      issue_pv(d, p_in);
      wgmma_commit();
      wgmma_wait<0>();
      fence_regs(o);
      release(t_end - 1);
    };
    uint32_t pb[kTile / 16][4];
    for (int t = t_begin;; t += 2) {
      if (t + 1 >= t_end) {
        last(pa);
        break;
      }
      step(t, pa, pb);
      if (t + 2 >= t_end) {
        last(pb);
        break;
      }
      step(t + 1, pb, pa);
    }
  }

  float* out = args.out + static_cast<int64_t>(split) * args.heads * args.q_blocks * B * D;
  float* lse = args.lse + static_cast<int64_t>(split) * args.heads * args.q_blocks * B;
  store_rows<D>(out, lse, q_row_pair + g * kTile + wrow, lane, o, m_run, l_run);
#else
  __trap();  // never launched: pbsa.cu dispatches here only on sm_90 devices
#endif
}

PFN_cuTensorMapEncodeTiled_v12000 encode_fn() {
  static const PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
    void* f = nullptr;
    cudaDriverEntryPointQueryResult q{};
#if CUDART_VERSION >= 12050
    CUDA_CHECK(cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &f, 12000, cudaEnableDefault, &q));
#else
    CUDA_CHECK(cudaGetDriverEntryPoint("cuTensorMapEncodeTiled", &f, cudaEnableDefault, &q));
#endif
    if (q != cudaDriverEntryPointSuccess || f == nullptr)
      throw std::runtime_error("pbsa sm90 ws: the driver has no cuTensorMapEncodeTiled");
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(f);
  }();
  return fn;
}

// Tensor map of a row-major [rows, D] 16-bit tensor, read in 64 x 64 boxes with 128-byte swizzle.
CUtensorMap tile_map(const char* name, const uint16_t* ptr, int64_t rows, int D, bool fp16) {
  CUtensorMap m{};
  const cuuint64_t dims[2] = {static_cast<cuuint64_t>(D), static_cast<cuuint64_t>(rows)};
  const cuuint64_t strides[1] = {static_cast<cuuint64_t>(D) * 2};
  const cuuint32_t box[2] = {64, static_cast<cuuint32_t>(kTile)};
  const cuuint32_t elem_strides[2] = {1, 1};
  const CUresult r = encode_fn()(&m, fp16 ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16 : CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2,
                                 const_cast<uint16_t*>(ptr), dims, strides, box, elem_strides, CU_TENSOR_MAP_INTERLEAVE_NONE,
                                 CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS)
    throw std::runtime_error(std::string("pbsa sm90 ws: cuTensorMapEncodeTiled failed for ") + name + " (" + std::to_string(rows) + " rows x " +
                             std::to_string(D) + ", CUresult " + std::to_string(r) + ")");
  return m;
}

template <class T, int D, bool OVERLAP>
void launch_ws(const KernelArgs& ka, int ctas, int splits, bool fp16, cudaStream_t stream) {
  constexpr size_t smem = WsLayout<D, kWsStages>::kAlloc;
  static const bool configured = [] {
    CUDA_CHECK(cudaFuncSetAttribute(pbsa_fwd_sm90_ws_kernel<T, D, kWsStages, OVERLAP>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                    static_cast<int>(smem)));
    return true;
  }();
  (void)configured;
  const int64_t q_rows = static_cast<int64_t>(ka.heads) * ka.q_blocks * ka.block_tokens;
  const int64_t kv_rows = static_cast<int64_t>(ka.heads) * ka.kv_blocks * ka.block_tokens;
  if (kv_rows > INT32_MAX || q_rows > INT32_MAX)  // TMA coordinates are 32-bit
    throw std::invalid_argument("pbsa sm90 ws: " + std::to_string(q_rows) + " query rows / " + std::to_string(kv_rows) +
                                " KV rows, at most 2^31 - 1 each");
  const CUtensorMap tq = tile_map("q", ka.q, q_rows, D, fp16), tk = tile_map("k", ka.k, kv_rows, D, fp16),
                    tv = tile_map("v", ka.v, kv_rows, D, fp16);
  pbsa_fwd_sm90_ws_kernel<T, D, kWsStages, OVERLAP><<<dim3(ctas, splits), kWsThreads, smem, stream>>>(ka, tq, tk, tv);
  CUDA_CHECK(cudaGetLastError());
}

template <bool OVERLAP>
void launch_ws_dtype(const KernelArgs& ka, int ctas, int splits, bool fp16, int head_dim, cudaStream_t stream) {
  if (fp16) {
    if (head_dim == 64) launch_ws<Fp16, 64, OVERLAP>(ka, ctas, splits, true, stream);
    else launch_ws<Fp16, 128, OVERLAP>(ka, ctas, splits, true, stream);
  } else {
    if (head_dim == 64) launch_ws<Bf16, 64, OVERLAP>(ka, ctas, splits, false, stream);
    else launch_ws<Bf16, 128, OVERLAP>(ka, ctas, splits, false, stream);
  }
}

}  // namespace

void launch_fwd_sm90_ws(const KernelArgs& ka, bool fp16, int head_dim, int splits, bool overlap, cudaStream_t stream) {
  if (head_dim != 64 && head_dim != 128) throw std::invalid_argument("pbsa sm90 ws: head_dim " + std::to_string(head_dim) + " (64 or 128)");
  if (ka.block_tokens % (2 * kTile) != 0) throw std::invalid_argument("pbsa sm90 ws: block_tokens " + std::to_string(ka.block_tokens) + " (a multiple of 128)");
  const int ctas = ka.heads * ka.q_blocks * (ka.block_tokens / (2 * kTile));
  if (overlap) launch_ws_dtype<true>(ka, ctas, splits, fp16, head_dim, stream);
  else launch_ws_dtype<false>(ka, ctas, splits, fp16, head_dim, stream);
}

}  // namespace sw::kernels::pbsa
