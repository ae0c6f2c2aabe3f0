// PBSA forward: the CPU reference against hand-computed values (log-count bias, masked entries,
// empty rows) and the split rule; the Hopper kernel's wgmma shared-memory descriptors decoded on the
// CPU against the PTX ISA's canonical layouts (every element each wgmma reads is the one the loader
// wrote there, head dims 64 and 128); then the CUDA kernel against the CPU reference on random
// non-zero bf16/fp16 inputs at several shapes (head dims 64/128, blocks 16/32/64/128, split-KV off,
// forced and automatic, with and without mass) into NaN-poisoned outputs, plus bitwise determinism;
// each CUDA kernel (mma.sync everywhere, the three wgmma pipelines on sm_90) separately.
// Run: ctest -L gpu (gpu cases skip without a device); compute-sanitizer ./build/.../test_pbsa.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "device_buffer.h"
#include "gpu_util.h"
#include "pbsa_sm90_layout.h"
#include "sparseworld/pbsa.h"

#ifdef SW_KERNELS_CUDA
#include <cuda_runtime.h>
#endif

namespace sw::kernels {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

uint16_t to_bf16(float f) {  // round to nearest even
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

uint16_t to_fp16(float f) {  // values here are normal and small: simple round-to-nearest
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const int exp = static_cast<int>((u >> 23) & 0xFF) - 127 + 15;
  uint32_t man = u & 0x7FFFFFu;
  if (exp <= 0) return static_cast<uint16_t>(sign);  // flush tiny values (not generated)
  uint32_t h = sign | static_cast<uint32_t>(exp) << 10 | (man >> 13);
  if ((man & 0x1FFFu) > 0x1000u || ((man & 0x1FFFu) == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(h);
}

// All inputs of one problem, host side.
struct Problem {
  PbsaParams p;
  std::vector<uint16_t> q, k, v;
  std::vector<float> count;
  std::vector<int64_t> index, rows;
};

Problem make_problem(int H, int Qb, int N, int B, int D, int width, PbsaDtype dtype, int splits, bool mass, uint32_t seed) {
  Problem pr;
  pr.p = PbsaParams{H, Qb, N, B, D, width, 1.f / std::sqrt(static_cast<float>(D)), mass, dtype, splits};
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 1.f);
  auto enc = [&](float x) { return dtype == PbsaDtype::kBf16 ? to_bf16(x) : to_fp16(x); };
  // q scaled up so that softmax rows are peaked, not near-uniform (a weak test); never zeros.
  pr.q.resize(static_cast<size_t>(H) * Qb * B * D);
  for (auto& x : pr.q) x = enc(2.f * nd(rng) + 0.05f);
  pr.k.resize(static_cast<size_t>(H) * N * B * D);
  for (auto& x : pr.k) x = enc(nd(rng) + 0.05f);
  pr.v.resize(pr.k.size());
  for (auto& x : pr.v) x = enc(nd(rng) + 0.3f);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  pr.count.resize(static_cast<size_t>(H) * N * B);
  for (auto& c : pr.count) {
    const float r = u(rng);
    c = r < 0.05f ? 0.f : (r < 0.85f ? 1.f : static_cast<float>(2 + static_cast<int>(u(rng) * 6)));  // 5% masked, 15% merged
  }
  // One whole KV block masked per head: a tile with no live token.
  for (int h = 0; h < H; ++h) std::fill_n(pr.count.begin() + (static_cast<size_t>(h) * N + N / 2) * B, B, 0.f);
  pr.index.assign(static_cast<size_t>(H) * Qb * width, 0);
  pr.rows.assign(static_cast<size_t>(H) * Qb, 0);
  std::vector<int64_t> ids(N);
  for (int h = 0; h < H; ++h)
    for (int qb = 0; qb < Qb; ++qb) {
      const size_t row = static_cast<size_t>(h) * Qb + qb;
      int cnt = static_cast<int>(u(rng) * (width + 1));
      if (row == 0) cnt = 0;                  // an empty row: zero output, -inf lse
      if (row == 1) cnt = width;              // a full row
      cnt = std::min(cnt, width);
      std::iota(ids.begin(), ids.end(), 0);
      std::shuffle(ids.begin(), ids.end(), rng);
      std::sort(ids.begin(), ids.begin() + cnt);
      for (int e = 0; e < width; ++e) pr.index[row * width + e] = e < cnt ? ids[e] : (cnt ? ids[0] : 0);
      pr.rows[row] = cnt;
    }
  return pr;
}

struct Outputs {
  std::vector<float> out, lse, mass;
};

Outputs run_cpu(const Problem& pr) {
  Outputs o;
  o.out.assign(pr.q.size(), std::nanf(""));
  o.lse.assign(pr.rows.size() * pr.p.block_tokens, std::nanf(""));
  o.mass.assign(static_cast<size_t>(pr.p.heads) * pr.p.kv_blocks, std::nanf(""));
  PbsaArgs a{pr.q.data(), pr.k.data(), pr.v.data(), pr.count.data(), pr.index.data(), pr.rows.data(),
             o.out.data(), o.lse.data(), pr.p.want_mass ? o.mass.data() : nullptr};
  pbsa_forward_cpu(a, pr.p);
  return o;
}

TEST(PbsaCpu, HandComputedLogCountBiasAndMask) {
  // H=1, one query block of 1 token, 3 KV blocks of 1 token, D=2 (the reference takes any shape).
  const PbsaParams p{1, 1, 3, 1, 2, 3, 0.5f, true, PbsaDtype::kBf16, 1};
  const std::vector<uint16_t> q = {to_bf16(1.f), to_bf16(2.f)};
  const std::vector<uint16_t> k = {to_bf16(1.f), to_bf16(0.f), to_bf16(0.f), to_bf16(1.f), to_bf16(4.f), to_bf16(4.f)};
  const std::vector<uint16_t> v = {to_bf16(1.f), to_bf16(0.f), to_bf16(0.f), to_bf16(1.f), to_bf16(9.f), to_bf16(9.f)};
  const std::vector<float> count = {1.f, 3.f, 0.f};  // block 1 stands for 3 tokens, block 2 is empty
  const std::vector<int64_t> index = {0, 1, 2}, rows = {3};
  std::vector<float> out(2), lse(1), mass(3, -1.f);
  pbsa_forward_cpu({q.data(), k.data(), v.data(), count.data(), index.data(), rows.data(), out.data(), lse.data(), mass.data()}, p);
  const double l0 = 0.5, l1 = 1.0 + std::log(3.0);  // scale * q.k + log(count)
  const double z = std::exp(l0) + std::exp(l1);
  EXPECT_NEAR(lse[0], std::log(z), 1e-6);
  EXPECT_NEAR(out[0], std::exp(l0) / z, 1e-6);
  EXPECT_NEAR(out[1], std::exp(l1) / z, 1e-6);
  EXPECT_NEAR(mass[0], std::exp(l0) / z, 1e-6);
  EXPECT_NEAR(mass[1], std::exp(l1) / z, 1e-6);
  EXPECT_EQ(mass[2], 0.f);  // masked block receives nothing

  const std::vector<int64_t> empty = {0};
  pbsa_forward_cpu({q.data(), k.data(), v.data(), count.data(), index.data(), empty.data(), out.data(), lse.data(), mass.data()}, p);
  EXPECT_EQ(out[0], 0.f);
  EXPECT_EQ(out[1], 0.f);
  EXPECT_EQ(lse[0], kNegInf);
  EXPECT_EQ(mass[0] + mass[1] + mass[2], 0.f);
}

TEST(PbsaCpu, BadInputsRejected) {
  Problem pr = make_problem(1, 2, 4, 16, 64, 3, PbsaDtype::kBf16, 1, false, 1);
  pr.index[0] = 99;
  pr.rows[0] = 1;
  EXPECT_THROW(run_cpu(pr), std::invalid_argument);
  PbsaParams bad = pr.p;
  bad.head_dim = 0;
  EXPECT_THROW(validate(bad), std::invalid_argument);
  bad = pr.p;
  bad.num_splits = 17;
  EXPECT_THROW(validate(bad), std::invalid_argument);
  std::string why;
  bad = pr.p;
  bad.head_dim = 96;
  EXPECT_FALSE(pbsa_cuda_supports(bad, &why));
  EXPECT_NE(why.find("head_dim"), std::string::npos);
  bad = pr.p;
  bad.block_tokens = 4;
  EXPECT_FALSE(pbsa_cuda_supports(bad, &why));
}

TEST(PbsaCpu, SplitRule) {
  // Wan shape: 12 heads x 74 query blocks = 888 CTAs fill 132 SMs twice: no split.
  EXPECT_EQ(pbsa_resolve_splits({12, 74, 512, 64, 128, 512}, 132), 1);
  // Our default model: 5 heads x 8 query blocks = 40 CTAs: split to reach 264 CTAs (7 splits).
  EXPECT_EQ(pbsa_resolve_splits({5, 8, 720, 64, 64, 720}, 132), 7);
  // Short rows are not split below 4 tiles a split.
  EXPECT_EQ(pbsa_resolve_splits({1, 1, 8, 64, 64, 8}, 132), 2);
  EXPECT_EQ(pbsa_resolve_splits({1, 1, 8, 64, 64, 3}, 132), 1);
  // Forced counts win; never above kMaxSplits.
  EXPECT_EQ(pbsa_resolve_splits({1, 1, 8, 64, 64, 8, 1.f, false, PbsaDtype::kBf16, 3}, 132), 3);
  EXPECT_LE(pbsa_resolve_splits({1, 1, 4096, 64, 64, 4096}, 132), 16);
}

// The Hopper kernel's descriptors (kernels/src/pbsa_sm90_layout.h), decoded here from the PTX ISA
// alone (9.7.15.5.1.2 "Shared Memory Matrix Layout": descriptor fields, canonical layouts for
// 16-bit elements, T = 8 elements per 16 bytes, 128-byte swizzle = address bits [4, 7) ^= [7, 10)).
struct SmemDesc {
  uint32_t start, lbo, sbo, base_offset, swizzle;
};
SmemDesc decode_desc(uint64_t d) {
  return {static_cast<uint32_t>(d & 0x3FFF) << 4, static_cast<uint32_t>((d >> 16) & 0x3FFF) << 4,
          static_cast<uint32_t>((d >> 32) & 0x3FFF) << 4, static_cast<uint32_t>((d >> 49) & 7), static_cast<uint32_t>(d >> 62)};
}
uint32_t swizzle128(uint32_t addr) { return addr ^ (((addr >> 7) & 7u) << 4); }
// B operand element (k, n) of an m64nNk16 wgmma, K-major: ((8,m),(T,2k)):((8T,SBO),(1,T)).
uint32_t b_addr_k_major(const SmemDesc& d, int k, int n) {
  return swizzle128(d.start + (n % 8) * 128 + (n / 8) * d.sbo + k * 2);
}
// MN-major: ((T,8,m),(8,k)):((1,T,LBO),(8T,SBO)): 64 elements of N per 128-byte row, the next 64
// (atom column) LBO on, 8-row groups of K SBO apart.
uint32_t b_addr_mn_major(const SmemDesc& d, int k, int n) {
  return swizzle128(d.start + (n % 64) * 2 + (n / 64) * d.lbo + (k % 8) * 128 + (k / 8) * d.sbo);
}

template <int D, int STAGES>
void check_sm90_layout() {
  SCOPED_TRACE("D " + std::to_string(D) + " stages " + std::to_string(STAGES));
  namespace sm = pbsa::sm90;
  using L = sm::Layout<D, STAGES>;
  constexpr int kTile = sm::kTile;
  // Shared memory as the cp.async loader fills it: element (row, col) of tile `tile` at
  // base + sw128(row, col / 8) + 2 * (col % 8), base 1024-aligned (0 here). -1 = never written.
  std::vector<int64_t> smem(L::kBytes / 2, -1);
  auto element = [](int tile, int row, int col) { return (static_cast<int64_t>(tile) * kTile + row) * D + col; };
  auto load = [&](uint32_t base, int tile) {
    ASSERT_EQ(base % sm::kAtomBytes, 0u);
    for (int r = 0; r < kTile; ++r)
      for (int c = 0; c < D; ++c) {
        const uint32_t addr = base + sm::sw128(r, c / 8) + 2 * (c % 8);
        ASSERT_LT(addr + 2, L::kCount + 1) << "tile runs into the count tiles";
        ASSERT_EQ(smem[addr / 2], -1) << "two tiles overlap at byte " << addr;
        smem[addr / 2] = element(tile, r, c);
      }
  };
  load(L::kQ, 0);
  for (int s = 0; s < STAGES; ++s) {
    load(L::k(s), 1 + 2 * s);
    load(L::v(s), 2 + 2 * s);
  }
  EXPECT_LE(L::kAlloc, 227u * 1024) << "over the per-CTA dynamic shared memory limit";
  for (int s = 0; s < STAGES; ++s) {
    // S = Q K^T: B = K tile, N = 64 tokens, K = D in k16 steps; B(k, n) = K[token n][16 ks + k].
    for (int ks = 0; ks < D / 16; ++ks) {
      const SmemDesc d = decode_desc(sm::desc_k(L::k(s), ks));
      ASSERT_EQ(d.swizzle, 1u);
      ASSERT_EQ(d.base_offset, 0u);
      ASSERT_EQ((d.start >> 7) & 7u, 0u) << "the swizzle pattern must start on a 1024-byte boundary for base offset 0";
      for (int n = 0; n < kTile; ++n)
        for (int k = 0; k < 16; ++k) {
          const uint32_t addr = b_addr_k_major(d, k, n);
          ASSERT_LT(addr, L::kCount);
          ASSERT_EQ(smem[addr / 2], element(1 + 2 * s, n, 16 * ks + k)) << "Q.K^T ks " << ks << " k " << k << " n " << n;
        }
    }
    // O += P V: B = V tile, K = 64 tokens in k16 steps, N = D; B(k, n) = V[token 16 kk + k][n].
    for (int kk = 0; kk < kTile / 16; ++kk) {
      const SmemDesc d = decode_desc(sm::desc_v(L::v(s), kk));
      ASSERT_EQ(d.swizzle, 1u);
      ASSERT_EQ(d.base_offset, 0u);
      ASSERT_EQ(d.start % sm::kAtomBytes, 0u);
      for (int k = 0; k < 16; ++k)
        for (int n = 0; n < D; ++n) {
          const uint32_t addr = b_addr_mn_major(d, k, n);
          ASSERT_GE(addr, L::v(s));
          ASSERT_LT(addr, L::v(s) + L::kTileBytes) << "P.V reads outside its V tile";
          ASSERT_EQ(smem[addr / 2], element(2 + 2 * s, 16 * kk + k, n)) << "P.V kk " << kk << " k " << k << " n " << n;
        }
    }
  }
}

TEST(PbsaSm90Layout, DescriptorsReadWhatTheLoaderWrote) {
  check_sm90_layout<64, 2>();
  check_sm90_layout<64, 3>();
  check_sm90_layout<128, 2>();
  check_sm90_layout<128, 3>();
}

// The warp-specialised kernel's shared memory: TMA boxes need 1024-aligned tiles (128-byte swizzle),
// bulk copies 16-byte-aligned count tiles, mbarriers 8-byte alignment; regions must not overlap and
// the whole must fit the H100's 227 KiB per block.
template <int D, int S>
void check_ws_layout() {
  using L = pbsa::sm90::WsLayout<D, S>;
  SCOPED_TRACE("D" + std::to_string(D) + " stages " + std::to_string(S));
  std::vector<std::pair<uint32_t, uint32_t>> regions = {{L::kQ, L::kQ + 2 * L::kTileBytes}};
  for (int s = 0; s < S; ++s) {
    EXPECT_EQ(L::k(s) % pbsa::sm90::kAtomBytes, 0u);
    EXPECT_EQ(L::v(s) % pbsa::sm90::kAtomBytes, 0u);
    EXPECT_EQ(L::count(s) % 16, 0u);
    EXPECT_EQ(L::full(s) % 8, 0u);
    EXPECT_EQ(L::empty(s) % 8, 0u);
    regions.push_back({L::k(s), L::k(s) + L::kTileBytes});
    regions.push_back({L::v(s), L::v(s) + L::kTileBytes});
    regions.push_back({L::count(s), L::count(s) + L::kCountBytes});
    regions.push_back({L::full(s), L::full(s) + 8});
    regions.push_back({L::empty(s), L::empty(s) + 8});
  }
  regions.push_back({L::q_full(), L::q_full() + 8});
  std::sort(regions.begin(), regions.end());
  for (size_t i = 1; i < regions.size(); ++i) EXPECT_LE(regions[i - 1].second, regions[i].first) << "overlap at " << regions[i].first;
  EXPECT_LE(regions.back().second, L::kBytes);
  EXPECT_LE(L::kAlloc, 227u * 1024u);
}

TEST(PbsaSm90Layout, WarpSpecialisedLayoutAlignedAndDisjoint) {
  check_ws_layout<64, 4>();
  check_ws_layout<128, 4>();
}

#ifdef SW_KERNELS_CUDA
Outputs run_cuda(const Problem& pr) {
  using test::DevBuf;
  DevBuf<uint16_t> q(pr.q), k(pr.k), v(pr.v);
  DevBuf<float> count(pr.count);
  DevBuf<int64_t> index(pr.index), rows(pr.rows);
  DevBuf<float> out(pr.q.size()), lse(pr.rows.size() * pr.p.block_tokens),
      mass(static_cast<size_t>(pr.p.heads) * pr.p.kv_blocks);
  const size_t ws_bytes = pbsa_workspace_bytes(pr.p);
  DevBuf<unsigned char> ws(ws_bytes);
  // Poison: 0xFF bytes are NaN floats, so an unwritten element fails every comparison below.
  out.poison(0xFF);
  lse.poison(0xFF);
  mass.poison(0xFF);
  ws.poison(0xFF);
  PbsaArgs a{q.ptr, k.ptr, v.ptr, count.ptr, index.ptr, rows.ptr, out.ptr, lse.ptr, pr.p.want_mass ? mass.ptr : nullptr,
             ws.ptr, ws_bytes};
  pbsa_forward_cuda(a, pr.p, nullptr);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  return {out.host(), lse.host(), mass.host()};
}

// Max |got - want| over max |want|: one relative error per tensor, robust to tiny elements.
// NaN anywhere (unwritten poison) makes it NaN, which fails `err <= tol`.
double rel_err(const std::vector<float>& got, const std::vector<float>& want) {
  double num = 0, den = 1e-6;
  for (size_t i = 0; i < want.size(); ++i) {
    const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (std::isnan(got[i])) return std::nan("");
    num = std::max(num, d);
    den = std::max(den, std::fabs(static_cast<double>(want[i])));
  }
  return num / den;
}

// Max |got - want| of two LSE vectors, equal entries (both -inf for empty rows) counting 0.
double lse_abs_err(const std::vector<float>& got, const std::vector<float>& want) {
  double e = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (!(got[i] == want[i])) e = std::max(e, std::isnan(got[i]) ? INFINITY : std::fabs(static_cast<double>(got[i]) - want[i]));
  return e;
}

// For a failed output: which rows are off (within a 64-row query tile and a 16-row warp slice) and
// by how much, and whether the LSE (Q.K^T and softmax only) agrees, which tells a Q.K^T or softmax
// bug from a P.V one when a kernel is first run on a new GPU.
std::string describe_out_mismatch(const Outputs& got, const Outputs& want, int D, double tol) {
  double den = 1e-6;
  for (float x : want.out) den = std::max(den, std::fabs(static_cast<double>(x)));
  const size_t rows = want.out.size() / D;
  size_t bad_rows = 0, first = rows;
  int bad_col = -1;
  std::vector<size_t> bad_by_warp_row(4, 0);
  for (size_t r = 0; r < rows; ++r) {
    for (int c = 0; c < D; ++c) {
      const size_t i = r * D + c;
      if (!(std::fabs(static_cast<double>(got.out[i]) - want.out[i]) <= tol * den)) {
        ++bad_rows;
        ++bad_by_warp_row[(r % 64) / 16];
        if (first == rows) first = r, bad_col = c;
        break;
      }
    }
  }
  std::string s = "rows off: " + std::to_string(bad_rows) + " of " + std::to_string(rows) + " (by warp slice of the 64-row tile: " +
                  std::to_string(bad_by_warp_row[0]) + "/" + std::to_string(bad_by_warp_row[1]) + "/" +
                  std::to_string(bad_by_warp_row[2]) + "/" + std::to_string(bad_by_warp_row[3]) + ")";
  if (first < rows) {
    const size_t i = first * D + bad_col;
    s += "; first: row " + std::to_string(first) + " col " + std::to_string(bad_col) + " got " + std::to_string(got.out[i]) +
         " want " + std::to_string(want.out[i]);
  }
  return s + "; lse max abs err " + std::to_string(lse_abs_err(got.lse, want.lse));
}

// The CUDA outputs of pr against the CPU reference's outputs of `reference` (pr itself by default).
void expect_matches(const Problem& pr, const std::string& what, const Problem* reference = nullptr) {
  SCOPED_TRACE(what);
  const Outputs want = run_cpu(reference ? *reference : pr), got = run_cuda(pr);
  constexpr double kTol = 1e-2;  // bf16 probabilities in P.V and ex2.approx against a double reference
  const double e_out = rel_err(got.out, want.out);
  EXPECT_TRUE(e_out <= kTol) << "out rel err " << e_out << "; "
                             << (e_out <= kTol ? std::string() : describe_out_mismatch(got, want, pr.p.head_dim, kTol));
  size_t lse_bad = 0, empty_rows = 0;
  for (size_t i = 0; i < want.lse.size(); ++i) {
    if (want.lse[i] == kNegInf) {
      ++empty_rows;
      lse_bad += got.lse[i] != kNegInf;
    } else {
      lse_bad += !(std::fabs(got.lse[i] - want.lse[i]) <= kTol * std::max(1.f, std::fabs(want.lse[i])));
    }
  }
  EXPECT_GT(empty_rows, 0u) << "the problem should hold an empty row";
  EXPECT_EQ(lse_bad, 0u);
  if (pr.p.want_mass) {
    const double e_mass = rel_err(got.mass, want.mass);
    EXPECT_TRUE(e_mass <= kTol) << "mass rel err " << e_mass;
  }
}

struct Shape {
  int H, Qb, N, B, D, width;
  PbsaDtype dtype;
  int splits;
  bool mass;
};

// Every kernel the device can run: the portable mma.sync kernel always, the Hopper wgmma kernel
// (three pipelines) on sm_90 with a build that has it, head dims 64 and 128, blocks 64 and 128.
// Shapes a kernel cannot take are skipped per shape.
struct KernelCase {
  PbsaKernel kernel;
  const char* name;
};
constexpr KernelCase kKernels[] = {
    {PbsaKernel::kMmaSync, "mma.sync"}, {PbsaKernel::kWgmma, "wgmma"}, {PbsaKernel::kWgmmaSerial, "wgmma-serial"},
    {PbsaKernel::kWgmma3, "wgmma3"}, {PbsaKernel::kWgmmaWs, "wgmma-ws"},
    {PbsaKernel::kWgmmaWsOverlap, "wgmma-ws-overlap"}};

bool can_run(const PbsaParams& p, PbsaKernel k) {
  if (k == PbsaKernel::kWgmmaWs || k == PbsaKernel::kWgmmaWsOverlap) return pbsa_wgmma_ws_available(p);
  return k == PbsaKernel::kMmaSync || pbsa_wgmma_available(p);
}

// Calls fn(kernel case, shape, problem) for every kernel and every shape that kernel can run on
// this device, the problems seeded from `seed` up in shape order (the same inputs for every kernel).
// Returns how many ran.
template <size_t N, class Fn>
int for_each_runnable(const Shape (&shapes)[N], uint32_t seed, const Fn& fn) {
  int ran = 0;
  for (const KernelCase& kc : kKernels) {
    uint32_t s = seed;
    for (const Shape& sh : shapes) {
      Problem pr = make_problem(sh.H, sh.Qb, sh.N, sh.B, sh.D, sh.width, sh.dtype, sh.splits, sh.mass, s++);
      pr.p.kernel = kc.kernel;
      if (!can_run(pr.p, kc.kernel)) continue;
      ++ran;
      fn(kc, sh, pr);
    }
  }
  return ran;
}

std::string case_name(const KernelCase& kc, const Shape& s) {
  return std::string(kc.name) + " H" + std::to_string(s.H) + " Qb" + std::to_string(s.Qb) + " N" + std::to_string(s.N) + " B" +
         std::to_string(s.B) + " D" + std::to_string(s.D) + " splits " + std::to_string(s.splits) +
         (s.dtype == PbsaDtype::kFp16 ? " fp16" : " bf16");
}

TEST(PbsaGpu, MatchesCpuReference) {
  SW_REQUIRE_CUDA();
  const Shape shapes[] = {
      {2, 3, 7, 16, 64, 5, PbsaDtype::kBf16, 1, true},
      {2, 3, 7, 16, 128, 6, PbsaDtype::kBf16, 3, true},
      {2, 2, 9, 32, 64, 9, PbsaDtype::kFp16, 1, true},
      {3, 4, 20, 64, 64, 14, PbsaDtype::kBf16, 0, true},   // few CTAs: automatic split
      {2, 2, 12, 64, 128, 12, PbsaDtype::kBf16, 1, true},
      {2, 2, 12, 64, 128, 12, PbsaDtype::kBf16, 4, true},
      {2, 3, 10, 64, 64, 10, PbsaDtype::kFp16, 5, false},
      {1, 2, 6, 128, 128, 6, PbsaDtype::kBf16, 2, true},   // two query tiles and two KV tiles a block
      {2, 2, 5, 128, 64, 4, PbsaDtype::kBf16, 1, true},
      {3, 5, 40, 64, 128, 24, PbsaDtype::kFp16, 0, true},  // long rows, automatic split, fp16 at D=128
      {2, 4, 33, 64, 64, 33, PbsaDtype::kBf16, 1, false},  // long rows, no split
      {1, 2, 3, 64, 64, 2, PbsaDtype::kBf16, 1, true},     // smallest: one live CTA, two KV tiles
      {1, 2, 3, 64, 128, 2, PbsaDtype::kBf16, 1, true},
      // Blocks of 128 (the warp-specialised kernel's): more tiles than its 4 stages, ring reuse,
      // fp16, automatic split, and rows of one block.
      {2, 3, 24, 128, 128, 20, PbsaDtype::kBf16, 1, true},
      {3, 2, 30, 128, 64, 17, PbsaDtype::kBf16, 1, true},
      {2, 2, 16, 128, 128, 16, PbsaDtype::kFp16, 0, true},
      {1, 3, 9, 128, 64, 9, PbsaDtype::kFp16, 3, false},
      {1, 1, 2, 128, 128, 1, PbsaDtype::kBf16, 1, true},
  };
  int ran_wgmma = 0;
  for_each_runnable(shapes, 100, [&](const KernelCase& kc, const Shape& s, const Problem& pr) {
    ran_wgmma += kc.kernel != PbsaKernel::kMmaSync;
    expect_matches(pr, case_name(kc, s));
  });
  if (ran_wgmma == 0)
    std::printf("note: the wgmma kernel did not run (needs an sm_90 device and an sm_90a build)\n");
}

TEST(PbsaGpu, OutOfRangeIdsAndCountsAreMasked) {
  // The kernels' contract for a plan that breaks the rules (pbsa.h): ids outside [0, N) are empty
  // blocks and counts are clamped to [0, width]. So a plan with such entries must give exactly
  // what the same plan without them gives on the CPU reference (which itself rejects them). Rows
  // stay ascending: -1 goes first, N + 3 last.
  SW_REQUIRE_CUDA();
  const Shape shapes[] = {
      {2, 3, 12, 64, 64, 10, PbsaDtype::kBf16, 1, true},
      {2, 3, 12, 64, 128, 10, PbsaDtype::kBf16, 3, true},
      {2, 2, 10, 128, 128, 8, PbsaDtype::kBf16, 1, true},
      {2, 2, 10, 128, 64, 8, PbsaDtype::kFp16, 2, true},
  };
  const int ran = for_each_runnable(shapes, 300, [&](const KernelCase& kc, const Shape& sh, const Problem& clean) {
    Problem bad = clean;
    const int width = sh.width;
    int added = 0;
    for (size_t row = 0; row < bad.rows.size(); ++row) {
      const int cnt = static_cast<int>(clean.rows[row]);
      int64_t* idx = bad.index.data() + row * width;
      if (row == 0) {
        bad.rows[row] = -4;  // negative: clamped to an empty row
      } else if (cnt == width) {
        bad.rows[row] = width + 5;  // past the width: clamped
      } else if (row % 2) {
        idx[cnt] = sh.N + 3;
        bad.rows[row] = cnt + 1;
        ++added;
      } else {
        for (int e = cnt; e > 0; --e) idx[e] = idx[e - 1];
        idx[0] = -1;
        bad.rows[row] = cnt + 1;
        ++added;
      }
    }
    ASSERT_GT(added, 0);
    expect_matches(bad, case_name(kc, sh), &clean);
  });
  EXPECT_GT(ran, 0);
}

TEST(PbsaGpu, DeterministicAndSplitInvariant) {
  SW_REQUIRE_CUDA();
  for (const int D : {64, 128}) {
    for (const KernelCase& kc : kKernels) {
      SCOPED_TRACE(std::string(kc.name) + " D" + std::to_string(D));
      const int B = kc.kernel == PbsaKernel::kWgmmaWs || kc.kernel == PbsaKernel::kWgmmaWsOverlap ? 128 : 64;
      Problem pr = make_problem(2, 3, 24, B, D, 20, PbsaDtype::kBf16, 6, true, 7);
      pr.p.kernel = kc.kernel;
      if (!can_run(pr.p, kc.kernel)) continue;
      const Outputs a = run_cuda(pr), b = run_cuda(pr);
      EXPECT_EQ(0, std::memcmp(a.out.data(), b.out.data(), a.out.size() * sizeof(float)));
      EXPECT_EQ(0, std::memcmp(a.lse.data(), b.lse.data(), a.lse.size() * sizeof(float)));
      EXPECT_EQ(0, std::memcmp(a.mass.data(), b.mass.data(), a.mass.size() * sizeof(float)));
      pr.p.num_splits = 1;
      const Outputs c = run_cuda(pr);
      // Not bitwise: a split changes the running max, hence the bf16 rounding of P (measured 4.5e-4).
      EXPECT_LE(rel_err(c.out, a.out), 2e-3);
      EXPECT_LE(rel_err(c.mass, a.mass), 2e-3);
    }
  }
}

TEST(PbsaGpu, KernelsAgree) {
  // The kernels differ only in accumulation order inside the tensor cores: same function. The LSE
  // depends on Q.K^T and the softmax only, the output on P.V too: which of the two disagrees says
  // where a kernel is wrong.
  SW_REQUIRE_CUDA();
  int ran = 0;
  for (const int D : {64, 128}) {
    SCOPED_TRACE("D" + std::to_string(D));
    Problem pr = make_problem(2, 3, 30, 64, D, 25, PbsaDtype::kBf16, 1, true, 11);
    if (!pbsa_wgmma_available(pr.p)) continue;
    ++ran;
    pr.p.kernel = PbsaKernel::kMmaSync;
    const Outputs a = run_cuda(pr);
    for (PbsaKernel k : {PbsaKernel::kWgmma, PbsaKernel::kWgmmaSerial, PbsaKernel::kWgmma3}) {
      pr.p.kernel = k;
      const Outputs b = run_cuda(pr);
      EXPECT_LE(lse_abs_err(b.lse, a.lse), 2e-3) << "kernel " << static_cast<int>(k);
      EXPECT_LE(rel_err(b.out, a.out), 2e-3) << "kernel " << static_cast<int>(k);
      EXPECT_LE(rel_err(b.mass, a.mass), 2e-3) << "kernel " << static_cast<int>(k);
    }
    // Blocks of 128: the warp-specialised kernels against mma.sync.
    Problem p128 = make_problem(2, 3, 30, 128, D, 25, PbsaDtype::kBf16, 1, true, 12);
    p128.p.kernel = PbsaKernel::kMmaSync;
    const Outputs m = run_cuda(p128);
    for (PbsaKernel k : {PbsaKernel::kWgmmaWs, PbsaKernel::kWgmmaWsOverlap}) {
      p128.p.kernel = k;
      const Outputs w = run_cuda(p128);
      EXPECT_LE(lse_abs_err(w.lse, m.lse), 2e-3) << "kernel " << static_cast<int>(k);
      EXPECT_LE(rel_err(w.out, m.out), 2e-3) << "kernel " << static_cast<int>(k);
      EXPECT_LE(rel_err(w.mass, m.mass), 2e-3) << "kernel " << static_cast<int>(k);
    }
  }
  if (ran == 0) GTEST_SKIP() << "no wgmma kernel on this device/build";
}

TEST(PbsaGpu, MissingWorkspaceRejected) {
  SW_REQUIRE_CUDA();
  const Problem pr = make_problem(1, 1, 8, 64, 64, 8, PbsaDtype::kBf16, 2, true, 3);
  ASSERT_GT(pbsa_workspace_bytes(pr.p), 0u);
  PbsaArgs a{};
  a.q = a.k = a.v = reinterpret_cast<const uint16_t*>(16);  // never dereferenced: rejected first
  a.count = reinterpret_cast<const float*>(16);
  a.plan_index = a.plan_count = reinterpret_cast<const int64_t*>(16);
  a.out = a.lse = a.mass = reinterpret_cast<float*>(16);
  EXPECT_THROW(pbsa_forward_cuda(a, pr.p, nullptr), std::invalid_argument);
}
#endif

}  // namespace
}  // namespace sw::kernels
