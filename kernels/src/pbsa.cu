// PBSA forward on the GPU (sparseworld/pbsa.h). FlashAttention-2 style for sm_80+ (built for sm_90):
// one CTA per (head, query tile of a query block[, KV split]); each of its warps owns 16 query rows
// and walks the plan row's KV blocks in tiles of up to 64 tokens, double-buffered with cp.async
// into XOR-swizzled shared memory, S = Q K^T and O += P V with mma.sync m16n8k16 (fp32 accumulate),
// online softmax in fp32 registers in the log2 domain. Split-KV partials are merged by a combine
// kernel in fixed split order; block mass comes from per-(row, KV tile) log-sums reduced by a
// third kernel, one warp per (head, KV block). No atomics anywhere: results are deterministic.
// The Hopper wgmma kernel (pbsa_sm90.cu) is launched from here on cc 9.0: automatically at head dim
// 128, and at head dims 64 and 128 when PbsaParams::kernel / SW_PBSA_KERNEL ask for it by name.
// The per-tile softmax both kernels run is pbsa_tile_softmax.cuh.
// Design and measurements: kernels/README.md. Test: tests/kernels/test_pbsa.cpp (gpu label).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_check.h"
#include "pbsa_common.h"
#include "pbsa_cta_work.cuh"
#include "pbsa_cuda.h"
#include "pbsa_tile_softmax.cuh"
#include "sparseworld/pbsa.h"

namespace sw::kernels {

namespace {

constexpr float kLog2e = 1.4426950408889634f;
constexpr int kWarpRows = 16;  // rows of one m16n8k16 A fragment: each warp owns 16 query rows
constexpr int kChunkElems = 8; // 16-byte cp.async / ldmatrix row chunk = 8 16-bit elements
constexpr int kCombineThreads = 256;
constexpr int kMassWarps = 8;  // warps per CTA of the mass kernel (one (head, block) each)

using pbsa::KernelArgs;
using pbsa::CtaWork;
using pbsa::kFullMask;

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(gmem));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* smem) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(s));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* smem) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(s));
}

// The element type only changes the mma instruction and how fp32 probabilities are packed.
struct Bf16 {
  __device__ __forceinline__ static uint32_t pack(float lo, float hi) {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&v);
  }
  __device__ __forceinline__ static void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
};
struct Fp16 {
  __device__ __forceinline__ static uint32_t pack(float lo, float hi) {
    const __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&v);
  }
  __device__ __forceinline__ static void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
};

// Shared-memory tile of TILE rows x D 16-bit elements, rows of D/8 16-byte chunks; chunk c of row r
// lives at c ^ (r & 7), so the 8 rows one ldmatrix reads fall in 8 different bank groups.
template <int D>
__device__ __forceinline__ int swz(int row, int chunk) {
  return row * D + ((chunk ^ (row & 7)) * kChunkElems);
}

template <int D, int TILE, int THREADS>
__device__ __forceinline__ void load_tile(uint16_t* dst, const uint16_t* src, int tid) {
  constexpr int kChunks = D / kChunkElems;
  static_assert((TILE * kChunks) % THREADS == 0, "tile chunks must split evenly over the CTA");
#pragma unroll
  for (int i = tid; i < TILE * kChunks; i += THREADS) {
    const int r = i / kChunks, c = i % kChunks;
    cp_async16(dst + swz<D>(r, c), src + r * D + c * kChunkElems);
  }
}

// Per-stage shared memory layout (elements of 16 bits; the count tile at the end as floats).
template <int D, int TILE>
struct Smem {
  static constexpr int kTileElems = TILE * D;
  static constexpr size_t kStageBytes = 2 * kTileElems * sizeof(uint16_t) + TILE * sizeof(float);
  static constexpr size_t kBytes = kTileElems * sizeof(uint16_t) + 2 * kStageBytes;  // Q + 2 stages
};

template <class T, int D, int TILE>
__global__ void __launch_bounds__(TILE / kWarpRows * 32)
pbsa_fwd_kernel(const KernelArgs args) {
  constexpr int kWarps = TILE / kWarpRows;
  constexpr int kThreads = kWarps * 32;
  constexpr int kNTiles = TILE / 8;   // n8 tiles of S per warp
  constexpr int kDTiles = D / 8;      // n8 tiles of O per warp
  constexpr int kKSteps = D / 16;     // k16 steps of Q K^T
  using S = Smem<D, TILE>;
  static_assert(D % 64 == 0, "swizzle needs >= 8 chunks per row");
  static_assert(TILE % 16 == 0 && TILE <= pbsa::kMaxTile, "tile must be whole m16 / k16 fragments");

  extern __shared__ __align__(128) unsigned char smem_raw[];
  uint16_t* sQ = reinterpret_cast<uint16_t*>(smem_raw);
  auto stage_k = [&](int s) { return reinterpret_cast<uint16_t*>(smem_raw + S::kTileElems * 2 + s * S::kStageBytes); };
  auto stage_v = [&](int s) { return stage_k(s) + S::kTileElems; };
  auto stage_c = [&](int s) { return reinterpret_cast<float*>(stage_v(s) + S::kTileElems); };

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int B = args.block_tokens;
  const CtaWork<TILE> work(args);
  const int subs = work.subs, qt = work.qt, hq = work.hq, split = work.split, t_begin = work.t_begin, t_end = work.t_end;
  auto tile_src = [&](int t, bool& ok) { return work.tile_src(args, t, ok); };
  auto load_kv = [&](int t, int s) {
    bool ok;
    const int64_t tok = tile_src(t, ok);
    load_tile<D, TILE, kThreads>(stage_k(s), args.k + tok * D, tid);
    load_tile<D, TILE, kThreads>(stage_v(s), args.v + tok * D, tid);
    for (int i = tid; i < TILE / 4; i += kThreads) cp_async16(stage_c(s) + i * 4, args.count + tok + i * 4);
  };

  const int64_t q_row0 = work.q_row0;
  if (t_begin < t_end) {
    load_tile<D, TILE, kThreads>(sQ, args.q + q_row0 * D, tid);
    load_kv(t_begin, 0);
  }
  cp_async_commit();

  float o[kDTiles][4];
#pragma unroll
  for (int j = 0; j < kDTiles; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.f;
  float m_run[2] = {-INFINITY, -INFINITY};  // rows lane/4 and lane/4 + 8 of the warp, log2 domain
  float l_run[2] = {0.f, 0.f};              // this thread's partial row sums (quad-reduced at the end)
  uint32_t qf[kKSteps][4];
  const int wrow = warp * kWarpRows;

  for (int t = t_begin; t < t_end; ++t) {
    const int stage = (t - t_begin) & 1;
    if (t + 1 < t_end) load_kv(t + 1, stage ^ 1);
    cp_async_commit();
    cp_async_wait<1>();  // everything but the prefetch just issued has landed
    __syncthreads();
    if (t == t_begin) {
#pragma unroll
      for (int ks = 0; ks < kKSteps; ++ks) ldmatrix_x4(qf[ks], sQ + swz<D>(wrow + (lane & 15), ks * 2 + (lane >> 4)));
    }
    const uint16_t* sK = stage_k(stage);
    const uint16_t* sV = stage_v(stage);
    const float* sC = stage_c(stage);

    // S = Q K^T for this warp's 16 rows x TILE tokens.
    float s[kNTiles][4];
#pragma unroll
    for (int j = 0; j < kNTiles; ++j) s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.f;
#pragma unroll
    for (int ks = 0; ks < kKSteps; ++ks) {
#pragma unroll
      for (int j2 = 0; j2 < kNTiles / 2; ++j2) {
        uint32_t b[4];
        ldmatrix_x4(b, sK + swz<D>(j2 * 16 + (lane & 7) + ((lane >> 4) << 3), ks * 2 + ((lane >> 3) & 1)));
        T::mma(s[2 * j2], qf[ks], b[0], b[1]);
        T::mma(s[2 * j2 + 1], qf[ks], b[2], b[3]);
      }
    }

    // Log-count bias, online softmax (rescale O and l), P = 2^(S - m) in place, block-mass
    // partials: pbsa_tile_softmax.cuh, shared with the wgmma kernel.
    bool ok;
    (void)tile_src(t, ok);
    pbsa::tile_softmax(s, s, o, m_run, l_run, sC, ok, args.scale_log2, lane, args.tile_ls, [&](int hr) {
      const int row = qt * TILE + wrow + (lane >> 2) + hr * 8;  // row within the query block
      return (static_cast<int64_t>(hq) * args.plan_width * subs + t) * B + row;
    });

    // O += P V: P straight from the S accumulators (the C layout of m16n8 is the A layout of k16).
#pragma unroll
    for (int kk = 0; kk < TILE / 16; ++kk) {
      const uint32_t a[4] = {T::pack(s[2 * kk][0], s[2 * kk][1]), T::pack(s[2 * kk][2], s[2 * kk][3]),
                             T::pack(s[2 * kk + 1][0], s[2 * kk + 1][1]), T::pack(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
      for (int j2 = 0; j2 < kDTiles / 2; ++j2) {
        uint32_t b[4];
        ldmatrix_x4_trans(b, sV + swz<D>(kk * 16 + (lane & 7) + (((lane >> 3) & 1) << 3), j2 * 2 + (lane >> 4)));
        T::mma(o[2 * j2], a, b[0], b[1]);
        T::mma(o[2 * j2 + 1], a, b[2], b[3]);
      }
    }
    __syncthreads();  // every warp is done with this stage before the next prefetch overwrites it
  }
  cp_async_wait<0>();

  // Epilogue: normalise, write out (final or this split's partial) and lse.
  float* out = args.out + static_cast<int64_t>(split) * args.heads * args.q_blocks * B * D;
  float* lse = args.lse + static_cast<int64_t>(split) * args.heads * args.q_blocks * B;
  pbsa::store_rows<D>(out, lse, q_row0 + wrow, lane, o, m_run, l_run);
}

// Merges split partials in fixed split order: lse = log sum_s exp(lse_s), out = sum_s w_s out_s.
// One thread per (row, 4 output columns).
__global__ void pbsa_combine_kernel(const float* __restrict__ opart, const float* __restrict__ lpart, float* __restrict__ out,
                                    float* __restrict__ lse, int64_t rows, int D, int splits) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int per_row = D / 4;
  if (i >= rows * per_row) return;
  const int64_t row = i / per_row;
  const int c = static_cast<int>(i % per_row) * 4;
  float m = -INFINITY;
  for (int s = 0; s < splits; ++s) m = fmaxf(m, lpart[s * rows + row]);
  float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
  float wsum = 0.f;
  if (m != -INFINITY) {
    for (int s = 0; s < splits; ++s) {
      const float w = expf(lpart[s * rows + row] - m);  // exp(-inf) = 0 for empty splits
      const float4 x = *reinterpret_cast<const float4*>(opart + (s * rows + row) * D + c);
      acc.x += w * x.x;
      acc.y += w * x.y;
      acc.z += w * x.z;
      acc.w += w * x.w;
      wsum += w;
    }
    const float inv = 1.f / wsum;
    acc.x *= inv;
    acc.y *= inv;
    acc.z *= inv;
    acc.w *= inv;
  }
  *reinterpret_cast<float4*>(out + row * D + c) = acc;
  if (c == 0) lse[row] = m == -INFINITY ? -INFINITY : m + logf(wsum);
}

// mass[h, n] = sum over query blocks whose plan row holds n, over that entry's tiles and rows, of
// 2^(tile_ls - lse * log2 e). One warp per (h, n); lane i takes query blocks i, i + 32, ... (a
// binary search each: rows are ascending) so the dependent index loads run 32 wide; the warp sum
// is a fixed-order shuffle tree, so the result is deterministic.
__global__ void pbsa_mass_kernel(const float* __restrict__ tile_ls, const float* __restrict__ lse, const int64_t* __restrict__ plan_index,
                                 const int64_t* __restrict__ plan_count, float* __restrict__ mass, int H, int Qb, int N, int B,
                                 int width, int subs) {
  const int64_t w = static_cast<int64_t>(blockIdx.x) * kMassWarps + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (w >= static_cast<int64_t>(H) * N) return;  // whole warps leave together: w is warp-uniform
  const int h = static_cast<int>(w / N), n = static_cast<int>(w % N);
  float acc = 0.f;
  for (int qb = lane; qb < Qb; qb += 32) {
    const int64_t hq = static_cast<int64_t>(h) * Qb + qb;
    const int64_t* row = plan_index + hq * width;
    const int64_t c64 = plan_count[hq];
    const int cnt = static_cast<int>(c64 < 0 ? 0 : (c64 > width ? width : c64));
    int lo = 0, hi = cnt;
    while (lo < hi) {  // first entry >= n
      const int mid = (lo + hi) >> 1;
      if (row[mid] < n) lo = mid + 1; else hi = mid;
    }
    if (lo >= cnt || row[lo] != n) continue;
    const float* ls = tile_ls + (hq * width + lo) * subs * B;  // subs tiles x B rows, contiguous
    const float* l = lse + hq * B;
    for (int sub = 0; sub < subs; ++sub)
      for (int r = 0; r < B; ++r) {
        const float lr = l[r];
        if (lr != -INFINITY) acc += exp2f(ls[sub * B + r] - lr * kLog2e);
      }
  }
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(kFullMask, acc, off);
  if (lane == 0) mass[w] = acc;
}

int device_sms() {
  int dev = 0;
  CUDA_CHECK(cudaGetDevice(&dev));
  static std::mutex mu;
  static std::vector<int> sms;  // per device, queried once
  std::lock_guard<std::mutex> lock(mu);
  if (static_cast<int>(sms.size()) <= dev) sms.resize(dev + 1, 0);
  if (sms[dev] == 0) CUDA_CHECK(cudaDeviceGetAttribute(&sms[dev], cudaDevAttrMultiProcessorCount, dev));
  return sms[dev];
}

#ifdef SW_PBSA_SM90
// Compute capability (major * 10 + minor) of the current device, queried once per device.
int device_cc() {
  int dev = 0;
  CUDA_CHECK(cudaGetDevice(&dev));
  static std::mutex mu;
  static std::vector<int> cc;
  std::lock_guard<std::mutex> lock(mu);
  if (static_cast<int>(cc.size()) <= dev) cc.resize(dev + 1, 0);
  if (cc[dev] == 0) {
    int major = 0, minor = 0;
    CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
    CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
    cc[dev] = major * 10 + minor;
  }
  return cc[dev];
}
#endif

// SW_PBSA_KERNEL=mma|wgmma|wgmma-serial|wgmma3|wgmma-ws|wgmma-ws-overlap overrides PbsaKernel::kAuto
// (benchmarks compare kernels through the engine's path with it); unset or empty keeps the
// automatic choice. Any other value is an error: a mistyped name would label a benchmark row with a
// kernel that did not run.
PbsaKernel env_kernel() {
  static const PbsaKernel k = [] {
    const char* e = std::getenv("SW_PBSA_KERNEL");
    if (e == nullptr || *e == '\0') return PbsaKernel::kAuto;
    if (std::strcmp(e, "mma") == 0) return PbsaKernel::kMmaSync;
    if (std::strcmp(e, "wgmma") == 0) return PbsaKernel::kWgmma;
    if (std::strcmp(e, "wgmma-serial") == 0) return PbsaKernel::kWgmmaSerial;
    if (std::strcmp(e, "wgmma3") == 0) return PbsaKernel::kWgmma3;
    if (std::strcmp(e, "wgmma-ws") == 0) return PbsaKernel::kWgmmaWs;
    if (std::strcmp(e, "wgmma-ws-overlap") == 0) return PbsaKernel::kWgmmaWsOverlap;
    throw std::invalid_argument(std::string("SW_PBSA_KERNEL: unknown kernel '") + e +
                                "' (mma, wgmma, wgmma-serial, wgmma3, wgmma-ws, wgmma-ws-overlap)");
  }();
  return k;
}

// Whether kAuto picks the wgmma kernel at head dim 64 where it can run. On since the Q-fragment
// fix passed PbsaGpu.* on an H100 (every wgmma pipeline at head dim 64 and 128) and measured 20-28%
// faster than mma.sync at our head-dim-64 shapes (docs/BENCHMARKS.md, session 3). Turn it off
// again if a kernel change brings back the register reuse described in kernels/README.md;
// SW_PBSA_KERNEL=mma forces mma.sync everywhere.
constexpr bool kAutoWgmmaAtHeadDim64 = true;

// Whether kAuto picks the warp-specialised kernel (two query tiles share each K/V tile) with the
// in-warpgroup overlap at blocks of 128 tokens, where it can run. H100, Wan shape at 10% density
// (docs/BENCHMARKS.md, session 4): 0.280 ms overlapped, 0.312 ms without, 0.424 ms serial kernel.
constexpr bool kAutoWsAtBlock128 = true;

// The kernel that runs p: the forced one, else at blocks of 128 the warp-specialised wgmma kernel
// with overlap, else the serial wgmma kernel where it can run (sm_90a build, cc 9.0, head dim 128;
// 64 too with kAutoWgmmaAtHeadDim64), else mma.sync.
PbsaKernel resolve_kernel(const PbsaParams& p) {
  PbsaKernel k = p.kernel == PbsaKernel::kAuto ? env_kernel() : p.kernel;
  // The serial wgmma pipeline measured fastest of the three at the Wan shape (218 vs 185 TF/s at
  // 10% density, 241 vs 201 dense; docs/BENCHMARKS.md).
  if (k == PbsaKernel::kAuto) {
    if (kAutoWsAtBlock128 && pbsa_wgmma_ws_available(p) && (p.head_dim != 64 || kAutoWgmmaAtHeadDim64))
      k = PbsaKernel::kWgmmaWsOverlap;
    else
      k = pbsa_wgmma_available(p) && (p.head_dim != 64 || kAutoWgmmaAtHeadDim64) ? PbsaKernel::kWgmmaSerial
                                                                                  : PbsaKernel::kMmaSync;
  }
  if (k != PbsaKernel::kMmaSync && !pbsa_wgmma_available(p))
    throw std::invalid_argument("pbsa_forward_cuda: the wgmma kernel cannot run these params on this device/build");
  if ((k == PbsaKernel::kWgmmaWs || k == PbsaKernel::kWgmmaWsOverlap) && !pbsa_wgmma_ws_available(p))
    throw std::invalid_argument("pbsa_forward_cuda: the warp-specialised wgmma kernel needs blocks of 128 tokens, got " +
                                std::to_string(p.block_tokens));
  return k;
}

template <class T, int D, int TILE>
void launch_fwd(const KernelArgs& ka, int ctas, int splits, cudaStream_t stream) {
  constexpr size_t smem = Smem<D, TILE>::kBytes;
  static const bool configured = [] {  // > 48 KiB of dynamic shared memory needs an opt-in, once
    CUDA_CHECK(cudaFuncSetAttribute(pbsa_fwd_kernel<T, D, TILE>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
    return true;
  }();
  (void)configured;
  pbsa_fwd_kernel<T, D, TILE><<<dim3(ctas, splits), TILE / kWarpRows * 32, smem, stream>>>(ka);
  CUDA_CHECK(cudaGetLastError());
}

template <class T, int D>
void launch_fwd_tile(const KernelArgs& ka, int tile, int ctas, int splits, cudaStream_t stream) {
  switch (tile) {
    case 16: return launch_fwd<T, D, 16>(ka, ctas, splits, stream);
    case 32: return launch_fwd<T, D, 32>(ka, ctas, splits, stream);
    case 64: return launch_fwd<T, D, 64>(ka, ctas, splits, stream);
  }
  throw std::invalid_argument("pbsa_forward_cuda: unsupported tile " + std::to_string(tile));
}

template <class T>
void launch_fwd_dim(const KernelArgs& ka, int D, int tile, int ctas, int splits, cudaStream_t stream) {
  if (D == 64) return launch_fwd_tile<T, 64>(ka, tile, ctas, splits, stream);
  return launch_fwd_tile<T, 128>(ka, tile, ctas, splits, stream);
}

}  // namespace

bool pbsa_wgmma_available(const PbsaParams& p) {
#ifdef SW_PBSA_SM90
  // Head dims 64 and 128 (kAuto uses 64 only with kAutoWgmmaAtHeadDim64; see resolve_kernel).
  return (p.head_dim == 64 || p.head_dim == 128) && (p.block_tokens == 64 || p.block_tokens == 128) && device_cc() == 90;
#else
  (void)p;
  return false;
#endif
}

bool pbsa_wgmma_ws_available(const PbsaParams& p) { return p.block_tokens == 128 && pbsa_wgmma_available(p); }

int pbsa_device_splits(const PbsaParams& p) { return pbsa_resolve_splits(p, device_sms()); }
size_t pbsa_workspace_bytes(const PbsaParams& p) { return pbsa_workspace_bytes(p, pbsa_device_splits(p)); }

void pbsa_forward_cuda(const PbsaArgs& a, const PbsaParams& p, Stream stream) {
  validate(p);
  std::string why;
  if (!pbsa_cuda_supports(p, &why)) throw std::invalid_argument("pbsa_forward_cuda: " + why);
  if (!a.q || !a.k || !a.v || !a.count || !a.plan_index || !a.plan_count || !a.out || !a.lse || (p.want_mass && !a.mass))
    throw std::invalid_argument("pbsa_forward_cuda: null pointer");
  for (const void* ptr : {static_cast<const void*>(a.q), static_cast<const void*>(a.k), static_cast<const void*>(a.v),
                          static_cast<const void*>(a.count), static_cast<const void*>(a.workspace)})
    if (reinterpret_cast<uintptr_t>(ptr) % 16 != 0) throw std::invalid_argument("pbsa_forward_cuda: q, k, v, count and workspace must be 16-byte aligned");
  const int splits = pbsa_device_splits(p);
  const pbsa::WorkspaceLayout ws = pbsa::workspace_layout(p, splits);
  if (ws.total > 0 && (!a.workspace || a.workspace_bytes < ws.total))
    throw std::invalid_argument("pbsa_forward_cuda: workspace of " + std::to_string(ws.total) + " bytes needed, got " +
                                std::to_string(a.workspace_bytes));
  auto* wsb = static_cast<unsigned char*>(a.workspace);
  const cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
  const int tile = pbsa::tile_tokens(p.block_tokens);
  const int ctas = p.heads * p.q_blocks * (p.block_tokens / tile);

  KernelArgs ka{};
  ka.q = a.q;
  ka.k = a.k;
  ka.v = a.v;
  ka.count = a.count;
  ka.plan_index = a.plan_index;
  ka.plan_count = a.plan_count;
  ka.out = splits > 1 ? reinterpret_cast<float*>(wsb + ws.opart) : a.out;
  ka.lse = splits > 1 ? reinterpret_cast<float*>(wsb + ws.lsepart) : a.lse;
  ka.tile_ls = p.want_mass ? reinterpret_cast<float*>(wsb + ws.tile_ls) : nullptr;
  ka.heads = p.heads;
  ka.q_blocks = p.q_blocks;
  ka.kv_blocks = p.kv_blocks;
  ka.block_tokens = p.block_tokens;
  ka.plan_width = p.plan_width;
  ka.splits = splits;
  ka.scale_log2 = p.scale * kLog2e;
  const PbsaKernel kernel = resolve_kernel(p);
  if (kernel == PbsaKernel::kWgmmaWs || kernel == PbsaKernel::kWgmmaWsOverlap) {
#ifdef SW_PBSA_SM90
    pbsa::launch_fwd_sm90_ws(ka, p.dtype == PbsaDtype::kFp16, p.head_dim, splits, kernel == PbsaKernel::kWgmmaWsOverlap, s);
#endif
  } else if (kernel != PbsaKernel::kMmaSync) {
#ifdef SW_PBSA_SM90
    pbsa::launch_fwd_sm90(ka, p.dtype == PbsaDtype::kFp16, p.head_dim, ctas, splits,
                          kernel == PbsaKernel::kWgmmaSerial ? pbsa::Sm90Pipeline::kSerial
                          : kernel == PbsaKernel::kWgmma3    ? pbsa::Sm90Pipeline::kDeferred3
                                                             : pbsa::Sm90Pipeline::kDeferred,
                          s);
#endif
  } else if (p.dtype == PbsaDtype::kBf16) {
    launch_fwd_dim<Bf16>(ka, p.head_dim, tile, ctas, splits, s);
  } else {
    launch_fwd_dim<Fp16>(ka, p.head_dim, tile, ctas, splits, s);
  }

  const int64_t rows = static_cast<int64_t>(p.heads) * p.q_blocks * p.block_tokens;
  if (splits > 1) {
    const int64_t threads = rows * (p.head_dim / 4);
    pbsa_combine_kernel<<<static_cast<unsigned>((threads + kCombineThreads - 1) / kCombineThreads), kCombineThreads, 0, s>>>(
        ka.out, ka.lse, a.out, a.lse, rows, p.head_dim, splits);
    CUDA_CHECK(cudaGetLastError());
  }
  if (p.want_mass) {
    const int64_t warps = static_cast<int64_t>(p.heads) * p.kv_blocks;
    pbsa_mass_kernel<<<static_cast<unsigned>((warps + kMassWarps - 1) / kMassWarps), kMassWarps * 32, 0, s>>>(
        ka.tile_ls, a.lse, a.plan_index, a.plan_count, a.mass, p.heads, p.q_blocks, p.kv_blocks, p.block_tokens,
        p.plan_width, pbsa::tiles_per_block(p.block_tokens));
    CUDA_CHECK(cudaGetLastError());
  }
}

}  // namespace sw::kernels
