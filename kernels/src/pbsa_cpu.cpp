// CPU reference of PBSA forward (sparseworld/pbsa.h): the ground truth of the gpu test. Plain
// loops in double over the same 16-bit inputs, so it differs from the kernel only by the kernel's
// own rounding (bf16 probabilities in P.V, fp32 accumulation, ex2.approx).
// Test: tests/kernels/test_pbsa.cpp (also checked against hand-computed values there).
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "pbsa_common.h"
#include "sparseworld/pbsa.h"

namespace sw::kernels {

void validate(const PbsaParams& p) {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("pbsa: " + what);
  };
  need(p.heads >= 1, "heads " + std::to_string(p.heads) + " < 1");
  need(p.q_blocks >= 1, "q_blocks " + std::to_string(p.q_blocks) + " < 1");
  need(p.kv_blocks >= 1, "kv_blocks " + std::to_string(p.kv_blocks) + " < 1");
  need(p.block_tokens >= 1, "block_tokens " + std::to_string(p.block_tokens) + " < 1");
  need(p.head_dim >= 1, "head_dim " + std::to_string(p.head_dim) + " < 1");
  need(p.plan_width >= 1, "plan_width " + std::to_string(p.plan_width) + " < 1");
  need(std::isfinite(p.scale) && p.scale > 0, "scale must be finite and > 0");
  need(p.num_splits >= 0 && p.num_splits <= pbsa::kMaxSplits,
       "num_splits " + std::to_string(p.num_splits) + " out of [0, " + std::to_string(pbsa::kMaxSplits) + "]");
}

bool pbsa_cuda_supports(const PbsaParams& p, std::string* why) {
  auto no = [&](const std::string& w) {
    if (why) *why = w;
    return false;
  };
  if (p.head_dim != 64 && p.head_dim != 128) return no("head_dim " + std::to_string(p.head_dim) + " not in {64, 128}");
  const int b = p.block_tokens;
  if (b != 16 && b != 32 && b != 64 && b != 128) return no("block_tokens " + std::to_string(b) + " not in {16, 32, 64, 128}");
  return true;
}

int pbsa_resolve_splits(const PbsaParams& p, int num_sms) {
  validate(p);
  if (p.num_splits > 0) return p.num_splits;
  const int tile = pbsa::tile_tokens(p.block_tokens);
  const long ctas = static_cast<long>(p.heads) * p.q_blocks * (p.block_tokens / tile);
  const long target = static_cast<long>(pbsa::kTargetCtasPerSm) * std::max(num_sms, 1);
  if (ctas >= target) return 1;
  const long want = (target + ctas - 1) / ctas;
  const long tiles = static_cast<long>(p.plan_width) * pbsa::tiles_per_block(p.block_tokens);
  const long by_work = std::max(1L, tiles / pbsa::kMinTilesPerSplit);
  return static_cast<int>(std::min<long>({want, by_work, pbsa::kMaxSplits}));
}

size_t pbsa_workspace_bytes(const PbsaParams& p, int splits) {
  validate(p);
  return pbsa::workspace_layout(p, splits).total;
}

void pbsa_forward_cpu(const PbsaArgs& a, const PbsaParams& p) {
  validate(p);
  if (!a.q || !a.k || !a.v || !a.count || !a.plan_index || !a.plan_count || !a.out || !a.lse || (p.want_mass && !a.mass))
    throw std::invalid_argument("pbsa_forward_cpu: null pointer");
  const int H = p.heads, Q = p.q_blocks, N = p.kv_blocks, B = p.block_tokens, D = p.head_dim, K = p.plan_width;
  auto to_f = [&](uint16_t x) { return p.dtype == PbsaDtype::kBf16 ? pbsa::bf16_to_float(x) : pbsa::fp16_to_float(x); };
  const double ninf = -std::numeric_limits<double>::infinity();
  if (p.want_mass) std::fill(a.mass, a.mass + static_cast<size_t>(H) * N, 0.f);
  std::vector<double> logit, qrow(D), acc(D);
  std::vector<int64_t> blocks;
  for (int h = 0; h < H; ++h)
    for (int qb = 0; qb < Q; ++qb) {
      const size_t row = static_cast<size_t>(h) * Q + qb;
      const int64_t cnt = a.plan_count[row];
      if (cnt < 0 || cnt > K) throw std::invalid_argument("pbsa_forward_cpu: plan count " + std::to_string(cnt) + " out of [0, width]");
      blocks.assign(a.plan_index + row * K, a.plan_index + row * K + cnt);
      for (int64_t n : blocks)
        if (n < 0 || n >= N) throw std::invalid_argument("pbsa_forward_cpu: plan index " + std::to_string(n) + " out of [0, N)");
      logit.assign(blocks.size() * B, ninf);
      for (int r = 0; r < B; ++r) {
        const size_t qoff = (row * B + r) * D;
        for (int d = 0; d < D; ++d) qrow[d] = to_f(a.q[qoff + d]);
        double m = ninf;
        for (size_t e = 0; e < blocks.size(); ++e)
          for (int t = 0; t < B; ++t) {
            const size_t tok = (static_cast<size_t>(h) * N + blocks[e]) * B + t;
            const float c = a.count[tok];
            if (!(c > 0)) continue;  // empty entry: masked (-inf)
            double s = 0;
            for (int d = 0; d < D; ++d) s += qrow[d] * to_f(a.k[tok * D + d]);
            const double l = s * p.scale + std::log(static_cast<double>(c));
            logit[e * B + t] = l;
            m = std::max(m, l);
          }
        float* out = a.out + (row * B + r) * D;
        if (m == ninf) {  // no live token: defined as zero output, -inf lse
          std::fill(out, out + D, 0.f);
          a.lse[row * B + r] = -std::numeric_limits<float>::infinity();
          continue;
        }
        double sum = 0;
        for (double l : logit) sum += l == ninf ? 0 : std::exp(l - m);
        const double lse = m + std::log(sum);
        std::fill(acc.begin(), acc.end(), 0.0);
        for (size_t e = 0; e < blocks.size(); ++e) {
          double block_mass = 0;
          for (int t = 0; t < B; ++t) {
            const double l = logit[e * B + t];
            if (l == ninf) continue;
            const double prob = std::exp(l - lse);
            block_mass += prob;
            const size_t tok = (static_cast<size_t>(h) * N + blocks[e]) * B + t;
            for (int d = 0; d < D; ++d) acc[d] += prob * to_f(a.v[tok * D + d]);
          }
          if (p.want_mass) a.mass[static_cast<size_t>(h) * N + blocks[e]] += static_cast<float>(block_mass);
        }
        for (int d = 0; d < D; ++d) out[d] = static_cast<float>(acc[d]);
        a.lse[row * B + r] = static_cast<float>(lse);
      }
    }
}

}  // namespace sw::kernels
