// Rotary time shift of cached keys (see time_shift.h). Test: tests/attention (TimeShiftTest.*).
#include "time_shift.h"

#include <stdexcept>
#include <string>

namespace sw::attn {

at::Tensor shift_time(const at::Tensor& k, const at::Tensor& delta, int64_t time_dims, double theta) {
  if (k.dim() < 3 || delta.dim() != 2 || delta.size(0) != k.size(0) || delta.size(1) != k.size(1))
    throw std::invalid_argument("shift_time: delta " + std::string(c10::str(delta.sizes())) + " does not match keys " +
                                std::string(c10::str(k.sizes())));
  if (time_dims <= 0 || time_dims % 2 || time_dims > k.size(-1))
    throw std::invalid_argument("shift_time: time_dims " + std::to_string(time_dims) + " is not even and in (0, " +
                                std::to_string(k.size(-1)) + "]");
  const int64_t half = time_dims / 2;
  const auto dopt = at::TensorOptions().dtype(at::kDouble).device(k.device());
  const at::Tensor freq = at::pow(theta, at::arange(half, dopt).mul(-2.0 / static_cast<double>(time_dims)));
  std::vector<int64_t> shape(static_cast<size_t>(k.dim()), 1);  // [H, n, 1, ..., half]
  shape[0] = k.size(0);
  shape[1] = k.size(1);
  shape.back() = half;
  const at::Tensor angle = (delta.to(k.device(), at::kDouble).unsqueeze(-1) * freq).view(shape);
  const at::Tensor c = angle.cos().to(at::kFloat), s = angle.sin().to(at::kFloat);
  at::Tensor out = k.to(at::kFloat).clone();
  const at::Tensor a = out.narrow(-1, 0, half).clone(), b = out.narrow(-1, half, half).clone();
  out.narrow(-1, 0, half).copy_(a * c - b * s);
  out.narrow(-1, half, half).copy_(b * c + a * s);
  return out;
}

at::Tensor shift_time(const at::Tensor& k, int64_t delta, int64_t time_dims, double theta) {
  return shift_time(k, at::full({k.size(0), k.size(1)}, delta, at::TensorOptions().dtype(at::kLong).device(k.device())), time_dims, theta);
}

}  // namespace sw::attn
