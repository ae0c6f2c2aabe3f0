// Shared by the block top-k CPU reference and CUDA kernel: limits and the selection rule, so both
// rank candidates identically. Test: tests/kernels/test_block_topk.cpp.
#pragma once

#ifdef __CUDACC__
#define SW_TOPK_HD __host__ __device__
#else
#define SW_TOPK_HD
#endif

namespace sw::kernels::block_topk {

// Threads per CTA: one CTA per (head, query block) row; 256 covers D = 64..256 pooling in one
// pass and N ~ 100 scores with room to spare.
constexpr int kThreads = 256;
// A row's scores (4 B), candidate and keep flags (1 B each) sit in shared memory with qbar:
// 4096 x 6 B + 4 KiB stays well under the 48 KiB a CTA gets without opting in.
constexpr int kMaxKvBlocks = 4096;
constexpr int kMaxHeadDim = 1024;

// Candidate m ranks above candidate n: higher score, or equal score and lower index. NaN compares
// false both ways (finite inputs never produce one); the rule is the same in both versions.
SW_TOPK_HD inline bool ranks_above(float sm, int m, float sn, int n) { return sm > sn || (sm == sn && m < n); }

}  // namespace sw::kernels::block_topk
