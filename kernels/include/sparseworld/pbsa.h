// PBSA forward (plan-based block-sparse attention): runs a padded-CSR block plan over a paged KV
// cache, exactly the semantics of sw::attn::execute_plan (attention/src/executor.h):
//   for head h, query block qb, query token r: the row attends to the tokens of the KV blocks
//   plan_index[h, qb, 0 .. plan_count[h, qb]); logit = scale * q.k + log(count[h, n, t]); tokens
//   with count 0 are masked. out = softmax(logits) @ v (float32), lse = natural log-sum-exp of the
//   logits, mass[h, n] = sum over all query tokens of the probability given to block n.
//   A row with no live token has out = 0 and lse = -inf (and gives no mass).
// No at::Tensor here: raw pointers + params + stream. pbsa_forward_cpu is the ground truth with the
// same signature. Design notes: kernels/README.md. Test: tests/kernels/test_pbsa.cpp (gpu label).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "sparseworld/kernels.h"

namespace sw::kernels {

enum class PbsaDtype { kBf16, kFp16 };

// Which CUDA kernel runs (kernels/README.md): kAuto = the kernel SW_PBSA_KERNEL=mma|wgmma|
// wgmma-serial|wgmma3|wgmma-ws|wgmma-ws-overlap names, else the Hopper wgmma kernel (serial pipeline; the
// warp-specialised one with the in-warpgroup overlap at blocks of 128 tokens) where it can run,
// else the portable mma.sync kernel. kWgmma* = the Hopper wgmma kernel (sm_90 device, build with
// sm_90a, head dim 64/128, block 64/128; forcing it where it cannot run throws).
// kWgmmaSerial / kWgmma3 are the wgmma kernel with other pipelines (README), kept to measure.
// kWgmmaWs = the Hopper kernel with two consumer warpgroups per query block sharing each K/V tile,
// fed by a TMA producer warpgroup (blocks of 128 tokens; src/pbsa_sm90_ws.cu); kWgmmaWsOverlap the same
// with FlashAttention-3's in-warpgroup overlap (next Q.K^T issued before this tile's P.V).
// Tests run each kernel the device has.
enum class PbsaKernel { kAuto, kMmaSync, kWgmma, kWgmmaSerial, kWgmma3, kWgmmaWs, kWgmmaWsOverlap };

struct PbsaParams {
  int heads = 0;         // H
  int q_blocks = 0;      // Qb: query blocks of the chunk
  int kv_blocks = 0;     // N: KV blocks (cache slots and chunk blocks, one index space)
  int block_tokens = 0;  // B: tokens per block (query and KV)
  int head_dim = 0;      // D
  int plan_width = 0;    // K: row width of plan_index (host-known upper bound of any row count)
  float scale = 1.f;     // logit scale, usually 1 / sqrt(D)
  bool want_mass = false;
  PbsaDtype dtype = PbsaDtype::kBf16;
  // Split-KV (flash-decoding): 0 = automatic (split when heads x query tiles cannot fill the GPU),
  // 1 = never, n > 1 = exactly n splits (tests force it).
  int num_splits = 0;
  PbsaKernel kernel = PbsaKernel::kAuto;
};

// Pointers are host pointers for the CPU reference and device pointers for CUDA. q, k, v hold raw
// 16-bit values of `dtype` (bf16 or fp16 bits), row-major: q [H, Qb, B, D], k and v [H, N, B, D].
struct PbsaArgs {
  const uint16_t* q = nullptr;
  const uint16_t* k = nullptr;
  const uint16_t* v = nullptr;
  const float* count = nullptr;         // [H, N, B] tokens merged into each KV entry; 0 = empty
  const int64_t* plan_index = nullptr;  // [H, Qb, K] ascending unique block ids, padded
  const int64_t* plan_count = nullptr;  // [H, Qb] valid entries per row
  float* out = nullptr;                 // [H, Qb, B, D]
  float* lse = nullptr;                 // [H, Qb, B]
  float* mass = nullptr;                // [H, N], written only when want_mass
  void* workspace = nullptr;            // CUDA only: pbsa_workspace_bytes(p) bytes, 16-byte aligned
  size_t workspace_bytes = 0;
};

// Throws std::invalid_argument naming the bad field (shape fields, scale, num_splits).
void validate(const PbsaParams& p);

// Whether the CUDA kernel handles these params (head dim 64/128, block 16/32/64/128); `why` says
// why not. The attention dispatch falls back to the reference executor when it does not.
bool pbsa_cuda_supports(const PbsaParams& p, std::string* why = nullptr);

// Split count the CUDA path uses on a GPU with `num_sms` multiprocessors (pure; documented in
// kernels/README.md: split only when the CTAs cannot fill two per SM, keep >= 4 tiles a split).
int pbsa_resolve_splits(const PbsaParams& p, int num_sms);
// Whether the wgmma kernel can run p on the current CUDA device (false without CUDA or sm_90a):
// head dim 64 or 128, block 64 or 128, compute capability 9.0.
bool pbsa_wgmma_available(const PbsaParams& p);
// Whether the warp-specialised wgmma kernel (kWgmmaWs, kWgmmaWsOverlap) can run p: pbsa_wgmma_available and blocks
// of 128 tokens (its two query tiles share one plan row).
bool pbsa_wgmma_ws_available(const PbsaParams& p);
// Workspace the CUDA path needs for `splits` (partial outputs when splits > 1, per-tile mass
// partials when want_mass); 0 when none.
size_t pbsa_workspace_bytes(const PbsaParams& p, int splits);
// The same two on the current CUDA device (throws without CUDA).
int pbsa_device_splits(const PbsaParams& p);
size_t pbsa_workspace_bytes(const PbsaParams& p);

void pbsa_forward_cpu(const PbsaArgs& a, const PbsaParams& p);
// Asynchronous on `stream`; deterministic (fixed reduction order, no atomics). Plan ids outside
// [0, N) are treated as empty blocks (the plan checker in attention/ rejects them in tests).
void pbsa_forward_cuda(const PbsaArgs& a, const PbsaParams& p, Stream stream);

}  // namespace sw::kernels
