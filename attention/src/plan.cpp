// Padded-CSR plan construction from a keep mask (sort by key, no nonzero()) and its host-side
// validity check. Test: tests/attention (PlanTest.*).
#include "plan.h"

#include <algorithm>
#include <sstream>

namespace sw::attn {

Plan plan_from_mask(const at::Tensor& keep, int64_t width) {
  const int64_t N = keep.size(2);
  const int64_t K = std::min(width, N);
  const at::Tensor pos = at::arange(N, keep.options().dtype(at::kLong));
  // Kept blocks sort first and in ascending order; the rest after them.
  const at::Tensor key = at::where(keep, pos, pos + N);
  const at::Tensor sorted = std::get<0>(at::sort(key, 2)).narrow(2, 0, K).remainder(N);
  Plan p;
  p.count = keep.sum(2).clamp_max(K);
  const at::Tensor col = at::arange(K, keep.options().dtype(at::kLong)).view({1, 1, K});
  p.index = at::where(col < p.count.unsqueeze(-1), sorted, sorted.narrow(2, 0, 1).expand_as(sorted)).contiguous();
  p.keep = keep;
  p.num_kv_blocks = N;
  return p;
}

std::string check_plan(const Plan& plan, const at::Tensor& valid) {
  const at::Tensor idx = plan.index.cpu(), cnt = plan.count.cpu(), keep = plan.keep.cpu(), ok = valid.cpu();
  const int64_t H = idx.size(0), Q = idx.size(1), K = idx.size(2), N = plan.num_kv_blocks;
  auto I = idx.accessor<int64_t, 3>();
  auto C = cnt.accessor<int64_t, 2>();
  auto M = keep.accessor<bool, 3>();
  auto V = ok.accessor<bool, 2>();
  std::ostringstream err;
  for (int64_t h = 0; h < H; ++h)
    for (int64_t q = 0; q < Q; ++q) {
      const int64_t c = C[h][q];
      int64_t in_mask = 0;
      for (int64_t n = 0; n < N; ++n) in_mask += M[h][q][n];
      if (c < 1 || c > K || c != in_mask) {
        err << "row (" << h << "," << q << ") count " << c << " width " << K << " mask " << in_mask;
        return err.str();
      }
      for (int64_t j = 0; j < c; ++j) {
        const int64_t i = I[h][q][j];
        if (i < 0 || i >= N) err << "row (" << h << "," << q << ") index " << i << " out of [0," << N << ")";
        else if (j > 0 && i <= I[h][q][j - 1]) err << "row (" << h << "," << q << ") not sorted/unique at " << j;
        else if (!V[h][i]) err << "row (" << h << "," << q << ") index " << i << " is not a valid (past) block";
        else if (!M[h][q][i]) err << "row (" << h << "," << q << ") index " << i << " not in keep mask";
        if (!err.str().empty()) return err.str();
      }
    }
  return "";
}

}  // namespace sw::attn
