// Internal to the Hopper PBSA kernels (pbsa_sm90.cu, pbsa_sm90_ws.cu): their shared-memory layouts
// (128-byte-swizzled K/V/Q tiles, stages, count tiles, mbarriers) and the wgmma shared-memory matrix
// descriptors that point into them. Host and device, so the CPU test decodes these descriptors
// against the PTX ISA's canonical layouts and checks every element each wgmma reads is the one the
// cp.async loader put there, and checks WsLayout's alignment (tests/kernels/test_pbsa.cpp,
// PbsaSm90Layout.*). That TMA's 128-byte swizzle writes the same layout is checked only by the GPU
// tests (the ws kernel against the CPU reference). Design: kernels/README.md ("Hopper path").
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__CUDACC__)
#define SW_PBSA_HD __host__ __device__ __forceinline__
#else
#define SW_PBSA_HD inline
#endif

namespace sw::kernels::pbsa::sm90 {

constexpr int kTile = 64;              // query rows and KV tokens per tile
constexpr uint32_t kRowBytes = 128;    // one row of an atom column: 64 16-bit elements
constexpr uint32_t kAtomBytes = 1024;  // 8 rows x 128 bytes: the 128-byte-swizzle pattern repeats here
constexpr uint32_t kAtomColBytes = kTile * kRowBytes;  // one atom column of a tile: 64 rows x 128 bytes

// Byte offset of 16-byte chunk `chunk` (of D/8) of row `row` in a kTile x D tile stored as atom
// columns of 64 elements: [D/64][kTile rows][128 bytes], chunk XOR-swizzled by row & 7 (the layout
// the hardware's 128-byte swizzle produces on a 1024-aligned tile, so descriptors can point at it).
SW_PBSA_HD constexpr uint32_t sw128(int row, int chunk) {
  return static_cast<uint32_t>((chunk >> 3) * kAtomColBytes + row * kRowBytes + (((chunk & 7) ^ (row & 7)) << 4));
}

// Shared memory of one CTA, from a 1024-aligned base: Q tile, then STAGES x (K tile, V tile), then
// STAGES count tiles of kTile floats. Every tile is a multiple of 1024 bytes, so atoms stay aligned.
template <int D, int STAGES>
struct Layout {
  static constexpr uint32_t kTileBytes = kTile * D * 2;
  static constexpr uint32_t kQ = 0;
  static constexpr uint32_t kK0 = kTileBytes;  // K of stage s at kK0 + s * 2 * kTileBytes, V after it
  static constexpr uint32_t kCount = (1 + 2 * STAGES) * kTileBytes;
  static constexpr uint32_t kBytes = kCount + STAGES * kTile * sizeof(float);
  // Slack to round the base up to 1024 bytes. Three stages at head dim 128 have none: two CTAs per
  // SM fit only without it (2 x (115,456 + 1,024 reserved) <= 233,472 bytes); the dynamic base is
  // 1024-aligned in practice there, and the kernel traps if it ever is not.
  static constexpr uint32_t kSlack = (D == 128 && STAGES == 3) ? 0 : kAtomBytes;
  static constexpr size_t kAlloc = kBytes + kSlack;
  static_assert(kTileBytes % kAtomBytes == 0, "tiles must keep the swizzle atoms 1024-aligned");
  static SW_PBSA_HD constexpr uint32_t k(int s) { return kK0 + static_cast<uint32_t>(s) * 2 * kTileBytes; }
  static SW_PBSA_HD constexpr uint32_t v(int s) { return k(s) + kTileBytes; }
};

// Shared memory of the two-consumer-warpgroup kernel (pbsa_sm90_ws.cu), from a 1024-aligned base:
// two Q tiles (one per consumer warpgroup), STAGES x (K tile, V tile) written by TMA, STAGES count
// tiles written by bulk copies (16-byte aligned), then the mbarriers: full[STAGES], empty[STAGES],
// and one for Q. TMA with 128-byte swizzle on a 1024-aligned box of 64 rows x 128 bytes produces
// exactly the sw128 layout above, so the descriptors are the same.
template <int D, int STAGES>
struct WsLayout {
  static constexpr uint32_t kTileBytes = kTile * D * 2;
  static constexpr uint32_t kQ = 0;  // Q tile of consumer warpgroup g at kQ + g * kTileBytes
  static constexpr uint32_t kK0 = 2 * kTileBytes;
  static constexpr uint32_t kCount = kK0 + STAGES * 2 * kTileBytes;
  static constexpr uint32_t kCountBytes = kTile * sizeof(float);
  static constexpr uint32_t kBar = kCount + STAGES * kCountBytes;
  static constexpr uint32_t kBytes = kBar + (2 * STAGES + 1) * 8;
  static constexpr size_t kAlloc = kBytes + kAtomBytes;  // slack to round the base up to 1024
  static_assert(kTileBytes % kAtomBytes == 0, "tiles must keep the swizzle atoms 1024-aligned");
  static SW_PBSA_HD constexpr uint32_t k(int s) { return kK0 + static_cast<uint32_t>(s) * 2 * kTileBytes; }
  static SW_PBSA_HD constexpr uint32_t v(int s) { return k(s) + kTileBytes; }
  static SW_PBSA_HD constexpr uint32_t count(int s) { return kCount + static_cast<uint32_t>(s) * kCountBytes; }
  static SW_PBSA_HD constexpr uint32_t full(int s) { return kBar + static_cast<uint32_t>(s) * 8; }
  static SW_PBSA_HD constexpr uint32_t empty(int s) { return kBar + static_cast<uint32_t>(STAGES + s) * 8; }
  static SW_PBSA_HD constexpr uint32_t q_full() { return kBar + static_cast<uint32_t>(2 * STAGES) * 8; }
};

// Shared-memory matrix descriptor (PTX ISA "Matrix Descriptor Format"): start address, leading and
// stride byte offsets (all >> 4, 14 bits each), swizzle mode 1 = 128-byte (bits 62-63). Tiles start
// on 1024-byte boundaries, so the base-offset field (bits 49-51) stays 0; stepping k inside an atom
// adds to the start address only, the hardware applies the XOR on the address bits.
SW_PBSA_HD constexpr uint64_t smem_desc(uint32_t addr, uint32_t lbo, uint32_t sbo) {
  return static_cast<uint64_t>((addr & 0x3FFFF) >> 4) | static_cast<uint64_t>((lbo & 0x3FFFF) >> 4) << 16 |
         static_cast<uint64_t>((sbo & 0x3FFFF) >> 4) << 32 | 1ull << 62;
}

// K tile (tokens x D) as the K-major B operand of S = Q K^T (m64n64k16: N = 64 tokens, K = D),
// k step ks of D/16. Canonical K-major 128B layout ((8,m),(T,2k)):((8T,SBO),(1,T)): rows (tokens)
// 128 bytes apart, 8-row groups SBO = 1024 apart; one k16 step is 32 bytes inside a row, so it
// moves the start address (4 steps per atom column; the next atom column is kAtomColBytes on).
// LBO is not used by swizzled K-major layouts ("assumed 1": 16 bytes).
SW_PBSA_HD constexpr uint64_t desc_k(uint32_t k_tile, int ks) {
  return smem_desc(k_tile + static_cast<uint32_t>(ks >> 2) * kAtomColBytes + static_cast<uint32_t>(ks & 3) * 32, 16,
                   kAtomBytes);
}

// V tile (tokens x D) as the MN-major (transposed) B operand of O += P V (m64nDk16: K = 64 tokens,
// N = D), k step kk of 4 (16 tokens = 2048 bytes on). Canonical MN-major 128B layout
// ((T,8,m),(8,k)):((1,T,LBO),(8T,SBO)): N runs along the 128-byte rows, m = D/64 atom columns LBO
// apart (kAtomColBytes), 8-token groups SBO = 1024 apart. At D = 64 the operand is one atom column
// (m = 1) and LBO is never applied; it is encoded as at D = 128 all the same.
SW_PBSA_HD constexpr uint64_t desc_v(uint32_t v_tile, int kk) {
  return smem_desc(v_tile + static_cast<uint32_t>(kk) * 16 * kRowBytes, kAtomColBytes, kAtomBytes);
}

}  // namespace sw::kernels::pbsa::sm90
